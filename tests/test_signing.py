"""cosign against the course registry on the real daemon: sign, verify, a moved tag refused, exercise 03.3."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from helpers import cleanup, course, exercises, images, registry, signing
from helpers.shell import docker, docker_out

NOTEBOOK = "sign-test"


@pytest.fixture(scope="module")
def signed() -> Iterator[str]:
    """The course registry, the cosign image, a key pair, and one image signed by digest."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("DMAC_NAMESPACE", os.environ.get("DMAC_TEST_NAMESPACE", "dmac-test"))
        course.set_notebook(NOTEBOOK)
        registry.build()
        registry.start(echo=False)
        signing.build()
        signing.make_keys()
        ref = f"{registry.address()}/{course.image('qc-signed', '1')}"
        images.build(course.image("qc-signed", "1"), signing.qc_context(), show=False)
        docker("tag", course.image("qc-signed", "1"), ref, show=False)
        by_digest = f"{ref.rsplit(':', 1)[0]}@{registry.push(ref, quiet=True)}"
        signing.sign(by_digest, echo=False)
        yield by_digest
        cleanup.tidy(NOTEBOOK, verbose=False)
        course.set_notebook("")


@pytest.fixture(autouse=True)
def _no_solutions() -> None:
    exercises.configure(solutions=False)
    course.set_notebook(NOTEBOOK)


def test_cosign_comes_from_debian_and_the_keys_only_from_the_volume(signed: str) -> None:
    assert docker_out("run", "--rm", "--entrypoint", "dpkg-query", signing.image_ref(), "-W", "cosign").startswith(
        "cosign"
    )
    listing = docker_out("run", "--rm", "-v", f"{signing.keys_volume()}:/k:ro", "busybox", "ls", "/k").split()
    assert {"cosign.key", "cosign.pub"} <= set(listing)


def test_signed_digest_verifies_and_a_moved_tag_does_not(signed: str) -> None:
    assert signing.verified(signed, echo=False)
    tag = signed.split("@")[0] + ":1"
    images.build(course.image("qc-signed", "1"), signing.qc_context(), "--build-arg", "CHECKS=none", show=False)
    docker("tag", course.image("qc-signed", "1"), tag, show=False)
    registry.push(tag, quiet=True)
    assert not signing.verified(tag, echo=False)
    assert signing.verified(signed, echo=False)


def test_exercise_03_3_rejects_near_misses_then_accepts(signed: str) -> None:
    assert "a function" in exercises.evaluate("03.3", "cosign verify").message
    assert "unsigned image through" in exercises.evaluate("03.3", lambda ref: True).message
    assert "refused an image signed" in exercises.evaluate("03.3", lambda ref: False).message

    def any_signature(ref: str) -> bool:  # "signed by a key I have?" instead of "signed with the course key?"
        keys = ("cosign.pub", "stranger.pub")
        return any(signing.cosign("verify", "--key", k, ref, check=False, show=False, echo=False).ok for k in keys)

    assert "someone else's key" in exercises.evaluate("03.3", any_signature).message

    def by_name(ref: str) -> bool:  # the review's loophole: the test images were named after what they are
        return "signed" in ref and "unsigned" not in ref and "stranger" not in ref

    assert "refused an image signed" in exercises.evaluate("03.3", by_name).message

    def gate(ref: str) -> bool:
        return signing.cosign("verify", "--key", "cosign.pub", ref, check=False, show=False, echo=False).ok

    assert exercises.evaluate("03.3", gate).ok


def test_tidy_removes_the_keys(signed: str) -> None:
    cleanup.tidy(NOTEBOOK, verbose=False)
    assert signing.keys_volume() not in docker_out("volume", "ls", "-q").split()
