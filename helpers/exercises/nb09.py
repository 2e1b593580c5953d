"""Exercises of notebook 09 (choosing a base image)."""

from __future__ import annotations

from .. import course, oneshot
from . import Verdict, course_image, exercise, failed, passed

NEWEST = (
    "from packaging import tags; p = [t.platform for t in tags.sys_tags() if t.platform.startswith('manylinux_')]; "
    "print(max(p, key=lambda s: int(s.split('_')[2])))"
)


@exercise(
    "09.1",
    "the newest manylinux tag the Python image accepts",
    hint="Run python3 -c with packaging.tags.sys_tags() in the image, as in section 3, and look at 'newest'.",
    solution="""
    answer = docker_out("run", "--rm", image("base-python", "1"), "python3", "-c",
                        "from packaging import tags; print(next(t.platform for t in tags.sys_tags()))")
    """,
    takes_answer=True,
)
def newest_tag(answer: object) -> Verdict:
    ref = course.image("base-python", "1")
    found = course_image(ref, f"{ref} is missing: run section 2 of the notebook first.")
    if isinstance(found, Verdict):
        return found
    out = oneshot.output(ref, ["python3", "-c", NEWEST]).decode().strip()
    given = str(answer).strip()
    if given == out:
        glibc = ".".join(out.split("_")[1:3])
        return passed(f"{out}: wheels built for glibc {glibc} or older install on this image.")
    return failed(
        f"{given!r} is not the newest manylinux tag {ref} accepts.",
        "It matches the image's glibc version (ldd --version).",
    )


@exercise(
    "09.2",
    "which base image has no dynamic loader",
    hint="Look for /lib*/ld-* in each image: docker run --rm IMAGE sh -c 'ls /lib*/ld-*'.",
    solution='answer = "busybox"',
    takes_answer=True,
)
def static_image(answer: object) -> Verdict:
    given = str(answer).strip().split(":")[0]
    without = []
    for ref in ("busybox:latest", "debian:bookworm-slim"):
        result = (
            oneshot.output(ref, ["sh", "-c", "ls /lib*/ld-* >/dev/null 2>&1 && echo yes || echo no"]).decode().strip()
        )
        if result == "no":
            without.append(ref.split(":")[0])
    if given in without:
        return passed(f"{given} has no dynamic loader: its busybox binary is statically linked.")
    return failed(
        f"{given!r} is not the image without a loader (checked on the daemon just now).",
        "Look for /lib*/ld-* in each image: docker run --rm IMAGE sh -c 'ls /lib*/ld-*'.",
    )
