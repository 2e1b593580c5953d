"""The exercise mechanism: right answers pass, wrong/empty/malformed ones get words, never a traceback."""

from __future__ import annotations

import pytest

from helpers import course, exercises
from helpers.shell import docker


@pytest.fixture(autouse=True)
def _no_solutions() -> None:
    exercises.configure(solutions=False)


def test_every_exercise_has_a_solution_and_a_title() -> None:
    exercises._load_all()
    assert exercises.REGISTRY, "no exercises registered"
    for ex in exercises.REGISTRY.values():
        assert ex.solution.strip() and ex.title


@pytest.mark.parametrize("answer", [None, "", "   ", 42, ["overlay2"], "x" * 100_000, "'; rm -rf / #"])
def test_wrong_empty_or_malformed_answers_get_words(answer: object) -> None:
    verdict = exercises.evaluate("00.2", answer)
    assert not verdict.ok
    assert verdict.message and len(verdict.message) < 500


def test_right_answer_passes(dc) -> None:
    assert exercises.evaluate("00.2", dc.info()["Driver"]).ok


def test_container_exercise_rejects_then_accepts(capsys: pytest.CaptureFixture[str]) -> None:
    wanted = course.name("ex-hello")
    docker("rm", "-f", wanted, show=False, echo=False)
    assert "no container called" in exercises.evaluate("00.1").message
    docker("run", "--name", wanted, "busybox", "echo", "Hello, sea!", show=False)
    try:
        verdict = exercises.evaluate("00.1")
        assert not verdict.ok and "not 'Hello, ocean!'" in verdict.message
    finally:
        docker("rm", "-f", wanted, show=False)
    exercises.configure(solutions=True)
    try:
        assert exercises.check("00.1").ok
    finally:
        exercises.configure(solutions=False)
        docker("rm", "-f", wanted, show=False)
    assert "✅ Correct" in capsys.readouterr().out


def test_a_checker_that_crashes_answers_in_words() -> None:
    @exercises.exercise("zz.1", "a broken checker", solution="pass")
    def broken() -> exercises.Verdict:
        raise RuntimeError("boom")

    try:
        verdict = exercises.evaluate("zz.1")
        assert not verdict.ok and "could not inspect your answer" in verdict.message
    finally:
        exercises.REGISTRY.pop("zz.1")
