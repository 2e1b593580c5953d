"""A container's I/O seen from the host: ``/proc/PID/io`` of its processes, and back from a PID to a container.

``docker stats`` reads the container's cgroup, which on cgroup v1 is not charged for buffered writes (the
kernel's flusher writes them out later). The kernel also counts I/O per process, and a process's counters
include those of the children it has waited for: ``/proc/PID/io`` of a container's main process says
what the whole container asked to write (``wchar``) and how much of that it sent towards the disk
(``write_bytes``, charged when the pages were dirtied). ``iotop`` and ``pidstat -d`` read the same files.
The way back, from a busy PID to its container, is ``/proc/PID/cgroup``: it names the container's id.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

PROC = Path("/proc")
_ID = re.compile(r"(?<![0-9a-f])[0-9a-f]{64}(?![0-9a-f])")


@dataclass(frozen=True)
class ProcessIO:
    pid: int
    wchar: int  # bytes the process (and the children it waited for) passed to write()
    write_bytes: int  # of those, bytes it caused to be sent to storage (page-cache pages it dirtied)
    read_bytes: int


def parse_io(text: str) -> dict[str, int]:
    """``/proc/PID/io``'s ``name: value`` lines as a dict."""
    pairs = (line.split(":", 1) for line in text.splitlines() if ":" in line)
    return {key.strip(): int(value) for key, value in pairs if value.strip().isdigit()}


def process_io(pid: int, proc: Path = PROC) -> ProcessIO | None:
    """The I/O counters of ``pid``; None when the process is gone or not ours to read (another user's)."""
    try:
        counters = parse_io((proc / str(pid) / "io").read_text())
    except (OSError, ValueError):
        return None
    return ProcessIO(pid, counters.get("wchar", 0), counters.get("write_bytes", 0), counters.get("read_bytes", 0))


def container_id(pid: int, proc: Path = PROC) -> str | None:
    """The id of the container ``pid`` runs in, from ``/proc/PID/cgroup`` (Docker, Podman; v1 and v2).

    The innermost one: a daemon that itself runs in a container (the course's engine matrix) nests its
    containers' cgroups under its own, ``/docker/<engine's id>/docker/<id>``.
    """
    try:
        text = (proc / str(pid) / "cgroup").read_text()
    except OSError:
        return None
    found = _ID.findall(text)
    return found[-1] if found else None


def megabytes(count: int) -> str:
    """``24.6 MB`` (10^6 bytes, as Docker prints sizes)."""
    return f"{count / 1e6:.1f} MB"
