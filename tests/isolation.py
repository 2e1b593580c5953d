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
ACCOUNT_FILES = ("/etc/passwd", "/etc/group", "/etc/shadow")
VOLUME_NOTE = "learner's data: keep\n"
# The course's own accounts (``make hub``'s learners and instructor, the rootless lane's user: every name starts
# with ``dmac-``) come and go with those tools, which CI runs beside ``make test``: the account files are compared
# without them. Any other line added, removed or changed is still a failure.
COURSE_ACCOUNT = "dmac-"


def _without_course_accounts(path: str, lines: list[str]) -> list[str]:
    """The lines of an account file minus the course's accounts (and, in /etc/group, minus them as members)."""
    kept = []
    for line in lines:
        fields = line.split(":")
        root = path.endswith("passwd") and "0" in fields[2:4]  # a course name with root's uid or gid is seen
        if fields[0].startswith(COURSE_ACCOUNT) and not root:
            continue
        if path == "/etc/group" and len(fields) == 4:
            fields[3] = ",".join(m for m in fields[3].split(",") if m and not m.startswith(COURSE_ACCOUNT))
            line = ":".join(fields)
        kept.append(line)
    return kept


def host_fingerprint() -> dict[str, str]:
    """Content hash (regular files), mode, owner and mtime of each of HOST_FILES; 'absent' if missing.

    Empty when ``DMAC_HOST_FILES=0``: the engine matrix sets it for runs against a daemon inside a container
    (:func:`helpers.infra.engines.inner_env`), whose containers see that container's files, not this host's, while
    other lanes of CI add accounts to this host's ``/etc/passwd`` at the same time.
    """
    if os.environ.get("DMAC_HOST_FILES", "1") == "0":
        return {}
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
                content = open(path, "rb").read()
            except OSError:
                content, digest = b"", "unreadable"
            if path in ACCOUNT_FILES and not digest:  # its lines, the course's accounts left out; no mtime
                lines = _without_course_accounts(path, content.decode(errors="replace").splitlines())
                digest = hashlib.sha256("\n".join(lines).encode()).hexdigest()[:16]
                found[path] = f"{digest} mode={st.st_mode:o} owner={st.st_uid}:{st.st_gid}"
                continue
            digest = digest or hashlib.sha256(content).hexdigest()[:16]
        found[path] = f"{digest} mode={st.st_mode:o} owner={st.st_uid}:{st.st_gid} mtime={st.st_mtime_ns}"
    return found


def host_lines() -> dict[str, list[str]]:
    """The lines of the host's account files, to say which changed (``/etc/shadow``: user names only)."""
    if os.environ.get("DMAC_HOST_FILES", "1") == "0":
        return {}
    found = {}
    for path in ACCOUNT_FILES:
        try:
            lines = _without_course_accounts(path, open(path, errors="replace").read().splitlines())
        except OSError:
            continue
        if path == "/etc/shadow":  # never a password hash in a report: the user and a digest of the line
            lines = [f"{ln.split(':', 1)[0]}:… ({hashlib.sha256(ln.encode()).hexdigest()[:8]})" for ln in lines]
        found[path] = lines
    return found


def what_changed(path: str, before: list[str], after: list[str]) -> str:
    """``host file PATH changed`` with the lines added and removed (or what else changed)."""
    added = [ln for ln in after if ln not in before]
    removed = [ln for ln in before if ln not in after]
    parts = [f"+ {ln}" for ln in added] + [f"- {ln}" for ln in removed]
    if not parts:
        return f"host file {path} changed (its mode, owner or time; no line added or removed)"
    return f"host file {path} changed: " + ", ".join(repr(p) for p in parts[:10])


@dataclass
class Decoys:
    tag: str = field(default_factory=lambda: uuid.uuid4().hex[:6])
    ids: dict[str, str] = field(default_factory=dict)
    host: dict[str, str] = field(default_factory=host_fingerprint)
    lines: dict[str, list[str]] = field(default_factory=host_lines)

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
    from helpers.core.daemon import client

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

    from helpers.core.daemon import client

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
    now, lines = host_fingerprint(), host_lines()
    for path in decoys.host:
        if now.get(path) != decoys.host[path]:
            if path in decoys.lines and path in lines:
                found.append(what_changed(path, decoys.lines[path], lines[path]))
            else:
                found.append(f"host file {path} changed ({decoys.host[path]} -> {now.get(path, 'absent')})")
    return found


def remove(decoys: Decoys) -> None:
    import docker as sdk

    from helpers.core.daemon import client

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
