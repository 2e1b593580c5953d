"""Exercises of notebook 08 (anatomy of a Dockerfile)."""

from __future__ import annotations

import time
from pathlib import Path

from ..core import course, images, oneshot, wait
from ..core.daemon import client
from ..core.shell import docker
from . import (
    Verdict,
    check_command_problem,
    course_image,
    exercise,
    failed,
    learner_image,
    passed,
    records,
    reset_images,
)

EXERCISE_IMAGES = [("ex-env", "1"), ("ex-stop", "1"), ("ex-health", "1")]


def reset() -> None:
    """Remove the images an earlier attempt built, so each check looks at this run's work only."""
    reset_images(EXERCISE_IMAGES)


@exercise(
    "08.1",
    "a default environment variable",
    hint="ENV sets a default that docker run -e can override; a shell (the shell form, or sh -c) expands "
    "$UNITS when the container starts.",
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


LOGGER = """FROM busybox
# a station logger: one reading a second, to a file a later step ships
CMD ["sh", "-c", "while true; do date >> /tmp/readings.log; sleep 1; done"]
"""
"""Exercise 08.2's starter: exec form, and still process 1 (a shell) has no SIGTERM handler."""

STOP_TIMEOUT = 5  # docker stop -t 5: a logger that waits it out is plainly slow, and the check stays short


def logger_starter() -> Path:
    """Exercise 08.2's Dockerfile in a folder of the learner's (``build/<ns>/contexts/ex-stop/``), kept if there."""
    return course.starter(course.workdir("contexts", "ex-stop") / "Dockerfile", LOGGER)


@exercise(
    "08.2",
    "a logger that docker stop stops at once",
    hint="Process 1 (the shell) ignores SIGTERM unless it sets a handler: trap 'exit 0' TERM at the start of "
    "its script. (STOPSIGNAL SIGKILL would skip every clean-up; --init is a docker run option, not the image's.)",
    solution="""
    fixed = nb08.logger_starter().read_text().replace("while true;", "trap 'exit 0' TERM; while true;")
    images.build(image("ex-stop", "1"), images.context("ex-stop", {"Dockerfile": fixed}))
    """,
)
def quick_stop() -> Verdict:
    ref = course.image("ex-stop", "1")
    img = learner_image("08.2", ref)
    if isinstance(img, Verdict):
        return img
    signal = str(img.attrs["Config"].get("StopSignal") or "SIGTERM").upper()
    if signal in ("SIGKILL", "9", "KILL"):
        return failed(
            f"{ref} has STOPSIGNAL {signal}: it stops at once because it is killed, with no chance to finish a "
            "write or close a file.",
            "Keep SIGTERM and give process 1 a handler.",
        )
    box = course.name("ex-stop-check")
    docker("rm", "-f", box, check=False, show=False, echo=False)
    docker("run", "-d", "--name", box, ref, show=False, echo=False)
    try:
        time.sleep(2)
        state = client().containers.get(box).attrs["State"]
        if not state["Running"]:
            return failed(f"{ref} exited at once (exit code {state['ExitCode']}): the logger should keep logging.")
        logged = docker("exec", box, "cat", "/tmp/readings.log", check=False, show=False, echo=False)
        if not logged.ok or not logged.output.strip():
            return failed(f"{ref} runs but wrote nothing to /tmp/readings.log: keep the logger's loop.")
        seconds = docker("stop", "-t", str(STOP_TIMEOUT), box, show=False, echo=False).seconds
    finally:
        docker("rm", "-f", box, check=False, show=False, echo=False)
    if seconds >= STOP_TIMEOUT - 0.5:
        return failed(
            f"docker stop -t {STOP_TIMEOUT} took {seconds:.1f} s: process 1 ignored SIGTERM and was killed after "
            "the timeout (a PID 1 without a handler gets no default action).",
            "trap 'exit 0' TERM in the script that is process 1.",
        )
    return passed(
        f"docker stop -t {STOP_TIMEOUT} took {seconds:.1f} s: process 1 handled SIGTERM and left while the "
        "readings were safe."
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
        return failed("the image has no HEALTHCHECK: it is never healthy.")  # the starter's state: no hint yet
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
    hint='The script waits in a loop, with a bound, until the file /tmp/db.ready exists; then exec "$@" hands '
    "process 1 over to the CMD.",
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
