"""One wait contract: a truthy answer ends it, a bound raises, a give-up reason ends it at once."""

from __future__ import annotations

import time

import pytest

from helpers.core import course, wait
from helpers.core.shell import docker
from helpers.lessons import dockerfiles


def test_returns_the_first_truthy_answer_and_retries_errors() -> None:
    answers = iter([OSError("refused"), None, 0, "up"])

    def check() -> str | int | None:
        answer = next(answers)
        if isinstance(answer, Exception):
            raise answer
        return answer

    assert wait.until(check, "the service", timeout=5, interval=0.01) == "up"


def test_a_bound_raises_with_what_and_the_last_error() -> None:
    def refused() -> None:
        raise ConnectionRefusedError("connection refused")

    start = time.monotonic()
    expected = r"the service did not happen within 0.3 s \(last error: connection refused\)"
    with pytest.raises(wait.WaitTimeout, match=expected):
        wait.until(refused, "the service", timeout=0.3, interval=0.05)
    assert 0.3 <= time.monotonic() - start < 1.0


def test_an_error_outside_retry_is_not_swallowed() -> None:
    def broken() -> None:
        raise ValueError("a bug in the check")

    with pytest.raises(ValueError, match="a bug in the check"):
        wait.until(broken, "x", timeout=5)


def test_give_up_ends_the_wait_at_once() -> None:
    start = time.monotonic()
    with pytest.raises(wait.WaitFailed, match="the page: the server exited"):
        wait.until(lambda: False, "the page", timeout=30, give_up=lambda: "the server exited")
    assert time.monotonic() - start < 1.0


def test_timed_measures_the_wait() -> None:
    ready = time.monotonic() + 0.3
    took = wait.timed(lambda: time.monotonic() >= ready, "the clock", timeout=5, interval=0.02)
    assert 0.25 <= took < 1.0


def test_wait_http_stops_at_once_when_the_container_exits_and_shows_its_logs() -> None:
    box = course.name("wait-exits")
    docker("rm", "-f", box, show=False, echo=False, check=False)  # an interrupted run's
    docker("run", "-d", "--name", box, "busybox", "sh", "-c", "echo cannot bind 8080; exit 3", show=False)
    try:
        start = time.monotonic()
        with pytest.raises(wait.WaitFailed, match=r"(?s)exited \(exit code 3\).*cannot bind 8080"):
            dockerfiles.wait_http("http://127.0.0.1:9/", timeout=60, container=box)
        assert time.monotonic() - start < 15
    finally:
        docker("rm", "-f", box, show=False, check=False)
