"""Monitoring containers (notebook 11): ``docker stats`` sampled into a DataFrame, cgroups, Prometheus.

Small functions a cell calls: one stats sample per container (CPU % computed the way the docker CLI
does), a short sampling run into a pandas DataFrame, a plot, the cgroup file behind the memory
number, a live view with ipywidgets, and Prometheus's HTTP API with bounded waits.
"""

from __future__ import annotations

import itertools
import json
import sys
import time
import types
import urllib.error
import urllib.parse
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from ..core import wait
from ..core.daemon import client
from ..core.shell import docker, docker_out

MB = 1024 * 1024

EXPORTER_PY = r'''
"""A tiny Prometheus exporter: this container's own cgroup numbers, in the text format."""
import http.server
import math
import os

CGROUP = "/sys/fs/cgroup"  # the container's own cgroup: a folder per controller (v1), or one folder (v2)


def read(root, *names):
    """The text of the first of the files ``names`` (under ``root``) that exists; None if none does."""
    for name in names:
        path = os.path.join(root, name)
        if os.path.exists(path):
            with open(path) as f:
                return f.read().strip()
    return None


def number(text):
    """A file's value as a float: "max" (v2: no limit) is +Inf; a missing or unreadable value NaN."""
    if text == "max":
        return math.inf
    try:
        return float(text.split()[0])
    except (AttributeError, IndexError, ValueError):
        return math.nan


def field(text, key):
    """The value of ``key`` in a file of "key value" lines, such as v2's cpu.stat."""
    values = dict(line.split(" ", 1) for line in (text or "").splitlines() if " " in line)
    return number(values.get(key))


def memory_usage(root=CGROUP):
    return number(read(root, "memory/memory.usage_in_bytes", "memory.current"))  # v1, v2


def memory_limit(root=CGROUP):
    limit = number(read(root, "memory/memory.limit_in_bytes", "memory.max"))  # v1, v2
    return math.inf if limit >= 2**62 else limit  # v1 writes "no limit" as a huge number


def cpu_seconds(root=CGROUP):
    v1 = read(root, "cpuacct/cpuacct.usage", "cpu,cpuacct/cpuacct.usage")  # nanoseconds
    if v1 is not None:
        return number(v1) / 1e9
    return field(read(root, "cpu.stat"), "usage_usec") / 1e6  # v2: microseconds


def sample(value):
    """A value as the text format writes it: NaN, +Inf, or the number (whole ones without ".0")."""
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "+Inf"
    return str(int(value)) if value.is_integer() else str(value)


def metrics(root=CGROUP):
    return (
        "# HELP cgroup_memory_usage_bytes Memory used by this container's cgroup.\n"
        "# TYPE cgroup_memory_usage_bytes gauge\n"
        f"cgroup_memory_usage_bytes {sample(memory_usage(root))}\n"
        "# HELP cgroup_memory_limit_bytes Memory limit of this container's cgroup.\n"
        "# TYPE cgroup_memory_limit_bytes gauge\n"
        f"cgroup_memory_limit_bytes {sample(memory_limit(root))}\n"
        "# HELP cgroup_cpu_seconds_total CPU time used by this container's cgroup.\n"
        "# TYPE cgroup_cpu_seconds_total counter\n"
        f"cgroup_cpu_seconds_total {sample(cpu_seconds(root))}\n"
    )


class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        body = metrics().encode()
        self.send_response(200 if self.path == "/metrics" else 404)
        self.send_header("Content-Type", "text/plain; version=0.0.4")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


if __name__ == "__main__":  # imported on the host (exporter_module()), its functions are tested on files
    http.server.ThreadingHTTPServer(("", 8000), Handler).serve_forever()
'''
"""The exporter: serves ``/metrics`` on port 8000 from its own ``/sys/fs/cgroup`` (v1, or v2)."""


def exporter_module() -> types.ModuleType:
    """``EXPORTER_PY`` imported, not started: its functions take a cgroup folder, to read recorded files."""
    module = types.ModuleType("exporter")
    exec(compile(EXPORTER_PY, "exporter.py", "exec"), module.__dict__)
    return module


PYTHON_LINE = "RUN apt-get update && apt-get install -y --no-install-recommends python3 && rm -rf /var/lib/apt/lists/*"

EXPORTER_DOCKERFILE = f"""
FROM debian:bookworm-slim
{PYTHON_LINE}
COPY exporter.py /exporter.py
EXPOSE 8000
CMD ["python3", "/exporter.py"]
"""

QUERY_LOG = "/tmp/prometheus/queries.log"
"""Where the course's Prometheus logs every query it is asked, one JSON line each (exercise 11.3 reads it)."""

PROMETHEUS_YML = f"""
global:
  scrape_interval: 2s
  query_log_file: {QUERY_LOG}
scrape_configs:
  - job_name: prometheus
    static_configs:
      - targets: ["localhost:9090"]
  - job_name: exporter
    static_configs:
      - targets: ["exporter:8000"]
"""
"""Prometheus scrapes itself and the container reachable as ``exporter`` on the user-defined network."""

PROMETHEUS_DOCKERFILE = """
FROM debian:bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends prometheus && rm -rf /var/lib/apt/lists/*
COPY prometheus.yml /etc/prometheus/prometheus.yml
EXPOSE 9090
USER prometheus
ENTRYPOINT ["prometheus", "--config.file=/etc/prometheus/prometheus.yml", "--storage.tsdb.path=/tmp/prometheus"]
"""


def _progress(message: str) -> None:
    print(f"  … {message}", file=sys.stderr, flush=True)


# ---------------------------------------------------------------- docker stats, the SDK way
def cpu_percent(stats: dict[str, Any]) -> float:
    """CPU % as the docker CLI computes it: container CPU time over host CPU time, times the CPUs.

    ``cpu_stats`` and ``precpu_stats`` are two readings about a second apart; 100 % is one full CPU.
    """
    cpu, pre = stats.get("cpu_stats") or {}, stats.get("precpu_stats") or {}
    cpu_delta = cpu.get("cpu_usage", {}).get("total_usage", 0) - pre.get("cpu_usage", {}).get("total_usage", 0)
    system_delta = cpu.get("system_cpu_usage", 0) - pre.get("system_cpu_usage", 0)
    cpus = cpu.get("online_cpus") or len(cpu.get("cpu_usage", {}).get("percpu_usage") or []) or 1
    if cpu_delta <= 0 or system_delta <= 0:
        return 0.0
    return cpu_delta / system_delta * cpus * 100.0


def memory_bytes(stats: dict[str, Any]) -> int:
    """Memory usage as ``docker stats`` shows it: usage minus the inactive page cache (cgroup v1 and v2)."""
    mem = stats.get("memory_stats") or {}
    usage = int(mem.get("usage", 0))
    extra = mem.get("stats") or {}
    for key in ("total_inactive_file", "inactive_file"):
        if key in extra and extra[key] < usage:
            return usage - int(extra[key])
    return usage


def network_bytes(stats: dict[str, Any]) -> tuple[int, int]:
    """(received, sent) bytes over all of a container's interfaces."""
    nets = (stats.get("networks") or {}).values()
    return sum(n.get("rx_bytes", 0) for n in nets), sum(n.get("tx_bytes", 0) for n in nets)


def block_bytes(stats: dict[str, Any]) -> tuple[int, int]:
    """(read, written) bytes from the blkio counters (0 where the host does not attribute disk I/O)."""
    rows = (stats.get("blkio_stats") or {}).get("io_service_bytes_recursive") or []
    read = sum(r["value"] for r in rows if r.get("op", "").lower() == "read")
    write = sum(r["value"] for r in rows if r.get("op", "").lower() == "write")
    return read, write


def snapshot(container: str) -> dict[str, Any]:
    """One ``docker stats --no-stream`` row for ``container``, from the SDK (takes about a second)."""
    box = client().containers.get(container)
    stats = box.stats(stream=False)
    if not (stats.get("precpu_stats") or {}).get("system_cpu_usage"):
        # Podman's one-shot stats carry no earlier reading (Docker's wait for one): take it a second later
        time.sleep(1.0)
        later = box.stats(stream=False)
        stats = {**later, "precpu_stats": stats.get("cpu_stats") or {}}
    rx, tx = network_bytes(stats)
    blk_read, blk_write = block_bytes(stats)
    limit = int((stats.get("memory_stats") or {}).get("limit", 0))
    return {
        "container": container,
        "cpu_percent": round(cpu_percent(stats), 2),
        "memory_mb": round(memory_bytes(stats) / MB, 2),
        "memory_limit_mb": round(limit / MB, 1),
        "net_rx_kb": round(rx / 1024, 1),
        "net_tx_kb": round(tx / 1024, 1),
        "block_read_kb": round(blk_read / 1024, 1),
        "block_write_kb": round(blk_write / 1024, 1),
        "pids": int((stats.get("pids_stats") or {}).get("current", 0)),
    }


def sample(containers: list[str], samples: int = 6, interval: float = 1.0):  # -> pandas.DataFrame
    """Sample ``containers`` ``samples`` times, about ``interval`` s apart, into a DataFrame (progress on stderr).

    The containers are read in parallel; each row has ``t`` (seconds since the start) and ``sample``.
    """
    import pandas as pd  # deferred: heavy; only a table needs it

    rows: list[dict[str, Any]] = []
    start = time.monotonic()
    with ThreadPoolExecutor(max_workers=max(1, len(containers))) as pool:
        for i in range(samples):
            began = time.monotonic()
            for row in pool.map(snapshot, containers):
                rows.append({"sample": i + 1, "t": round(time.monotonic() - start, 1), **row})
            _progress(f"sample {i + 1}/{samples} at {time.monotonic() - start:.1f} s")
            time.sleep(max(0.0, interval - (time.monotonic() - began)))
    return pd.DataFrame(rows)


def cli_stats(containers: list[str]) -> list[dict[str, str]]:
    """``docker stats --no-stream --format '{{json .}}'``: the CLI's own rows, parsed (quietly)."""
    out = docker("stats", "--no-stream", "--format", "{{json .}}", *containers, echo=False, show=False).output
    return [json.loads(line) for line in out.splitlines() if line.strip().startswith("{")]


def parse_size(text: str) -> float:
    """``'101.2MiB'`` -> bytes (the units the docker CLI prints: B, kB/KiB, MB/MiB, GB/GiB)."""
    units = {
        "b": 1,
        "kb": 1e3,
        "kib": 1024,
        "mb": 1e6,
        "mib": MB,
        "gb": 1e9,
        "gib": 1024**3,
        "tb": 1e12,
        "tib": 1024**4,
    }
    text = text.strip()
    number = text.rstrip("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")
    return float(number) * units[text[len(number) :].strip().lower() or "b"]


def plot(df, title: str = "docker stats, sampled"):  # -> matplotlib Figure
    """CPU % and memory (MB) of each container over time, side by side."""
    import matplotlib  # deferred: heavy; only a figure needs it

    matplotlib.use("Agg") if "ipykernel" not in sys.modules else None
    import matplotlib.pyplot as plt  # deferred: heavy; only a figure needs it

    fig, (ax_cpu, ax_mem) = plt.subplots(1, 2, figsize=(11, 3.6))
    for container, rows in df.groupby("container"):
        ax_cpu.plot(rows["t"], rows["cpu_percent"], marker="o", label=container)
        ax_mem.plot(rows["t"], rows["memory_mb"], marker="o", label=container)
    ax_cpu.set(xlabel="seconds", ylabel="CPU % (100 = one CPU)", title="CPU")
    ax_mem.set(xlabel="seconds", ylabel="memory (MiB)", title="Memory")
    ax_mem.legend(fontsize=8, loc="center right")
    fig.suptitle(title)
    fig.tight_layout()
    return fig


def band(value: float, edges: list[float], unit: str = "") -> str:
    """A stable wording of a number: which of the bands between ``edges`` it falls in."""
    if value < edges[0]:
        return f"less than {edges[0]:g}{unit}"
    for low, high in itertools.pairwise(edges):
        if low <= value < high:
            return f"between {low:g} and {high:g}{unit}"
    return f"more than {edges[-1]:g}{unit}"


# ---------------------------------------------------------------- where the numbers come from
CGROUP_MEMORY_FILES = ("/sys/fs/cgroup/memory/memory.usage_in_bytes", "/sys/fs/cgroup/memory.current")


def cgroup_memory(container: str, *, echo: bool = False) -> tuple[str, int]:
    """(file, bytes): the memory usage the kernel reports inside ``container`` (cgroup v1 or v2 file).

    Which file exists is probed quietly; the read itself is ``docker exec CONTAINER cat FILE`` (echoed
    exactly when ``echo``).
    """
    probe = f"for f in {' '.join(CGROUP_MEMORY_FILES)}; do [ -r $f ] && echo $f && break; done"
    path = docker("exec", container, "sh", "-c", probe, echo=False, show=False).output.strip()
    return path, int(docker("exec", container, "cat", path, echo=echo, show=False).output.strip())


# ---------------------------------------------------------------- a live view for learners
def live(containers: list[str], seconds: float = 30, interval: float = 1.0, autostart: bool = False):
    """A *Start* button and a table that refreshes CPU % and memory of ``containers`` for ``seconds``.

    Returns the widget; ``autostart=True`` runs the loop at once (bounded by ``seconds``).
    """
    import ipywidgets as widgets  # deferred: only a widget in a kernel needs it
    from IPython.display import display  # deferred: only a kernel has IPython

    button = widgets.Button(description=f"Watch for {seconds:g} s", icon="play", button_style="primary")
    out = widgets.Output()

    def run(_: object = None) -> None:
        button.disabled = True
        deadline = time.monotonic() + seconds
        try:
            while time.monotonic() < deadline:
                rows = [snapshot(c) for c in containers]
                text = "\n".join(
                    f"{r['container']:24} CPU {r['cpu_percent']:6.1f} %   memory {r['memory_mb']:8.1f} MiB"
                    for r in rows
                )
                out.clear_output(wait=True)
                with out:
                    print(time.strftime("%H:%M:%S"), f"(refreshing for {deadline - time.monotonic():.0f} s more)")
                    print(text)
                time.sleep(max(0.0, interval - 1.0))
        finally:
            button.disabled = False

    button.on_click(run)
    box = widgets.VBox([button, out])
    display(box)
    if autostart:
        run()
    return box


# ---------------------------------------------------------------- Prometheus's HTTP API
def http_get(url: str, timeout: float = 5) -> str:
    with urllib.request.urlopen(url, timeout=timeout) as response:
        return response.read().decode()


def wait_http(url: str, timeout: float = 30, interval: float = 0.5) -> bool:
    """True once ``url`` answers 200; WaitTimeout after ``timeout`` seconds (progress on stderr)."""
    return bool(wait.until(
        lambda: http_get(url, timeout=2) or True, f"an answer from {url}", timeout=timeout, interval=interval
    ))


def query(port: int, promql: str, host: str = "localhost") -> list[dict[str, Any]]:
    """Run a PromQL instant query through Prometheus's HTTP API; the ``result`` list."""
    url = f"http://{host}:{port}/api/v1/query?" + urllib.parse.urlencode({"query": promql})
    try:
        reply = json.loads(http_get(url))
    except urllib.error.HTTPError as exc:  # 400/422: the query itself is wrong; the body says why
        reply = json.loads(exc.read().decode() or "{}")
    if reply.get("status") != "success":
        raise RuntimeError(f"Prometheus rejected {promql!r}: {reply.get('error')}")
    return reply["data"]["result"]


def asked(container: str) -> list[str]:
    """The PromQL queries the Prometheus in ``container`` was asked, oldest first, from its query log (its web page,
    ``curl`` or :func:`query`; every one is logged, the course's own too). Empty if it logs none (yet)."""
    log = docker_out("exec", container, "cat", QUERY_LOG, check=False)
    queries = []
    for line in log.splitlines():
        try:
            queries.append(str(json.loads(line)["params"]["query"]))
        except (ValueError, KeyError, TypeError):  # a line being written, or not a query's
            continue
    return queries


def targets(port: int, host: str = "localhost") -> dict[str, str]:
    """``{job: health}`` of Prometheus's active scrape targets (``up``, ``down`` or ``unknown``)."""
    reply = json.loads(http_get(f"http://{host}:{port}/api/v1/targets?state=active"))
    return {t["labels"]["job"]: t["health"] for t in reply["data"]["activeTargets"]}


def wait_for_data(port: int, promql: str, count: int = 1, timeout: float = 30) -> list[dict[str, Any]]:
    """Repeat ``promql`` until it returns at least ``count`` series; WaitTimeout after ``timeout`` seconds."""

    def enough() -> list[dict[str, Any]] | None:
        result = query(port, promql)
        return result if len(result) >= count else None

    return wait.until(enough, f"{count} series of {promql!r} from Prometheus", timeout=timeout, interval=1.0)


def metric_names(port: int, prefix: str = "", host: str = "localhost") -> list[str]:
    """Metric names Prometheus holds (``/api/v1/label/__name__/values``), optionally by prefix, sorted."""
    reply = json.loads(http_get(f"http://{host}:{port}/api/v1/label/__name__/values"))
    return sorted(n for n in reply["data"] if n.startswith(prefix))


# ---------------------------------------------------------------- logs and events
def utc_now(offset: float = 0.0) -> str:
    """The time now (plus ``offset`` seconds) as ``docker events --since/--until`` take it: ``2026-12-07T14:10:00Z``."""
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + offset))


def settled(container: str, restarts: int, *, timeout: float = 60) -> str:
    """Wait until ``container`` has exited for good after ``restarts`` restarts by its policy; its final state."""

    def done() -> str | None:
        state = docker_out("inspect", "--format", "{{.State.Status}} {{.RestartCount}}", container, check=False)
        return state if state == f"exited {restarts}" else None

    return wait.until(done, f"{container} to exit after {restarts} restarts", timeout=timeout, interval=0.5)
