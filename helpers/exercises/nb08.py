"""Exercises of notebook 08 (anatomy of a Dockerfile)."""

from __future__ import annotations

from .. import course, dockerfiles, oneshot, wait
from ..daemon import client
from ..shell import docker
from . import Verdict, course_image, exercise, failed, passed, records, reset_images

EXERCISE_IMAGES = [("ex-env", "1")]


def reset() -> None:
    """Remove the images an earlier attempt built, so each check looks at this run's work only."""
    reset_images(EXERCISE_IMAGES)


@exercise(
    "08.1",
    "a default environment variable",
    hint='ENV UNITS=degC sets the default; CMD ["sh", "-c", "echo $UNITS"] prints it.',
    solution='''
    images.build(image("ex-env", "1"), images.context("ex-env", {"Dockerfile": """
    FROM busybox
    ENV UNITS=degC
    CMD ["sh", "-c", "echo $UNITS"]
    """}))
    ''',
)
def default_env() -> Verdict:
    ref = course.image("ex-env", "1")
    img = course_image(ref)
    if isinstance(img, Verdict):
        return img
    records.note("08.1", "image", ref, img)  # built in a terminal, it has no course label
    env = dict(item.split("=", 1) for item in img.attrs["Config"].get("Env") or [])
    if env.get("UNITS") != "degC":
        return failed(f"the image's environment has UNITS={env.get('UNITS')!r}, not 'degC'.", "ENV UNITS=degC")
    out = oneshot.output(ref).decode().strip()
    if out != "degC":
        return failed(f"docker run --rm {ref} printed {out!r}, not 'degC'.", 'CMD ["sh", "-c", "echo $UNITS"]')
    override = oneshot.output(ref, environment={"UNITS": "K"}).decode().strip()
    if override != "K":
        return failed(
            "with -e UNITS=K the container should print K: print the variable, not a fixed text.",
            'CMD ["sh", "-c", "echo $UNITS"]',
        )
    return passed(f"{ref} defaults to UNITS=degC, and -e UNITS=K overrides it.")


@exercise(
    "08.2",
    "which instruction form lets docker stop work at once",
    hint="Which form makes the app process 1, so that it receives docker stop's SIGTERM itself?",
    solution='answer = "exec"',
    takes_answer=True,
)
def stop_form(answer: object) -> Verdict:
    word = str(answer).strip().lower().removesuffix(" form")
    if word not in ("exec", "shell"):
        return failed(f"answer with 'exec' or 'shell', not {answer!r}.")
    timings = {}
    for form, _key, ref in (
        ("exec", "08-web", course.image("anatomy-web", "1")),
        ("shell", "08-web-shell", course.image("anatomy-web-shell", "1")),
    ):
        box = course.name(f"ex-stop-{form}")
        docker("rm", "-f", box, check=False, show=False, echo=False)
        found = course_image(ref, f"{ref} is missing: run section 5 of the notebook first.")
        if isinstance(found, Verdict):
            return found
        docker("run", "-d", "--name", box, ref, show=False, echo=False)
        # the server has set its SIGTERM handler once it says "serving"
        wait.until(lambda box=box: b"serving" in client().containers.get(box).logs(), f"{box} serving", timeout=60)
        timings[form] = docker("stop", "-t", "3", box, show=False, echo=False).seconds
        docker("rm", "-f", box, check=False, show=False, echo=False)
    fast = "exec" if timings["exec"] < timings["shell"] else "shell"
    if word != fast:
        return failed(
            f"measured now: exec form stopped in {timings['exec']:.1f} s, shell form in {timings['shell']:.1f} s.",
            "Process 1 must be the app itself.",
        )
    return passed(
        f"exec form: {dockerfiles.stop_verdict(timings['exec'], 3)}; "
        f"shell form: {dockerfiles.stop_verdict(timings['shell'], 3)}."
    )
