"""Exercises of notebook 12 (case study: the IOOS Catalog)."""

from __future__ import annotations

from typing import Any

from .. import course, engine
from ..daemon import client
from . import Verdict, course_container, exercise, failed, passed, records


@exercise(
    "12.1",
    "run a harvester with a volume and a log limit",
    hint='docker("run", "-d", "--name", name("ex-harvester"), "-v", f"{name(\'ex-data\')}:/data", '
    '"--log-opt", "max-size=100k", "busybox", "sleep", "600")',
    solution="""
    docker("run", "-d", "--name", name("ex-harvester"), "-v", f"{name('ex-data')}:/data",
           "--log-opt", "max-size=100k", "--log-opt", "max-file=2", "busybox", "sleep", "600")
    """,
)
def harvester() -> Verdict:
    wanted = course.name("ex-harvester")
    box = course_container("ex-harvester")
    if isinstance(box, Verdict):
        return box
    records.note("12.1", "container", wanted, box)
    mounts = [m for m in box.attrs.get("Mounts", []) if m.get("Destination") == "/data"]
    if mounts and mounts[0].get("Type") == "bind":
        return failed(
            f"{wanted} mounts a host folder ({mounts[0].get('Source')}) at /data: a bind mount, not a volume.",
            "Give -v a volume name, not a path: -v NAME:/data.",
        )
    if not mounts or mounts[0].get("Type") != "volume":
        return failed(f"{wanted} has no volume mounted at /data.", "Add -v NAME:/data.")
    # -v NAME:/data creates the volume unlabelled; clean-up removes it if it has the exercise's name
    records.note("12.1", "volume", mounts[0]["Name"], client().volumes.get(mounts[0]["Name"]))
    limit = log_max_size(box)
    if not limit:
        return failed(f"{wanted}'s log is not limited (no max-size).", "Add --log-opt max-size=100k.")
    return passed(f"{wanted} writes /data to volume {mounts[0]['Name']} and keeps logs under {limit}.")


def log_max_size(box: Any) -> str | None:
    """A container's log size limit (``--log-opt max-size``), None without one.

    Docker keeps it in ``HostConfig.LogConfig.Config``; Podman's Docker-compatible inspect leaves that
    empty and its own inspect (``/libpod/containers/ID/json``) has it as ``LogConfig.Size`` ("0B": none).
    """
    config = box.attrs["HostConfig"]["LogConfig"].get("Config") or {}
    if config.get("max-size"):
        return str(config["max-size"])
    if engine.capabilities().product != engine.PODMAN:
        return None
    api = client().api
    native = api._result(api._get(f"{api.base_url}/v4.0.0/libpod/containers/{box.id}/json"), json=True)
    size = str(native["HostConfig"]["LogConfig"].get("Size") or "0B")
    return None if size in ("0B", "0") else size


@exercise(
    "12.2",
    "give a running container a restart policy",
    hint='docker("update", "--restart", "unless-stopped", name("ex-service"))',
    solution="""
    docker("update", "--restart", "unless-stopped", name("ex-service"))
    """,
)
def update_policy() -> Verdict:
    wanted = course.name("ex-service")
    box = course_container(
        "ex-service", missing=f"there is no container called {wanted}: run the cell that creates it."
    )
    if isinstance(box, Verdict):
        return box
    policy = box.attrs["HostConfig"]["RestartPolicy"]["Name"] or "no"
    if policy == "no":  # nothing done yet
        return failed(f"{wanted}'s restart policy is 'no'.", "docker update can change it in place.")
    if policy != "unless-stopped":
        return failed(
            f"{wanted}'s restart policy is {policy!r}, not 'unless-stopped'.",
            "docker update --restart unless-stopped NAME changes it in place.",
        )
    if box.status != "running":
        return failed(f"{wanted} has the policy but is {box.status}: it should keep running (update, not re-create).")
    return passed(f"{wanted} now has restart policy unless-stopped, and kept running.")
