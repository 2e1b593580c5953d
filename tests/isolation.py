"""Resources that are not the course's, made before the suite and checked after it.

They are named like the course's (prefix ``dmac-``, image ``dmac/…``) but carry no course label:
every notebook, clean-up and ``make clean`` must leave them exactly as they were (the volume keeps
its file). Each session's decoys have a random part in their names, so concurrent sessions do not
mix them up. The host files a security demonstration could touch are fingerprinted too.
"""

from __future__ import annotations

import hashlib
import os
import uuid
from dataclasses import dataclass, field

# Host files the security demonstrations (a root container with the host's / mounted) could change.
HOST_FILES = ("/etc/passwd", "/etc/group", "/etc/shadow", "/etc/sudoers", "/etc/crontab", "/var/run/docker.sock")
VOLUME_NOTE = "learner's data: keep\n"


def host_fingerprint() -> dict[str, str]:
    """Content hash (regular files), mode, owner and mtime of each of HOST_FILES; 'absent' if missing."""
    found = {}
    for path in HOST_FILES:
        try:
            st = os.stat(path)
        except OSError:
            found[path] = "absent"
            continue
        digest = ""
        if os.path.isfile(path):
            try:
                digest = hashlib.sha256(open(path, "rb").read()).hexdigest()[:16]
            except OSError:
                digest = "unreadable"
        found[path] = f"{digest} mode={st.st_mode:o} owner={st.st_uid}:{st.st_gid} mtime={st.st_mtime_ns}"
    return found


@dataclass
class Decoys:
    tag: str = field(default_factory=lambda: uuid.uuid4().hex[:6])
    ids: dict[str, str] = field(default_factory=dict)
    host: dict[str, str] = field(default_factory=host_fingerprint)

    @property
    def names(self) -> dict[str, str]:
        base = f"dmac-decoy-{self.tag}"
        return {
            "running": f"{base}-running",
            "stopped": f"{base}-stopped",
            "volume": f"{base}-volume",
            "network": f"{base}-network",
            "image": f"dmac/decoy-{self.tag}:1.0",
        }


def create() -> Decoys:
    from helpers.daemon import client

    dc = client()
    decoys = Decoys()
    n = decoys.names
    running = dc.containers.run("busybox", "sleep 86400", name=n["running"], detach=True)
    stopped = dc.containers.create("busybox", "true", name=n["stopped"])
    volume = dc.volumes.create(n["volume"])
    dc.containers.run(
        "busybox",
        ["sh", "-c", f"printf {VOLUME_NOTE!r} > /v/notes.txt"],
        volumes={volume.name: {"bind": "/v"}},
        remove=True,
    )
    network = dc.networks.create(n["network"])
    repo, tag = n["image"].split(":")
    dc.images.get("busybox:latest").tag(repo, tag)
    decoys.ids = {
        "running": running.id,
        "stopped": stopped.id,
        "volume": volume.name,
        "network": network.id,
        "image": dc.images.get(n["image"]).id,
    }
    return decoys


def _getters(dc, n: dict[str, str]) -> dict:
    return {
        "running": lambda: dc.containers.get(n["running"]),
        "stopped": lambda: dc.containers.get(n["stopped"]),
        "volume": lambda: dc.volumes.get(n["volume"]),
        "network": lambda: dc.networks.get(n["network"]),
        "image": lambda: dc.images.get(n["image"]),
    }


def problems(decoys: Decoys) -> list[str]:
    """What happened to the decoys (empty when every one is there, unchanged)."""
    import docker as sdk

    from helpers.daemon import client

    dc = client()
    found: list[str] = []
    for key, get in _getters(dc, decoys.names).items():
        try:
            obj = get()
        except sdk.errors.NotFound:
            found.append(f"the learner's {key} decoy was removed")
            continue
        if (obj.name if key == "volume" else obj.id) != decoys.ids[key]:
            found.append(f"the learner's {key} decoy was replaced")
        elif key == "running" and obj.status != "running":
            found.append("the learner's running container was stopped")
        elif key == "volume":
            # run, wait, then read its log: a log followed while the container starts can come back empty
            # on Podman when the container has already exited
            read = ["sh", "-c", "cat /v/notes.txt 2>/dev/null; true"]
            reader = dc.containers.run("busybox", read, volumes={obj.name: {"bind": "/v"}}, detach=True)
            try:
                reader.wait(timeout=60)
                note = reader.logs(stdout=True, stderr=False)
            finally:
                reader.remove(force=True)
            if note.decode() != VOLUME_NOTE:
                found.append("the learner's volume decoy lost its file")
    now = host_fingerprint()
    found += [f"host file {path} changed" for path in HOST_FILES if now[path] != decoys.host[path]]
    return found


def remove(decoys: Decoys) -> None:
    import docker as sdk

    from helpers.daemon import client

    dc = client()
    for key, get in _getters(dc, decoys.names).items():
        try:
            obj = get()
        except sdk.errors.NotFound:
            continue
        if key in ("running", "stopped"):
            obj.remove(force=True)
        elif key == "image":
            dc.images.remove(decoys.names["image"])
        else:
            obj.remove()
