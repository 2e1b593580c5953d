"""Exercises of notebook 10 (multi-stage builds)."""

from __future__ import annotations

from pathlib import Path

import docker as sdk

from ..core import course, images, oneshot
from ..lessons import dockerfiles
from . import Verdict, exercise, failed, learner_image, passed, reset_images

EXERCISE_IMAGES = [("ex-qc", "1"), ("ex-qc", "builder")]


def reset() -> None:
    """Remove the images an earlier attempt built, so each check looks at this run's work only."""
    reset_images(EXERCISE_IMAGES)


LIMIT = 10_000_000

QC_C = r"""/* qc-flags: count salinity readings (time,psu) outside the plausible range 30-40 PSU. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(int argc, char **argv) {
    FILE *f = fopen(argc > 1 ? argv[1] : "/data/salinity.csv", "r");
    if (!f) { perror("open"); return 1; }
    char line[256];
    int n = 0, flagged = 0;
    fgets(line, sizeof line, f);                         /* header */
    while (fgets(line, sizeof line, f)) {
        char *comma = strchr(line, ',');
        if (!comma) continue;
        double psu = atof(comma + 1);
        n++;
        if (psu < 30.0 || psu > 40.0) flagged++;
    }
    printf("%s: %d readings, %d flagged outside 30-40 PSU\n", argc > 1 ? argv[1] : "/data/salinity.csv", n, flagged);
    return 0;
}
"""
"""The exercises' tool: not the notebook's sst-summary, so no image of the notebook answers them."""

SALINITY = "time,psu\n" + "".join(
    f"2024-07-01T{h:02d}:00Z,{v}\n"
    for h, v in enumerate([34.9, 35.1, 35.0, 12.4, 35.2, 35.3, 41.7, 35.1, 35.0, 34.8, 0.0, 35.2])
)

QC_SINGLE = """FROM debian:bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends gcc libc6-dev \\
    && rm -rf /var/lib/apt/lists/* /var/cache/apt/*.bin
WORKDIR /src
COPY qc-flags.c .
RUN gcc -O2 -static -o /usr/local/bin/qc-flags qc-flags.c
COPY salinity.csv /data/salinity.csv
ENTRYPOINT ["qc-flags"]
CMD ["/data/salinity.csv"]
"""
"""The starter: one stage, with the compiler in the shipped image."""


def qc_starter() -> Path:
    """The exercises' folder ``build/<ns>/contexts/ex-qc/``: the starter Dockerfile (kept if the learner has
    one there), the tool's source and its data."""
    folder = course.workdir("contexts", "ex-qc")
    (folder / "qc-flags.c").write_text(QC_C)
    (folder / "salinity.csv").write_text(SALINITY)
    return course.starter(folder / "Dockerfile", QC_SINGLE).parent


def expected_report() -> str:
    """What qc-flags prints for the course's salinity file (computed here, in Python)."""
    values = [float(line.split(",")[1]) for line in SALINITY.splitlines()[1:]]
    flagged = sum(1 for v in values if v < 30 or v > 40)
    return f"/data/salinity.csv: {len(values)} readings, {flagged} flagged outside 30-40 PSU"


@exercise(
    "10.1",
    "the QC tool's image below 10 MB",
    hint="Two stages: name the compiling one (FROM … AS builder), then start a small one (busybox or scratch) "
    "and COPY --from=builder only the binary, plus the data.",
    solution='''
    folder = nb10.qc_starter()
    (folder / "Dockerfile").write_text("""
    FROM debian:bookworm-slim AS builder
    RUN apt-get update && apt-get install -y --no-install-recommends gcc libc6-dev \\\\
        && rm -rf /var/lib/apt/lists/* /var/cache/apt/*.bin
    WORKDIR /src
    COPY qc-flags.c .
    RUN gcc -O2 -static -o /usr/local/bin/qc-flags qc-flags.c

    FROM busybox
    COPY --from=builder /usr/local/bin/qc-flags /usr/local/bin/qc-flags
    COPY salinity.csv /data/salinity.csv
    ENTRYPOINT ["qc-flags"]
    CMD ["/data/salinity.csv"]
    """.lstrip())
    images.build(image("ex-qc", "1"), folder)
    ''',
)
def small_image() -> Verdict:
    ref = course.image("ex-qc", "1")
    img = learner_image("10.1", ref)
    if isinstance(img, Verdict):
        return img
    try:
        out = oneshot.output(ref).decode().strip()
    except (sdk.errors.ContainerError, sdk.errors.APIError) as exc:
        return failed(f"{ref} does not run: {str(exc)[-160:]!r}.", "Keep the ENTRYPOINT and CMD of the starter.")
    if out != expected_report():
        return failed(
            f"running {ref} printed {out[:80]!r}, not the QC report of /data/salinity.csv.",
            'Keep ENTRYPOINT ["qc-flags"] and CMD ["/data/salinity.csv"], and copy salinity.csv in.',
        )
    size = images.disk_bytes(ref)  # unpacked, as the image store counts it (not the compressed content beside)
    if size >= LIMIT:
        return failed(
            f"{ref} is {dockerfiles.round_mb(size)}: not below 10 MB yet (the compiler is still in it).",
            "Copy only the binary (COPY --from=…) into a busybox or scratch stage.",
        )
    return passed(f"{ref} is {dockerfiles.round_mb(size)} and prints the right QC report: {out!r}.")


@exercise(
    "10.2",
    "stop at your builder stage",
    hint="docker build --target NAME stops at the stage your Dockerfile names NAME (FROM … AS NAME).",
    solution="""
    images.build(image("ex-qc", "builder"), nb10.qc_starter(), "--target", "builder")
    """,
)
def builder_stage() -> Verdict:
    ref = course.image("ex-qc", "builder")
    img = learner_image("10.2", ref)
    if isinstance(img, Verdict):
        return img
    probe = "gcc --version | head -1; test -x /usr/local/bin/qc-flags && echo has-binary"
    try:
        out = oneshot.output(ref, [probe], entrypoint=["sh", "-c"]).decode()  # whatever ENTRYPOINT it has
    except (sdk.errors.ContainerError, sdk.errors.APIError):
        return failed(f"{ref} has no gcc or no shell: is it the builder stage?", "--target builder")
    if "gcc" not in out or "has-binary" not in out:
        return failed(
            f"{ref} does not look like your builder stage (gcc and the compiled qc-flags).", "--target builder"
        )
    dockerfile = qc_starter() / "Dockerfile"
    if "builder" not in dockerfiles.stage_names(dockerfile):
        return failed(
            f"{dockerfile.name} in {dockerfile.parent.name}/ has no stage named builder: {ref} is not a stage of it.",
            "Name the compiling stage (FROM … AS builder) as in 10.1, then build with --target builder.",
        )
    if (img.attrs["Config"].get("Entrypoint") or []) == ["qc-flags"]:
        return failed(
            f"{ref} runs qc-flags with the data: it is the whole image (its last stage), not the builder stage.",
            "--target builder stops the build at that stage.",
        )
    return passed(f"{ref} is your builder stage: it has gcc and the compiled qc-flags, for debugging a build.")
