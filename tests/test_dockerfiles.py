"""The Dockerfiles of notebooks 07-10 pass hadolint, parse, and the build-log parser reads real builds."""

from __future__ import annotations

import io
import tarfile
import time

import pytest

from helpers.core import course, images
from helpers.lessons import dockerfiles


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


def test_tarball_is_reproducible_whatever_the_clock_says(monkeypatch: pytest.MonkeyPatch) -> None:
    """Same bytes days apart: no timestamp of the moment (member mtimes, gzip header) gets into the tar."""
    files = {"b/c.txt": "y", "a.txt": "x"}
    first = dockerfiles.tarball(files)
    later = time.time() + 3 * 86400
    monkeypatch.setattr(time, "time", lambda: later)  # what tarfile and gzip read for "now"
    assert dockerfiles.tarball(files) == first
    monkeypatch.undo()
    assert first[4:8] == b"\0\0\0\0"  # gzip's MTIME field
    with tarfile.open(fileobj=io.BytesIO(first)) as tar:
        members = tar.getmembers()
    assert [m.name for m in members] == ["a.txt", "b/c.txt"]
    assert all(abs(m.mtime - time.time()) > 86400 for m in members), [m.mtime for m in members]


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


# A warm multi-stage build on Engine 28.5 (BuildKit 0.25, plain progress): it numbers the builder's steps
# out of order (3/5 before 2/5, the runtime stage in between); recorded with `make matrix-engine`.
ENGINE_28_LOG = """\
#5 [builder 1/5] FROM docker.io/library/debian:bookworm-slim
#5 DONE 0.0s
#6 [runtime 1/3] FROM docker.io/library/busybox:latest
#6 DONE 0.0s
#7 [internal] load build context
#7 DONE 0.0s
#8 [builder 3/5] WORKDIR /src
#8 CACHED
#9 [builder 4/5] COPY sst-summary.c .
#9 CACHED
#10 [builder 5/5] RUN gcc -O2 -static -o /usr/local/bin/sst-summary sst-summary.c
#10 CACHED
#11 [runtime 2/3] COPY --from=builder /usr/local/bin/sst-summary /usr/local/bin/sst-summary
#11 CACHED
#12 [builder 2/5] RUN apt-get update
#12 CACHED
#13 [runtime 3/3] COPY temps.csv /data/temps.csv
#13 DONE 0.1s
"""


def test_steps_are_listed_per_stage_in_dockerfile_order_whatever_buildkit_numbers_them() -> None:
    found = [(s.label, s.cached) for s in dockerfiles.steps(ENGINE_28_LOG)]
    assert found == [
        ("[builder 1/5]", False),
        ("[builder 2/5]", True),
        ("[builder 3/5]", True),
        ("[builder 4/5]", True),
        ("[builder 5/5]", True),
        ("[runtime 1/3]", False),
        ("[runtime 2/3]", True),
        ("[runtime 3/3]", False),
    ]


def test_round_mb_is_stable() -> None:
    assert dockerfiles.round_mb(2_345_678) == "2.3 MB"
    assert dockerfiles.round_mb(73_712_345) == "74 MB"


# Podman 5.4's build log (buildah, through the docker CLI's classic builder API), recorded on the podman-5
# engine from notebook 10's Dockerfile; the last step is the course's --label, which buildah adds.
PODMAN_LOG = """\
Sending build context to Docker daemon  6.144kB
[1/4] STEP 1/5: FROM debian:bookworm-slim AS builder
[1/4] STEP 2/5: RUN apt-get update && apt-get install -y --no-install-recommends gcc libc6-dev
--> Using cache e7d34d6c5c26d5845eefdeda55fe89170f307247f6c414e30bc2cbb1d3ea25e3
--> e7d34d6c5c26
[1/4] STEP 3/5: WORKDIR /src
--> Using cache e49b53ec084505c4534e422fbb13bbefb0ab402ad9e34bd87090dbd84434d511
--> e49b53ec0845
[1/4] STEP 4/5: COPY sst-summary.c .
--> caf12afaccdc
[1/4] STEP 5/5: RUN gcc -O2 -static -o /usr/local/bin/sst-summary sst-summary.c
--> 8f5b407b14a8
[4/4] STEP 1/6: FROM busybox AS runtime
[4/4] STEP 2/6: COPY --from=builder /usr/local/bin/sst-summary /usr/local/bin/sst-summary
--> 7f8c992c2d05
[4/4] STEP 3/6: COPY temps.csv /data/temps.csv
--> Using cache 7c6b6be1ac8f1038f861df57e4c4d55bf4f07d93ae83841914cc32add2d78536
--> 7c6b6be1ac8f
[4/4] STEP 4/6: ENTRYPOINT ["sst-summary"]
--> bbb332001861
[4/4] STEP 5/6: CMD ["/data/temps.csv"]
--> 201bae819c01
[4/4] STEP 6/6: LABEL "org.dmac-course.namespace"="dmac-podman"
--> Using cache 14fad64dae773a8d87593da64a159b726bb108976ae9f4752691514ca52ce0c5
[4/4] COMMIT docker.io/dmac-podman/sst:1.0
--> 14fad64dae77
Successfully tagged docker.io/dmac-podman/sst:1.0
"""


def test_podman_build_steps_are_named_by_stage_and_the_course_label_step_is_left_out() -> None:
    found = [(s.label, s.instruction.split()[0], s.cached) for s in dockerfiles.steps(PODMAN_LOG)]
    assert found == [
        ("[builder 1/5]", "FROM", False),
        ("[builder 2/5]", "RUN", True),
        ("[builder 3/5]", "WORKDIR", True),
        ("[builder 4/5]", "COPY", False),
        ("[builder 5/5]", "RUN", False),
        ("[runtime 1/6]", "FROM", False),
        ("[runtime 2/6]", "COPY", False),
        ("[runtime 3/6]", "COPY", True),
        ("[runtime 4/6]", "ENTRYPOINT", False),
        ("[runtime 5/6]", "CMD", False),
    ]
    single = 'STEP 1/3: FROM busybox\nSTEP 2/3: RUN sleep 3\n--> Using cache 0225a7778349\nSTEP 3/3: CMD ["sh"]\n'
    assert [(s.label, s.cached) for s in dockerfiles.steps(single)] == [("[1/3]", False), ("[2/3]", True),
                                                                         ("[3/3]", False)]  # fmt: skip
    assert dockerfiles.steps("[2/2] STEP 1/2: FROM busybox\n")[0].stage == "stage-1"  # unnamed, as BuildKit names it


def test_stages_are_listed_in_the_dockerfiles_order_whatever_the_log_order(tmp_path, capsys) -> None:
    """BuildKit runs independent stages in parallel: the log may show the runtime stage first."""
    from helpers.lessons.dockerfiles import show_steps, stage_names

    dockerfile = tmp_path / "Dockerfile"
    dockerfile.write_text("FROM busybox AS builder\nRUN true\nFROM busybox AS runtime\nCOPY --from=builder / /x\n")
    assert stage_names(dockerfile) == ["builder", "runtime"]
    log = (
        "#5 [runtime 1/2] FROM docker.io/library/busybox\n#5 DONE 0.0s\n"
        "#6 [builder 1/2] FROM docker.io/library/busybox\n#6 DONE 0.0s\n"
        "#7 [builder 2/2] RUN true\n#7 DONE 0.1s\n"
        "#8 [runtime 2/2] COPY --from=builder / /x\n#8 DONE 0.1s\n"
    )
    show_steps(log, stages=("builder",))
    assert capsys.readouterr().out.splitlines()[-1] == "stages in this build: runtime, builder"  # the log's order
    show_steps(log, stages=("builder",), dockerfile=dockerfile)
    assert capsys.readouterr().out.splitlines()[-1] == "stages in this build: builder, runtime"


def test_a_steps_own_time_is_read_from_buildkits_log() -> None:
    log = (
        "#5 [2/3] RUN echo sleep 3 && sort requirements.txt > installed.txt\n#5 DONE 0.1s\n"
        "#6 [3/3] RUN sleep 3 && sort requirements.txt > installed.txt\n#6 DONE 3.0s\n"
    )
    assert dockerfiles.step_seconds(log, lambda i: i.startswith("RUN sleep 3")) == 3.0
    assert dockerfiles.step_seconds(log, lambda i: "echo" in i) == 0.1
    assert dockerfiles.step_seconds("Step 1/2 : FROM busybox\n", lambda i: True) is None  # the legacy builder
