"""helpers.lessons.volumes against the real daemon: mounts, anonymous volumes, I/O benchmark, bind ownership."""

from __future__ import annotations

import os

from helpers import docker
from helpers.core import course
from helpers.core.daemon import client
from helpers.lessons import volumes


def test_mounts_and_anonymous_volume_removed_with_rm_v(unique: str) -> None:
    vol = course.name("t-vol", unique)
    box = course.name("t-mounts", unique)
    folder = volumes.scratch("t-vol", unique)
    docker("volume", "create", vol, show=False, echo=False)
    try:
        docker(
            "run",
            "--name",
            box,
            "-v",
            "/anon",
            "-v",
            f"{vol}:/named",
            "-v",
            f"{folder}:/bind",
            "busybox",
            "touch",
            "/bind/x",
            show=False,
            echo=False,
        )
        kinds = {(m.kind, m.destination, m.name) for m in volumes.mounts(box)}
        assert ("volume", "/named", vol) in kinds and ("bind", "/bind", str(folder)) in kinds
        anon = volumes.anonymous_volumes(box)
        assert len(anon) == 1 and volumes.exists(anon[0])
        docker("rm", "-v", box, show=False, echo=False)
        assert not volumes.exists(anon[0]) and volumes.exists(vol)
        assert volumes.owners(folder).startswith("uid=0" if os.getuid() == 0 else f"uid={os.getuid()}")
    finally:
        docker("rm", "-f", "-v", box, show=False, echo=False, check=False)
        client().volumes.get(vol).remove(force=True)


def test_scratch_removes_root_owned_files(unique: str) -> None:
    folder = volumes.scratch("t-scratch", unique)
    docker(
        "run",
        "--rm",
        "-v",
        f"{folder}:/x",
        "busybox",
        "sh",
        "-c",
        "mkdir /x/d && touch /x/d/f /x/.hidden",
        show=False,
        echo=False,
    )
    again = volumes.scratch("t-scratch", unique)
    assert again == folder and list(again.iterdir()) == []


def test_benchmark_measures_both_targets_and_copy_up(unique: str) -> None:
    from helpers.core import images

    ref = course.image("t-io", "1")
    text = (
        "FROM debian:bookworm-slim\nRUN mkdir /work && for s in 1; do mkdir -p /seed/set$s; "
        "for i in 1 2; do head -c 2000000 /dev/zero > /seed/set$s/file$i; done; done\n"
    )
    images.build(ref, images.context("t-io", {"Dockerfile": text}), show=False, echo=False)
    vol = course.name("t-iovol", unique)
    docker("volume", "create", vol, show=False, echo=False)
    try:
        result = volumes.benchmark(ref, vol, files=20, rounds=2, stream_mb=4, reps=1)
        volumes.benchmark_modify(ref, vol, result, reps=1)
        assert result.workloads() == ["small", "stream", "modify"]
        assert len(result.times[("small", "layer")]) == 2
        assert result.ratio("modify") > 1, "appending to 2 MB image files copies them up: slower than the volume"
        assert any(t != int(t) for t in result.times[("small", "layer")]), "times are read to the microsecond"
        assert "ratio" in result.table()
    finally:
        client().volumes.get(vol).remove(force=True)


def test_ratio_is_the_median_of_the_rounds_so_one_slow_round_cannot_flip_it() -> None:
    result = volumes.IoResult()
    for layer, volume in ((30.0, 1.0), (31.0, 40.0), (29.0, 0.1)):  # the second round hit a busy moment
        result.add("modify", "layer", layer)
        result.add("modify", "volume", volume)
    assert result.ratio("modify") == 30.0  # the sums would say 90 / 41.1, about 2
    assert "ratio 30.00" in result.table()


def test_verdict_bands() -> None:
    assert volumes.verdict(20).startswith("the writable layer is much slower")
    assert volumes.verdict(0.1).startswith("the volume is much slower")
    assert volumes.verdict(1.3).startswith("no clear winner")
    assert volumes.demo_uid() == (1000 if os.getuid() == 0 else os.getuid())
