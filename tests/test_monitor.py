"""helpers.lessons.monitor against the real daemon: stats sampling, cgroup memory, a Prometheus scrape."""

from __future__ import annotations

import json
import math
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from helpers import docker
from helpers.core import course, images, ports
from helpers.lessons import monitor

FIXTURES = Path(__file__).parent / "fixtures"


def _run(*args: str) -> None:
    docker("run", "-d", *args, show=False, echo=False)


def _rm(*names: str) -> None:
    docker("rm", "-f", *names, show=False, echo=False, check=False)


@pytest.fixture(scope="module")
def exporter_image() -> Iterator[str]:
    with pytest.MonkeyPatch.context() as mp:  # module scope: the test namespace here too, without leaking it
        mp.setenv("DMAC_NAMESPACE", os.environ.get("DMAC_TEST_NAMESPACE", "dmac-test"))
        ref = course.image("t-mon-exporter", "1")
        ctx = images.context(
            "t-mon-exporter", {"Dockerfile": monitor.EXPORTER_DOCKERFILE, "exporter.py": monitor.EXPORTER_PY}
        )
        images.build(ref, ctx, show=False, echo=False)
    yield ref


def test_sample_sees_busy_cpu_and_held_memory(exporter_image: str, unique: str) -> None:
    busy, hog = course.name("t-busy", unique), course.name("t-hog", unique)
    try:
        _run("--name", busy, "busybox", "sh", "-c", "while :; do :; done")
        _run(
            "--name",
            hog,
            "-m",
            "200m",
            exporter_image,
            "python3",
            "-c",
            "import time; hog = b'x' * (60 * 1024 * 1024); time.sleep(120)",
        )
        df = monitor.sample([busy, hog], samples=2, interval=0)
        assert len(df) == 4 and set(df["container"]) == {busy, hog}
        means = df.groupby("container").mean(numeric_only=True)
        assert means.loc[busy, "cpu_percent"] > 25 > means.loc[hog, "cpu_percent"]
        assert 55 < means.loc[hog, "memory_mb"] < 90
        assert means.loc[hog, "memory_limit_mb"] == 200
        path, used = monitor.cgroup_memory(hog)
        assert path in monitor.CGROUP_MEMORY_FILES and 55 * monitor.MB < used < 100 * monitor.MB
        row = monitor.cli_stats([hog])[0]
        assert 0.5 < monitor.parse_size(row["MemUsage"].split("/")[0]) / used < 1.05
        fig = monitor.plot(df)
        assert len(fig.axes) == 2 and len(fig.axes[0].lines) == 2
    finally:
        _rm(busy, hog)


def test_prometheus_scrapes_the_exporter(exporter_image: str, unique: str) -> None:
    prom_ref = course.image("t-mon-prometheus", "1")
    ctx = images.context(
        "t-mon-prometheus", {"Dockerfile": monitor.PROMETHEUS_DOCKERFILE, "prometheus.yml": monitor.PROMETHEUS_YML}
    )
    images.build(prom_ref, ctx, show=False, echo=False)
    net, exp = (course.name(x, unique) for x in ("t-mon-net", "t-exp"))
    prom = course.name("prometheus")  # the name exercise 11.3's checker looks for
    _rm(prom)
    docker("network", "create", net, show=False, echo=False)
    try:
        _run("--name", exp, "--network", net, "--network-alias", "exporter", exporter_image)
        _run("--name", prom, "--network", net, "-p", ports.publish(9090), prom_ref)
        port = ports.published(prom, 9090)
        assert monitor.wait_http(f"http://localhost:{port}/-/ready", timeout=30)
        up = monitor.wait_for_data(port, "up == 1", count=2, timeout=30)
        assert sorted(s["metric"]["job"] for s in up) == ["exporter", "prometheus"]
        assert monitor.targets(port) == {"exporter": "up", "prometheus": "up"}
        assert monitor.metric_names(port, "cgroup_") == [
            "cgroup_cpu_seconds_total",
            "cgroup_memory_limit_bytes",
            "cgroup_memory_usage_bytes",
        ]
        mem = monitor.query(port, 'cgroup_memory_usage_bytes{job="exporter"}')
        assert 1 * monitor.MB < float(mem[0]["value"][1]) < 200 * monitor.MB
        cpu = monitor.query(port, 'cgroup_cpu_seconds_total{job="exporter"}')
        assert math.isfinite(float(cpu[0]["value"][1])) and float(cpu[0]["value"][1]) > 0  # NaN before v2 support
        with pytest.raises(RuntimeError):
            monitor.query(port, "rate(")  # a PromQL syntax error is reported, not swallowed
        _exercise_11_3_the_checker_runs_the_query_itself(port)
    finally:
        _rm(exp, prom)
        docker("network", "rm", net, show=False, echo=False, check=False)


def test_pure_functions() -> None:
    stats = {
        "cpu_stats": {"cpu_usage": {"total_usage": 3_000_000_000}, "system_cpu_usage": 8_000_000_000, "online_cpus": 2},
        "precpu_stats": {"cpu_usage": {"total_usage": 2_000_000_000}, "system_cpu_usage": 6_000_000_000},
        "memory_stats": {"usage": 110, "stats": {"total_inactive_file": 10}},
        "networks": {"eth0": {"rx_bytes": 5, "tx_bytes": 7}, "eth1": {"rx_bytes": 1, "tx_bytes": 1}},
    }
    assert monitor.cpu_percent(stats) == 100.0  # 1 s of CPU in 2 s of 2 CPUs' time, times 2 CPUs
    assert monitor.memory_bytes(stats) == 100
    assert monitor.network_bytes(stats) == (6, 8)
    assert monitor.block_bytes(stats) == (0, 0)
    assert monitor.parse_size("101.5MiB") == 101.5 * monitor.MB and monitor.parse_size("0B") == 0
    assert monitor.band(100, [90, 130], " MiB") == "between 90 and 130 MiB"
    assert monitor.band(3, [5], " %") == "less than 5 %" and monitor.band(7, [5]) == "more than 5"


# ---------------------------------------------------------------- cgroup v1 and v2, on recorded files
# cgroup-v1/: read from a busybox container (-m 64m, wrote a 20 MiB file, then spun) on this host's
#   Engine 20.10; docker-stats/cgroup-v1.json: that container's stats from the API, as recorded.
# cgroup-v2/: this host runs cgroup v1, so no container here has these files. They are in the kernel's
#   format (Documentation/admin-guide/cgroup-v2.rst; cpu.stat's first four keys as this host's kernel
#   writes them in its cgroup2 mount) with values of a container like the v1 one and no memory limit;
#   docker-stats/cgroup-v2.json is in the shape the daemon's v2 stats take (no percpu_usage, memory
#   keys from memory.stat: inactive_file, not total_inactive_file).


def test_exporter_reads_cgroup_v1_files() -> None:
    exporter = monitor.exporter_module()
    root = FIXTURES / "cgroup-v1"
    assert exporter.memory_usage(root) == 22_224_896
    assert exporter.memory_limit(root) == 64 * monitor.MB
    assert exporter.cpu_seconds(root) == 3.775674796
    assert "cgroup_cpu_seconds_total 3.775674796\n" in exporter.metrics(root)


def test_exporter_reads_cgroup_v2_files() -> None:
    exporter = monitor.exporter_module()
    root = FIXTURES / "cgroup-v2"
    assert exporter.memory_usage(root) == 22_237_184
    assert exporter.memory_limit(root) == math.inf  # memory.max holds "max"
    assert exporter.cpu_seconds(root) == 1.008757  # cpu.stat's usage_usec, in seconds
    text = exporter.metrics(root)
    assert "cgroup_memory_usage_bytes 22237184\n" in text
    assert "cgroup_memory_limit_bytes +Inf\n" in text
    assert "cgroup_cpu_seconds_total 1.008757\n" in text
    assert "NaN" not in text


def test_exporter_limits_and_missing_files(tmp_path: Path) -> None:
    exporter = monitor.exporter_module()
    v2 = shutil.copytree(FIXTURES / "cgroup-v2", tmp_path / "v2")
    (v2 / "memory.max").write_text("67108864\n")
    assert exporter.memory_limit(v2) == 64 * monitor.MB
    v1 = shutil.copytree(FIXTURES / "cgroup-v1", tmp_path / "v1")
    (v1 / "memory" / "memory.limit_in_bytes").write_text("9223372036854771712\n")  # v1's "no limit"
    assert exporter.memory_limit(v1) == math.inf
    (tmp_path / "none").mkdir()
    text = exporter.metrics(tmp_path / "none")  # no cgroup files at all: NaN, not a crash
    assert [line.split()[-1] for line in text.splitlines() if not line.startswith("#")] == ["NaN"] * 3


def _stats(version: str) -> dict:
    return json.loads((FIXTURES / "docker-stats" / f"cgroup-{version}.json").read_text())


def test_stats_api_on_cgroup_v1_as_recorded() -> None:
    stats = _stats("v1")
    mem, cpu, pre = stats["memory_stats"], stats["cpu_stats"], stats["precpu_stats"]
    assert monitor.memory_bytes(stats) == mem["usage"] - mem["stats"]["total_inactive_file"] == 1_265_664
    busy = (cpu["cpu_usage"]["total_usage"] - pre["cpu_usage"]["total_usage"]) / (
        cpu["system_cpu_usage"] - pre["system_cpu_usage"]
    )
    assert monitor.cpu_percent(stats) == pytest.approx(busy * 2 * 100) and 90 < monitor.cpu_percent(stats) < 110


def test_stats_api_in_the_cgroup_v2_shape() -> None:
    stats = _stats("v2")
    assert "percpu_usage" not in stats["cpu_stats"]["cpu_usage"]
    assert "total_inactive_file" not in stats["memory_stats"]["stats"]
    assert monitor.cpu_percent(stats) == 100.0  # 1 s of CPU in 2 s of 2 CPUs' time: online_cpus counts
    assert monitor.memory_bytes(stats) == 22_237_184 - 20_967_424  # usage minus inactive_file
    assert monitor.block_bytes(stats) == (0, 20 * monitor.MB)  # v2 writes the op in lower case
    assert monitor.network_bytes(stats) == (736, 0)


def _exercise_11_3_the_checker_runs_the_query_itself(port: int) -> None:
    """Exercise 11.3 on the live Prometheus above: the queries it was asked, from anywhere, are what counts."""
    from helpers import exercises
    from helpers.exercises import nb11

    exercises.configure(solutions=False)
    assert nb11.query_mark()  # the notebook's own queries (the test's above) are before it
    nothing = exercises.evaluate("11.3")
    assert not nothing.ok and "no query since" in nothing.message and not nothing.hint, nothing
    url = f"http://127.0.0.1:{port}/api/v1/query"
    for wrong, said in (
        ("sum(cgroup_cpu_seconds_total)", "returns a computed series (no metric name)"),
        ("cgroup_memory_usage_bytes", "cgroup_memory_usage_bytes of job exporter"),
        ('cgroup_cpu_seconds_total{job="prometheus"}', "returns no series"),
    ):
        subprocess.run(["curl", "-s", url, "--data-urlencode", f"query={wrong}"], capture_output=True, timeout=30)
        verdict = exercises.evaluate("11.3")  # as a terminal asks it: curl
        assert not verdict.ok and said in verdict.message, (wrong, verdict)
    subprocess.run(["curl", "-s", url, "--data-urlencode", 'query=cgroup_cpu_seconds_total{job="exporter"}'],
                   capture_output=True, timeout=30, check=True)  # fmt: skip
    verdict = exercises.evaluate("11.3")
    assert verdict.ok and "returns the exporter's CPU time" in verdict.message, verdict
    monitor.query(port, "up")  # a later wrong one does not take back what was right
    assert exercises.evaluate("11.3").ok


def test_11_3_no_prometheus_running() -> None:
    from helpers import exercises

    _rm(course.name("prometheus"))
    verdict = exercises.evaluate("11.3")
    assert not verdict.ok and "does not run with its port 9090 published" in verdict.message, verdict
