"""helpers.lessons.layers against the real daemon: layers, writable layer, copy-up, whiteouts, the stack."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator

import pytest

from helpers import docker
from helpers.core import course, images
from helpers.lessons import layers


@pytest.fixture(scope="module")
def small_image() -> Iterator[str]:
    with pytest.MonkeyPatch.context() as mp:  # module scope: set the test namespace here too, without leaking it
        mp.setenv("DMAC_NAMESPACE", os.environ.get("DMAC_TEST_NAMESPACE", "dmac-test"))
        ref = course.image("t-layers", "1")
        text = "FROM debian:bookworm-slim\nRUN head -c 3000000 /dev/zero > /big.bin\nRUN rm /big.bin\nENV A=1\n"
        images.build(ref, images.context("t-layers", {"Dockerfile": text}), show=False, echo=False)
    yield ref


def test_history_and_rootfs(small_image: str) -> None:
    hist = layers.history(small_image)
    assert hist[-1].empty and "ENV" in hist[-1].instruction  # metadata only
    assert any(layer.size == 3_000_000 for layer in hist)
    assert layers.added_layers(small_image, "debian:bookworm-slim") == 2
    assert layers.shared_layers(small_image, "debian:bookworm-slim") == layers.rootfs_layers("debian:bookworm-slim")


def test_whiteouts_seen_through_save(small_image: str, tmp_path) -> None:
    assert layers.whiteouts(small_image) == ["/big.bin"]
    archive = tmp_path / "small.tar"  # as notebook 05 shows it: `docker save -o FILE IMAGE`, then the file read
    docker("save", "-o", str(archive), small_image, show=False)
    assert layers.whiteouts_saved(archive) == ["/big.bin"]


def test_writable_layer_diff_and_copy_up(small_image: str, unique: str) -> None:
    box = course.name("t-cow", unique)
    ref = course.image("t-copyup", "1")
    text = "FROM debian:bookworm-slim\nRUN head -c 20000000 /dev/zero > /data.bin\n"
    images.build(ref, images.context("t-copyup", {"Dockerfile": text}), show=False, echo=False)
    docker("run", "-d", "--name", box, ref, "sleep", "120", show=False, echo=False)
    try:
        assert layers.size_rw(box) < 1000
        m = layers.copy_up(box, "/data.bin")
        assert m.file_size == 20_000_000
        assert m.growth >= 20_000_000  # the whole file was copied up for one byte
        assert m.rw_after_second == m.rw_after_first
        assert ("C", "/data.bin") in layers.diff(box)
        rows = layers.stack(ref, box, base="debian:bookworm-slim")
        assert rows[0].label == "base image debian:bookworm-slim" and rows[-1].kind == "container"
        assert "[container, read-write]" in layers.stack_text(rows).splitlines()[0]
        fig = layers.diagram(rows)
        assert len(fig.axes[0].patches) == len(rows)
    finally:
        docker("rm", "-f", box, show=False, echo=False)


def test_rounding_is_stable() -> None:
    assert layers.about_mb(200_000_123) == "about 200 MB"
    assert layers.about_mb(25) == "less than 1 MB"
    assert layers.times_verdict(174) == "more than 10×"
    assert layers.times_verdict(1.1) == "not clearly"


def test_a_running_containers_overlay_is_read_from_its_mounts(small_image: str, unique: str) -> None:
    # the container's / from its process's mountinfo: the same on the classic and the containerd image store
    box = course.name(f"t-overlay-{unique}")
    docker("run", "-d", "--name", box, small_image, "sh", "-c", "echo written > /new.txt && sleep 60", show=False)
    try:
        found = layers.overlay_mount(box)
        assert found is not None, "the daemon's files are on this host: the overlay must be found"
        assert len(found.lower) == len(layers.rootfs_layers(small_image)) + 1  # the image's, and -init
        new = os.path.join(found.upper, "new.txt")
        for _ in range(50):  # the shell writes it right after start
            if os.path.exists(new):
                break
            time.sleep(0.1)
        assert open(new).read() == "written\n"  # the writable layer is a plain folder on the host
    finally:
        docker("rm", "-f", box, show=False)


def test_own_layers_and_unpacked_size_read_the_same_on_both_image_stores(small_image: str) -> None:
    base = "debian:bookworm-slim"
    own = layers.own_bytes(small_image, base)  # the 3 MB file's layer and the tiny layer of its removal
    assert 3_000_000 <= own < 3_200_000, own
    added = images.disk_bytes(small_image) - images.disk_bytes(base)
    assert 3_000_000 <= added < 3_200_000, added  # the unpacked size, never the compressed content beside it
    assert layers.own_bytes(base, small_image) == 0
    rows = layers.stack(small_image, base=base)
    assert "tens of MB  base image debian:bookworm-slim" in layers.stack_text(rows)


def test_a_saved_archive_lists_every_layer(small_image: str, tmp_path) -> None:
    archive = tmp_path / "small.tar"
    docker("save", "-o", str(archive), small_image, show=False, echo=False)
    assert images.archive_layers(archive) == len(layers.rootfs_layers(small_image)) == 3


def test_magnitudes_are_the_words_both_stores_agree_on() -> None:
    assert images.magnitude(73_674_539) == images.magnitude(83_640_320) == "tens of MB"  # debian, classic/containerd
    assert images.magnitude(1_984_234) == images.magnitude(2_031_616) == "a few MB"  # busybox
    assert images.magnitude(999_999) == "less than 1 MB"
    assert images.magnitude(284e6) == images.magnitude(300e6) == "hundreds of MB"
    assert images.magnitude(1.2e9) == "GBs"
