"""The exercise mechanism: right answers pass, wrong/empty/malformed ones get words, never a traceback."""

from __future__ import annotations

import pytest

from helpers import exercises
from helpers.core import course
from helpers.core.shell import docker


@pytest.fixture(autouse=True)
def _no_solutions() -> None:
    exercises.configure(solutions=False)


def test_every_exercise_has_a_solution_and_a_title() -> None:
    exercises.load_all()
    assert exercises.REGISTRY, "no exercises registered"
    for ex in exercises.REGISTRY.values():
        assert ex.solution.strip() and ex.title


@pytest.mark.parametrize("answer", [None, "", "   ", 42, ["/var/lib/docker"], "x" * 100_000, "'; rm -rf / #"])
def test_wrong_empty_or_malformed_answers_get_words(answer: object) -> None:
    verdict = exercises.evaluate("00.2", answer)
    assert not verdict.ok
    assert verdict.message and len(verdict.message) < 500


def test_right_answer_passes(dc) -> None:
    assert exercises.evaluate("00.2", dc.info()["DockerRootDir"]).ok


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


@pytest.mark.parametrize("answer", ["7", " 7 ", 7])
def test_whole_number_reads_numbers(answer: object) -> None:
    assert exercises.whole_number(answer) == 7


@pytest.mark.parametrize("answer", ["seven", "7.5", "", "x" * 10_000, [7]])
def test_whole_number_answers_anything_else_in_short_words(answer: object) -> None:
    verdict = exercises.whole_number(answer)
    assert isinstance(verdict, exercises.Verdict) and not verdict.ok
    assert "whole number" in verdict.message and len(verdict.message) < 120


def test_course_container_and_image_or_a_verdict() -> None:
    missing = exercises.course_container("ex-not-there", missing="gone")
    assert isinstance(missing, exercises.Verdict) and (missing.message, missing.hint) == ("gone", "")  # no try yet
    assert "no image" in exercises.course_image(course.image("ex-not-there", "1")).message
    box = course.name("ex-lookup")
    docker("run", "--name", box, "busybox", "true", show=False, echo=False)
    try:
        found = exercises.course_container("ex-lookup")
        assert not isinstance(found, exercises.Verdict) and found.name == box
        assert exercises.course_image("busybox").tags
    finally:
        docker("rm", "-f", box, show=False, echo=False)


def test_reset_images_removes_only_the_named_course_images(capsys: pytest.CaptureFixture[str]) -> None:
    from helpers.core import images

    ref = course.image("ex-reset", "1")
    images.build(ref, images.context("ex-reset", {"Dockerfile": "FROM busybox\nLABEL purpose=reset-test\n"}))
    exercises.reset_images([("ex-reset", "1"), ("ex-never-built", "1")])
    assert "no earlier" in capsys.readouterr().out
    assert isinstance(exercises.course_image(ref), exercises.Verdict)
    assert exercises.course_image("busybox").tags
