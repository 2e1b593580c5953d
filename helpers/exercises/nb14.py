"""Exercises of notebook 14 (clean-up and next steps)."""

from __future__ import annotations

import docker as sdk

from .. import course
from ..daemon import client
from . import Verdict, exercise, failed, passed, whole_number


@exercise(
    "14.1",
    "count the course's containers by label",
    hint='docker_out("ps", "-aq", "--filter", f"label={label_filter()}") lists their ids.',
    solution="""
    answer = len(docker_out("ps", "-aq", "--filter", f"label={label_filter()}").split())
    """,
    takes_answer=True,
)
def count(answer: object) -> Verdict:
    actual = len(client().containers.list(all=True, filters={"label": course.label_filter()}))
    given = whole_number(answer)
    if isinstance(given, Verdict):
        return given
    if given == actual:
        return passed(f"{actual} container(s) carry the course label of namespace {course.namespace()}.")
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
