"""The cgroup v2 lane's Markdown section (helpers.infra.compat.cgroup2_section), from a small hand-made results dict."""

from __future__ import annotations

from helpers.infra import cgroupvm, compat

RESULTS = {
    "vm.kernel": "6.12.117+deb13-amd64",
    "vm.cgroup_fs": "cgroup2fs",
    "engine.version": "26.1.5+dfsg1",
    "engine.cgroup_version": "2",
    "limits.memory_max": "67108864",
    "stats.mem_usage": "1.5MiB / 64MiB",
    "hub.removed": "true",
    "host.build_seconds": "130",
    "host.run_seconds": "250",
}


def test_the_section_has_a_row_per_check_with_the_value_and_the_expected_one() -> None:
    text = compat.cgroup2_section(RESULTS)
    lines = text.splitlines()
    assert lines[0] == "## cgroup v2 (`make test-cgroup2`)"
    assert "kernel 6.12.117+deb13-amd64, Docker Engine 26.1.5+dfsg1, cgroup file system cgroup2fs" in text
    assert "disk made or cached in 130 s, boot and checks 250 s" in text
    assert "| check | value measured | expected |" in lines
    rows = [line for line in lines if line.startswith("| ") and not line.startswith("| check ")]
    assert len(rows) == len(cgroupvm.CHECKS)
    assert "| `docker run -m 64m`: memory.max inside | 67108864 | 67108864 |" in rows
    assert "| `docker info`: cgroup version | 2 | 2 |" in rows
    assert "| `docker stats --no-stream`: memory usage / limit (`-m 64m`) | 1.5MiB / 64MiB | … / 64MiB |" in rows


def test_a_value_not_measured_says_so_and_cells_stay_one_line() -> None:
    text = compat.cgroup2_section({"engine.cgroup_driver": "sys|temd\nx"})
    assert "| `docker info`: cgroup driver | sys\\|temd x | systemd |" in text.splitlines()
    assert "| `docker info`: cgroup version | not measured | 2 |" in text.splitlines()
    assert "kernel ?, Docker Engine ?" in text


def test_the_lane_records_its_values_and_compat_md_shows_them(tmp_path) -> None:
    path = tmp_path / "compat.json"
    compat.put_entry("docker-28", {"notebooks": {}}, path)
    compat.put_cgroup2(RESULTS, path)
    compat.put_entry("docker-26", {"notebooks": {}}, path)  # an engine recorded later keeps the VM's values
    data = compat.json.loads(path.read_text())
    assert data["cgroup2"]["limits.memory_max"] == "67108864" and set(data["engines"]) == {"docker-26", "docker-28"}
    text = compat.markdown(data)
    assert "## cgroup v2 (`make test-cgroup2`)" in text
    assert f"at commit {data['cgroup2']['commit']}." in text
