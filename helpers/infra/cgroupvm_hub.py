"""Runs inside the cgroup v2 VM (:mod:`helpers.infra.cgroupvm`): the workshop hub's per-learner cgroup on cgroup v2.

:mod:`helpers.infra.cgroups` makes the group a room's learner gets, its files are read back, a child process entered
into it allocates more than its memory limit and must be OOM-killed there, then the group is removed.
``python3 -m helpers.infra.cgroupvm_hub RESULTS_DIR`` as root; stdlib only (the VM has this module and cgroups.py,
nothing else of the course). Every value measured goes to ``RESULTS_DIR/hub.<name>``; the host asserts them.
"""

from __future__ import annotations

import subprocess
import sys
import traceback
from pathlib import Path

from . import cgroups

PARENT, LEARNER = "dmac-hub", "dmac-l01"
LIMITS = cgroups.Limits(memory=64 << 20, pids=64, cpus=0.5)
FILES = ("memory.max", "pids.max", "cpu.max", "memory.swap.max")
ALLOCATE = ("dd", "if=/dev/zero", "of=/dev/null", "bs=100M", "count=1")
"""dd's 100 MiB buffer, filled from /dev/zero: every page is touched, 36 MiB above the group's limit."""


def put(out: Path, name: str, value: object) -> None:
    """Record one measured value as ``hub.<name>``."""
    (out / f"hub.{name}").write_text(str(value))


def read(path: Path) -> str:
    """A cgroup file's content, or ``absent`` (``memory.swap.max`` needs swap accounting in the kernel)."""
    return path.read_text().strip() if path.exists() else "absent"


def events(folder: Path) -> dict[str, int]:
    """``memory.events`` as ``{"oom_kill": 1, ...}``."""
    pairs = (line.split() for line in (folder / "memory.events").read_text().splitlines())
    return {key: int(value) for key, value in pairs}


def check(out: Path) -> None:
    """Create the learner's group, read its limits back, OOM-kill an allocation in it, remove it."""
    folders = cgroups.create(PARENT, LEARNER, LIMITS)
    folder = folders[0]
    put(out, "cgroup_version", cgroups.version())
    put(out, "folder", folder)
    for name in FILES:
        put(out, name, read(folder / name))
    child = subprocess.run(ALLOCATE, preexec_fn=lambda: cgroups.enter(folders), capture_output=True, timeout=120)
    put(out, "child_returncode", child.returncode)  # -9: SIGKILL, the OOM killer's
    put(out, "oom_kill", events(folder).get("oom_kill", "absent"))
    cgroups.remove(folders)
    (cgroups.MOUNT / PARENT).rmdir()
    put(out, "removed", str(not folder.exists() and not (cgroups.MOUNT / PARENT).exists()).lower())


def main(argv: list[str]) -> int:
    out = Path(argv[0])
    try:
        check(out)
    except Exception:
        (out / "error.hub").write_text(traceback.format_exc()[-600:])
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
