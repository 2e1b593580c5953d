"""Exercises of notebook 05 (layers and copy-on-write)."""

from __future__ import annotations

from pathlib import Path

import docker as sdk

from ..core import course, oneshot
from ..core.daemon import client
from ..lessons import layers
from . import Verdict, exercise, failed, learner_image, passed

MYSTERY_FILE = "/var/lib/ocean/qc/flags.csv"
MYSTERY_SCRIPT = "mkdir -p /var/lib/ocean/qc && echo 'time,flag' > " + MYSTERY_FILE + " && rm /etc/debian_version"


def make_mystery() -> str:
    """Run (once) the container whose change the learner must find; returns its name."""
    wanted = course.name("ex-mystery")
    try:
        client().containers.get(wanted).remove(force=True)
    except sdk.errors.NotFound:
        pass
    box = client().containers.run(
        "debian:bookworm-slim", ["sh", "-c", MYSTERY_SCRIPT], name=wanted, labels=course.labels(), detach=True
    )
    box.wait(timeout=60)
    print(f"container {wanted} ran a script you cannot see and exited")
    return wanted


@exercise(
    "05.1",
    "find which file a container added",
    hint='docker("diff", name("ex-mystery")) lists A (added), C (changed) and D (deleted) paths; '
    "directories are listed too: the answer is the one added *file*.",
    solution="""
    changes = layers.diff(name("ex-mystery"))
    added = [path for kind, path in changes if kind == "A"]
    answer = added[-1]  # the deepest added path is the file
    """,
    takes_answer=True,
)
def mystery_file(answer: object) -> Verdict:
    if not isinstance(answer, str):
        return failed(f"answer should be a path (a string), not a {type(answer).__name__}.")
    wanted = course.name("ex-mystery")
    try:
        changes = layers.diff(wanted)
    except sdk.errors.NotFound:
        return failed(f"the container {wanted} is gone: run the cell that makes it again.")
    path = answer.strip().rstrip("/")
    if path == MYSTERY_FILE and ("A", path) in changes:
        return passed(f"{wanted} added {path} in its writable layer (docker diff: A {path}).")
    if ("A", path) in changes:
        return failed(f"{path} was added, but it is a directory that holds the file.", "Look one level deeper.")
    if ("D", path) in changes:
        return failed(f"{path} was deleted (D), not added.")
    return failed(f"{path!r} is not among the paths docker diff reports as added.")


SLIM_STARTER = """FROM busybox
RUN mkdir -p /srv/obs && head -c 8000000 /dev/zero > /tmp/raw.bin
RUN wc -c < /tmp/raw.bin > /srv/obs/size.txt
RUN rm /tmp/raw.bin
"""
"""Exercise 05.2's starting point: three filesystem layers, one of them 8 MB that a later one only hides."""


def slim_starter() -> Path:
    """Exercise 05.2's Dockerfile in a folder of the learner's (``build/<ns>/contexts/ex-slim/``), kept if there."""
    return course.starter(course.workdir("contexts", "ex-slim") / "Dockerfile", SLIM_STARTER)


@exercise(
    "05.2",
    "the same files in one layer, without the hidden 8 MB",
    hint="Chain the three commands with && in a single RUN: the file is made and deleted before the layer is "
    "written. docker build -t IMAGE - < Dockerfile builds from a file in a terminal.",
    solution='''
    images.build(image("ex-slim", "1"), images.context("ex-slim", {"Dockerfile": """
    FROM busybox
    RUN mkdir -p /srv/obs && head -c 8000000 /dev/zero > /tmp/raw.bin \\
     && wc -c < /tmp/raw.bin > /srv/obs/size.txt \\
     && rm /tmp/raw.bin
    """}))
    ''',
)
def slim_layers() -> Verdict:
    ref = course.image("ex-slim", "1")
    img = learner_image("05.2", ref)
    if isinstance(img, Verdict):
        return img
    if not layers.shared_layers(ref, "busybox"):
        return failed(f"{ref} is not built FROM busybox.", "Start from the starter: FROM busybox.")
    added = layers.added_layers(ref, "busybox")
    try:
        size = oneshot.output(ref, ["cat", "/srv/obs/size.txt"]).decode().strip()
    except sdk.errors.ContainerError:
        return failed(f"{ref} has no /srv/obs/size.txt: keep what the starter's commands make.")
    if size != "8000000":
        return failed(f"/srv/obs/size.txt says {size!r}, not 8000000: keep what the starter's commands make.")
    extra = img.attrs["Size"] - client().images.get("busybox").attrs["Size"]
    if added != 1 or extra > 1_000_000:
        return failed(
            f"{ref} adds {added} filesystem layer(s) and {extra / 1e6:.1f} MB to busybox"
            + (": the 8 MB file is still in a layer below the one that deletes it." if extra > 1_000_000 else "."),
            "One RUN that makes, uses and deletes the file (&&): one layer, written without it.",
        )
    return passed(f"{ref} adds 1 layer and {max(extra, 0) / 1e3:.0f} kB to busybox, with the same size.txt.")
