"""The offline bundle round trip: save, install in a --network none Debian, remove, load, rebuild from cache.

Runs in the exclusive phase of ``make test`` (it removes and reloads the shared base images).
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from helpers.core import course, images
from helpers.infra import bundle, bundle_check
from tests.notebook_runs import NOTEBOOKS, error_outputs, execute, stdout_text

NS = "dmac-bundle"


@pytest.fixture
def ns(monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("DMAC_NAMESPACE", NS)
    return NS


def test_round_trip_without_a_registry(ns: str, tmp_path: Path, dc, capsys) -> None:
    probe = course.image("probe", "1")
    ctx = images.context("probe", {"Dockerfile": 'FROM busybox\nRUN echo probe > /probe\nCMD ["cat", "/probe"]\n'})
    images.build(probe, ctx)
    refs = bundle.course_images()
    assert probe in refs and set(images.BASE_IMAGES) <= set(refs)
    before = {ref: dc.images.get(ref).id for ref in refs}

    archive = bundle.save(tmp_path / "bundle.tar", wheels=True, debs=True)

    # a clean Debian with no network installs it all from the bundle alone and runs notebook 00
    offline = bundle_check.run(archive)
    for step in ("installed by apt from the bundle alone: Docker version", "dockerd answers", "images loaded",
                 "Python environment installed from the bundled wheels", "notebook ran with no error"):  # fmt: skip
        assert f"[offline] {step}" in offline, offline[-2000:]

    for ref in refs:  # as on a fresh machine in the room
        dc.images.remove(ref, force=True)
    assert not any(images.exists(ref) for ref in refs)

    venv = tmp_path / "venv"
    loaded = bundle.load(archive, venv=venv)
    assert sorted(loaded) == sorted(refs)
    assert {ref: dc.images.get(ref).id for ref in refs} == before
    assert images.ensure_base_images(allow_pull=False) == {ref: "present" for ref in images.BASE_IMAGES}

    # the environment installed from the bundled wheels alone (pip --no-index) works
    check = subprocess.run(
        [str(venv / "bin" / "python"), "-c", "import helpers, docker, nbval, papermill"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert check.returncode == 0, check.stderr

    # the rebuild needs no network: every step comes from the cache carried by the loaded image
    capsys.readouterr()
    result = images.build(probe, ctx)
    assert "CACHED" in result.output or "Using cache" in result.output
    assert dc.containers.run(probe, remove=True).decode().strip() == "probe"

    out, _ = execute(NOTEBOOKS[0], "bundle", {"NAMESPACE": ns})
    assert error_outputs(out) == []
    assert "made by" in stdout_text(out)
    dc.images.remove(probe, force=True)


def test_load_bundle_needs_a_file() -> None:
    result = subprocess.run(
        ["make", "-s", "load-bundle", "BUNDLE=/nonexistent.tar"],
        cwd=course.ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0 and "usage: make load-bundle" in result.stdout
