"""Base images exist, are idempotent to ensure, and builds are labelled."""

from __future__ import annotations

import time

from helpers.core import course, images


def test_base_images_are_present_and_ensure_is_idempotent() -> None:
    images.ensure_base_images()
    start = time.monotonic()
    status = images.ensure_base_images()
    assert time.monotonic() - start < 3
    assert status == {ref: "present" for ref in images.BASE_IMAGES}


def test_bootstrapped_images_say_how_they_were_made(dc, unique: str) -> None:
    """origin() reads the image's bootstrap label: the label's own value, "registry" only without one."""
    for ref in images.BASE_IMAGES:
        labels = dc.images.get(ref).labels or {}
        assert images.origin(ref) == labels.get(course.BASE_LABEL, "registry")
    made = course.image("origin-test", unique)
    dc.images.get("busybox").tag(made)
    try:
        assert images.origin(made) == (dc.images.get("busybox").labels or {}).get(course.BASE_LABEL, "registry")
        container = dc.containers.create("busybox", "true", labels=course.labels())
        try:
            container.commit(made, changes=f'LABEL {course.BASE_LABEL}="made-by-this-test"')
        finally:
            container.remove()
        assert images.origin(made) == "made-by-this-test"
    finally:
        dc.images.remove(made, force=True)


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


def test_ca_bundle_follows_the_variables_in_order(monkeypatch, tmp_path) -> None:
    """The first variable naming an existing file wins; a variable naming a missing file is skipped."""
    for var in ("DMAC_CA_BUNDLE", "PIP_CERT", "REQUESTS_CA_BUNDLE", "SSL_CERT_FILE", "CURL_CA_BUNDLE"):
        monkeypatch.delenv(var, raising=False)
    first, second = tmp_path / "first.pem", tmp_path / "second.pem"
    first.write_text("one\n")
    second.write_text("two\n")
    monkeypatch.setenv("PIP_CERT", str(second))
    assert images.ca_bundle() == second
    monkeypatch.setenv("DMAC_CA_BUNDLE", str(first))
    assert images.ca_bundle() == first
    monkeypatch.setenv("DMAC_CA_BUNDLE", str(tmp_path / "missing.pem"))
    assert images.ca_bundle() == second


def test_a_build_is_run_again_only_for_the_image_stores_lost_snapshot_race() -> None:
    said = [
        'ERROR: failed to prepare extraction snapshot "extract-771744199-MArs sha256:1d41": parent snapshot '
        "sha256:229f does not exist: not found",
        "ERROR: failed to apply diffs: failed to stat lower snapshot oqp2tt: snapshot oqp2tt does not exist: not found",
        'Error response from daemon: failed to export layer: snapshot "sha256:8b81-parent-view": already exists',
    ]
    assert all(images.LOST_SNAPSHOT.search(line) for line in said)
    wrong_work = [
        'ERROR: failed to solve: process "/bin/sh -c false" did not complete successfully: exit code: 1',
        "ERROR: failed to solve: busybox:9.9: not found",
        'ERROR: failed to calculate checksum of ref: "/missing.txt": not found',
    ]
    assert not any(images.LOST_SNAPSHOT.search(line) for line in wrong_work)
