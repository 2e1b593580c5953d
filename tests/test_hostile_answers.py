"""Exercise checkers given wrong, empty, malformed or hostile input answer in words, bounded in time,
and never reach outside the course's sandbox (a fresh build context, containers of the course)."""

from __future__ import annotations

import time

import pytest

from helpers import exercises

HOSTILE_DOCKERFILES = {
    "escape the build context": "FROM busybox\nCOPY ../../../../etc/shadow /stolen\nUSER 10001\n",
    "bind-mount the host": "FROM busybox\nRUN --mount=type=bind,source=/,target=/host cat /host/etc/shadow\nUSER 1\n",
    "a base image from elsewhere": "FROM evil.example/root:latest\nUSER 10001\n",
    "not a Dockerfile": "\x00\x01 rm -rf / \n" * 10,
    "huge": "FROM busybox\n" + "# padding\n" * 50_000 + "USER 10001\n",
}


@pytest.fixture(autouse=True)
def _learner_mode() -> None:
    exercises.configure(solutions=False)


@pytest.mark.parametrize("answer", list(HOSTILE_DOCKERFILES.values()), ids=list(HOSTILE_DOCKERFILES))
def test_hostile_dockerfiles_get_words(answer: str) -> None:
    start = time.monotonic()
    verdict = exercises.evaluate("03.2", answer)
    assert time.monotonic() - start < 120
    assert verdict.message and len(verdict.message) < 600
    if "shadow" in answer:
        assert not verdict.ok and "shadow" not in verdict.message.split("does not build")[0]


@pytest.mark.parametrize("answer", [None, "", 3.14, {"FROM": "busybox"}, b"FROM busybox"])
def test_wrong_types_get_words(answer: object) -> None:
    from helpers.exercises import nb03

    nb03.reset()  # 03.2 with no answer judges the image a terminal built: the hostile builds above made one
    for ex_id in ("02.1", "03.2", "04.1", "09.1", "14.1"):
        verdict = exercises.evaluate(ex_id, answer)
        assert not verdict.ok
        assert "Traceback" not in verdict.message


def test_the_host_shadow_file_was_never_read(dc) -> None:
    verdict = exercises.evaluate("03.2", HOSTILE_DOCKERFILES["bind-mount the host"])
    assert not verdict.ok or "root:" not in verdict.message
