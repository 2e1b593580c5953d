"""The Dockerfiles of notebooks 07-10 pass hadolint, parse, and the build-log parser reads real builds."""

from __future__ import annotations

import time

import pytest

from helpers import course, dockerfiles, images


@pytest.mark.parametrize("key", sorted(dockerfiles.DOCKERFILES))
def test_every_course_dockerfile_passes_hadolint_without_errors(key: str) -> None:
    assert dockerfiles.errors(dockerfiles.text(key)) == []


def test_the_sketchy_build_script_is_flagged() -> None:
    codes = {f.code for f in dockerfiles.lint(dockerfiles.text("09-sketchy"))}
    assert {"DL4000", "DL4006", "DL3003"} <= codes
    assert dockerfiles.errors(dockerfiles.text("09-sketchy"))


def test_parse_joins_continuations_and_names_stages() -> None:
    label = dockerfiles.parse(dockerfiles.text("08-label"))
    assert [i.keyword for i in label] == ["FROM", "LABEL", "CMD"]
    assert "org.opencontainers.image.version" in label[1].arguments
    assert dockerfiles.stages(dockerfiles.text("10-multi")) == [
        "builder",
        "runtime-debian",
        "runtime-scratch",
        "runtime",
    ]


def test_tarball_is_reproducible() -> None:
    assert dockerfiles.tarball({"a.txt": "x"}) == dockerfiles.tarball({"a.txt": "x"})


def test_steps_of_a_real_build_show_what_the_cache_reused() -> None:
    ref = course.image("test-dockerfiles-steps", "1")
    files = {"Dockerfile": "FROM busybox\nRUN echo one > /one\nCOPY note.txt /note.txt\n", "note.txt": "a"}
    try:
        images.build(ref, images.context("test-dockerfiles-steps", files), show=False)
        files["note.txt"] = f"b {time.time_ns()}"  # new content: COPY must miss the cache
        log = images.build(ref, images.context("test-dockerfiles-steps", files), show=False).output
        found = {s.instruction.split()[0]: s.cached for s in dockerfiles.steps(log)}
        assert found["RUN"] is True and found["COPY"] is False
    finally:
        images.client().images.remove(ref, force=True)


def test_round_mb_is_stable() -> None:
    assert dockerfiles.round_mb(2_345_678) == "2.3 MB"
    assert dockerfiles.round_mb(73_712_345) == "74 MB"
