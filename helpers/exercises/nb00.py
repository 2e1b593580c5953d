"""Exercises of notebook 00 (setup and preflight)."""

from __future__ import annotations

from ..core import course, records
from ..core.daemon import client
from . import Verdict, course_container, exercise, failed, passed


@exercise(
    "00.1",
    "run your first named container",
    hint='In a terminal: docker run with --name (the name is name("ex-hello")), the busybox image, and echo '
    "with the words; leave out --rm, so that the stopped container is still there to inspect.",
    solution="""
    docker("run", "--name", name("ex-hello"), "busybox", "echo", "Hello, ocean!")
    """,
)
def first_container() -> Verdict:
    wanted = course.name("ex-hello")
    box = course_container("ex-hello")
    if isinstance(box, Verdict):
        return box
    records.note("00.1", "container", wanted, box)  # made in a terminal, it has no course label
    if "busybox" not in " ".join(box.image.tags):
        return failed(f"{wanted} runs {box.image.tags or box.image.short_id}, not busybox.")
    if box.status != "exited":
        return failed(f"{wanted} is still {box.status}: let its command finish.")
    logs = box.logs().decode(errors="replace")
    if "Hello, ocean!" not in logs:
        return failed(f"{wanted} printed {logs.strip()[:60]!r}, not 'Hello, ocean!'.", "Check the exact words.")
    return passed(
        f"{wanted} ran busybox, printed 'Hello, ocean!' and exited with code {box.attrs['State']['ExitCode']}."
    )


@exercise(
    "00.2",
    "ask the daemon where it keeps images and containers",
    hint="docker info has a --format option; docker info --format '{{json .}}' lists every field's name.",
    solution="""
    answer = docker_out("info", "--format", "{{.DockerRootDir}}")
    """,
    takes_answer=True,
)
def data_root(answer: object) -> Verdict:
    if not isinstance(answer, str):
        return failed(f"answer should be a path (a string), not a {type(answer).__name__}.")
    actual = client().info().get("DockerRootDir", "")
    given = answer.strip().rstrip("/")
    if given == actual.rstrip("/"):
        return passed(
            f"this daemon keeps its images, containers and volumes under {actual}: the disk that fills up when "
            "images pile up (notebook 14 shows how to look, and clean up)."
        )
    if given and actual.startswith(given + "/"):
        return failed(f"{given} holds the daemon's folder, but it is not the folder itself.", "{{.DockerRootDir}}")
    return failed(
        f"{given[:60]!r} is not what the daemon reports.", "docker info --format '{{json .}}' names the field."
    )
