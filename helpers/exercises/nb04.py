"""Exercises of notebook 04 (upgrading Docker): which containers come back after the daemon restarts."""

from __future__ import annotations

import json
import random

from ..core import cleanup, course, records
from ..core.daemon import client
from . import Verdict, exercise, failed, passed

SERVICES = ("erddap", "thredds", "harvester", "catalog", "postgres")
"""The exercises' containers: ``ex-up-erddap`` …, one restart situation each, dealt at random."""

SITUATIONS = (
    ("no", True),
    ("always", True),
    ("unless-stopped", True),
    ("unless-stopped", False),
    ("always", False),
)
"""(restart policy, running?) pairs; a stopped one was stopped by hand with ``docker stop``."""

DOCS = "https://docs.docker.com/engine/containers/start-containers-automatically/"


def services() -> list[str]:
    """The container names: ``name("ex-up-erddap")`` …"""
    return [course.name(f"ex-up-{s}") for s in SERVICES]


def _ids_file():
    return course.workdir("04") / "ex-up-ids.json"


def _dealt_file():
    return course.workdir("04") / "ex-up-dealt.json"


def _as_dealt() -> bool:
    """Whether every service still has the restart policy and the state it was dealt (nothing tried yet)."""
    try:
        dealt = json.loads(_dealt_file().read_text())
    except (OSError, ValueError):
        return False
    return all(list(_state(box)[:2]) == dealt.get(box) for box in services())


def make_services() -> list[str]:
    """Start the five services with the situations dealt at random, unless all five exist already (a second
    run of the cell keeps the learner's answer true). Their ids are kept, for exercise 04.2."""
    dc = client()
    existing = {c.name for c in dc.containers.list(all=True, filters={"label": course.label_filter()})}
    if not set(services()) <= existing:
        dealt = random.SystemRandom().sample(SITUATIONS, len(SITUATIONS))
        ids, situations = {}, {}
        for box, (policy, running) in zip(services(), dealt, strict=True):
            cleanup.remove_named(container=box)
            made = dc.containers.run(
                "busybox",
                ["sleep", "3600"],
                name=box,
                labels=course.labels(),
                detach=True,
                restart_policy={"Name": policy},
                stop_signal="SIGKILL",  # sleep ignores SIGTERM as process 1: no 10 s wait in docker stop
            )
            if not running:
                made.stop(timeout=0)
            ids[box], situations[box] = made.id, [policy, running]
        _ids_file().write_text(json.dumps(ids, indent=1))
        _dealt_file().write_text(json.dumps(situations, indent=1))
    print(f"{len(services())} services: {', '.join(services())}")
    return services()


def _state(box: str) -> tuple[str, bool, str]:
    attrs = client().containers.get(box).attrs
    return attrs["HostConfig"]["RestartPolicy"]["Name"] or "no", bool(attrs["State"]["Running"]), attrs["Id"]


def comes_back(policy: str, running: bool) -> bool:
    """Whether a daemon that starts (after a host reboot, or an upgrade with live-restore off) starts it again:
    ``always`` even if it was stopped by hand, ``unless-stopped`` only if it was running (Docker's docs)."""
    return policy == "always" or (policy == "unless-stopped" and running)


def _missing() -> Verdict | None:
    import docker as sdk  # deferred: the Docker SDK is slow to import

    try:
        for box in services():
            client().containers.get(box)
    except sdk.errors.NotFound:
        return failed("the five services are not all there: run the cell that starts them (nb04.make_services()).")
    return None


@exercise(
    "04.1",
    "which services come back after the daemon restarts?",
    hint="docker inspect --format '{{.Name}} {{.HostConfig.RestartPolicy.Name}} {{.State.Running}}' NAME …; "
    "a starting daemon starts `always` containers, and `unless-stopped` ones that were not stopped by hand.",
    solution="""
    from helpers import docker_out
    from helpers.exercises import nb04

    answer = []
    for box in nb04.services():
        policy, running = docker_out("inspect", "--format", "{{.HostConfig.RestartPolicy.Name}} {{.State.Running}}",
                                     box).split()
        if policy == "always" or (policy == "unless-stopped" and running == "true"):
            answer.append(box)
    """,
    takes_answer=True,
    needs="live-restore",
)
def back_after_restart(answer: object) -> Verdict:
    if isinstance(answer, str) or not isinstance(answer, list | tuple | set):
        return failed(f"answer with a list of container names, not a {type(answer).__name__}.")
    if (gone := _missing()) is not None:
        return gone
    truth = {box: _state(box)[:2] for box in services()}
    wanted = {box for box, (policy, running) in truth.items() if comes_back(policy, running)}
    given = {str(a).strip().lstrip("/") for a in answer}
    if given == wanted:
        return passed(
            f"{', '.join(sorted(wanted))} come back: `always` even after docker stop, `unless-stopped` only if "
            f"it was running, `no` never ({DOCS})."
        )
    for box in sorted(given ^ wanted):
        policy, running = truth.get(box, ("?", False))
        if box not in truth:
            return failed(f"{box!r} is not one of the five services.", "Names as docker ps -a shows them.")
        state = "running" if running else "stopped by hand"
        if box in given:  # said to come back, but does not
            why = (
                "no restart policy: nothing starts it again"
                if policy == "no"
                else ("unless-stopped remembers that it was stopped by hand")
            )
            return failed(f"{box} stays down: it is {state} with {why}.", "Read each one's restart policy and state.")
        why = (
            "--restart always starts it at every daemon start, even after docker stop"
            if policy == "always"
            else ("--restart unless-stopped brings back what was running")
        )
        return failed(f"{box} comes back too: it is {state}, and {why}.", "Read each one's restart policy and state.")
    return failed("not quite.")


@exercise(
    "04.2",
    "make the services that would stay down come back, without recreating them",
    hint="docker update --restart unless-stopped NAME changes the policy of an existing container in place "
    "(and docker start NAME starts a stopped one).",
    solution="""
    from helpers.exercises import nb04

    for box in nb04.services():
        docker("update", "--restart", "unless-stopped", box)
        docker("start", box)
    """,
    needs="live-restore",
)
def all_come_back() -> Verdict:
    if (gone := _missing()) is not None:
        return gone
    made = json.loads(_ids_file().read_text()) if _ids_file().exists() else {}
    down = []
    for box in services():
        policy, running, ident = _state(box)
        if made.get(box) not in (None, ident):
            records.note("04.2", "container", box, client().containers.get(box))  # the learner's: removed later
            return failed(
                f"{box} is a new container (another id): recreating a service loses its writable layer and its "
                "history. Change the existing one.",
                "docker update --restart …",
            )
        if policy == "on-failure":
            return failed(
                f"{box} has --restart on-failure: that restarts a container whose process exits with an "
                "error code, so whether a daemon start brings it back depends on how it stopped.",
                "unless-stopped or always: back after every restart.",
            )
        if not comes_back(policy, running):
            down.append(box)
    if down and _as_dealt():  # nothing tried yet: no hint before a first attempt
        return failed(f"{len(down)} of the {len(services())} services would stay down after a restart.")
    if down:  # counted, not named: the learner finds which with docker inspect
        return failed(
            f"{len(down)} of the {len(services())} services would stay down after a restart.",
            "docker inspect shows each one's restart policy and state; docker update and docker start change them.",
        )
    return passed(
        f"all {len(services())} services would come back after a reboot or an upgrade without live-restore, "
        "each still the same container."
    )
