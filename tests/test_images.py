"""Base images exist, are idempotent to ensure, and builds are labelled."""

from __future__ import annotations

import time

from helpers import course, images


def test_base_images_are_present_and_ensure_is_idempotent() -> None:
    images.ensure_base_images()
    start = time.monotonic()
    status = images.ensure_base_images()
    assert time.monotonic() - start < 3
    assert status == {ref: "present" for ref in images.BASE_IMAGES}


def test_bootstrapped_images_say_how_they_were_made() -> None:
    for ref in images.BASE_IMAGES:
        assert images.origin(ref) in ("debootstrap", "busybox-static", "registry")


def test_busybox_bootstrap_makes_a_working_image(dc, unique: str) -> None:
    ref = f"{course.namespace()}/busybox-test-{unique}:1"
    images.bootstrap_busybox(ref)
    try:
        out = dc.containers.run(ref, ["sh", "-c", "echo $((6*7)); id -un"], remove=True).decode()
        assert out.split() == ["42", "root"]
        assert images.origin(ref) == "busybox-static"
    finally:
        dc.images.remove(ref)


def test_build_is_labelled_and_reports(dc, capsys) -> None:
    ctx = images.context("test-build", {"Dockerfile": 'FROM busybox\nRUN echo built > /built\nCMD ["cat", "/built"]\n'})
    ref = course.image("test-build", "1")
    images.build(ref, ctx)
    assert f"✔ built {ref}" in capsys.readouterr().out
    try:
        img = dc.images.get(ref)
        assert img.labels[course.LABEL] == course.namespace()
        assert dc.containers.run(ref, remove=True).decode().strip() == "built"
    finally:
        dc.images.remove(ref, force=True)


def test_ca_bundle_is_found() -> None:
    bundle = images.ca_bundle()
    assert bundle is None or bundle.is_file()
