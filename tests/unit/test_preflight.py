"""The preflight's rows and verdict: READY, READY WITH LIMITS or NOT READY, with the limits named."""

from __future__ import annotations

from helpers.lessons import preflight
from tests.support import recorded


def test_enforced_limits_are_an_ok_row_and_missing_ones_a_limit_row() -> None:
    assert preflight.limits_check(recorded("docker-28")).mark == "ok"
    row = preflight.limits_check(recorded("rootless-v1"))
    assert row.mark == "LIMIT" and row.value.startswith("NOT enforced: memory, CPU, pids")
    assert "`-m`, `--cpus`, `--pids-limit` are accepted and ignored" in row.limit
    only_cpu = preflight.limits_check(recorded("rootless-v2"))
    assert only_cpu.mark == "LIMIT" and "`--cpus` is accepted and ignored" in only_cpu.limit


def test_verdict_names_the_limits_and_a_failure_outranks_them() -> None:
    ok = preflight.Check("Python", "3.13.5")
    limit = preflight.Check("Daemon mode", "rootless", None, preflight.ROOTLESS)
    assert preflight.verdict([ok]) == "READY: this machine can run the course."
    assert preflight.verdict([ok, limit]).startswith("READY WITH LIMITS: ") and "daemon mode" in preflight.verdict(
        [ok, limit]
    )
    failing = preflight.disk_check(1.0)
    assert preflight.verdict([ok, limit, failing]).startswith("NOT READY: Free disk")
    assert preflight.can_run([ok, limit]) and not preflight.can_run([ok, failing])


def test_report_lists_each_limit_as_one_sentence() -> None:
    rows = [preflight.Check("Python", "3.13.5"), preflight.limits_check(recorded("rootless-v1"))]
    text = preflight.report(rows)
    assert text.splitlines()[1].startswith("LIMIT  Resource limits")
    assert text.splitlines()[-1] == "⚠ " + rows[1].limit


def test_podman_storage_driver_is_accepted() -> None:
    assert "overlay" in preflight.STORAGE_DRIVERS  # Podman's name for overlay2
