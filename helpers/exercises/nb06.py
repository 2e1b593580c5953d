"""Exercises of notebook 06 (volumes and persistence)."""

from __future__ import annotations

import os
from pathlib import Path

import docker as sdk

from ..core import course, oneshot, records
from ..core.daemon import client
from ..lessons import volumes
from . import Verdict, course_container, exercise, failed, passed

SURVEY_TEXT = "CTD cast 17"


@exercise(
    "06.1",
    "make this data survive the container",
    hint="Create a named volume first (docker volume create), then run a container that mounts it at /data (-v "
    "NAME:/data) and writes the file there.",
    solution="""
    docker("volume", "create", name("ex-survey"))
    docker("run", "--rm", "-v", f"{name('ex-survey')}:/data", "busybox",
           "sh", "-c", "echo 'CTD cast 17' > /data/survey.txt")
    """,
)
def survive() -> Verdict:
    wanted = course.name("ex-survey")
    try:
        vol = client().volumes.get(wanted)
    except sdk.errors.NotFound:
        return failed(f"there is no volume called {wanted}.")  # nothing tried yet: no hint
    records.note("06.1", "volume", wanted, vol)  # made in a terminal, it has no course label
    out = oneshot.output(
        "busybox",
        ["sh", "-c", "cat /data/survey.txt 2>&1 || true"],
        labels=course.labels(),
        volumes={wanted: {"bind": "/data", "mode": "ro"}},
    )
    text = out.decode(errors="replace").strip()
    if text != SURVEY_TEXT:
        return failed(
            f"a fresh container reads {text[:60]!r} from /data/survey.txt in {wanted}, not {SURVEY_TEXT!r}.",
            "Write the file from a container that mounts the volume at /data: -v NAME:/data.",
        )
    return passed(f"a brand-new container reads {SURVEY_TEXT!r} from {wanted}: the data outlived its writer.")


def exercise_folder() -> Path:
    """The host folder of exercise 06.2 (fresh, empty, and yours: owned by the demo uid when run as root)."""
    folder = volumes.scratch("06", "ex-owner")
    if os.getuid() == 0:
        os.chown(folder, volumes.demo_uid(), volumes.demo_gid())
    return folder


@exercise(
    "06.2",
    "write into a bind mount as your own user, not root",
    hint="Run the container as your own user: --user UID:GID before the image name (volumes.as_you() gives "
    "those options, and none on rootless Docker), with the exercise folder mounted at /out.",
    solution="""
    docker("run", "--name", name("ex-owner"), *volumes.as_you(), "-v", f"{folder}:/out", "busybox",
           "touch", "/out/result.txt")
    """,
)
def owner() -> Verdict:
    wanted = course.name("ex-owner")
    folder = course.workdir("06", "ex-owner")
    box = course_container("ex-owner", missing=f"there is no container called {wanted} (run it without --rm).")
    if isinstance(box, Verdict):
        return box
    records.note("06.2", "container", wanted, box)
    if not any(m["Type"] == "bind" and Path(m["Source"]) == folder for m in box.attrs["Mounts"]):
        return failed(f"{wanted} does not bind-mount {folder}.")
    result = folder / "result.txt"
    if not result.exists():
        return failed(
            f"{result.name} is not in the folder: did the container write it (exit code "
            f"{box.attrs['State']['ExitCode']})?"
        )
    uid = result.stat().st_uid
    if uid == 0:
        return failed("result.txt belongs to root on the host.", "Add --user UID:GID before the image name.")
    ran_as = (box.attrs["Config"].get("User") or "").split(":")[0]
    rootless = not volumes.as_you()  # rootless Docker: the container's root already is you
    if not rootless and ran_as in ("", "0", "root"):
        return failed(
            f"{wanted} ran as root: the file is yours only because its owner was changed afterwards (chown).",
            "The skill is a container that writes as you: add --user UID:GID before the image name.",
        )
    if os.getuid() == 0:  # the lab runs as root: any user but root is someone else than root
        return passed(f"result.txt belongs to uid {uid} on the host, the container's --user, not to root.")
    if uid != volumes.demo_uid():
        return failed(f"result.txt belongs to uid {uid}, not {volumes.demo_uid()}.")
    return passed(f"result.txt belongs to uid {uid} on the host, not to root.")
