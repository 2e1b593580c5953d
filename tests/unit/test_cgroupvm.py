"""The cgroup v2 lane's host side without a VM: the console's results line, QEMU's command line, the cache keys."""

from __future__ import annotations

from pathlib import Path

import pytest

from helpers.infra import cgroupvm
from helpers.infra.cgroupvm_guest import MARKER


def test_the_last_results_line_is_parsed_among_kernel_messages() -> None:
    console = (
        "[   63.8] Memory cgroup out of memory: Killed process 728 (dd)\r\n"
        f'{MARKER} {{"limits.memory_max": "1"}}\r\n'
        f'[dmac-vm] noise {MARKER} {{"limits.memory_max": "67108864", "oom.exit_code": "137"}}\r\n'
        "[  313.3] reboot: Power down\r\n"
    )
    assert cgroupvm.parse_console(console) == {"limits.memory_max": "67108864", "oom.exit_code": "137"}


@pytest.mark.parametrize(
    ("console", "says"),
    [
        ("[dmac-vm] checks start\n[ 90.8] Kernel panic - not syncing: Fatal exception\n", "its kernel panicked"),
        ("[dmac-vm] checks start\n", "it printed no results"),
        (f'{MARKER} {{"cut short\n', "not JSON"),
    ],
)
def test_no_results_says_why(console: str, says: str) -> None:
    with pytest.raises(cgroupvm.VMError, match=says):
        cgroupvm.parse_console(console)


def test_qemu_boots_the_kernel_with_the_disk_as_a_snapshot_and_no_network(tmp_path: Path) -> None:
    disk = cgroupvm.Disk(tmp_path / "disk.img", tmp_path / "vmlinuz", tmp_path / "initrd.img")
    argv = cgroupvm.qemu_argv(disk, tmp_path / "console.log", only=("engine", "rootless"))
    assert argv[:3] == ["qemu-system-x86_64", "-accel", "tcg,thread=single"]
    assert {"-snapshot", "-nodefaults", "-no-reboot"} <= set(argv)
    assert argv[argv.index("-nic") + 1] == "none"
    assert argv[argv.index("-serial") + 1] == f"file:{tmp_path / 'console.log'}"
    assert argv[argv.index("-drive") + 1] == f"file={disk.image},format=raw,if=virtio"
    assert argv[argv.index("-append") + 1].endswith("console=ttyS0 quiet panic=-1 dmac.checks=engine,rootless")


def test_the_disk_key_follows_the_files_and_the_rootfs_key_only_the_packages(monkeypatch: pytest.MonkeyPatch) -> None:
    rootfs, disk = cgroupvm.rootfs_key(), cgroupvm.disk_key()
    assert len(rootfs) == len(disk) == 12 and rootfs != disk
    files = {**cgroupvm.guest_files(), "/etc/hostname": ("other\n", 0o644)}
    monkeypatch.setattr(cgroupvm, "guest_files", lambda: files)
    assert cgroupvm.rootfs_key() == rootfs and cgroupvm.disk_key() != disk
    monkeypatch.setattr(cgroupvm, "PACKAGES", (*cgroupvm.PACKAGES, "less"))
    assert cgroupvm.rootfs_key() != rootfs


def test_what_debootstrap_left_mounted_in_the_rootfs_is_found_deepest_first(tmp_path: Path) -> None:
    rootfs = tmp_path / "rootfs"
    mounts = (
        f"proc {rootfs}/proc proc rw 0 0\n"
        f"sysfs {rootfs}/proc/sys/fs/binfmt_misc binfmt_misc rw 0 0\n"
        f"tmpfs {tmp_path}/rootfs-other tmpfs rw 0 0\n"
        "proc /proc proc rw 0 0\n"
    )
    found = cgroupvm.mounts_below(rootfs, mounts)
    assert found == [f"{rootfs.resolve()}/proc/sys/fs/binfmt_misc", f"{rootfs.resolve()}/proc"]
