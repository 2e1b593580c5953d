"""Preflight: what the daemon is, whether this machine is ready, its limits, and a verdict.

Each row is ``ok``, ``FAIL`` (the course cannot run), ``LIMIT`` (it runs, and some demonstrations
explain why they cannot run as designed on this engine: rootless, limits not enforced, no BuildKit,
an engine past its end of life) or ``info``. The verdict is READY, READY WITH LIMITS or NOT READY.
``python -m helpers.lessons.preflight`` prints the same report in a terminal (an instructor's room check).
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import sys
from dataclasses import dataclass

from ..core import course, engine
from ..core.cli import cli
from ..core.daemon import DaemonUnavailable, client, find

MIN_FREE_GB = 5.0


@dataclass
class Check:
    item: str
    value: str
    ok: bool | None = True  # None: information only
    limit: str = ""  # one sentence: what this engine cannot do that the course shows

    @property
    def mark(self) -> str:
        if self.ok is False:
            return "FAIL"
        return "LIMIT" if self.limit else {True: "ok", None: "info"}[self.ok]


def _free_disk_gb(root: str) -> float | None:
    """Free space where the daemon keeps its data, when that folder is visible from here."""
    if os.path.isdir(root):
        return shutil.disk_usage(root).free / 1e9
    return None  # Docker Desktop / remote daemon: the data lives in a VM or on another host


def disk_check(free_gb: float | None) -> Check:
    """The free-disk row: images and containers need room where the daemon keeps its data."""
    if free_gb is None:
        return Check("Free disk (daemon data)", "not visible from here (VM or remote daemon)", None)
    if free_gb < MIN_FREE_GB:
        return Check(
            "Free disk (daemon data)",
            f"only {free_gb:.1f} GB free, the course needs {MIN_FREE_GB:.0f} GB: remove unused images "
            "(`docker image prune`) or containers, or give Docker Desktop a bigger disk",
            False,
        )
    return Check("Free disk (daemon data)", f"{free_gb:.0f} GB", True)


def checks() -> list[Check]:
    """Every preflight row; raises nothing: a missing daemon is a failed row with its message."""
    rows = [
        Check("Python", platform.python_version(), sys.version_info >= (3, 10)),
        Check("Course namespace", course.namespace(), None),
    ]
    try:
        host = find().host
    except DaemonUnavailable as exc:
        rows.append(Check("Docker daemon", str(exc).splitlines()[0], False))
        return rows

    dc = client()
    info, version = dc.info(), dc.version()
    caps = engine.capabilities()
    security = " ".join(info.get("SecurityOptions") or [])
    mode = "rootless" if caps.rootless else "userns-remap" if "userns" in security else "rootful"
    free = _free_disk_gb(info.get("DockerRootDir", ""))
    rows += [
        Check("Docker daemon", host),
        Check("Engine version", f"{caps.product} {caps.version}", None, engine.limitation("eol", caps) or ""),
        Check("API version", f"{version.get('ApiVersion', '?')} (client negotiates)", None),
        Check(
            "docker CLI",
            f"{cli().path} ({'BuildKit' if caps.buildkit else 'legacy builder'})",
            None,
            engine.limitation("buildkit", caps) or "",
        ),
        Check("OS / architecture", f"{info.get('OperatingSystem', '?')} / {info.get('Architecture', '?')}", None),
        Check("CPUs / memory", f"{info.get('NCPU', '?')} / {info.get('MemTotal', 0) / 2**30:.1f} GiB", None),
        Check("Image store", f"{caps.image_store} ({caps.storage_driver})", caps.storage_driver in STORAGE_DRIVERS),
        Check("Cgroup version", caps.cgroup_version or "?", None),
        limits_check(caps),
        Check("Daemon mode", mode, None, ROOTLESS if caps.rootless else ""),
        Check(
            "Live restore", "on" if caps.live_restore else "off", None, engine.limitation("live-restore", caps) or ""
        ),
        disk_check(free),
    ]
    return rows


STORAGE_DRIVERS = ("overlay2", "overlayfs", "overlay", "btrfs", "zfs", "fuse-overlayfs", "vfs")
"""Storage drivers the course works with (``overlay`` is Podman's name for overlay2)."""

ROOTLESS = (
    "Rootless: root in a container is your own user on the host (safer); notebooks 02, 03 and 06 show "
    "where that changes what you see."
)


def limits_check(caps: engine.Capabilities) -> Check:
    """The resource-limits row: enforced, or which limits this engine accepts and ignores."""
    sentence = engine.limits_sentence(caps)
    return Check("Resource limits", engine.limits_summary(caps), None if sentence else True, sentence or "")


def verdict(rows: list[Check]) -> str:
    """READY, READY WITH LIMITS (the LIMIT rows) or NOT READY (the FAIL rows)."""
    bad = [r for r in rows if r.ok is False]
    if bad:
        return "NOT READY: " + "; ".join(f"{r.item}: {r.value}" for r in bad)
    limited = [r.item.lower() for r in rows if r.limit]
    if limited:
        return f"READY WITH LIMITS: this machine can run the course; the LIMIT rows ({', '.join(limited)}) say why."
    return "READY: this machine can run the course."


def can_run(rows: list[Check]) -> bool:
    """True when no row fails (READY or READY WITH LIMITS): the same answer on every engine that works."""
    return all(r.ok is not False for r in rows)


def require_ready(rows: list[Check]) -> None:
    """Stop with words when the machine is not ready (a missing daemon raises DaemonUnavailable)."""
    if any(r.item == "Docker daemon" and r.ok is False for r in rows):
        find()  # raises DaemonUnavailable with the actionable message
    if any(r.ok is False for r in rows):
        raise RuntimeError(verdict(rows) + "\nFix the FAIL rows above, then run this cell again.")


def report(rows: list[Check] | None = None) -> str:
    rows = rows if rows is not None else checks()
    width, marks = max(len(r.item) for r in rows), len("LIMIT")  # fixed: the same layout on every engine
    lines = [f"{r.mark:{marks}}  {r.item:<{width}}  {r.value}" for r in rows]
    notes = [f"⚠ {r.limit}" for r in rows if r.limit and r.ok is not False]
    return "\n".join([*lines, "", verdict(rows), *notes])


def main(argv: list[str] | None = None) -> int:
    """``make preflight``: the readiness report (``make preflight LEARNERS=N`` adds a room check:
    helpers.infra.sizing)."""
    parser = argparse.ArgumentParser(prog="python -m helpers.lessons.preflight", description=__doc__.splitlines()[0])
    parser.parse_args(argv)
    rows = checks()
    print(report(rows))
    try:
        find()
    except DaemonUnavailable as exc:
        print("\n" + str(exc))
    return 0 if all(r.ok is not False for r in rows) else 1


if __name__ == "__main__":
    raise SystemExit(main())
