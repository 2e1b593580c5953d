"""Measurements for the IOOS Catalog case study (notebook 12): I/O culprits, restarts, PID 1.

Small functions a cell calls to read one number from the daemon: a container's writable-layer
size, its json-file log size, the zombies under its PID 1, how long ``docker stop`` takes.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

from . import course, wait
from .daemon import client
from .shell import docker

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


def writable_mb(name: str) -> float:
    """The size of a container's writable layer in MB (``docker ps -s``'s first number)."""
    out = docker("inspect", "--size", "--format", "{{.SizeRw}}", name, echo=False, show=False).output.strip()
    return int(out or 0) / 1e6


def log_mb(name: str) -> float:
    """The size of a container's json-file log (all rotated files) in MB; 0 when not readable here."""
    path = client().api.inspect_container(name).get("LogPath") or ""
    folder = os.path.dirname(path)
    try:
        files = [f for f in os.listdir(folder) if f.startswith(os.path.basename(path))]
        return sum(os.path.getsize(os.path.join(folder, f)) for f in files) / 1e6
    except OSError:
        return 0.0


def log_files(name: str) -> int:
    """How many json-file log files a container has (current plus rotated)."""
    path = client().api.inspect_container(name).get("LogPath") or ""
    folder = os.path.dirname(path)
    try:
        return sum(f.startswith(os.path.basename(path)) for f in os.listdir(folder))
    except OSError:
        return 0


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
    """True once ``predicate()`` holds; WaitTimeout after ``timeout`` seconds (see helpers.wait)."""
    return bool(wait.until(predicate, what, timeout=timeout, interval=interval))
