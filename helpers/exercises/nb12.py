"""Exercises of notebook 12 (case study: the IOOS Catalog)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from ..core import course, engine, records, wait
from ..core.daemon import client
from ..lessons import casestudy
from . import Verdict, course_container, course_image, exercise, failed, passed


@exercise(
    "12.1",
    "run a harvester with a volume and a log limit",
    hint="-v with a volume's name (not a path) before :/data; a log bound: --log-opt max-size with the default "
    "json-file driver, or a driver that rotates by itself (section 2).",
    solution="""
    docker("run", "-d", "--name", name("ex-harvester"), "-v", f"{name('ex-data')}:/data",
           "--log-opt", "max-size=100k", "--log-opt", "max-file=2", "busybox", "sleep", "600")
    """,
)
def harvester() -> Verdict:
    wanted = course.name("ex-harvester")
    box = course_container("ex-harvester")
    if isinstance(box, Verdict):
        return box
    records.note("12.1", "container", wanted, box)
    mounts = [m for m in box.attrs.get("Mounts", []) if m.get("Destination") == "/data"]
    if mounts and mounts[0].get("Type") == "bind":
        return failed(
            f"{wanted} mounts a host folder ({mounts[0].get('Source')}) at /data: a bind mount, not a volume.",
            "Give -v a volume name, not a path: -v NAME:/data.",
        )
    if not mounts or mounts[0].get("Type") != "volume":
        return failed(f"{wanted} has no volume mounted at /data.", "Add -v NAME:/data.")
    # -v NAME:/data creates the volume unlabelled; clean-up removes it if it has the exercise's name
    records.note("12.1", "volume", mounts[0]["Name"], client().volumes.get(mounts[0]["Name"]))
    driver = box.attrs["HostConfig"]["LogConfig"].get("Type", "")
    if driver in BOUNDED_DRIVERS:  # they rotate by themselves: nothing more to set
        bound = BOUNDED_DRIVERS[driver]
        return passed(f"{wanted} writes /data to volume {mounts[0]['Name']}; its log driver {driver} {bound}.")
    limit = log_max_size(box)
    if not limit:
        return failed(
            f"{wanted}'s log is not limited ({driver or 'json-file'} without max-size).",
            "json-file keeps everything unless told: --log-opt max-size=…",
        )
    return passed(f"{wanted} writes /data to volume {mounts[0]['Name']} and keeps logs under {limit}.")


BOUNDED_DRIVERS = {
    "local": "rotates by itself (20 MB a file, 5 files by default)",
    "journald": "hands the lines to journald, which bounds its own store (SystemMaxUse)",
}
"""Log drivers that bound what they keep without options
([Docker: local driver](https://docs.docker.com/engine/logging/drivers/local/), journald's own limits)."""


def log_max_size(box: Any) -> str | None:
    """A container's log size limit (``--log-opt max-size``), None without one.

    Docker keeps it in ``HostConfig.LogConfig.Config``; Podman's Docker-compatible inspect leaves that
    empty and its own inspect (``/libpod/containers/ID/json``) has it as ``LogConfig.Size`` ("0B": none).
    """
    config = box.attrs["HostConfig"]["LogConfig"].get("Config") or {}
    if config.get("max-size"):
        return str(config["max-size"])
    if engine.capabilities().product != engine.PODMAN:
        return None
    api = client().api
    native = api._result(api._get(f"{api.base_url}/v4.0.0/libpod/containers/{box.id}/json"), json=True)
    size = str(native["HostConfig"]["LogConfig"].get("Size") or "0B")
    return None if size in ("0B", "0") else size


@exercise(
    "12.2",
    "give a running container a restart policy",
    hint="docker update changes a running container's settings in place (docker update --help).",
    solution="""
    docker("update", "--restart", "unless-stopped", name("ex-service"))
    """,
)
def update_policy() -> Verdict:
    wanted = course.name("ex-service")
    box = course_container(
        "ex-service", missing=f"there is no container called {wanted}: run the cell that creates it."
    )
    if isinstance(box, Verdict):
        return box
    policy = box.attrs["HostConfig"]["RestartPolicy"]["Name"] or "no"
    if policy == "no":  # nothing done yet
        return failed(f"{wanted}'s restart policy is 'no'.")  # as the notebook made it: no hint before a try
    if policy != "unless-stopped":
        return failed(
            f"{wanted}'s restart policy is {policy!r}, not 'unless-stopped'.",
            "docker update --restart unless-stopped NAME changes it in place.",
        )
    if box.status != "running":
        return failed(f"{wanted} has the policy but is {box.status}: it should keep running (update, not re-create).")
    return passed(f"{wanted} now has restart policy unless-stopped, and kept running.")


# ---------------------------------------------------------------- debugging: a crash loop, an OOM kill


def _log_end(box: Any, lines: int = 2) -> str:
    """The last lines of a container's log, joined by " / " (two: after a restart, the error is the one before)."""
    return " / ".join(box.logs(tail=lines).decode(errors="replace").strip().splitlines())


def _runs_image(box: Any, ref: str) -> Verdict | None:
    """A failed Verdict unless ``box`` runs image ``ref`` (which must exist)."""
    img = course_image(ref, missing=f"no image {ref} yet: run the exercise's first cell.")
    if isinstance(img, Verdict):
        return img
    if box.image.id != img.id:  # both as the SDK reads them, as 01.1 compares
        return failed(f"{box.name} does not run {ref}.", f"Fix how the job is run, not what: run the image {ref}.")
    return None


def _job_container(id: str, suffix: str, ref: str, missing: str) -> Any:
    """The learner's container ``name(suffix)``, recorded for clean-up; a failed Verdict if absent or not on ``ref``."""
    box = course_container(suffix, missing=missing)
    if isinstance(box, Verdict):
        return box
    records.note(id, "container", course.name(suffix), box)
    return _runs_image(box, ref) or box


def _is_root(user: str) -> bool:
    """Whether ``--user`` value ``user`` (``uid[:gid]`` or a name) is root; empty is the image's default."""
    return user.split(":")[0] in ("0", "root")


def _settled(box: Any, done: str) -> bool:
    """The container printed ``done``, or it stopped, or it restarted."""
    box.reload()
    state = box.attrs["State"]
    return done in box.logs().decode(errors="replace") or state["Status"] != "running" or box.attrs["RestartCount"] > 0


HARVESTED = re.compile(r"harvest done: (\d+) records in /data/(\S+)")
GRIDDER_WAIT = 90.0
"""How long exercise 12.4 waits for the gridder: seconds when the host is quiet, a minute seen under load."""


@exercise(
    "12.3",
    "the harvester will not stay up",
    needs="bind-user",  # rootless: a container's non-root users cannot write your folder at all
    hint="docker logs says what failed; docker inspect shows who the harvester runs as (Config.User) and what "
    "it mounts; ls -ln FOLDER shows who owns the folder.",
    solution="""
    from helpers import volumes

    # the folder is yours (ls -ln): run the harvester as you, not as root (--user UID:GID)
    docker("run", "-d", "--name", name("ex-harvest-fixed"), "--restart", "on-failure", *volumes.as_you(),
           "-v", f"{data_folder}:/data", image("harvester", "2"))
    """,
)
def harvest_fixed() -> Verdict:
    wanted = course.name("ex-harvest-fixed")
    box = _job_container(
        "12.3",
        "ex-harvest-fixed",
        course.image("harvester", "2"),
        missing=f"there is no container called {wanted} yet.",
    )
    if isinstance(box, Verdict):
        return box
    folder = casestudy.harvest_folder(fresh=False)
    data = [m for m in box.attrs.get("Mounts", []) if m.get("Destination") == "/data"]
    if not data or data[0].get("Type") != "bind" or Path(data[0]["Source"]).resolve() != folder.resolve():
        what = f"mounts {data[0].get('Name') or data[0].get('Source')} there" if data else "mounts nothing there"
        return failed(
            f"{wanted} does not bind-mount {folder} at /data ({what}): the web server publishes that folder.",
            "Keep -v FOLDER:/data as the broken harvester has it, and change how the harvester runs.",
        )
    user = box.attrs["Config"].get("User") or ""
    if _is_root(user):
        return failed(
            f"{wanted} runs as root (--user {user}): root may write anywhere, so the error is hidden, not fixed, "
            "and its records belong to root on the host.",
            "Run it as a non-root user that may write the folder: ls -ln FOLDER shows its owner (uid:gid), "
            "and docker run --user UID:GID runs the container as that user.",
        )
    mode = folder.stat().st_mode
    if mode & 0o002:
        return failed(
            f"{folder} is writable by every user on the host (mode {mode & 0o777:o}): any local account could "
            "plant records in the catalog.",
            f"Give the folder back mode 755 (chmod 755 {folder}) and run the harvester as a user that may write it.",
        )
    try:
        wait.until(lambda: _settled(box, "harvest done"), "the fixed harvester's first harvest", timeout=20)
    except wait.WaitTimeout:
        pass  # judged below: running without a harvest
    box.reload()
    state, restarts = box.attrs["State"], box.attrs["RestartCount"]
    if state["Status"] != "running" or restarts:
        return failed(
            f"{wanted} is {state['Status']} (exit code {state['ExitCode']}, restarted {restarts} times); "
            f"its log ends: {_log_end(box)!r}.",
            "docker logs NAME says why it stopped; docker inspect NAME shows how it runs (Config.User, Mounts).",
        )
    found = HARVESTED.search(box.logs().decode(errors="replace"))
    if not found:
        return failed(f"{wanted} is running but has not finished a harvest: its log ends {_log_end(box)!r}.")
    count, run = int(found.group(1)), folder / Path(found.group(2)).name
    written = sorted(run.glob("record-*.xml"))
    if len(written) < count:
        return failed(f"its log says {count} records, but {run} has {len(written)}: is that the folder it mounts?")
    owners = {p.stat().st_uid for p in written}
    if 0 in owners:
        return failed(f"the records in {run} belong to root on the host.", "Run the harvester as a non-root user.")
    return passed(
        f"{wanted} runs as {user or 'the image user'}, stays up (RestartCount 0), and its {count} records are in "
        f"{run.relative_to(course.ROOT)}, owned by uid {min(owners)} on the host."
    )


@exercise(
    "12.4",
    "exit 137: make the nightly job finish",
    needs="memory-limit",  # where -m is not enforced, nothing kills the job
    hint="docker inspect shows State.OOMKilled and State.ExitCode; docker logs says how much the job loads.",
    solution="""
    # the log says it loads 96 MiB; -m 128m leaves room for the programs themselves
    docker("run", "--name", name("ex-gridder"), "-m", "128m", image("gridder", "1"))
    """,
)
def gridder_fixed() -> Verdict:
    wanted = course.name("ex-gridder")
    box = _job_container(
        "12.4",
        "ex-gridder",
        course.image("gridder", "1"),
        missing=f"there is no container called {wanted} yet (run it without --rm).",
    )
    if isinstance(box, Verdict):
        return box
    host = box.attrs["HostConfig"]
    memory, swap = host.get("Memory") or 0, host.get("MemorySwap") or 0
    most = casestudy.GRID_LIMIT_MAX_MIB
    if not memory:
        return failed(
            f"{wanted} has no memory limit: on a shared host such a job may take the memory the catalog needs.",
            f"Keep a limit (-m), raised above what the job's log says it loads; at most {most}m.",
        )
    mib = memory / 2**20
    if mib > most:
        return failed(
            f"{wanted}'s memory limit is {mib:g} MiB, more than {most} MiB: a limit far above the need protects "
            "nothing.",
            f"A little more than what the job's log says it loads is enough; at most -m {most}m.",
        )
    if swap == -1:
        return failed(
            f"{wanted} may use unlimited swap (--memory-swap -1): its memory is not bounded.",
            "Leave --memory-swap out, or give it a value of at least -m.",
        )
    try:
        wait.until(lambda: _settled(box, "done"), "the gridder to finish", timeout=GRIDDER_WAIT)
    except wait.WaitTimeout:
        pass
    box.reload()
    state = box.attrs["State"]
    if state["Status"] == "running":
        return failed(
            f"{wanted} is still running after {GRIDDER_WAIT:.0f} s.", "docker logs NAME shows how far it got."
        )
    if state["OOMKilled"]:
        return failed(
            f"{wanted} was killed for memory again (OOMKilled true, exit code {state['ExitCode']}) with -m {mib:g}m.",
            "docker logs NAME says how much the job loads; the limit must hold that, plus a few MiB for the "
            "programs themselves.",
        )
    if state["ExitCode"] != 0:
        return failed(
            f"{wanted} exited with code {state['ExitCode']}; its log ends: {_log_end(box)!r}.",
            "137 is 128 + 9: killed by SIGKILL. docker inspect NAME shows State.OOMKilled.",
        )
    if "done" not in _log_end(box, 1):
        return failed(f"{wanted} exited 0 but its log does not say done: {_log_end(box, 1)!r}.")
    return passed(f"{wanted} finished (exit code 0, OOMKilled false) within its limit of {mib:g} MiB.")
