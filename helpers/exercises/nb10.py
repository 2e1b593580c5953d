"""Exercises of notebook 10 (multi-stage builds)."""

from __future__ import annotations

import docker as sdk

from .. import course, dockerfiles, oneshot
from . import Verdict, course_image, exercise, failed, passed, reset_images

EXERCISE_IMAGES = [("ex-sst-small", "1"), ("ex-sst", "builder")]


def reset() -> None:
    """Remove the images an earlier attempt built, so each check looks at this run's work only."""
    reset_images(EXERCISE_IMAGES)


LIMIT = 10_000_000


def expected_summary() -> str:
    """What sst-summary prints for the course's temperatures (computed here, in Python)."""
    values = [float(line.split(",")[1]) for line in dockerfiles.TEMPERATURES.splitlines()[1:]]
    return (
        f"/data/temps.csv: {len(values)} values, min {min(values):.2f} °C, "
        f"mean {sum(values) / len(values):.2f} °C, max {max(values):.2f} °C"
    )


@exercise(
    "10.1",
    "shrink the image below 10 MB",
    hint="A multi-stage build: compile in a Debian stage, COPY --from it into a busybox (or scratch) stage.",
    solution="""
    images.build(image("ex-sst-small", "1"), dockerfiles.context("10-multi", show=False), "--target", "runtime")
    """,
)
def small_image() -> Verdict:
    ref = course.image("ex-sst-small", "1")
    img = course_image(ref)
    if isinstance(img, Verdict):
        return img
    size = img.attrs["Size"]
    out = oneshot.output(ref).decode().strip()
    if out != expected_summary():
        return failed(
            f"running {ref} printed {out[:80]!r}, not the summary of /data/temps.csv.",
            'Keep ENTRYPOINT ["sst-summary"] and CMD ["/data/temps.csv"], and copy temps.csv in.',
        )
    if size >= LIMIT:
        return failed(
            f"{ref} is {dockerfiles.round_mb(size)}: not below 10 MB yet.",
            "Copy only the binary (COPY --from=builder …) into a busybox or scratch stage.",
        )
    return passed(f"{ref} is {dockerfiles.round_mb(size)} and prints the right summary.")


@exercise(
    "10.2",
    "stop at the builder stage",
    hint='images.build(image("ex-sst", "builder"), dockerfiles.context("10-multi"), "--target", "builder")',
    solution="""
    images.build(image("ex-sst", "builder"), dockerfiles.context("10-multi", show=False), "--target", "builder")
    """,
)
def builder_stage() -> Verdict:
    ref = course.image("ex-sst", "builder")
    found = course_image(ref, f"no image {ref} yet: build it with --target builder.")
    if isinstance(found, Verdict):
        return found
    try:
        out = oneshot.output(
            ref,
            ["sh", "-c", "gcc --version | head -1; test -x /usr/local/bin/sst-summary && echo has-binary"],
        ).decode()
    except sdk.errors.ContainerError:
        return failed(f"{ref} has no gcc or no shell: is it the builder stage?", "--target builder")
    if "gcc" not in out or "has-binary" not in out:
        return failed(f"{ref} does not look like the builder stage (gcc and the compiled tool).", "--target builder")
    return passed(f"{ref} is the builder stage: it has gcc and the compiled sst-summary.")
