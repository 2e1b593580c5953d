"""Measurements for the IOOS Catalog case study (notebook 12): I/O culprits, restarts, PID 1.

Small functions a cell calls to read one number from the daemon: a container's writable-layer
size, its json-file log size, the zombies under its PID 1, how long ``docker stop`` takes; and the
two broken jobs of the debugging exercises (a harvester that crash-loops, a job killed for memory).
"""

from __future__ import annotations

import os
import time
from pathlib import Path

from ..core import course, images, wait
from ..core.daemon import client
from ..core.shell import CommandFailed, CommandTimeout, docker
from . import layers, volumes

HARVESTER = r"""
i=0
while [ $i -lt 400 ]; do
  i=$((i+1))
  f=/data/records/record-$i.xml
  echo '<?xml version="1.0"?><gmi:MI_Metadata><gmd:fileIdentifier>'"record-$i"'</gmd:fileIdentifier>' > $f
  head -c 24000 /dev/urandom | od -An -x >> $f
  echo '</gmi:MI_Metadata>' >> $f
  for n in 1 2 3 4 5 6 7 8 9 10; do
    echo "DEBUG harvest: record $i step $n: fetched, parsed, validated, indexed; keywords=temperature,salinity"
  done
done
echo "harvest done: $i records"
sleep 600
"""
"""A harvester: 400 fake ISO 19115 XML records (about 60 KB each) and ten DEBUG log lines per record."""


def harvester_script() -> Path:
    """The harvester saved as ``harvest.sh`` in this namespace's folder, to bind-mount read-only."""
    path = course.workdir("12") / "harvest.sh"
    path.write_text("mkdir -p /data/records" + HARVESTER)
    return path


# ---------------------------------------------------------------- the debugging exercises (12.3, 12.4)

HARVESTER_UID = 10001
"""The non-root user (uid and gid) the harvester image runs as."""

HARVEST_RECORDS = 20

HARVEST_JOB = rf"""#!/bin/sh
# harvest today's ISO 19115 records into /data/<this container's hostname>/, then wait for the next run
set -e
out=/data/$(hostname)
echo "harvester 2.1: harvesting {HARVEST_RECORDS} records into $out"
mkdir -p "$out"
i=0
while [ $i -lt {HARVEST_RECORDS} ]; do
  i=$((i+1))
  echo "<gmi:MI_Metadata><gmd:fileIdentifier>record-$i</gmd:fileIdentifier></gmi:MI_Metadata>" > "$out/record-$i.xml"
done
echo "harvest done: $i records in $out"
exec sleep 3600
"""

HARVESTER_DOCKERFILE = f"""
FROM busybox
COPY harvest.sh /usr/local/bin/harvest
RUN chmod 755 /usr/local/bin/harvest
USER {HARVESTER_UID}:{HARVESTER_UID}
CMD ["harvest"]
"""


def harvester_context() -> Path:
    """The build context of the harvester 2.1 image: a script that runs as a non-root user."""
    return images.context("harvester-2", {"Dockerfile": HARVESTER_DOCKERFILE, "harvest.sh": HARVEST_JOB})


def harvest_folder(*, fresh: bool = True) -> Path:
    """The host folder the harvester writes to (``build/<ns>/12/harvest-data``): yours, mode 755.

    ``fresh``: emptied first (records of an earlier attempt removed). Owned by the demo uid when the
    notebook runs as root, like a learner's own folder.
    """
    folder = volumes.scratch("12", "harvest-data") if fresh else course.workdir("12", "harvest-data")
    if fresh:
        if os.getuid() == 0:
            os.chown(folder, volumes.demo_uid(), volumes.demo_gid())
        folder.chmod(0o755)
    return folder


GRID_MIB = 96
"""What the gridder holds in memory at once."""

GRID_LIMIT_MAX_MIB = 512
"""The largest memory limit exercise 12.4 accepts: a limit far above the need protects nothing."""

GRIDDER_JOB = rf"""#!/bin/sh
# regrid today's sea surface temperature: the whole grid is held in memory at once
set -e
echo "gridder 1.4: loading today's SST grid ({GRID_MIB} MiB) into memory"
dd if=/dev/zero of=/dev/null bs={GRID_MIB}M count=1 2>/dev/null
echo "gridder 1.4: regridded 1 grid, done"
"""

GRIDDER_DOCKERFILE = """
FROM busybox
COPY gridder.sh /usr/local/bin/gridder
RUN chmod 755 /usr/local/bin/gridder
CMD ["gridder"]
"""


def gridder_context() -> Path:
    """The build context of the gridder image: a batch job that needs about 100 MiB of memory."""
    return images.context("gridder", {"Dockerfile": GRIDDER_DOCKERFILE, "gridder.sh": GRIDDER_JOB})


def writable_mb(name: str) -> float:
    """The size of a container's writable layer in MB (:func:`helpers.lessons.layers.size_rw`)."""
    return layers.size_rw(name) / 1e6


def log_paths(*names: str, show: bool = True) -> dict[str, str]:
    """Each container's json-file log on the daemon's host, by name: ``docker inspect --format '{{.Name}}
    {{.LogPath}}'``, shown with the paths in grey (they hold the container's ID)."""
    argv = ("inspect", "--format", "{{.Name}} {{.LogPath}}", *names)
    out = docker(*argv, show="stderr") if show else docker(*argv, echo=False, show=False)
    pairs = (line.split(" ", 1) for line in out.output.splitlines() if " " in line)
    return {name.lstrip("/"): path for name, path in pairs}


def _log_files(path: str) -> list[str]:
    """The log file at ``path`` and its rotated copies (``…-json.log.1``); none when not readable here."""
    folder = os.path.dirname(path)
    try:
        return [os.path.join(folder, f) for f in os.listdir(folder) if f.startswith(os.path.basename(path))]
    except OSError:
        return []


def log_mb(path: str) -> float:
    """The size in MB of the json-file log at ``path`` (:func:`log_paths`), rotated files included; 0 when not
    readable here."""
    return sum(os.path.getsize(f) for f in _log_files(path)) / 1e6 if path else 0.0


def log_files(path: str) -> int:
    """How many files the json-file log at ``path`` has (current plus rotated)."""
    return len(_log_files(path)) if path else 0


def restart_count(name: str) -> int:
    return int(client().api.inspect_container(name)["RestartCount"])


def status(name: str) -> str:
    """Status, plus health when the container has a healthcheck: ``running (unhealthy)``."""
    state = client().api.inspect_container(name)["State"]
    health = (state.get("Health") or {}).get("Status")
    return f"{state['Status']} ({health})" if health else state["Status"]


def zombies(name: str) -> int:
    """How many zombie (defunct) processes a container holds, from ``ps`` inside it."""
    out = docker("exec", name, "ps", "-o", "stat", echo=False, show=False).output
    return sum(line.strip().startswith("Z") for line in out.splitlines()[1:])


def timed_stop(name: str, timeout: int = 3) -> float:
    """Run ``docker stop -t <timeout> NAME`` (echoed) and return how long it took, in seconds."""
    start = time.monotonic()
    docker("stop", "-t", str(timeout), name, show=False)
    return time.monotonic() - start


def wait_for(predicate, timeout: float = 30, interval: float = 0.3, what: str = "the condition") -> bool:
    """True once ``predicate()`` holds; WaitTimeout after ``timeout`` seconds (see helpers.core.wait).

    A docker command that fails inside ``predicate`` is asked again until the bound (Podman's ``docker logs``
    fails now and then while the log file it reads is rotated, as notebook 12's log limit makes it; Engine 28's
    once hung there, so the notebook gives each ask a bound of its own, and an ask that times out is asked again).
    """
    retry = (OSError, CommandFailed, CommandTimeout)
    return bool(wait.until(predicate, what, timeout=timeout, interval=interval, retry=retry))


def crash_loops(name: str, timeout: float = 30) -> bool:
    """True once ``name`` has restarted twice; False (with a sentence) if it ran to the end instead.

    A bind mount that does not enforce ownership (Docker Desktop's file sharing) lets the harvester write: then
    there is nothing to fix, and the exercise says so instead of waiting for a failure that never comes.
    """

    def settled() -> str | None:
        if status(name) == "exited" and restart_count(name) == 0:
            return "it finished without an error"
        return None

    try:
        wait.until(lambda: restart_count(name) >= 2, f"{name} restarting", timeout=timeout, give_up=settled)
        return True
    except (wait.WaitFailed, wait.WaitTimeout):
        print(
            f"⚠ {name} did not fail here: this engine lets any user write the bind-mounted folder (Docker "
            "Desktop's file sharing does), so there is nothing to fix and exercise 12.3 does not apply."
        )
        return False
