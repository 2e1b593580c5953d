"""Exercises of notebook 03 (security)."""

from __future__ import annotations

import os
import secrets
import shlex
import subprocess
from pathlib import Path

from ..core import course, images, oneshot, records
from ..core.shell import docker
from ..lessons import registry, signing
from . import Verdict, course_container, exercise, failed, learner_image, passed, reset_images


@exercise(
    "03.1",
    "run a container that cannot write to its root filesystem",
    hint="docker run has an option that mounts the container's root filesystem read-only: "
    "docker run --help | grep -i read.",
    solution="""
    docker("run", "--name", name("ex-readonly"), "--read-only", "busybox", "true")
    """,
)
def read_only() -> Verdict:
    wanted = course.name("ex-readonly")
    box = course_container("ex-readonly")
    if isinstance(box, Verdict):
        return box
    records.note("03.1", "container", wanted, box)
    if not box.attrs["HostConfig"].get("ReadonlyRootfs"):
        return failed(f"{wanted} can write to its root filesystem.", "Add --read-only.")
    return passed(f"{wanted} has a read-only root filesystem (HostConfig.ReadonlyRootfs is true).")


def reset() -> None:
    """Remove the image an earlier attempt at 03.2 built, so the check looks at this run's work only."""
    reset_images([("ex-user", "1")])


@exercise(
    "03.2",
    "write a Dockerfile whose default user is not root",
    hint="A USER line with a numeric uid (such as 10001) makes it the default; `docker run --user` still overrides it.",
    solution="""
    answer = "FROM busybox\\nUSER 10001\\n"
    """,
    takes_answer=True,
    or_terminal=True,
)
def non_root_dockerfile(answer: object) -> Verdict:
    """The Dockerfile's text in ``answer`` (built here), or, with none, the image a terminal built: either way the
    checker runs ``id -u`` in a container of that image. Any base that builds here is fine (``ARG`` + ``FROM $BASE``,
    ``docker.io/library/busybox``): the image is judged, not the spelling."""
    ref = course.image("ex-user", "1")
    if answer is None:
        img = learner_image("03.2", ref)
        if isinstance(img, Verdict):
            return failed(
                f"no answer and no image {ref} yet: put the Dockerfile's text in answer, or build it under that name "
                "in a terminal (docker build -t …)."
            )
    elif not isinstance(answer, str):
        return failed(f"answer should be the Dockerfile's text (a string), not a {type(answer).__name__}.")
    else:
        ctx = images.context("ex-user", {"Dockerfile": answer})
        result = images.build(ref, ctx, show=False, echo=False, check=False, timeout=300)
        if not result.ok:
            last = result.lines[-1] if result.lines else ""
            return failed(
                f"the Dockerfile does not build: {last[:120]}",
                "Offline, the bases here are busybox and debian:bookworm-slim (docker images lists them).",
            )
    uid = oneshot.output(ref, ["id", "-u"]).decode().strip()
    if uid == "0":
        return failed("containers of this image still run as root (id -u prints 0).", "Add a USER line.")
    return passed(f"containers of this image run as uid {uid} by default.")


GATE_STARTER = """#!/bin/sh
# A deployment gate: `sh gate.sh IMAGE` exits 0 to let IMAGE be deployed, anything else refuses it.
# IMAGE is named as section 5's cosign container sees the course registry: 127.0.0.1:5000/NS/NAME@sha256:…
# Today it lets every image through.
exit 0
"""
GATE_SECONDS = 120  # per image: a cosign verify takes a few seconds


def gate_file() -> Path:
    """03.3's gate, ``build/<ns>/ex-gate/gate.sh``."""
    return course.workdir("ex-gate") / "gate.sh"


def gate_starter() -> Path:
    """Write 03.3's starter gate unless the learner has one there."""
    return course.starter(gate_file(), GATE_STARTER)


def gate_solution() -> str:
    """A right gate: cosign verify with the course's public key, as section 5 ran it (this namespace's names)."""
    verify = shlex.join([
        "docker", "run", "--rm", "--network", f"container:{registry.container()}",
        "-v", f"{signing.keys_volume()}:/keys", "-e", f"COSIGN_PASSWORD={signing.PASSWORD}",
        signing.image_ref(), "verify", "--insecure-ignore-tlog=true",
        "--allow-http-registry", "--key", "cosign.pub",
    ])  # fmt: skip
    return f'#!/bin/sh\n# a deployment gate: the image must verify with the course key\n{verify} "$1"\n'


def _gate(ref: str) -> tuple[bool | None, str]:
    """Run the learner's gate on ``ref``: (accepted, its last words); None when it could not run or took too long."""
    try:
        done = subprocess.run(["sh", str(gate_file()), ref], cwd=gate_file().parent, capture_output=True, text=True,
                              timeout=GATE_SECONDS)  # fmt: skip
    except subprocess.TimeoutExpired:
        return None, f"it ran longer than {GATE_SECONDS} s"
    said = (done.stderr or done.stdout).strip().splitlines()
    return done.returncode == 0, said[-1][:160] if said else ""


@exercise(
    "03.3",
    "a deployment gate that refuses images not signed with the course key",
    needs="course-registry",
    hint="Ask cosign itself: section 5's `cosign verify` with the course's public key (cosign.pub) succeeds only "
    "for an image signed with the course key; its exit code can be the gate's.",
    solution="""
    gate = nb03.gate_starter()
    gate.write_text(nb03.gate_solution())
    print(gate.read_text())
    """,
)
def signature_gate() -> Verdict:
    if not gate_file().is_file():
        return failed(f"no gate at {os.path.relpath(gate_file())} yet: run the cell that writes the starter.")
    if gate_file().read_text() == GATE_STARTER:
        return failed(f"{os.path.relpath(gate_file())} is the starter as it was dealt: edit it, then check again.")
    if not registry.answers():
        return failed(f"the course registry does not answer on {registry.address()}.", "Run the cells of section 5.")
    repo = f"{registry.address()}/{course.namespace()}"
    refs = {}
    # names that say nothing about the image (a gate that reads "signed" in the name must not pass)
    for checks in ("signed", "unsigned", "stranger"):
        name = f"gate-{secrets.token_hex(3)}"
        local = course.image(name, "1")
        images.build(local, signing.qc_context(), "--build-arg", f"CHECKS={checks}", show=False)
        docker("tag", local, f"{repo}/{name}:1", show=False, echo=False)
        digest = registry.push(f"{repo}/{name}:1", quiet=True)
        refs[checks] = signing.inside(f"{repo}/{name}@{digest}")  # as the cosign container names it
    signing.sign(refs["signed"], echo=False)
    signing.make_keys("stranger")
    signing.sign(refs["stranger"], "stranger.key", echo=False)
    verdicts = {checks: _gate(ref) for checks, ref in refs.items()}
    if None in (v[0] for v in verdicts.values()):
        return failed(f"your gate could not judge an image: {next(v[1] for v in verdicts.values() if v[0] is None)}.")
    if verdicts["signed"][0] is not True:
        return failed(
            f"your gate refused an image signed with the course key (it said: {verdicts['signed'][1] or 'nothing'}).",
            "It should exit 0 when cosign verify succeeds.",
        )
    if verdicts["unsigned"][0]:
        return failed("your gate let an unsigned image through.", "Exit non-zero when cosign verify fails.")
    if verdicts["stranger"][0]:
        return failed(
            "your gate let through an image signed by someone else's key.",
            "Any signature is not enough: verify with the course's public key, cosign.pub.",
        )
    return passed("signed with the course key: accepted; unsigned or signed by a stranger: refused.")
