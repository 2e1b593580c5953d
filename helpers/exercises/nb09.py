"""Exercises of notebook 09 (choosing a base image)."""

from __future__ import annotations

import json
from pathlib import Path

import docker as sdk

from ..core import course, oneshot
from ..lessons import arch, layers
from . import Verdict, course_image, exercise, failed, learner_image, passed

WHEELS = [
    "netCDF4-1.7.2-cp311-cp311-manylinux_2_17_x86_64.manylinux2014_x86_64.whl",
    "numpy-2.2.0-cp311-cp311-musllinux_1_2_x86_64.whl",
    "pyproj-3.7.1-cp311-cp311-manylinux_2_39_x86_64.whl",
    "shapely-2.0.6-cp312-cp312-manylinux_2_17_x86_64.manylinux2014_x86_64.whl",
    "xarray-2024.11.0-py3-none-any.whl",
]
"""Exercise 09.1's wheels: which of them would pip install on the course's Python image?"""

FITS = (
    "import json, sys; from packaging import tags, utils; accepted = set(tags.sys_tags()); "
    "print(json.dumps([w for w in sys.argv[1:] if utils.parse_wheel_filename(w)[3] & accepted]))"
)
"""Prints, as JSON, which of the wheel file names given as arguments the interpreter accepts."""


TIDE = """# A partner's tide-table tool, built on their {arch} laptop for their {arch} server
FROM --platform=$BUILDPLATFORM debian:bookworm-slim AS fetch
ARG ARCH={arch}
WORKDIR /tmp
RUN dpkg --add-architecture $ARCH && apt-get update -qq \\
 && apt-get download -qq busybox-static:$ARCH && dpkg-deb -x busybox-static_*.deb /out
FROM scratch
COPY --from=fetch /out/bin/busybox /bin/busybox
ENTRYPOINT ["/bin/busybox"]
CMD ["echo", "tide table ready"]
"""
"""Section 7's Dockerfile (and exercise 09.3's starter): Debian's static busybox for the architecture ARCH,
fetched by a stage that runs on the build machine's own architecture ($BUILDPLATFORM)."""

EMULATOR = """FROM debian:bookworm-slim
RUN apt-get update -qq && apt-get install -y -qq --no-install-recommends qemu-user > /dev/null \\
 && rm -rf /var/lib/apt/lists/*
"""
"""Section 7's emulator: Debian's qemu-user (qemu-aarch64, qemu-x86_64, ...) on the machine's own architecture."""


def tide(foreign: str) -> str:
    """The partner's Dockerfile for ``foreign`` (the architecture that is not this machine's)."""
    return TIDE.format(arch=foreign)


def tide_starter() -> Path:
    """Exercise 09.3's Dockerfile in a folder of the learner's (``build/<ns>/contexts/ex-tide/``), kept if there."""
    return course.starter(course.workdir("contexts", "ex-tide") / "Dockerfile", tide(arch.foreign(arch.native())))


def _package(name: str) -> str:
    return name.strip().split("-")[0].lower()


@exercise(
    "09.1",
    "which of these wheels would install on the Python image?",
    hint="Run Python's packaging in the image, as section 3 does: utils.parse_wheel_filename(wheel)[3] are a "
    "wheel's tags; it installs when one of them is in tags.sys_tags().",
    solution="""
    PICK = ("import json, sys; from packaging import tags, utils; accepted = set(tags.sys_tags()); "
            "print(json.dumps([w for w in sys.argv[1:] if utils.parse_wheel_filename(w)[3] & accepted]))")
    answer = json.loads(docker_out("run", "--rm", image("base-python", "1"), "python3", "-c", PICK, *nb09.WHEELS))
    """,
    takes_answer=True,
)
def installable(answer: object) -> Verdict:
    if isinstance(answer, str) or not isinstance(answer, list | tuple | set):
        return failed(f"answer with a list of wheel file names, not a {type(answer).__name__}.")
    ref = course.image("base-python", "1")
    found = course_image(ref, f"{ref} is missing: run section 2 of the notebook first.")
    if isinstance(found, Verdict):
        return found
    fits = json.loads(oneshot.output(ref, ["python3", "-c", FITS, *WHEELS]).decode())
    given = {_package(str(w)) for w in answer}
    wanted = {_package(w) for w in fits}
    if given == wanted:
        return passed(
            f"{ref} takes {', '.join(sorted(wanted)) or 'none of them'}: a wheel installs when its Python tag, its "
            "ABI and its platform (C library and its version, CPU) are all among the tags the interpreter accepts."
        )
    extra, missing = sorted(given - wanted), sorted(wanted - given)
    why = f"{', '.join(extra)} would not install" if extra else f"{', '.join(missing)} would install too"
    return failed(
        f"not quite: {why}.", "Compare each wheel's tags (cp311? manylinux_2_N with N ≤ glibc?) with sys_tags()."
    )


@exercise(
    "09.2",
    "an image FROM scratch that holds one static binary",
    hint="FROM scratch starts empty: copy the static busybox binary in from the busybox image (COPY --from=…) "
    "and run it with an exec-form ENTRYPOINT (there is no shell to run a shell-form command).",
    solution='''
    images.build(image("ex-scratch", "1"), images.context("ex-scratch", {"Dockerfile": """
    FROM scratch
    COPY --from=busybox /bin/busybox /busybox
    ENTRYPOINT ["/busybox"]
    CMD ["echo", "one static binary, no libc, no shell"]
    """}))
    ''',
)
def from_scratch() -> Verdict:
    ref = course.image("ex-scratch", "1")
    img = learner_image("09.2", ref)
    if isinstance(img, Verdict):
        return img
    if layers.shared_layers(ref, "busybox") or layers.shared_layers(ref, "debian:bookworm-slim"):
        return failed(f"{ref} is built on a base image: FROM scratch starts from nothing.", "FROM scratch")
    try:
        said = oneshot.output(ref, None).decode().strip()
    except (sdk.errors.ContainerError, sdk.errors.APIError) as exc:
        error = exc.stderr.decode(errors="replace") if isinstance(exc, sdk.errors.ContainerError) else str(exc)
        if "no such file or directory" in error.lower():  # the binary is there; its loader is not
            return failed(
                f"{ref} cannot start its program ({error.strip()[-120:]!r}): a dynamically linked program needs "
                "its loader and C library, which an empty image does not have.",
                "Copy a statically linked binary: busybox's (/bin/busybox in the busybox image).",
            )
        return failed(f"{ref} does not run: {error.strip()[-160:]!r}.", 'CMD ["echo", "…"] gives it a command.')
    size = img.attrs["Size"]
    if len(layers.rootfs_layers(ref)) != 1 or size > 5_000_000:
        return failed(
            f"{ref} has {len(layers.rootfs_layers(ref))} layers and {size / 1e6:.1f} MB: copy only the binary."
        )
    return passed(f"{ref} is one file in one layer ({size / 1e6:.1f} MB) and runs: its program said {said[:60]!r}.")


@exercise(
    "09.3",
    "the partner's tide-table image, running on this machine",
    hint="Two things name an architecture: the platform the image is built for (docker build --platform, or "
    "none: the daemon's own) and the package the Dockerfile fetches (busybox-static:$ARCH). BuildKit sets "
    "ARG TARGETARCH to the platform being built: use it instead of a fixed ARCH.",
    solution="""
    fixed = nb09.tide_starter().read_text().replace("ARG ARCH=arm64", "ARG TARGETARCH\\nARG ARCH=$TARGETARCH")
    fixed = fixed.replace("ARG ARCH=amd64", "ARG TARGETARCH\\nARG ARCH=$TARGETARCH")
    images.build(image("ex-tide", "1"), images.context("ex-tide", {"Dockerfile": fixed}))
    """,
)
def native_tide() -> Verdict:
    ref = course.image("ex-tide", "1")
    img = learner_image("09.3", ref)
    if isinstance(img, Verdict):
        return img
    here, built = arch.native(), str(img.attrs.get("Architecture", ""))
    if layers.shared_layers(ref, "busybox") or layers.shared_layers(ref, "debian:bookworm-slim"):
        return failed(
            f"{ref} is built on a base image: keep the partner's FROM scratch and their busybox-static package; "
            "only the architecture is wrong.",
            "Start from the starter Dockerfile.",
        )
    if built != here:
        return failed(
            f"{ref} is built for linux/{built}, and this machine is linux/{here}: it would fail with "
            "exec format error.",
            f"Build it for linux/{here}: no --platform (the daemon's own), or --platform linux/{here}.",
        )
    program = (img.attrs.get("Config") or {}).get("Entrypoint") or ["/bin/busybox"]
    compiled = arch.elf_machine(arch.file_from_image(ref, program[0]) or b"")
    if compiled != here:
        return failed(
            f"{ref} says linux/{here}, but its {program[0]} is compiled for {compiled or 'nothing runnable'}: the "
            "platform in an image's configuration is a label, and the kernel goes by the program.",
            "The package's architecture: busybox-static:$ARCH, with ARCH from ARG TARGETARCH.",
        )
    try:
        said = oneshot.output(ref, None).decode().strip()
    except (sdk.errors.ContainerError, sdk.errors.APIError) as exc:
        return failed(f"{ref} does not run: {str(exc)[-160:]!r}.")
    if "tide table ready" not in said:
        return failed(f"{ref} runs but says {said[:60]!r}: keep the partner's CMD.")
    return passed(
        f"{ref} is linux/{here}, its {program[0]} is an {compiled} program, and it said {said!r}: the platform "
        "and the code agree."
    )
