"""Exercises of notebook 01 (why containers)."""

from __future__ import annotations

from .. import course, oneshot
from ..daemon import client
from . import Verdict, course_container, exercise, failed, passed


@exercise(
    "01.1",
    "run the pinned summary image",
    hint='docker("run", "--name", name("ex-summary"), PINNED) — without --rm.',
    solution="""
    docker("run", "--name", name("ex-summary"), PINNED)
    """,
)
def pinned_summary() -> Verdict:
    wanted = course.name("ex-summary")
    box = course_container("ex-summary")
    if isinstance(box, Verdict):
        return box
    expected = course.image("ocean-numpy", "1")
    pinned = client().images.get(expected).id
    if box.image.id != pinned:
        return failed(f"{wanted} runs {box.image.tags or box.image.short_id}, not {expected}.")
    if box.status != "exited":
        return failed(f"{wanted} is still {box.status}: let it finish.")
    code = box.attrs["State"]["ExitCode"]
    logs = box.logs().decode(errors="replace")
    if code != 0 or "hourly observations" not in logs:
        return failed(f"{wanted} exited with code {code} and did not print the summary.")
    return passed(f"{wanted} ran the pinned image and printed: {logs.splitlines()[0]}")


@exercise(
    "01.2",
    "find the Python version inside the plain image",
    hint='docker("run", "--rm", PLAIN, "python3", "--version") prints it; answer with major.minor as a string.',
    solution="""
    answer = ".".join(docker_out("run", "--rm", PLAIN, "python3", "--version").split()[1].split(".")[:2])
    """,
    takes_answer=True,
)
def python_version(answer: object) -> Verdict:
    if not isinstance(answer, str):
        return failed(f"answer should be a string such as '3.9', not a {type(answer).__name__}.")
    out = oneshot.output(course.image("ocean-plain", "1"), ["python3", "--version"])
    actual = ".".join(out.decode().split()[1].split(".")[:2])
    given = answer.strip().removeprefix("Python").strip()
    if given == actual or given.startswith(actual + "."):
        return passed(f"the plain image has Python {actual}, whatever Python your own machine has.")
    return failed(f"{answer.strip()[:20]!r} is not the Python of the plain image.", "Run python3 --version in it.")
