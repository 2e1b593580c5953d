"""helpers.lessons.security and helpers.lessons.upgrade against the real daemon (notebooks 01, 03, 04). No daemon
restart here."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from helpers.core import managed, wait
from helpers.lessons import security, upgrade


def test_daemon_mode_matches_the_uid_map_inside_a_container(dc) -> None:
    mode = security.daemon_mode()
    assert mode in ("rootful", "rootless", "userns-remap")
    raw = dc.containers.run("busybox", ["cat", "/proc/self/uid_map"], remove=True).decode()
    identity = security.uid_map(raw) == "0 0 4294967295"
    assert identity == (mode == "rootful")


def test_uid_map_squeezes_padding() -> None:
    assert security.uid_map("         0          0 4294967295\n") == "0 0 4294967295"


@pytest.mark.skipif(os.geteuid() != 0, reason="the canary demo reads as another user, which needs root")
def test_canary_is_root_only_and_a_read_only_mount_leaves_it_unchanged(dc, tmp_path: Path) -> None:
    canary = security.make_canary(tmp_path)
    assert "mode 0600" in security.describe(canary) and "uid 0" in security.describe(canary)
    assert "Permission denied" in security.read_as("nobody", canary)
    before = security.fingerprint(canary)
    out = dc.containers.run(
        "busybox", ["cat", f"/host{canary}"], volumes={"/": {"bind": "/host", "mode": "ro"}}, remove=True
    ).decode()
    assert out == security.CANARY_TEXT
    assert security.fingerprint(canary) == before


def test_hadolint_flags_a_bad_dockerfile_and_passes_a_good_one() -> None:
    code, findings = security.hadolint("FROM debian\nUSER root\n")
    assert code != 0
    assert any("DL3006" in f for f in findings) and any("DL3002" in f for f in findings)
    assert all(f.startswith("line ") for f in findings)
    assert security.hadolint("FROM busybox:1.36\nUSER 10001\n") == (0, [])


def test_process_user_names_the_owner_of_a_running_process(tmp_path, unique: str) -> None:
    """A process started here under a name of its own is found, with this test's user as its owner."""
    import getpass
    import shutil
    import subprocess

    binary = tmp_path / f"dmac{unique[:6]}"  # /proc/PID/comm keeps 15 characters: this fits
    shutil.copy("/bin/sleep", binary)
    proc = subprocess.Popen([str(binary), "30"])
    try:  # until the child has exec'd, /proc/PID/comm still names this Python
        assert wait.until(lambda: security.process_user(binary.name), "the process", timeout=10) == getpass.getuser()
    finally:
        proc.kill()
        proc.wait()
    assert security.process_user(binary.name) is None
    if security.daemon_mode() == "rootful" and security.process_user("dockerd"):
        # a rootful daemon on this host runs as root (beside it, CI's lanes run learners' rootless dockerds)
        assert "root" in security.process_users("dockerd"), security.process_users("dockerd")
        assert security.daemon_user() == "root"  # notebook 01 says so, whichever dockerd comes first in /proc


def test_host_is_vm_reads_the_hypervisor_flag(tmp_path) -> None:
    vm, metal = tmp_path / "vm", tmp_path / "metal"
    vm.write_text("processor\t: 0\nflags\t\t: fpu vme de pse tsc msr hypervisor lahf_lm\n")
    metal.write_text("processor\t: 0\nflags\t\t: fpu vme de pse tsc msr lahf_lm\n")
    assert security.host_is_vm(vm) is True
    assert security.host_is_vm(metal) is False
    assert security.host_is_vm(tmp_path / "missing") is None


def test_upgrade_never_restarts_when_told_not_to() -> None:
    allowed, why = upgrade.restart_allowed(False)
    assert not allowed and "False" in why
    auto, _ = upgrade.restart_allowed(None)
    assert auto == (managed.managed() is not None and os.geteuid() == 0 and auto)


def test_upgrade_reads_versions_and_config() -> None:
    clis = upgrade.clis()
    assert clis
    assert upgrade.client_summary(clis[0]).startswith("client ")
    assert isinstance(upgrade.read_config(), dict) or not managed.daemon_config().exists()


def test_socket_owner_describes_the_socket_in_use(tmp_path) -> None:
    import getpass
    import grp
    import os

    from helpers.core import daemon

    made = tmp_path / "some.sock"
    made.write_text("")
    made.chmod(0o640)
    group = grp.getgrgid(os.getgid()).gr_name
    assert security.socket_owner(str(made)) == f"{getpass.getuser()}:{group} 0640"
    in_use = daemon.find().host.removeprefix("unix://")
    assert security.socket_path() == in_use
    assert security.socket_owner() == security.socket_owner(in_use)
    assert security.socket_owner(str(tmp_path / "missing.sock")) is None
