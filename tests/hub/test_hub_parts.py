"""The hub's parts that need neither root nor a daemon: limits, names, the sheet, the config's settings."""

from __future__ import annotations

from pathlib import Path

import pytest

from helpers import cgroups, hub


def test_limits_are_written_for_each_cgroup_version() -> None:
    limits = cgroups.Limits(memory=hub.parse_bytes("1.5g"), pids=512, cpus=0.5)
    assert limits.memory == 1610612736 and hub.parse_bytes("512m") == 512 << 20 and hub.parse_bytes("4096") == 4096
    v1 = cgroups.settings(limits, 1)
    assert v1["memory"] == {"memory.limit_in_bytes": "1610612736"} and v1["pids"] == {"pids.max": "512"}
    assert v1["cpu"] == {"cpu.cfs_period_us": "100000", "cpu.cfs_quota_us": "50000"}
    v2 = {"memory.max": "1610612736", "pids.max": "512", "cpu.max": "50000 100000"}
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
    assert "dmac-l02         gggg-hhhh-iiii   Grace" in text and "instructor (admin)" in text
    assert len({hub._password() for _ in range(20)}) == 20


def test_the_shared_environment_holds_the_course_dependencies_not_the_course() -> None:
    wanted = hub.course_requirements()
    assert any(r.startswith("jupyterlab") for r in wanted) and any(r.startswith("docker") for r in wanted)
    assert not any(r.startswith("dmac-containers") for r in wanted)


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
