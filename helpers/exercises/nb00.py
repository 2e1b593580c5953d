"""Exercises of notebook 00 (setup and preflight)."""

from __future__ import annotations

from .. import course
from ..daemon import client
from . import Verdict, course_container, exercise, failed, passed, records


@exercise(
    "00.1",
    "run your first named container",
    hint='In a terminal: docker run --name NAME busybox echo "Hello, ocean!" (NAME is name("ex-hello")), or '
    'docker("run", "--name", name("ex-hello"), "busybox", "echo", "Hello, ocean!") — without --rm, '
    "so the stopped container is still there to inspect.",
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
    "ask the daemon which storage driver it uses",
    hint='docker("info", "--format", "{{.Driver}}") prints it; put the word into answer as a string.',
    solution="""
    answer = docker_out("info", "--format", "{{.Driver}}")
    """,
    takes_answer=True,
)
def storage_driver(answer: object) -> Verdict:
    if not isinstance(answer, str):
        return failed(f"answer should be a string such as 'overlay2', not a {type(answer).__name__}.")
    actual = client().info().get("Driver", "")
    if answer.strip().lower() == actual.lower():
        return passed(f"this daemon stores image layers with the {actual} driver.")
    return failed(
        f"{answer.strip()[:40]!r} is not what the daemon reports.", 'Try docker("info", "--format", "{{.Driver}}").'
    )
