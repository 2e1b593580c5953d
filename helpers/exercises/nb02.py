"""Exercises of notebook 02 (containers vs virtual machines)."""

from __future__ import annotations

from typing import Any

from ..core import course, engine, oneshot, records
from . import Verdict, course_container, exercise, failed, passed, runs_as_asked


@exercise(
    "02.1",
    "how many CPUs does a container limited to half a CPU see?",
    hint="Start a container with --cpus 0.5 and ask it how many CPUs it can use (nproc).",
    solution="""
    answer = int(docker_out("run", "--rm", "--cpus", "0.5", "busybox", "nproc"))
    """,
    takes_answer=True,
)
def cpus_seen(answer: object) -> Verdict:
    try:
        given = float(str(answer).strip())
    except ValueError:
        return failed(f"answer with a number of CPUs, not {str(answer)[:40]!r}.")
    # as --cpus 0.5 sets it (Any: these are containers.create's keyword arguments)
    limited: dict[str, Any] = {"nano_cpus": 500_000_000} if engine.capabilities().cpu_limit else {}
    actual = int(oneshot.output("busybox", ["nproc"], **limited).decode().strip())
    if given == actual:
        return passed(
            f"a container limited to --cpus 0.5 still sees all {actual} CPUs: the limit is a share of CPU time "
            "(a CFS quota, enforced by throttling), not fewer processors. A program that sizes its thread pool "
            "from the CPU count starts as many threads as unlimited, and they take turns."
        )
    if given < actual:
        return failed(
            f"{given:g} is what the limit allows in CPU time, not what a container sees.",
            "--cpus does not hide processors: run nproc in a container started with --cpus 0.5.",
        )
    return failed(
        f"{given:g} is more than the CPUs a container sees.", "Run nproc in a container started with --cpus 0.5."
    )


@exercise(
    "02.2",
    "run a container limited to 64 MB of memory",
    hint="docker run -d keeps it in the background; the option for a memory limit is in docker run --help (-m).",
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
    if problem := runs_as_asked(box, "busybox", "sleep 60"):
        return problem
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
