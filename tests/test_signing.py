"""cosign against the course registry on the real daemon: sign, verify, a moved tag refused, exercise 03.3."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from helpers import exercises
from helpers.core import cleanup, course, images
from helpers.core.shell import docker, docker_out
from helpers.lessons import registry, signing

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


def _gate(text: str) -> exercises.Verdict:
    """Exercise 03.3 with ``text`` as the learner's gate.sh, as an editor leaves it."""
    from helpers.exercises import nb03

    nb03.gate_starter().write_text(text)
    return exercises.evaluate("03.3")


def test_exercise_03_3_rejects_near_misses_then_accepts(signed: str) -> None:
    from helpers.exercises import nb03

    nb03.gate_file().unlink(missing_ok=True)
    assert "no gate at" in exercises.evaluate("03.3").message
    nb03.gate_starter()
    untouched = exercises.evaluate("03.3")
    assert "the starter as it was dealt" in untouched.message and not untouched.hint  # nothing tried: no hint
    assert "unsigned image through" in _gate("#!/bin/sh\n# every image\ntrue\n").message
    assert "refused an image signed" in _gate("#!/bin/sh\nexit 1\n").message
    right = nb03.gate_solution()
    # "signed by a key I have?" instead of "signed with the course key?": either key verifies
    any_key = right.replace('--key cosign.pub "$1"', '--key cosign.pub "$1" || ') + right.split("\n")[-2].replace(
        "--key cosign.pub", "--key stranger.pub"
    )
    assert "someone else's key" in _gate(any_key).message
    # the review's loophole: the test images were named after what they are (now they are not)
    by_name = '#!/bin/sh\ncase "$1" in *unsigned*|*stranger*) exit 1;; *signed*) exit 0;; *) exit 1;; esac\n'
    assert "refused an image signed" in _gate(by_name).message
    # a gate that is not a gate: what cosign printed, but the exit code of echo
    echoed = right.replace('"$1"', '"$1" || echo refused')
    assert "unsigned image through" in _gate(echoed).message
    verdict = _gate(right)
    assert verdict.ok, verdict


def test_tidy_removes_the_keys(signed: str) -> None:
    cleanup.tidy(NOTEBOOK, verbose=False)
    assert signing.keys_volume() not in docker_out("volume", "ls", "-q").split()
