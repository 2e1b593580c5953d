"""helpers.monitor against the real daemon: stats sampling, cgroup memory, a Prometheus scrape."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from helpers import course, docker, images, monitor


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
    net, exp, prom = (course.name(x, unique) for x in ("t-mon-net", "t-exp", "t-prom"))
    port = course.port(69)
    docker("network", "create", net, show=False, echo=False)
    try:
        _run("--name", exp, "--network", net, "--network-alias", "exporter", exporter_image)
        _run("--name", prom, "--network", net, "-p", f"{port}:9090", prom_ref)
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
        with pytest.raises(RuntimeError):
            monitor.query(port, "rate(")  # a PromQL syntax error is reported, not swallowed
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
