"""Exercises of notebook 07 (pull, build, run, exec)."""

from __future__ import annotations

import time

from .. import course, dockerfiles, images, oneshot
from . import Verdict, course_container, exercise, failed, passed


@exercise(
    "07.1",
    "make the app rebuild in under a second after a source change",
    hint="Copy requirements.txt alone, run the slow install, and only then COPY report.sh: "
    "a step misses the cache only when its own input changed, and everything after it runs again.",
    solution='''
    answer = """
    FROM busybox
    WORKDIR /app
    COPY requirements.txt /app/
    RUN sleep 3 && sort requirements.txt > installed.txt
    COPY report.sh /app/
    CMD ["sh", "report.sh"]
    """
    ''',
    takes_answer=True,
)
def fast_rebuild(answer: object) -> Verdict:
    if not isinstance(answer, str) or "FROM" not in answer.upper():
        return failed("answer should be the Dockerfile's text (a string starting with FROM).")
    text = "\n".join(line.strip() for line in answer.strip().splitlines()) + "\n"
    errors = dockerfiles.errors(text)
    if errors:
        return failed(f"hadolint reports an error: {errors[0]}")
    if "sleep 3" not in text:
        return failed("keep the slow install step (`RUN sleep 3 && sort requirements.txt > installed.txt`).")
    ref = course.image("ex-fast", "1")
    files = dict(dockerfiles.FILES["07-slow"])
    first = images.build(ref, images.context("ex-fast", {"Dockerfile": text, **files}), show=False, check=False)
    if not first.ok:
        return failed("the Dockerfile does not build: " + (first.lines[-1] if first.lines else "no output"))
    token = f"v{time.time_ns()}"
    files["report.sh"] = dockerfiles.REPORT_SH.replace("v1", token)
    second = images.build(ref, images.context("ex-fast", {"Dockerfile": text, **files}), show=False)
    out = oneshot.output(ref).decode()
    if token not in out or "3 dependencies" not in out:
        return failed(f"the rebuilt image does not run the changed report.sh (it printed {out.strip()!r}).")
    slow = [s for s in dockerfiles.steps(second.output) if "sleep 3" in s.instruction]
    if not slow or not slow[0].cached or second.seconds > 2.5:
        return failed(
            f"after editing report.sh the rebuild took {second.seconds:.1f} s: the install ran again.",
            "Which step copies report.sh? It must come after the install.",
        )
    return passed(f"after editing report.sh the rebuild took {second.seconds:.1f} s; the install was CACHED.")


@exercise(
    "07.2",
    "a long-running worker with a restart policy and a memory limit",
    hint='docker("run", "-d", "--name", name("ex-worker"), "--restart", "unless-stopped", "-m", "32m", '
    '"busybox", "sleep", "3600")',
    solution="""
    docker("rm", "-f", name("ex-worker"), check=False, show=False)
    docker("run", "-d", "--name", name("ex-worker"), "--restart", "unless-stopped", "-m", "32m",
           "busybox", "sleep", "3600")
    """,
)
def worker() -> Verdict:
    wanted = course.name("ex-worker")
    box = course_container(
        "ex-worker", 'Use --name with name("ex-worker").', missing=f"no container named {wanted} yet."
    )
    if isinstance(box, Verdict):
        return box
    host = box.attrs["HostConfig"]
    policy = host.get("RestartPolicy", {}).get("Name", "")
    if box.status != "running":
        return failed(f"{wanted} is {box.status}, not running.", "Run it with -d and the command sleep 3600.")
    if policy != "unless-stopped":
        return failed(f"its restart policy is {policy or 'no'!r}, not 'unless-stopped'.")
    if host.get("Memory") != 32 * 1024 * 1024:
        return failed(f"its memory limit is {host.get('Memory')} bytes, not 32 MB (33554432).", "-m 32m")
    return passed(f"{wanted} runs with --restart unless-stopped and a 32 MB memory limit.")
