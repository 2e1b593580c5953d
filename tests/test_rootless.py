"""Rootless Docker for a course user: the parts that need no second daemon.

The daemon itself, the user's checkout and every notebook on it are exercised end to end by
``make matrix-rootless`` (root only, about 8 minutes), whose results land in docs/compat.json.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from helpers.infra import rootless, rootless_matrix, runs


def test_a_new_subordinate_range_starts_above_every_existing_one(tmp_path: Path) -> None:
    subuid, subgid = tmp_path / "subuid", tmp_path / "subgid"
    subuid.write_text("alice:100000:65536\nbob:165536:65536\n")
    subgid.write_text("alice:100000:65536\ncarol:300000:1000\n")
    assert rootless.free_subid_start(subuid, subgid) == 301000
    assert rootless.free_subid_start(tmp_path / "missing") == 100000
    assert rootless.has_subids(subuid, "bob") and not rootless.has_subids(subuid, "bo")


def test_the_users_environment_points_at_their_daemon_and_leaks_nothing_else(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DOCKER_HOST", "unix:///var/run/docker.sock")
    monkeypatch.setenv("DMAC_NAMESPACE", "root-namespace")
    monkeypatch.setenv("PIP_CERT", "/etc/ssl/certs/ca-certificates.crt")
    user = rootless.Learner("dmac-learner", 1001, 1001, Path("/home/dmac-learner"))
    env = rootless.user_env(user)
    assert env["DOCKER_HOST"] == "unix:///run/user/1001/docker.sock"
    assert env["XDG_RUNTIME_DIR"] == "/run/user/1001" and env["HOME"] == "/home/dmac-learner"
    assert env["PIP_CERT"] == "/etc/ssl/certs/ca-certificates.crt"  # the proxy's CA, for pip in their venv
    assert "DMAC_NAMESPACE" not in env and "/root" not in env["PATH"]
    assert "export DOCKER_HOST=unix:///run/user/1001/docker.sock" in rootless.env_lines(user)


def test_the_rootless_verdict_is_the_courses_one_rule() -> None:
    nb = {"cells": [{"cell_type": "code", "metadata": {}, "source": "check('02.1')", "outputs": []}]}
    assert rootless_matrix.verdict(nb) == runs.solutions_verdict(nb).to_json()


def test_record_keeps_other_engines(tmp_path: Path) -> None:
    path = tmp_path / "compat.json"
    path.write_text(json.dumps({"engines": {"docker-28": {"server": "28.5.2", "notebooks": {}}}}))
    results = {"02-containers-vs-vms": {"status": "limited", "cells": [], "why": "No cgroups here."}}
    rootless_matrix.record(results, {"server": "20.10.24+dfsg1"}, {"total": 257.04}, path)
    data = json.loads(path.read_text())
    assert list(data["engines"]) == ["docker-28", "rootless"]
    entry = data["engines"]["rootless"]
    assert entry["server"] == "20.10.24+dfsg1" and entry["seconds"] == {"total": 257.0}
    assert entry["notebooks"]["02-containers-vs-vms"]["solutions"]["status"] == "limited"
    assert entry["notebooks"]["02-containers-vs-vms"]["nbval"] == {"status": "not run"}
    assert entry["notebooks"]["00-setup-and-preflight"]["solutions"] == {"status": "not run"}


def test_a_limited_run_is_marked_and_its_reason_listed() -> None:
    from helpers.infra import compat

    stem = compat.NOTEBOOKS[2]
    entry: dict[str, Any] = {"server": "20.10.24+dfsg1", "notebooks": {stem: {"nbval": {"status": "not run"}}}}
    entry["notebooks"][stem]["solutions"] = {"status": "limited", "cells": [], "why": "No cgroups here."}
    data = {"engines": {"rootless": entry}}
    assert f"| {stem} | — · ⚠ |" in compat.compact_table(data).splitlines()
    assert f"- rootless · {stem}: No cgroups here." in compat.markdown(data)


def test_stop_signals_only_the_process_it_started_not_one_that_got_its_pid(tmp_path: Path, monkeypatch) -> None:
    # F19: a learner kills their own daemon; its pid goes to another process; root's stop must not kill that one
    import os
    import subprocess

    from helpers.core import procs

    monkeypatch.setattr(rootless, "STATE_DIR", tmp_path)
    other = subprocess.Popen(["sleep", "60"], start_new_session=True)  # stands in for the process that got the pid
    try:
        user = rootless.Learner("dmac-nobody", os.getuid(), os.getgid(), tmp_path)
        ticks = procs.start_ticks(other.pid)
        assert ticks is not None
        (tmp_path / "rootless-dmac-nobody.json").write_text(json.dumps({"pid": other.pid, "ticks": ticks + 1}))
        assert rootless.stop_daemon(user) is False and procs.alive(other.pid)  # another process: left alone
        (tmp_path / "rootless-dmac-nobody.json").write_text(json.dumps({"pid": other.pid, "ticks": ticks}))
        assert rootless.stop_daemon(user, timeout=10) is True and not procs.alive(other.pid)
    finally:
        other.kill()
        other.wait()
