"""Exercises of notebook 11 (monitoring containers in production)."""

from __future__ import annotations

import os
import random
import re
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from ..core import cleanup, course, engine, ports, records
from ..core.daemon import client
from ..core.shell import CommandFailed
from ..lessons import monitor
from . import Verdict, course_container, exercise, failed, passed


@exercise(
    "11.1",
    "a memory limit that docker stats shows",
    hint="docker run -d, with the option for a memory limit (-m); docker stats --no-stream shows it under MEM "
    "USAGE / LIMIT.",
    solution="""
    docker("run", "-d", "--name", name("ex-limited"), "-m", "50m", "busybox", "sleep", "600")
    docker("stats", "--no-stream", "--format", "{{.Name}}: {{.MemUsage}}", name("ex-limited"))
    """,
)
def memory_limit() -> Verdict:
    wanted = course.name("ex-limited")
    box = course_container("ex-limited")
    if isinstance(box, Verdict):
        return box
    records.note("11.1", "container", wanted, box)
    if box.status != "running":
        return failed(f"{wanted} is {box.status}: docker stats reports a limit only for a running container.")
    if not engine.capabilities().cgroups:  # docker stats shows the host's figures here: read the setting
        memory = box.attrs["HostConfig"].get("Memory") or 0
        if memory != 50 * 2**20:
            return failed(f"{wanted} is limited to {memory / 2**20:g} MiB, not 50 MiB.", "Use -m 50m.")
        return passed(
            f"{wanted} asks for 50 MiB (HostConfig.Memory = {memory} bytes); without cgroups this engine "
            "neither enforces it nor shows it in docker stats."
        )
    limit = monitor.snapshot(wanted)["memory_limit_mb"]
    if limit != 50:
        return failed(f"docker stats shows {wanted}'s memory limit as {limit:g} MiB, not 50 MiB.", "Use -m 50m.")
    return passed(f"docker stats shows {wanted} limited to 50 MiB (HostConfig.Memory = 52428800 bytes).")


SUSPECTS = 4
BURN = "timeout 900 sh -c 'while :; do :; done'"  # bounded: a forgotten exercise stops burning by itself


def suspects() -> list[str]:
    """The exercise's containers: ``ex-suspect-1`` … ``-4``."""
    return [course.name(f"ex-suspect-{n}") for n in range(1, SUSPECTS + 1)]


def make_suspects() -> list[str]:
    """Start the suspects, unless all run already: all sleep but one, picked at random, which burns half a CPU.

    Kept when running, so that running the cell again does not move the burner under the learner's answer.
    """
    running = {c.name for c in client().containers.list(filters={"label": course.label_filter()})}
    if not set(suspects()) <= running:
        _start_suspects()
        _guesses_file().unlink(missing_ok=True)  # a new deal: no wrong names yet
    print(f"running: {course.name('ex-suspect-N')} for N = 1 to {SUSPECTS}; one of them burns CPU")
    return suspects()


def _start_suspects() -> None:
    """(Re)start the four suspects; the burner is picked at random."""
    burner = random.SystemRandom().randrange(SUSPECTS)
    half = {"nano_cpus": 500_000_000} if engine.capabilities().cpu_limit else {}  # --cpus 0.5 where it holds
    for n, box in enumerate(suspects()):
        cleanup.remove_named(container=box)
        command = ["sh", "-c", BURN] if n == burner else ["sleep", "900"]
        client().containers.run("busybox", command, name=box, labels=course.labels(), detach=True, **half)


GUESSES = 2
"""Wrong names 11.2 takes before it asks for evidence: the ``docker stats`` line of the container named (where
docker stats has per-container figures; without cgroups the learner reads the host's process table)."""
STATS_LINE = re.compile(r"(?P<cpu>\d+(?:\.\d+)?)\s*%")


def _guesses_file() -> Path:
    return course.workdir("11") / ".suspect-guesses"


def _guesses() -> int:
    try:
        return int(_guesses_file().read_text())
    except (OSError, ValueError):
        return 0


def _evidence(line: str, top: str, cpu: float) -> str | None:
    """Why a pasted ``docker stats`` line does not show ``top`` burning CPU now (None: it does). The line must
    carry the container's ID as this deal started it (an old line, or one typed from memory, has another) and a
    CPU % near the checker's own reading."""
    short_id = client().containers.get(top).id[:12]
    if short_id not in line:
        return f"the line has no {top}'s container ID ({short_id[:4]}…): paste it as docker stats printed it."
    found = STATS_LINE.search(line)
    if found is None:
        return "the line has no CPU % figure."
    if engine.limitation("stats-no-stream"):  # Podman: a one-shot reading's CPU % is near 0 for every container
        return None
    said = float(found["cpu"])
    if abs(said - cpu) > max(20.0, cpu / 2):
        return f"the line says {said:g} % CPU, {top} uses about {cpu:.0f} % now: read it again."
    return None


@exercise(
    "11.2",
    "which container is burning CPU?",
    hint="docker stats --no-stream shows a CPU % column (100 % = one CPU); or monitor.sample(nb11.suspects(), "
    "samples=1).",
    solution="""
    if engine.capabilities().cgroups:
        rows = monitor.sample(nb11.suspects(), samples=1)
        answer = rows.loc[rows["cpu_percent"].idxmax(), "container"]
    else:  # no per-container figures in docker stats: ask the host's process table instead
        answer = max(nb11.process_cpu(nb11.suspects()).items(), key=lambda item: item[1])[0]
    print(answer)
    """,
    takes_answer=True,
)
def busiest(answer: object) -> Verdict:
    if not isinstance(answer, str):
        return failed(f"answer should be a container name as a string, not {type(answer).__name__}.")
    mine = suspects()
    running = {c.name for c in client().containers.list(filters={"label": course.label_filter()})}
    if not set(mine) <= running:
        return failed("the four suspects are not all running: run the cell that starts them again.")
    if engine.capabilities().cgroups:
        with ThreadPoolExecutor(max_workers=len(mine)) as pool:
            cpu = dict(zip(mine, (row["cpu_percent"] for row in pool.map(monitor.snapshot, mine)), strict=True))
    else:  # docker stats shows the host's figures for every container: measure their processes instead
        cpu = process_cpu(mine)
    top = max(cpu, key=lambda name: cpu[name])
    given = answer.strip()
    short = {m.removeprefix(course.namespace() + "-"): m for m in mine}  # "ex-suspect-2" names it as well
    ids = {client().containers.get(m).id[:12]: m for m in mine}
    words = given.replace("\t", " ").split()
    named = [short.get(w, w) for w in words if w in mine or w in short] or [ids[w] for w in words if w in ids]
    guesses = _guesses()
    if not named:
        return failed(f"{given[:40]!r} is not one of the suspects.", "docker stats --no-stream lists them with CPU %.")
    if named[0] == top:
        if guesses >= GUESSES and engine.capabilities().cgroups and (why := _evidence(given, top, cpu[top])):
            return failed(f"after {guesses} wrong names a name alone is not enough: {why}", STATS_NEEDED)
        _guesses_file().unlink(missing_ok=True)
        return passed(f"{top} uses about {cpu[top]:.0f} % CPU (100 % = one CPU); the other suspects none.")
    _guesses_file().write_text(str(guesses + 1))
    _start_suspects()  # no answering by elimination: each wrong guess deals the load again
    more = (
        f" That is {guesses + 1} wrong names: from now on the answer is the line docker stats printed for it."
        if guesses + 1 >= GUESSES
        else ""
    )
    return failed(
        f"{named[0]} is one of the suspects, but not the one using CPU. The suspects were started again, the load "
        f"on one picked at random: measure, then answer.{more}",
        STATS_NEEDED if more else "docker stats --no-stream",
    )


STATS_NEEDED = "docker stats --no-stream, then answer = 'the whole line of the container burning CPU'"


def process_cpu(containers: list[str], seconds: float = 1.0) -> dict[str, float]:
    """CPU % of each container's main process, from the host's /proc (where docker stats cannot tell them apart)."""

    def ticks(pid: int) -> int:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return int(fields[11]) + int(fields[12])  # utime + stime

    pids = {c: client().containers.get(c).attrs["State"]["Pid"] for c in containers}
    before = {c: ticks(pid) for c, pid in pids.items()}
    time.sleep(seconds)
    hertz = os.sysconf("SC_CLK_TCK")
    return {c: (ticks(pid) - before[c]) / hertz / seconds * 100 for c, pid in pids.items()}


def _mark_file() -> Path:
    return course.workdir("11") / ".queries-before-11.3"


def query_mark() -> str:
    """Note how many queries Prometheus has logged so far: 11.3 judges only those asked after this (the notebook's
    own come before). The count goes to stderr: it depends on how often the cells above had to ask."""
    logged = len(monitor.asked(course.name("prometheus")))
    _mark_file().write_text(str(logged))
    print(f"  Prometheus has logged {logged} queries so far (the notebook's own)", file=sys.stderr)
    return "Prometheus logs every query it is asked from here on: ask yours, in any way"


def _judge(port: int, promql: str) -> tuple[bool, str, str]:
    """(right, what it returns or why not, hint) for one query: right when it returns the exporter's CPU counter and
    nothing else."""
    try:
        result = monitor.query(port, promql)
    except RuntimeError as exc:
        return False, f"Prometheus rejected {promql!r}: {str(exc).split(': ', 1)[-1]}", ""
    if not result:
        return False, f"{promql!r} returns no series.", "Query one of the exporter's metrics by its name."
    series = {(s["metric"].get("__name__"), s["metric"].get("job")) for s in result}
    if series != {("cgroup_cpu_seconds_total", "exporter")}:
        found = sorted(f"{n} of job {j}" if n else "a computed series (no metric name)" for n, j in series)[:3]
        return False, f"{promql!r} returns {', '.join(found)}: not only the exporter's cgroup_cpu_seconds_total.", (
            "The counter itself, by its name (rate() and sum() return other series)."
        )
    return True, f"{promql!r} returns the exporter's CPU time: {float(result[0]['value'][1]):.2f} s so far.", ""


@exercise(
    "11.3",
    "query the exporter's CPU counter with PromQL",
    hint="Which of the exporter's metrics listed above counts CPU time? A PromQL query is a metric's name, "
    'optionally narrowed with {label="value"}; ask it in Prometheus\'s web page, with curl, or in a cell with '
    "monitor.query(prom, ...).",
    solution="""
    print(monitor.query(prom, 'cgroup_cpu_seconds_total{job="exporter"}')[0]["metric"])
    """,
)
def promql() -> Verdict:
    prometheus = course.name("prometheus")
    try:
        port = ports.published(prometheus, 9090)
    except CommandFailed:
        return failed(f"{prometheus} does not run with its port 9090 published: run section 4's cells again.")
    logged = monitor.asked(prometheus)
    try:
        mark = int(_mark_file().read_text())
    except (OSError, ValueError):
        mark = 0  # the exercise's first cell not run: every query Prometheus logged counts
    # newest first, each once (a query parse error never reaches the log: Prometheus said so where it was asked)
    yours = list(dict.fromkeys(reversed(logged[mark:] if mark <= len(logged) else logged)))
    if not yours:
        return failed(
            f"{prometheus} has been asked no query since the exercise's first cell: ask it yours (its web page at "
            "the published port, curl, or monitor.query in a cell)."
        )
    # run again oldest first: Prometheus logs the checker's runs too, and so keeps the learner's newest newest
    judged = list(reversed([_judge(port, q) for q in reversed(yours[:20])]))
    for right, said, _hint in judged:
        if right:
            return passed(f"Prometheus was asked {said}")
    _right, said, hint = judged[0]
    return failed(f"your newest query: {said}", hint)
