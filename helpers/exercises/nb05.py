"""Exercises of notebook 05 (layers and copy-on-write)."""

from __future__ import annotations

import docker as sdk

from .. import course, layers
from ..daemon import client
from . import Verdict, exercise, failed, passed, whole_number

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


@exercise(
    "05.2",
    "count the layers an image adds to its base",
    hint='Compare the RootFS.Layers of both images: docker("image", "inspect", "--format", '
    '"{{len .RootFS.Layers}}", ref) for each, and subtract.',
    solution="""
    mine = int(docker_out("image", "inspect", "--format", "{{len .RootFS.Layers}}", image("layers-demo", "1")))
    base = int(docker_out("image", "inspect", "--format", "{{len .RootFS.Layers}}", "debian:bookworm-slim"))
    answer = mine - base
    """,
    takes_answer=True,
)
def added_layers(answer: object) -> Verdict:
    n = whole_number(answer)
    if isinstance(n, Verdict):
        return n
    ref = course.image("layers-demo", "1")
    actual = layers.added_layers(ref, "debian:bookworm-slim")
    if n == actual:
        return passed(f"{ref} adds {actual} filesystem layers to debian:bookworm-slim (ENV and CMD add none).")
    hint = "Count only RootFS.Layers: ENV, CMD, LABEL… change metadata and add no filesystem layer."
    return failed(f"{n} is not the number of filesystem layers {ref} adds.", hint)
