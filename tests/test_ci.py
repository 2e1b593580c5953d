"""CI's own bookkeeping (scripts/ci.py): the skip guard fails on a skip nobody expected; counts and load."""

from __future__ import annotations

import json
from pathlib import Path

from tests.scripts_loader import load

ROOT = Path(__file__).resolve().parent.parent
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
    skip = {"stage": "test-room", "test": "tests/test_room.py::test_x", "reason": "no dmac-engines/docker-28:latest"}
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
