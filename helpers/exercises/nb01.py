"""Exercises of notebook 01 (why containers)."""

from __future__ import annotations

from ..core import course, oneshot, records
from ..core.daemon import client
from . import Verdict, course_container, exercise, failed, passed


@exercise(
    "01.1",
    "run the pinned summary image",
    hint='Run PINNED (printed above) under the name name("ex-summary"), in a terminal or with docker(); '
    "without --rm, so the checker can read what it printed.",
    solution="""
    docker("run", "--name", name("ex-summary"), PINNED)
    """,
)
def pinned_summary() -> Verdict:
    wanted = course.name("ex-summary")
    box = course_container("ex-summary")
    if isinstance(box, Verdict):
        return box
    records.note("01.1", "container", wanted, box)  # run in a terminal, it has no course label
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
    "which python3 package does the plain image hold?",
    hint="Debian's package tool answers inside the image: dpkg-query -W python3 prints the package and its "
    "version (docker run --rm IMAGE dpkg-query -W python3).",
    solution="""
    answer = docker_out("run", "--rm", PLAIN, "dpkg-query", "-W", "-f", "${Version}", "python3")
    """,
    takes_answer=True,
)
def python_package(answer: object) -> Verdict:
    if not isinstance(answer, str):
        return failed(f"answer should be a version string such as '3.9.2-3', not a {type(answer).__name__}.")
    out = oneshot.output(course.image("ocean-plain", "1"), ["dpkg-query", "-W", "-f", "${Version}", "python3"])
    actual = out.decode().strip()
    # as dpkg-query prints it ("python3\t3.11.2-1+b1"), as apt spells it ("python3=3.11.2-1+b1"), or the version
    given = answer.strip().removeprefix("python3").strip().removeprefix("=").removeprefix(":").strip()
    if given == actual:
        return passed(
            f"the plain image holds Debian's python3 {actual}: the upstream version, then Debian's revision. "
            "Whoever runs the image gets exactly that package, whatever their own machine has."
        )
    if actual.startswith(given):
        return failed(
            f"{given!r} is the start of it: a Debian package version has the upstream version and Debian's revision.",
            "dpkg-query -W python3 prints all of it.",
        )
    return failed(f"{given[:30]!r} is not the python3 package of the plain image.", "dpkg-query -W python3")
