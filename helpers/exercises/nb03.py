"""Exercises of notebook 03 (security)."""

from __future__ import annotations

from .. import course, images, oneshot
from . import Verdict, course_container, exercise, failed, passed


@exercise(
    "03.1",
    "run a container that cannot write to its root filesystem",
    hint='docker("run", "--name", name("ex-readonly"), "--read-only", "busybox", "true")',
    solution="""
    docker("run", "--name", name("ex-readonly"), "--read-only", "busybox", "true")
    """,
)
def read_only() -> Verdict:
    wanted = course.name("ex-readonly")
    box = course_container("ex-readonly")
    if isinstance(box, Verdict):
        return box
    if not box.attrs["HostConfig"].get("ReadonlyRootfs"):
        return failed(f"{wanted} can write to its root filesystem.", "Add --read-only.")
    return passed(f"{wanted} has a read-only root filesystem (HostConfig.ReadonlyRootfs is true).")


@exercise(
    "03.2",
    "write a Dockerfile whose default user is not root",
    hint="Two lines are enough: FROM busybox, then USER with a numeric uid such as 10001.",
    solution="""
    answer = "FROM busybox\\nUSER 10001\\n"
    """,
    takes_answer=True,
)
def non_root_dockerfile(answer: object) -> Verdict:
    if not isinstance(answer, str):
        return failed(f"answer should be the Dockerfile's text (a string), not a {type(answer).__name__}.")
    first = next((ln.split() for ln in answer.splitlines() if ln.strip() and not ln.startswith("#")), [])
    if (
        len(first) < 2
        or first[0].upper() != "FROM"
        or first[1] not in ("busybox", "busybox:latest", "debian:bookworm-slim")
    ):
        return failed("the Dockerfile should start FROM busybox or FROM debian:bookworm-slim.")
    ref = course.image("ex-user", "1")
    ctx = images.context("ex-user", {"Dockerfile": answer})
    result = images.build(ref, ctx, show=False, echo=False, check=False, timeout=300)
    if not result.ok:
        last = result.lines[-1] if result.lines else ""
        return failed(f"the Dockerfile does not build: {last[:120]}")
    uid = oneshot.output(ref, ["id", "-u"]).decode().strip()
    if uid == "0":
        return failed("containers of this image still run as root (id -u prints 0).", "Add a USER line.")
    return passed(f"containers of this image run as uid {uid} by default.")
