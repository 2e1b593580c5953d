"""The hub's parts that need neither root nor a daemon: limits, names, the sheet, the config's settings."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from helpers.infra import cgroups, hub


def test_limits_are_written_for_each_cgroup_version() -> None:
    limits = cgroups.Limits(memory=hub.parse_bytes("1.5g"), pids=512, cpus=0.5)
    assert limits.memory == 1610612736 and hub.parse_bytes("512m") == 512 << 20 and hub.parse_bytes("4096") == 4096
    v1 = cgroups.settings(limits, 1)
    # memory+swap no more than memory: no swap beyond the limit (F8)
    assert v1["memory"] == {"memory.limit_in_bytes": "1610612736", "memory.memsw.limit_in_bytes": "1610612736"}
    assert v1["pids"] == {"pids.max": "512"}
    assert v1["cpu"] == {"cpu.cfs_period_us": "100000", "cpu.cfs_quota_us": "50000"}
    v2 = {"memory.max": "1610612736", "memory.swap.max": "0", "pids.max": "512", "cpu.max": "50000 100000"}
    assert cgroups.settings(limits, 2) == {"": v2}


def test_cgroup_folders_per_version(tmp_path: Path) -> None:
    assert cgroups.version(tmp_path) == 1
    assert cgroups.folders("dmac-hub", "dmac-l01", tmp_path) == [
        tmp_path / c / "dmac-hub" / "dmac-l01" for c in ("memory", "pids", "cpu")
    ]
    (tmp_path / "cgroup.controllers").write_text("cpu memory pids\n")
    assert cgroups.version(tmp_path) == 2
    assert cgroups.folders("dmac-hub", "dmac-l01", tmp_path) == [tmp_path / "dmac-hub" / "dmac-l01"]


def test_accounts_carry_the_course_prefix(tmp_path: Path) -> None:
    settings = hub.Settings()
    assert hub.account_names(settings, 3, None) == (["dmac-l01", "dmac-l02", "dmac-l03"], {})
    roster = tmp_path / "roster.txt"
    roster.write_text("Ada Lovelace\n\nGrace Hopper\n")
    assert hub.account_names(settings, 30, roster) == (
        ["dmac-l01", "dmac-l02"],
        {"dmac-l01": "Ada Lovelace", "dmac-l02": "Grace Hopper"},
    )
    with pytest.raises(hub.HubError):
        hub.account_names(settings, 0, None)


def test_the_sheet_lists_every_account_with_its_own_password() -> None:
    settings = hub.Settings(learners=["dmac-l01", "dmac-l02"], names={"dmac-l02": "Grace"}, port=8443, tls=True)
    passwords = {"dmac-instructor": "aaaa-bbbb-cccc", "dmac-l01": "dddd-eeee-ffff", "dmac-l02": "gggg-hhhh-iiii"}
    text = hub.sheet(settings, passwords)
    assert text.startswith("Workshop hub: https://") and ":8443" in text
    assert "dmac-l02         gggg-hhhh-iiii   Grace" in text and "dmac-instructor  aaaa-bbbb-cccc   instructor" in text
    assert len({hub.new_password() for _ in range(20)}) == 20


def test_the_shared_environment_is_the_lock_with_hashes_and_the_proxy_is_pinned() -> None:
    import subprocess

    text = hub.HUB_REQUIREMENTS.read_text()
    pins = {line.split("==")[0]: line.split("==")[1].split()[0] for line in text.splitlines() if "==" in line}
    for package in ("jupyterhub", "jupyterhub-idle-culler", "jupyterlab", "docker", "papermill"):
        assert package in pins, package  # JupyterHub, its culler and the course's packages, exact versions
    assert "dmac-containers" not in pins  # not the course itself: each learner runs their own clone
    assert text.count("--hash=sha256:") >= len(pins)
    # what `make lock` writes from uv.lock now: the committed file is not stale
    uv = hub.course.ROOT / ".uv" / "bin" / "uv"
    argv = [str(uv), "export", "--locked", "--no-emit-project", "--no-dev", "--extra", "hub", "--quiet"]
    fresh = subprocess.run(argv, capture_output=True, text=True, check=True, cwd=hub.course.ROOT).stdout
    body = [ln for ln in text.splitlines() if not ln.startswith("#")]
    assert [ln for ln in fresh.splitlines() if not ln.startswith("#")] == body
    lock = json.loads((hub.PROXY_LOCK / "package-lock.json").read_text())
    proxy = lock["packages"]["node_modules/configurable-http-proxy"]
    assert proxy["version"] == "4.6.3" and proxy["integrity"].startswith("sha512-")


def _tree(root: Path) -> tuple[Path, Path]:
    """A learner's home with a daemon's data root and a folder outside it that must survive."""
    home, outside = root / "home" / "dmac-l01", root / "var" / "lib"
    (home / ".local" / "share" / "docker" / "overlay2").mkdir(parents=True)
    (home / ".local" / "share" / "docker" / "overlay2" / "layer").write_text("the learner's")
    (outside / "docker" / "precious").mkdir(parents=True)
    (outside / "docker" / "precious" / "keep").write_text("not the learner's")
    return home, outside


def test_reset_removes_the_learners_data_root(tmp_path: Path) -> None:
    home, outside = _tree(tmp_path)
    assert hub.remove_within(home, Path(".local/share/docker"))
    assert not (home / ".local" / "share" / "docker").exists()
    assert (home / ".local" / "share").is_dir()
    assert hub.remove_within(home, Path(".local/share/docker"))  # gone already: nothing to do
    assert (outside / "docker" / "precious" / "keep").read_text() == "not the learner's"


@pytest.mark.parametrize("planted", [".local", ".local/share", ".local/share/docker"])
def test_reset_never_follows_a_symlink_the_learner_planted(tmp_path: Path, planted: str) -> None:
    # F1: the learner swaps a folder on the way for a symlink to a folder whose "docker" is not theirs
    home, outside = _tree(tmp_path)
    link = home / planted
    link.rename(link.with_name(link.name + ".real"))
    target = {".local": outside.parent, ".local/share": outside, ".local/share/docker": outside / "docker"}[planted]
    link.symlink_to(target)
    assert hub.remove_within(home, Path(".local/share/docker")) is False
    assert (outside / "docker" / "precious" / "keep").read_text() == "not the learner's"
    assert link.is_symlink()


def test_reset_does_not_follow_a_symlink_inside_the_tree(tmp_path: Path) -> None:
    home, outside = _tree(tmp_path)
    (home / ".local" / "share" / "docker" / "escape").symlink_to(outside / "docker")
    assert hub.remove_within(home, Path(".local/share/docker"))
    assert not (home / ".local" / "share" / "docker").exists()
    assert (outside / "docker" / "precious" / "keep").read_text() == "not the learner's"


def test_former_learners_are_the_hubs_numbered_accounts_not_in_the_roster() -> None:
    settings = hub.Settings(prefix="dmac-l", learners=["dmac-l01", "dmac-l02"])
    existing = ["root", "dmac-l01", "dmac-l02", "dmac-l07", "dmac-learner", "dmac-instructor", "dmac-l30x"]
    assert hub.former_learners(settings, existing) == ["dmac-l07"]  # never the rootless matrix's dmac-learner


def test_passwords_last_one_workshop(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    settings = hub.Settings(instance="dmac-hubparts", days=7)
    monkeypatch.setattr(hub.Settings, "state", property(lambda self: tmp_path))
    (tmp_path / "passwords.json").write_text(json.dumps({"made": 1000.0, "passwords": {"dmac-l01": "a-b-c"}}))
    assert hub.load_passwords(settings, 1000.0 + 6 * 86400) == ({"dmac-l01": "a-b-c"}, 1000.0)  # a restarted hub
    assert hub.load_passwords(settings, 1000.0 + 8 * 86400) == ({}, 1000.0 + 8 * 86400)  # the next workshop: new ones
    (tmp_path / "passwords.json").write_text(json.dumps({"dmac-l01": "a-b-c"}))  # an older hub's file
    assert hub.load_passwords(settings, 1e9) == ({}, 1e9)
    assert hub.expiry(0.0, 7) == "1970-01-08"


def test_a_learner_inherits_no_credential_of_roots(monkeypatch: pytest.MonkeyPatch) -> None:
    from helpers.infra import rootless

    environ = {
        "PIP_CERT": "/etc/ssl/certs/ca-certificates.crt",
        "PIP_INDEX_URL": "https://user:token@pypi.example.org/simple",
        "UV_INDEX_PRIVATE_PASSWORD": "s3cret",
        "PIP_TRUSTED_HOST": "pypi.example.org",
        "HOME": "/root",
    }
    assert rootless.passed(environ) == {
        "PIP_CERT": "/etc/ssl/certs/ca-certificates.crt",
        "PIP_TRUSTED_HOST": "pypi.example.org",
    }


def test_the_room_registry_takes_pushes_on_loopback_only() -> None:
    from helpers.infra import room

    assert room.publish(5443, read_only=False) == "127.0.0.1:5443:5000"  # F14: while it is being preloaded
    assert room.publish(5443, read_only=True) == "5443:5000"


def test_a_cgroup_without_swap_accounting_gets_the_rest_and_memsw_is_lifted_first(tmp_path: Path) -> None:
    limits = cgroups.Limits(memory=1 << 30, pids=64, cpus=1.0)
    for ctrl in cgroups.V1_CONTROLLERS:
        (tmp_path / ctrl).mkdir()
    made = cgroups.create("hubparts", "dmac-l01", limits, tmp_path)
    memory = next(f for f in made if f.parent.parent.name == "memory")
    assert (memory / "memory.limit_in_bytes").read_text() == str(1 << 30)
    assert not (memory / "memory.memsw.limit_in_bytes").exists()  # no swap accounting: not written
    (memory / "memory.memsw.limit_in_bytes").write_text(str(1 << 29))  # a kernel that accounts swap
    cgroups.create("hubparts", "dmac-l01", limits, tmp_path)
    assert (memory / "memory.memsw.limit_in_bytes").read_text() == str(1 << 30)


def test_privileged_groups_and_sysv_tables() -> None:
    from helpers.infra import hub_confine

    assert hub_confine.privileged(["dmac-l01", "docker", "users", "sudo"]) == ["docker", "sudo"]
    shm = (
        "       key      shmid perms                  size  cpid  lpid nattch   uid   gid  cuid  cgid\n"
        "         0         17   600                  1024  4242  4242      0  1001  1001  1001  1001\n"
        "         0         18   600                  1024  4243  4243      0  1002  1002  1002  1002\n"
    )
    assert hub_confine.sysv_ids(shm, 1001) == ["17"]
    assert hub_confine.sysv_ids("", 1001) == []


def test_schedulers_deny_lists_keep_the_hosts_lines(tmp_path: Path) -> None:
    from helpers.infra import hub_confine

    cron, at = tmp_path / "cron.deny", tmp_path / "at.deny"
    cron.write_text("guest\n")
    hub_confine.deny_schedulers(["dmac-l01", "dmac-l02"], (cron, at))
    hub_confine.deny_schedulers(["dmac-l01"], (cron, at))  # again: no duplicate
    assert cron.read_text() == "guest\ndmac-l01\ndmac-l02\n"
    assert at.read_text() == "dmac-l01\ndmac-l02\n"
    hub_confine.allow_schedulers(["dmac-l01", "dmac-l02"], (cron, at))
    assert cron.read_text() == "guest\n"
    assert at.read_text() == ""


def test_a_servers_output_goes_to_its_own_capped_log(tmp_path: Path) -> None:
    import os

    from helpers.infra import hub_confine

    read, write = os.pipe()
    os.write(write, b"x" * 700 + b"\n")
    os.write(write, b"y" * 700 + b"\n")
    os.close(write)
    log = tmp_path / "server-dmac-l01.log"
    hub_confine.pump(read, log, cap=1000)
    assert log.read_bytes() == b"y" * 700 + b"\n"  # the cap moved the first part aside
    assert (tmp_path / "server-dmac-l01.log.1").read_bytes() == b"x" * 700 + b"\n"
    assert log.stat().st_mode & 0o777 == 0o600
