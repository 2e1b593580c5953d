"""Exercises of notebook 02 (containers vs virtual machines)."""

from __future__ import annotations

from .. import course, engine, oneshot
from . import Verdict, course_container, exercise, failed, passed, records


@exercise(
    "02.1",
    "find the kernel release a container sees",
    hint='docker_out("run", "--rm", "busybox", "uname", "-r") returns it.',
    solution="""
    answer = docker_out("run", "--rm", "busybox", "uname", "-r")
    """,
    takes_answer=True,
)
def kernel_release(answer: object) -> Verdict:
    if not isinstance(answer, str):
        return failed(f"answer should be a string, not a {type(answer).__name__}.")
    actual = oneshot.output("busybox", ["uname", "-r"]).decode().strip()
    if answer.strip() == actual:
        return passed(f"containers see kernel {actual}: the host's own kernel, shared by every container.")
    return failed(f"{answer.strip()[:40]!r} is not the release a container reports.", "Run uname -r in a container.")


@exercise(
    "02.2",
    "run a container limited to 64 MB of memory",
    hint='docker("run", "-d", "--name", name("ex-small"), "-m", "64m", "busybox", "sleep", "60")',
    solution="""
    docker("run", "-d", "--name", name("ex-small"), "-m", "64m", "busybox", "sleep", "60")
    """,
)
def small_container() -> Verdict:
    wanted = course.name("ex-small")
    box = course_container("ex-small")
    if isinstance(box, Verdict):
        return box
    records.note("02.2", "container", wanted, box)
    memory = box.attrs["HostConfig"].get("Memory") or 0
    if memory == 0:
        return failed(f"{wanted} has no memory limit.", "Add -m 64m.")
    if memory != 64 * 2**20:
        return failed(f"{wanted} is limited to {memory / 2**20:.0f} MiB, not 64.", "Use -m 64m.")
    if not engine.capabilities().memory_limit:  # accepted and recorded, but nothing enforces it here
        return passed(
            f"{wanted} asks for at most 64 MiB ({memory} bytes); this engine records it but cannot enforce it."
        )
    return passed(f"{wanted} may use at most 64 MiB ({memory} bytes); the kernel enforces it with a cgroup.")
