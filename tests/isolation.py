"""Resources that are not the course's, made before the suite and checked after it.

They are named like the course's (prefix ``dmac-``, image ``dmac/…``) but carry no course label:
every notebook, clean-up and ``make clean`` must leave them exactly as they were.
"""

from __future__ import annotations

import json
from pathlib import Path

STATE = Path(__file__).resolve().parent.parent / "build" / "decoys.json"


def create() -> dict[str, str]:
    from helpers.daemon import client

    dc = client()
    remove()  # leftovers of an interrupted run
    running = dc.containers.run("busybox", "sleep 86400", name="dmac-decoy-running", detach=True)
    stopped = dc.containers.create("busybox", "true", name="dmac-decoy-stopped")
    volume = dc.volumes.create("dmac-decoy-volume")
    network = dc.networks.create("dmac-decoy-network")
    dc.images.get("busybox:latest").tag("dmac/decoy-image", "1.0")
    ids = {"running": running.id, "stopped": stopped.id, "volume": volume.name, "network": network.id,
           "image": dc.images.get("dmac/decoy-image:1.0").id}
    STATE.parent.mkdir(parents=True, exist_ok=True)
    STATE.write_text(json.dumps(ids))
    return ids


def problems() -> list[str]:
    """What happened to the decoys (empty when every one is there, unchanged)."""
    import docker as sdk

    from helpers.daemon import client

    dc = client()
    ids = json.loads(STATE.read_text())
    found: list[str] = []
    checks = {
        "running": lambda: dc.containers.get("dmac-decoy-running"),
        "stopped": lambda: dc.containers.get("dmac-decoy-stopped"),
        "volume": lambda: dc.volumes.get("dmac-decoy-volume"),
        "network": lambda: dc.networks.get("dmac-decoy-network"),
        "image": lambda: dc.images.get("dmac/decoy-image:1.0"),
    }
    for key, get in checks.items():
        try:
            obj = get()
        except sdk.errors.NotFound:
            found.append(f"the learner's {key} decoy was removed")
            continue
        if (obj.name if key == "volume" else obj.id) != ids[key]:
            found.append(f"the learner's {key} decoy was replaced")
    try:
        if dc.containers.get("dmac-decoy-running").status != "running":
            found.append("the learner's running container was stopped")
    except sdk.errors.NotFound:
        pass
    return found


def remove() -> None:
    import docker as sdk

    from helpers.daemon import client

    dc = client()
    for name in ("dmac-decoy-running", "dmac-decoy-stopped"):
        try:
            dc.containers.get(name).remove(force=True)
        except sdk.errors.NotFound:
            pass
    for getter in (lambda: dc.volumes.get("dmac-decoy-volume"), lambda: dc.networks.get("dmac-decoy-network")):
        try:
            getter().remove()
        except sdk.errors.NotFound:
            pass
    try:
        dc.images.remove("dmac/decoy-image:1.0")
    except sdk.errors.NotFound:
        pass
