"""A cgroup of its own for one workshop learner: memory, processes and CPU limits set by root.

Rootless Docker cannot enforce ``docker run -m`` on cgroup v1 (the user may not create cgroups), so
the hub puts the learner's whole tree (their Jupyter server, their ``dockerd`` and every container it
starts) into one group whose limits root sets; children inherit the group, and nothing the learner
runs can leave it. cgroup v1 (this course's CI host): one folder per controller,
``/sys/fs/cgroup/{memory,pids,cpu}/<parent>/<user>``. cgroup v2: one folder,
``/sys/fs/cgroup/<parent>/<user>`` with ``memory.max``, ``pids.max`` and ``cpu.max`` (the parent
enables those controllers for its children).
"""

from __future__ import annotations

import os
import signal
from dataclasses import dataclass
from pathlib import Path

MOUNT = Path("/sys/fs/cgroup")
V1_CONTROLLERS = ("memory", "pids", "cpu")
PERIOD_US = 100_000
OPTIONAL = ("memory.memsw.limit_in_bytes", "memory.swap.max")
"""Files a kernel without swap accounting lacks: written where they exist."""


@dataclass(frozen=True)
class Limits:
    """Per-learner limits: bytes of memory, processes (threads count), CPUs (may be fractional)."""

    memory: int
    pids: int
    cpus: float


def version(mount: Path = MOUNT) -> int:
    """2 when ``mount`` is the unified hierarchy (``cgroup2fs``), else 1 (a tmpfs of v1 controllers)."""
    return 2 if (mount / "cgroup.controllers").exists() else 1


def folders(parent: str, name: str, mount: Path = MOUNT) -> list[Path]:
    """The learner's cgroup folders: one per v1 controller, or the single v2 one."""
    if version(mount) == 2:
        return [mount / parent / name]
    return [mount / ctrl / parent / name for ctrl in V1_CONTROLLERS]


def settings(limits: Limits, cgroup_version: int) -> dict[str, dict[str, str]]:
    """What to write where: ``{controller: {file: value}}`` (v2 has one folder: controller ``""``)."""
    quota = int(limits.cpus * PERIOD_US)
    if cgroup_version == 2:  # no swap beyond the memory limit (F8)
        v2 = {"memory.max": str(limits.memory), "memory.swap.max": "0", "pids.max": str(limits.pids)}
        return {"": {**v2, "cpu.max": f"{quota} {PERIOD_US}"}}
    return {
        # memory+swap no more than memory (F8): written only where the kernel accounts swap (OPTIONAL)
        "memory": {"memory.limit_in_bytes": str(limits.memory), "memory.memsw.limit_in_bytes": str(limits.memory)},
        "pids": {"pids.max": str(limits.pids)},
        "cpu": {"cpu.cfs_period_us": str(PERIOD_US), "cpu.cfs_quota_us": str(quota)},
    }


def create(parent: str, name: str, limits: Limits, mount: Path = MOUNT) -> list[Path]:
    """Create (or update) the learner's cgroup with ``limits``; returns its folders."""
    made = folders(parent, name, mount)
    if version(mount) == 2:
        top = mount / parent
        top.mkdir(exist_ok=True)
        (mount / "cgroup.subtree_control").write_text("+memory +pids +cpu")
        (top / "cgroup.subtree_control").write_text("+memory +pids +cpu")
    wanted = settings(limits, version(mount))
    for folder in made:
        folder.mkdir(parents=True, exist_ok=True)
        ctrl = "" if version(mount) == 2 else folder.parent.parent.name
        memsw = folder / "memory.memsw.limit_in_bytes"
        if ctrl == "memory" and memsw.exists():
            memsw.write_text("-1")  # it may never be below memory.limit_in_bytes: lift it while that changes
        for file, value in wanted[ctrl].items():
            if file in OPTIONAL and not (folder / file).exists():
                continue
            (folder / file).write_text(value)
    return made


def enter(folders_: list[Path], pid: int = 0) -> None:
    """Move ``pid`` (0: the calling process) into every folder; safe in a ``preexec_fn`` (no allocation-heavy work)."""
    data = str(pid or os.getpid()).encode()
    for folder in folders_:
        fd = os.open(folder / "cgroup.procs", os.O_WRONLY)
        try:
            os.write(fd, data)
        finally:
            os.close(fd)


def members(folders_: list[Path]) -> set[int]:
    """Every process in the learner's cgroup (the union over its folders)."""
    pids: set[int] = set()
    for folder in folders_:
        try:
            pids.update(int(line) for line in (folder / "cgroup.procs").read_text().split())
        except OSError:
            continue
    return pids


def kill_all(folders_: list[Path]) -> int:
    """SIGKILL every process in the cgroup once; returns how many were signalled (call until 0)."""
    pids = members(folders_)
    for pid in pids:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    return len(pids)


def remove(folders_: list[Path]) -> None:
    """Remove the (empty) cgroup folders; a folder that still holds processes stays."""
    for folder in folders_:
        try:
            folder.rmdir()
        except FileNotFoundError:
            pass
        except OSError:
            continue


def usage(folders_: list[Path]) -> dict[str, int]:
    """Memory in use (bytes, page cache included) and processes now, read from the cgroup."""
    out: dict[str, int] = {}
    for folder in folders_:
        for key, file in (("memory", "memory.usage_in_bytes"), ("memory", "memory.current"), ("pids", "pids.current")):
            path = folder / file
            if path.exists():
                out[key] = int(path.read_text().split()[0])
    return out
