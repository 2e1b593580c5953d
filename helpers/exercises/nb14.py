"""Exercises of notebook 14 (clean-up and next steps)."""

from __future__ import annotations

import docker as sdk

from ..core import course, shell
from ..core.daemon import client
from . import Verdict, exercise, failed, passed, whole_number

COUNTED = ("ex-count-a", "ex-count-b", "ex-count-c")
"""Exercise 14.1's labelled containers: two running, one exited; ``ex-count-own`` has no label (one of yours)."""


def make_containers() -> None:
    """Exercise 14.1's containers (made again from nothing: an interrupted run may have left them)."""
    remove_containers()
    for suffix in COUNTED[:2]:
        shell.docker("run", "-d", "--name", course.name(suffix), "busybox", "sleep", "600")
    shell.docker("run", "--name", course.name(COUNTED[2]), "busybox", "true")
    shell.docker("run", "-d", "--name", course.name("ex-count-own"), "busybox", "sleep", "600", label=False)


def remove_containers() -> None:
    for suffix in (*COUNTED, "ex-count-own"):
        shell.docker("rm", "-f", course.name(suffix), show=False, echo=False, check=False)


@exercise(
    "14.1",
    "count the course's containers by label",
    hint="docker ps shows running containers only, and a name filter finds names, whoever made them: the course's "
    "label is what marks its containers (docker ps --help lists the options).",
    solution="""
    answer = len(docker_out("ps", "-aq", "--filter", f"label={label_filter()}").split())
    """,
    takes_answer=True,
)
def count(answer: object) -> Verdict:
    dc = client()
    labelled = dc.containers.list(all=True, filters={"label": course.label_filter()})
    actual = len(labelled)
    given = whole_number(answer)
    if isinstance(given, Verdict):
        return given
    if given == actual:
        return passed(f"{actual} container(s) carry the course label of namespace {course.namespace()}.")
    running = sum(c.status == "running" for c in labelled)
    named = len(dc.containers.list(all=True, filters={"name": f"^{course.namespace()}-"}))
    if given == running and running != actual:
        return failed(f"{given} is how many of them run: stopped ones count too.", "docker ps -a")
    if given == named and named != actual:
        return failed(f"{given} containers have names that start with {course.namespace()}-, but not all carry "
                      "the course label.", "Filter by label, not by name.")  # fmt: skip
    return failed(f"{given} is not the number of labelled containers.", "Use --filter label=... with docker ps -a.")


@exercise(
    "14.2",
    "remove the decoys yourself",
    hint="One remove command per kind, with the exact names: docker rm, docker volume rm, docker network rm, "
    "docker image rm (a label filter cannot find them: they have none).",
    solution="""
    docker("rm", "-f", DECOYS["container"])
    docker("volume", "rm", DECOYS["volume"])
    docker("network", "rm", DECOYS["network"])
    docker("image", "rm", DECOYS["image"])
    """,
)
def decoys_gone() -> Verdict:
    dc = client()
    left = []
    for kind, get in (
        ("container", lambda: dc.containers.get(course.name("decoy"))),
        ("volume", lambda: dc.volumes.get(course.name("decoy-vol"))),
        ("network", lambda: dc.networks.get(course.name("decoy-net"))),
        ("image", lambda: dc.images.get(f"{course.namespace()}/decoy:1")),
    ):
        try:
            get()
            left.append(kind)
        except sdk.errors.NotFound:
            pass
    if left:
        some_gone = len(left) < 4  # started: each kind has its own rm command
        hint = (
            "docker rm, docker volume rm, docker network rm, docker image rm: one for each kind." if some_gone else ""
        )
        return failed("still there: " + ", ".join(left) + ".", hint)
    return passed("all four decoys are gone, removed by you.")
