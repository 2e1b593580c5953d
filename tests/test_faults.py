"""Specific, actionable messages for the faults a learner meets (the daemon cases are in test_daemon)."""

from __future__ import annotations

import time

import pytest

from helpers.core import images
from helpers.lessons import preflight


def test_low_free_disk_says_what_to_do() -> None:
    row = preflight.disk_check(1.2)
    assert row.ok is False
    assert "only 1.2 GB free" in row.value and "docker image prune" in row.value
    assert preflight.verdict([row]).startswith("NOT READY: Free disk")
    assert preflight.disk_check(50).ok is True
    assert preflight.disk_check(None).ok is None  # Docker Desktop: not visible, not a failure


def test_no_registry_is_found_out_quickly_and_pull_is_bounded() -> None:
    start = time.monotonic()
    online = images.registry_reachable("busybox:latest", timeout=5)
    assert time.monotonic() - start < 12
    if online:
        pytest.skip("a registry answers here: the bounded failure cannot be shown")
    start = time.monotonic()
    assert images.pull("debian:bookworm-slim", timeout=5) is False
    assert time.monotonic() - start < 7


def test_not_root_without_registry_gets_a_way_forward(monkeypatch) -> None:
    monkeypatch.setattr(images.os, "geteuid", lambda: 1000)
    try:
        images.need_root("debootstrap")
    except images.CommandFailed as exc:
        assert "sudo make images" in str(exc) and "make load-bundle" in str(exc)
    else:
        raise AssertionError("expected a message")
