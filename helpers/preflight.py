"""Preflight: what the daemon is, whether this machine is ready, and a verdict.

``python -m helpers.preflight`` prints the same report in a terminal (an instructor's room check).
"""

from __future__ import annotations

import os
import platform
import shutil
import sys
from dataclasses import dataclass

from . import course
from .daemon import DaemonUnavailable, client, find

MIN_FREE_GB = 5.0


@dataclass
class Check:
    item: str
    value: str
    ok: bool | None = True  # None: information only

    @property
    def mark(self) -> str:
        return {True: "ok", False: "FAIL", None: "info"}[self.ok]


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
    from .shell import cli

    dc = client()
    info, version = dc.info(), dc.version()
    security = " ".join(info.get("SecurityOptions") or [])
    mode = "rootless" if "rootless" in security else "userns-remap" if "userns" in security else "rootful"
    free = _free_disk_gb(info.get("DockerRootDir", ""))
    rows += [
        Check("Docker daemon", host),
        Check("Engine version", version.get("Version", "?"), None),
        Check("API version", f"{version.get('ApiVersion', '?')} (client negotiates)", None),
        Check("docker CLI", f"{cli().path} ({'BuildKit' if cli().buildkit else 'legacy builder'})", None),
        Check("OS / architecture", f"{info.get('OperatingSystem', '?')} / {info.get('Architecture', '?')}", None),
        Check("CPUs / memory", f"{info.get('NCPU', '?')} / {info.get('MemTotal', 0) / 2**30:.1f} GiB", None),
        Check(
            "Storage driver",
            info.get("Driver", "?"),
            info.get("Driver") in ("overlay2", "overlayfs", "btrfs", "zfs", "fuse-overlayfs", "vfs"),
        ),
        Check("Cgroup version", str(info.get("CgroupVersion", "?")), None),
        Check("Daemon mode", mode, None),
        Check("Live restore", "on" if info.get("LiveRestoreEnabled") else "off", None),
        disk_check(free),
    ]
    return rows


def verdict(rows: list[Check]) -> str:
    bad = [r for r in rows if r.ok is False]
    if not bad:
        return "READY: this machine can run the course."
    return "NOT READY: " + "; ".join(f"{r.item}: {r.value}" for r in bad)


def require_ready(rows: list[Check]) -> None:
    """Stop with words when the machine is not ready (a missing daemon raises DaemonUnavailable)."""
    if any(r.item == "Docker daemon" and r.ok is False for r in rows):
        find()  # raises DaemonUnavailable with the actionable message
    if any(r.ok is False for r in rows):
        raise RuntimeError(verdict(rows) + "\nFix the FAIL rows above, then run this cell again.")


def report(rows: list[Check] | None = None) -> str:
    rows = rows if rows is not None else checks()
    width = max(len(r.item) for r in rows)
    lines = [f"{r.mark:4}  {r.item:<{width}}  {r.value}" for r in rows]
    return "\n".join([*lines, "", verdict(rows)])


def main() -> int:
    rows = checks()
    print(report(rows))
    try:
        find()
    except DaemonUnavailable as exc:
        print("\n" + str(exc))
    return 0 if all(r.ok is not False for r in rows) else 1


if __name__ == "__main__":
    raise SystemExit(main())
