"""Container logs and the disk (notebook 16): how much a container's log keeps, and where it is.

``docker logs`` returns what the daemon still keeps of a container's output, whatever the log driver: that is
the figure measured here, the same on every engine. Where the daemon's files are on this host (a local daemon,
not Docker Desktop's VM), the json-file driver's file itself is measured too.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

from ..core import wait
from ..core.shell import docker_out, docker_stream
from . import layers

CHATTY_DOCKERFILE = """
FROM busybox
COPY --chmod=755 access-log.sh /usr/local/bin/access-log.sh
CMD ["access-log.sh"]
"""

# An access log as a data server writes it: LINES lines of about 100 bytes each, as fast as the shell goes,
# then one line a second for ever (a server that keeps serving).
ACCESS_LOG = """#!/bin/sh
lines=${LINES:-50000}
i=0
while [ "$i" -lt "$lines" ]; do
  echo "127.0.0.1 - - [07/Dec/2026:10:00:00 +0000] \\"GET /erddap/griddap/sst.nc?sst[$i] HTTP/1.1\\" 200 4096"
  i=$((i + 1))
done
echo "access-log: $lines lines written"
while :; do
  sleep 1
  echo "127.0.0.1 - - [07/Dec/2026:10:00:01 +0000] \\"GET /erddap/status.html HTTP/1.1\\" 200 512"
done
"""

LINES = 50_000
WRITTEN = "lines written"


def burst_bytes(lines: int = LINES) -> int:
    """The bytes :data:`ACCESS_LOG` writes in its burst of ``lines`` lines (its one-a-second lines not counted)."""
    line = '127.0.0.1 - - [07/Dec/2026:10:00:00 +0000] "GET /erddap/griddap/sst.nc?sst[{}] HTTP/1.1" 200 4096\n'
    return sum(len(line.format(i)) for i in range(lines)) + len(f"access-log: {lines} {WRITTEN}\n")


def wait_written(container: str, *, timeout: float = 120) -> None:
    """Until the access-log server in ``container`` says its burst is written (its last lines say so)."""
    wait.until(lambda: WRITTEN in docker_out("logs", "--tail", "5", container), f"{container}'s burst", timeout=timeout)


def wait_size(container: str, size: int, *, timeout: float = 120) -> None:
    """Until the container's writable layer holds at least ``size`` bytes."""
    wait.until(lambda: layers.size_rw(container) >= size, f"{container}'s writable layer", timeout=timeout,
               give_up=lambda: _stopped(container))


def _stopped(container: str) -> str | None:
    state = docker_out("inspect", "--format", "{{.State.Status}}", container)
    return None if state == "running" else f"{container} is {state} (docker logs {container} says why)"


def kept_bytes(container: str) -> int:
    """Bytes ``docker logs CONTAINER`` returns now on its stdout: what the daemon still keeps of the container's
    standard output."""
    with tempfile.TemporaryFile() as out:
        docker_stream("logs", container, stdout=out, timeout=120)
        return out.tell()


def driver(container: str) -> tuple[str, dict[str, str]]:
    """The container's log driver and its options (``HostConfig.LogConfig``)."""
    config = json.loads(docker_out("inspect", "--format", "{{json .HostConfig.LogConfig}}", container))
    return config.get("Type", ""), config.get("Config") or {}


def file_bytes(container: str) -> int | None:
    """Bytes of the json-file driver's files on this host (the log and its rotated ``.1``, ``.2`` …), or None
    where they are not on this host or not readable (another driver, Docker Desktop, a remote daemon, not root)."""
    path = docker_out("inspect", "--format", "{{.LogPath}}", container)
    if not path or not os.access(path, os.R_OK):
        return None
    log = Path(path)
    return sum(p.stat().st_size for p in log.parent.glob(log.name + "*") if p.is_file())


def about_mb(size: int) -> str:
    """A size for a sentence: ``"about 5 MB"``, ``"about 0.8 MB"``."""
    mb = size / 1e6
    return f"about {mb:.0f} MB" if mb >= 2 else f"about {mb:.1f} MB"
