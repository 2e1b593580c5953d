"""Per-process I/O from /proc (pure: recorded /proc files in a temporary folder, no daemon)."""

from __future__ import annotations

from pathlib import Path

from helpers.lessons import hostio

ID = "65f4e613e20ee41ba6ecfe786e16f50ff12bd6c7004748d45a1eaa0819f21326"
IO = """rchar: 25166142
wchar: 24988114
syscr: 2461
syscw: 6832
read_bytes: 0
write_bytes: 24936448
cancelled_write_bytes: 0
"""
CGROUPS = {
    "docker on cgroup v1": f"12:pids:/docker/{ID}\n4:memory:/docker/{ID}\n1:name=systemd:/docker/{ID}\n",
    "docker on cgroup v2 (systemd driver)": f"0::/system.slice/docker-{ID}.scope\n",
    "rootless docker on v2": f"0::/user.slice/user-1000.slice/user@1000.service/user.slice/docker-{ID}.scope\n",
    "podman": f"0::/machine.slice/libpod-{ID}.scope/container\n",
    "a daemon in a container (v1)": f"4:memory:/docker/{'e' * 64}/docker/{ID}\n",
}


def _proc(tmp_path: Path, pid: int, io: str | None, cgroup: str) -> Path:
    folder = tmp_path / str(pid)
    folder.mkdir()
    if io is not None:
        (folder / "io").write_text(io)
    (folder / "cgroup").write_text(cgroup)
    return tmp_path


def test_counters_are_read_from_proc_pid_io(tmp_path: Path) -> None:
    proc = _proc(tmp_path, 4242, IO, CGROUPS["docker on cgroup v1"])
    found = hostio.process_io(4242, proc)
    assert found == hostio.ProcessIO(4242, wchar=24988114, write_bytes=24936448, read_bytes=0)
    assert hostio.megabytes(found.write_bytes) == "24.9 MB"


def test_an_unreadable_or_vanished_process_is_none(tmp_path: Path) -> None:
    proc = _proc(tmp_path, 7, None, "0::/\n")  # io missing: another user's process, or gone
    assert hostio.process_io(7, proc) is None
    assert hostio.process_io(8, proc) is None


def test_the_container_id_is_found_in_every_cgroup_layout(tmp_path: Path) -> None:
    for pid, text in enumerate(CGROUPS.values(), start=100):
        _proc(tmp_path, pid, IO, text)
        assert hostio.container_id(pid, tmp_path) == ID, text


def test_a_host_process_has_no_container(tmp_path: Path) -> None:
    _proc(tmp_path, 1, IO, "0::/init.scope\n")
    _proc(tmp_path, 2, IO, "12:pids:/\n1:name=systemd:/user.slice/user-1000.slice/session-3.scope\n")
    assert hostio.container_id(1, tmp_path) is None and hostio.container_id(2, tmp_path) is None
