"""The containerd image store's races, asked again and only them: docker system df walking a snapshot that another
build removed meanwhile (the daemon's own error, replayed by a stand-in client: no daemon needed)."""

from __future__ import annotations

import pytest

from helpers.core import daemon


class _Client:
    def __init__(self, errors: list[Exception]) -> None:
        self.errors, self.calls = errors, 0

    def df(self) -> dict[str, list[str]]:
        self.calls += 1
        if self.errors:
            raise self.errors.pop(0)
        return {"Images": ["one"]}


LOST = RuntimeError('404 Client Error: Not Found ("NotFound: snapshot u0vagw9v-view does not exist: not found")')


def test_system_df_is_asked_again_when_a_snapshot_vanished_under_it(monkeypatch: pytest.MonkeyPatch) -> None:
    stand_in = _Client([LOST, LOST])
    monkeypatch.setattr(daemon, "client", lambda: stand_in)
    monkeypatch.setattr(daemon.time, "sleep", lambda _: None)
    assert daemon.disk_usage() == {"Images": ["one"]} and stand_in.calls == 3


def test_system_df_gives_up_after_three_and_never_retries_another_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(daemon.time, "sleep", lambda _: None)
    stand_in = _Client([LOST, LOST, LOST])
    monkeypatch.setattr(daemon, "client", lambda: stand_in)
    with pytest.raises(RuntimeError, match="does not exist"):
        daemon.disk_usage()
    assert stand_in.calls == 3
    other = _Client([RuntimeError("500 Server Error: permission denied")])
    monkeypatch.setattr(daemon, "client", lambda: other)
    with pytest.raises(RuntimeError, match="permission denied"):
        daemon.disk_usage()
    assert other.calls == 1
