"""Exercises of notebook 08 (anatomy of a Dockerfile)."""

from __future__ import annotations

from pathlib import Path

from .. import course, dockerfiles, images, oneshot, wait
from ..daemon import client
from ..shell import docker
from . import Verdict, check_command_problem, course_image, exercise, failed, passed, records, reset_images

EXERCISE_IMAGES = [("ex-env", "1"), ("ex-health", "1")]


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


# 08.3: a HEALTHCHECK and an entrypoint that waits for its dependency (here: a file), then execs the CMD
READY = "/tmp/db.ready"
HEALTH_STARTER = """FROM {base}
# Exercise 08.3. Add:
# 1. an entrypoint script (COPY it in, ENTRYPOINT in exec form) that waits, at most 30 s, until
#    {ready} exists, then runs the CMD so that the CMD's process is PID 1;
# 2. a HEALTHCHECK (every 1 s) that asks the server on http://127.0.0.1:8080/.
CMD ["python3", "/srv/serve.py"]
"""


def health_folder() -> Path:
    """The build context of exercise 08.3 (``build/<ns>/contexts/ex-health/``)."""
    return course.workdir("contexts", "ex-health")


def health_starter() -> Path:
    """Write the starter Dockerfile unless the learner already has one; returns the folder."""
    return course.starter(health_folder() / "Dockerfile", health_starter_text()).parent


def health_starter_text() -> str:
    return HEALTH_STARTER.format(base=course.image("anatomy-web", "1"), ready=READY)


def _inspect(box: str, fmt: str) -> str:
    return docker("inspect", "--format", fmt, box, echo=False, show=False).output.strip()


def _config_problem(img: object) -> Verdict | None:
    """A failed verdict when the image has no real HEALTHCHECK or no ENTRYPOINT."""
    config = img.attrs["Config"]  # type: ignore[attr-defined]
    test = (config.get("Healthcheck") or {}).get("Test") or []
    if not test or test[0] == "NONE":
        return failed("the image has no HEALTHCHECK: it is never healthy.", "HEALTHCHECK --interval=1s CMD …")
    unasked = check_command_problem(
        test,
        "the HEALTHCHECK",
        "8080",
        "the server on port 8080",
        "HEALTHCHECK CMD python3 -c \"import urllib.request; urllib.request.urlopen('http://127.0.0.1:8080/')\"",
    )
    if unasked:
        return unasked
    if not config.get("Entrypoint"):
        return failed("the image has no ENTRYPOINT: nothing waits for the dependency.", 'ENTRYPOINT ["/wait-for.sh"]')
    return None


def _running_checks(box: str, cmd: list[str]) -> Verdict | None:
    """Waits, becomes healthy once the dependency appears, and runs the CMD as PID 1; else a failed verdict."""
    wait.until(lambda: _inspect(box, "{{.State.Status}}") != "created", f"{box} started", timeout=20)
    try:  # before the dependency exists: still running, the app not started, not healthy
        early = f"{box} to stop before {READY} exists"
        wait.until(lambda: _inspect(box, "{{.State.Status}}") != "running", early, timeout=4, interval=0.5)
        return failed(f"the container stopped while {READY} did not exist yet.", "Loop, bounded, until it exists.")
    except wait.WaitTimeout:
        pass
    if b"serving" in client().containers.get(box).logs():
        return failed(f"the server started before {READY} existed: the entrypoint did not wait.", "until [ -e …")
    if _inspect(box, "{{.State.Health.Status}}") == "healthy":
        return failed("healthy before the server ran: the HEALTHCHECK checks nothing.", "Ask the server on 8080.")
    docker("exec", box, "touch", READY, echo=False, show=False)
    try:
        wait.until(lambda: _inspect(box, "{{.State.Health.Status}}") == "healthy", f"{box} healthy", timeout=45)
    except wait.WaitTimeout:
        state = _inspect(box, "{{.State.Status}}, health {{.State.Health.Status}}")
        return failed(f"45 s after {READY} appeared the container is {state}.", "HEALTHCHECK --interval=1s …")
    pid1 = docker("exec", box, "cat", "/proc/1/cmdline", echo=False, show=False).output.split("\0")
    pid1 = [arg for arg in pid1 if arg]
    if pid1 != cmd:
        return failed(
            f"PID 1 is {' '.join(pid1)!r}, not the CMD {' '.join(cmd)!r}: the shell that ran your script stayed.",
            'End the script with exec "$@".',
        )
    return None


@exercise(
    "08.3",
    "a HEALTHCHECK and an entrypoint that waits, then execs",
    needs="image-healthcheck",
    hint='The script: until [ -e /tmp/db.ready ]; do … sleep 1; done (with a bound), then exec "$@".',
    solution='''
    folder = nb08.health_folder()
    (folder / "wait-for.sh").write_text("""#!/bin/sh
    tries=0
    until [ -e /tmp/db.ready ]; do
        tries=$((tries + 1))
        if [ "$tries" -ge 30 ]; then echo "wait-for: gave up" >&2; exit 1; fi
        sleep 1
    done
    exec "$@"
    """)
    (folder / "Dockerfile").write_text(f"""FROM {image("anatomy-web", "1")}
    COPY --chmod=755 wait-for.sh /usr/local/bin/wait-for.sh
    HEALTHCHECK --interval=1s --timeout=3s CMD python3 -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8080/')"
    ENTRYPOINT ["wait-for.sh"]
    CMD ["python3", "/srv/serve.py"]
    """)
    ''',
)
def health_entrypoint() -> Verdict:
    ref = course.image("ex-health", "1")
    folder = health_folder()
    base = course.image("anatomy-web", "1")
    found = course_image(base, f"{base} is missing: run section 2 of the notebook first.")
    if isinstance(found, Verdict):
        return found
    built = images.build(ref, folder, show=False, check=False, echo=False)
    if not built.ok:
        last = next((ln for ln in reversed(built.lines) if ln.strip()), "")
        return failed(f"docker build {folder.name} failed: {last}")
    img = course_image(ref)
    if isinstance(img, Verdict):
        return img
    records.note("08.3", "image", ref, img)
    problem = _config_problem(img)
    if problem is not None:
        return problem
    box = course.name("ex-health")
    docker("rm", "-f", box, check=False, show=False, echo=False)
    try:
        docker("run", "-d", "--name", box, ref, show=False, echo=False)
        problem = _running_checks(box, img.attrs["Config"].get("Cmd") or [])
        if problem is not None:
            return problem
        seconds = docker("stop", "-t", "10", box, show=False, echo=False).seconds
        if seconds >= 5:
            return failed(f"docker stop took {seconds:.0f} s: SIGTERM did not reach the server.", 'exec "$@"')
    finally:
        docker("rm", "-f", box, check=False, show=False, echo=False)
    return passed(f"{ref} waited for {READY}, became healthy, ran its CMD as PID 1 and stopped in {seconds:.1f} s.")
