"""Exercises of notebook 03 (security)."""

from __future__ import annotations

import secrets

from .. import course, images, oneshot, records, registry, signing
from ..shell import docker
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


@exercise(
    "03.3",
    "a deployment gate that refuses images not signed with the course key",
    needs="course-registry",
    hint="Ask cosign itself (section 5 verified the course's images with its public key, cosign.pub): "
    "signing.cosign(…, check=False) returns a result whose .ok says whether the command succeeded.",
    solution="""
    from helpers import signing

    def answer(ref):
        return signing.cosign("verify", "--key", "cosign.pub", ref, check=False, show=False, echo=False).ok
    """,
    takes_answer=True,
)
def signature_gate(answer: object) -> Verdict:
    if not callable(answer):
        return failed("answer should be a function: def answer(ref): ... returning True or False.")
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
        refs[checks] = f"{repo}/{name}@{digest}"
    signing.sign(refs["signed"], echo=False)
    signing.make_keys("stranger")
    signing.sign(refs["stranger"], "stranger.key", echo=False)
    if answer(refs["signed"]) is not True:
        return failed(
            "your gate refused an image signed with the course key.", "It should return True when verify succeeds."
        )
    if answer(refs["unsigned"]) is not False:
        return failed("your gate let an unsigned image through.", "Return False when cosign verify fails.")
    if answer(refs["stranger"]) is not False:
        return failed(
            "your gate let through an image signed by someone else's key.",
            "Any signature is not enough: verify with the course's public key, cosign.pub.",
        )
    return passed("signed with the course key: accepted; unsigned or signed by a stranger: refused.")
