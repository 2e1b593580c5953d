"""Exercises of notebook 11 (monitoring containers in production)."""

from __future__ import annotations

import os
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from .. import course, engine, monitor
from ..daemon import client
from . import Verdict, course_container, exercise, failed, passed, records


@exercise(
    "11.1",
    "a memory limit that docker stats shows",
    hint='docker("run", "-d", "--name", name("ex-limited"), "-m", "50m", "busybox", "sleep", "600")',
    solution="""
    docker("run", "-d", "--name", name("ex-limited"), "-m", "50m", "busybox", "sleep", "600")
    docker("stats", "--no-stream", "--format", "{{.Name}}: {{.MemUsage}}", name("ex-limited"))
    """,
)
def memory_limit() -> Verdict:
    wanted = course.name("ex-limited")
    box = course_container("ex-limited", "docker run -d --name ... -m 50m busybox sleep 600")
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


@exercise(
    "11.2",
    "find the container that uses the most CPU",
    hint="monitor.sample([...], samples=1) or docker stats --no-stream; compare the CPU column.",
    solution="""
    four = [name(c) for c in ("busy", "hog", "talker", "idle")]
    if engine.capabilities().cgroups:
        rows = monitor.sample(four, samples=1)
        answer = rows.loc[rows["cpu_percent"].idxmax(), "container"]
    else:  # no per-container figures in docker stats: ask the host's process table instead
        answer = max(nb11.process_cpu(four).items(), key=lambda item: item[1])[0]
    print(answer)
    """,
    takes_answer=True,
)
def busiest(answer: object) -> Verdict:
    if not isinstance(answer, str):
        return failed(f"answer should be a container name as a string, not {type(answer).__name__}.")
    mine = [course.name(c) for c in ("busy", "hog", "talker", "idle")]
    running = {c.name for c in client().containers.list(filters={"label": course.label_filter()})}
    if not set(mine) <= running:
        return failed("this notebook's four containers are not all running: run section 1 first.")
    if engine.capabilities().cgroups:
        with ThreadPoolExecutor(max_workers=len(mine)) as pool:
            cpu = dict(zip(mine, (row["cpu_percent"] for row in pool.map(monitor.snapshot, mine)), strict=True))
    else:  # docker stats shows the host's figures for every container: measure their processes instead
        cpu = process_cpu(mine)
    top = max(cpu, key=cpu.get)
    if answer.strip() in (top, top.removeprefix(course.namespace() + "-")):  # "hog" names dmac-hog as well
        return passed(f"{top} uses about {cpu[top]:.0f} % CPU (100 % = one CPU); the others almost none.")
    return failed(
        f"{answer.strip()[:40]!r} is not the container with the highest CPU %.",
        "docker stats --no-stream shows a CPU % column.",
    )


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


@exercise(
    "11.3",
    "query the exporter's CPU counter with PromQL",
    hint='monitor.query(prom, "cgroup_cpu_seconds_total") returns a list of series.',
    solution="""
    answer = monitor.query(prom, 'cgroup_cpu_seconds_total{job="exporter"}')
    print(answer[0]["metric"])
    """,
    takes_answer=True,
)
def promql(answer: object) -> Verdict:
    if not isinstance(answer, list) or not answer:
        return failed("answer should be the non-empty list that monitor.query(...) returns.")
    try:
        names = {(s["metric"].get("__name__"), s["metric"].get("job")) for s in answer}
        values = [float(s["value"][1]) for s in answer]
    except (TypeError, KeyError, IndexError, ValueError):
        return failed("answer does not look like Prometheus query results (dicts with 'metric' and 'value').")
    if ("cgroup_cpu_seconds_total", "exporter") not in names:
        return failed(
            f"the result has {sorted(n for n, _ in names if n)[:3]}, not the exporter's cgroup_cpu_seconds_total.",
            "Query the metric by its name.",
        )
    return passed(f"the exporter has used {min(values):.2f} s of CPU so far, as Prometheus last scraped it.")
