"""Exercises of notebook 09 (choosing a base image)."""

from __future__ import annotations

import json

import docker as sdk

from .. import course, layers, oneshot
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
    hint="FROM scratch starts empty; COPY --from=busybox /bin/busybox /busybox copies the static binary; "
    'ENTRYPOINT ["/busybox"] runs it (there is no shell to run a shell-form command).',
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
