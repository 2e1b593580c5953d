"""CI's own bookkeeping (scripts/ci.py): the skip guard fails on a skip nobody expected; counts and load."""

from __future__ import annotations

import json
import time
from pathlib import Path

from tests.scripts_loader import load

ROOT = Path(__file__).resolve().parents[2]
ci = load("ci")


def test_every_expected_skip_says_where_and_why() -> None:
    rules = ci.expected()
    assert rules
    for rule in rules:
        assert set(rule) == {"stage", "test", "reason", "why"}, rule
        assert rule["stage"] != "*" and len(rule["why"]) > 30, rule


def test_a_skip_is_expected_only_in_its_stage_and_for_its_reason() -> None:
    podman = {"test": "tests/test_podman.py::test_podman_404s_are_not_found_for_the_helpers"}
    fine = {**podman, "stage": "make-test", "reason": "the podman-5 engine is not running (make matrix-podman …)"}
    on_podman = {**fine, "stage": "matrix-podman"}  # where the tests must run, a skip is a failure
    other = {**fine, "reason": "Rootless Docker on cgroup v1 cannot enforce memory limits"}
    assert ci.unexpected([fine, on_podman, other], ci.expected()) == [on_podman, other]


def test_the_guard_fails_the_run_on_an_unexpected_skip(tmp_path: Path, capsys) -> None:
    room = "the room's tests run in make test-room"
    skip = {"stage": "test-room", "test": "tests/test_room.py::test_x", "reason": room}
    (tmp_path / "skips.jsonl").write_text(json.dumps({**skip, "stage": "make-test"}) + "\n")
    assert ci.check_skips(tmp_path) == 0  # make test skips it: expected, the room's stage runs it
    (tmp_path / "skips.jsonl").write_text(json.dumps(skip) + "\n")
    assert ci.check_skips(tmp_path) == 1
    assert "unexpected skip in test-room: tests/test_room.py::test_x" in capsys.readouterr().out


def test_pytest_closing_lines_are_added_up() -> None:
    log = (
        "==== 867 passed, 23 skipped, 2 warnings in 988.12s (0:16:28) ====\n"
        "noise\n"
        "========== 32 passed in 861.00s (0:14:21) ==========\n"
        "= 1 failed, 2 passed, 1 error in 3.0s =\n"
        "4 passed in 21.50s\n"  # pytest -q
    )
    assert ci.counts(log) == {"passed": 905, "skipped": 23, "warnings": 2, "failed": 1, "errors": 1}
    assert ci.phases(log) == [988.12, 861.0, 3.0, 21.5]


def test_vmstat_lines_give_the_load(tmp_path: Path) -> None:
    vmstat = tmp_path / "vmstat.log"
    vmstat.write_text(
        "procs -----------memory---------- ---swap-- -----io---- -system-- ------cpu----- -----timestamp-----\n"
        " r  b   swpd   free   buff  cache   si   so    bi    bo   in   cs us sy id wa st                 UTC\n"
        " 2  0      0 1024000 2048 1024000    0    0     5    10  100  200 40 10 50  0  0 2026-12-06 21:00:00\n"
        " 3  0      0 512000  2048 512000     0    0     5    10  100  200 70 20 10  0  0 2026-12-06 21:00:10\n"
    )
    rows = ci.load(vmstat)
    assert [(busy, free) for _, busy, free in rows] == [(50, 2002), (90, 1002)]
    start = rows[0][0]
    assert ci.busy(rows, start, start + 10) == {"cpu_busy_pct": 70, "min_free_mb": 1002}


def test_a_lane_beside_make_test_waits_for_its_gate() -> None:
    phase_3 = "DMAC_DECOYS=0 pytest …\n== 20 passed in 233.50s ==\n"
    assert ci.gate_open("start", "", set())
    assert not ci.gate_open("host-steady", "", set())
    assert not ci.gate_open("host-steady", "DMAC_DECOYS=0 pytest …\ncollected 22 items\n", set())  # phase 1 runs
    assert not ci.gate_open("host-steady", phase_3 + "pytest --nbval …\n", set())  # phase 2 not collected yet
    assert ci.gate_open("host-steady", phase_3 + "pytest --nbval …\ncollected 970 items\n", set())
    assert not ci.gate_open("make-test", phase_3 + "collected 970 items\n", set())
    assert ci.gate_open("make-test", "", {"make-test"}) and ci.gate_open("host-steady", "", {"make-test"})
    phase_2 = phase_3 + "collected 970 items\n== 949 passed, 43 skipped in 2077.81s (0:34:37) ==\n"
    assert not ci.gate_open("make-test", phase_2, set())
    assert {c.gate for c in ci.CHAINS} == {"start", "host-steady"}  # no lane waits for make test's later phases


def test_lanes_take_chains_as_their_gates_open(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr(ci, "OUT", tmp_path)
    ran: list[str] = []

    def fake(stage, deadline, t0) -> None:
        ran.append(stage.name)
        stage.code = 0
        if stage.name == "beside":  # make test ends while this lane works
            written = tmp_path / "stages.tmp"  # as ci.remember writes it: whole, then in place (the other lane reads)
            written.write_text(json.dumps({"make-test": {}}))
            written.replace(tmp_path / "stages.json")

    monkeypatch.setattr(ci, "_run_stage", fake)
    chains = [ci.Chain("make-test", (ci.Step("after"),)), ci.Chain("start", (ci.Step("beside"),))]
    done = ci.lanes(time.monotonic() + 30, chains, poll=0.01)
    assert ran == ["beside", "after"] and all(s.code == 0 for s in done)


def test_a_chain_whose_gate_never_opens_is_reported_not_run(tmp_path: Path, monkeypatch, capsys) -> None:
    monkeypatch.setattr(ci, "OUT", tmp_path)
    done = ci.lanes(time.monotonic() + 0.2, [ci.Chain("make-test", (ci.Step("matrix"),))], poll=0.01)
    assert [(s.name, s.code) for s in done] == [("matrix", 125)]
    assert "matrix did not start: CI's time ran out" in capsys.readouterr().out


def test_the_sampled_halves_cover_the_course_and_swap_with_every_commit() -> None:
    notebooks = sorted(p.name[:2] for p in (ROOT / "notebooks").glob("[0-9][0-9]-*.ipynb"))
    first, second = (set(h.split()) for h in ci.HALVES)
    assert not first & second and sorted(first | second) == notebooks
    assert ci.half("a1b2c3d", 0) == ci.HALVES[1] and ci.half("a1b2c3e", 0) == ci.HALVES[0]  # d odd, e even
    assert ci.half("a1b2c3e", 1) == ci.HALVES[1]  # the two sampled chains never take the same half
    steps = {s.name: dict(s.samples) for c in ci.CHAINS for s in c.steps}
    # every engine and mode on every commit, each on one half: nbval and the solutions of every notebook each time
    assert steps["matrix"] == steps["matrix-rootless"] == {ci.NOTEBOOKS: 0}
    assert steps["matrix-podman"] == steps["matrix-containerd"] == {ci.NOTEBOOKS: 1}
    assert steps["test-hub"] == steps["test-cgroup2"] == {}


def test_a_sampled_stage_gets_its_half_in_its_environment(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr(ci, "OUT", tmp_path)
    monkeypatch.setattr(ci, "_commit", lambda: "a1b2c3e")  # even: sample 1 takes HALVES[1]
    seen: dict[str, dict[str, str]] = {}

    def fake(stage, deadline, t0) -> None:
        seen[stage.name] = stage.env
        stage.code = 0

    monkeypatch.setattr(ci, "_run_stage", fake)
    step = ci.Step("matrix-containerd", ("matrix-engine", "ENGINE=docker-28c"), ((ci.NOTEBOOKS, 1),))
    ci.lanes(time.monotonic() + 30, [ci.Chain("start", (step, ci.Step("containerd-stop")))], poll=0.01)
    assert seen == {"matrix-containerd": {ci.NOTEBOOKS: ci.HALVES[1]}, "containerd-stop": {}}
