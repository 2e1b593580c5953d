"""Find the Docker daemon, explain clearly when it cannot be used, and report what it is.

The client is created lazily: ``import helpers`` works without a daemon (Binder).
"""

from __future__ import annotations

import errno
import os
import shutil
import socket
import sys
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from urllib.parse import urlparse

CONNECT_TIMEOUT = 5.0
"""Seconds to wait for the daemon to answer before giving up with a message."""


class DaemonUnavailable(RuntimeError):
    """No usable Docker daemon. ``reason`` is a short code, the message says what to do."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


def candidate_hosts() -> list[str]:
    """Where to look for a daemon: ``DOCKER_HOST`` alone if set, else the usual sockets."""
    if os.environ.get("DOCKER_HOST"):
        return [os.environ["DOCKER_HOST"]]
    home = Path.home()
    paths = [Path("/var/run/docker.sock")]
    if os.environ.get("XDG_RUNTIME_DIR"):
        paths.append(Path(os.environ["XDG_RUNTIME_DIR"]) / "docker.sock")  # rootless Docker
    paths += [home / ".docker/run/docker.sock", home / ".docker/desktop/docker.sock"]  # Desktop
    existing = [f"unix://{p}" for p in paths if p.exists()]
    return existing or ["unix:///var/run/docker.sock"]


def _probe_unix(path: str, timeout: float) -> None:
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.settimeout(timeout)
    try:
        sock.connect(path)
        sock.sendall(b"GET /_ping HTTP/1.0\r\nHost: docker\r\n\r\n")
        if b"OK" not in sock.recv(4096):
            raise DaemonUnavailable("bad-answer", f"Something listens on {path} but it is not a Docker daemon.")
    finally:
        sock.close()


def _probe_tcp(host: str, port: int, timeout: float) -> None:
    with socket.create_connection((host, port), timeout=timeout):
        pass


def probe(host: str, timeout: float = CONNECT_TIMEOUT) -> None:
    """Check that ``host`` answers; raise :class:`DaemonUnavailable` with an actionable message."""
    url = urlparse(host)
    try:
        if url.scheme == "unix":
            _probe_unix(url.path, timeout)
        elif url.scheme in ("tcp", "http", "https"):
            _probe_tcp(url.hostname or "localhost", url.port or 2375, timeout)
        elif url.scheme == "ssh":
            return  # the SDK handles ssh://; its own errors say what went wrong
        else:
            raise DaemonUnavailable("bad-host", f"DOCKER_HOST={host!r} is not a unix://, tcp:// or ssh:// address.")
    except DaemonUnavailable:
        raise
    except PermissionError:
        raise DaemonUnavailable(
            "permission",
            f"Permission denied on the Docker socket {url.path}.\n"
            "Your user may not talk to the daemon. Either add yourself to the docker group\n"
            "(`sudo usermod -aG docker $USER`, then log out and in again; note that this group\n"
            "is as powerful as root, see notebook 03), or use rootless Docker.",
        ) from None
    except FileNotFoundError:
        raise _not_running(host) from None
    except (TimeoutError, ConnectionRefusedError, OSError) as exc:
        if url.scheme == "unix" and getattr(exc, "errno", None) in (errno.ECONNREFUSED, errno.ENOENT):
            raise _not_running(host) from None
        raise DaemonUnavailable(
            "unreachable",
            f"The Docker daemon at {host} does not answer ({exc.__class__.__name__}: {exc}).\n"
            "If it is a remote host, check that it is up and reachable; otherwise unset DOCKER_HOST\n"
            "to use the local daemon.",
        ) from None


def _not_running(host: str) -> DaemonUnavailable:
    if os.environ.get("DOCKER_HOST"):
        return DaemonUnavailable(
            "not-running",
            f"No Docker daemon answers at DOCKER_HOST={host}.\n"
            "Start the daemon there, or unset DOCKER_HOST to use the local one.",
        )
    if not (shutil.which("dockerd") or shutil.which("docker")):
        return DaemonUnavailable(
            "not-installed",
            "Docker is not installed on this machine.\n"
            "Linux: install Docker Engine (on Debian/Ubuntu, `make lab` run as root does it for you).\n"
            "macOS/Windows: install and start Docker Desktop.\n"
            "No Docker at all? Read the course on Binder: recorded outputs are shown.",
        )
    return DaemonUnavailable(
        "not-running",
        f"Docker is installed but no daemon answers at {host}.\n"
        "Linux: `sudo systemctl start docker` (or run `make lab` as root to start one).\n"
        "macOS/Windows: start Docker Desktop and wait until it says it is running.",
    )


@dataclass(frozen=True)
class Found:
    host: str


def find(timeout: float = CONNECT_TIMEOUT) -> Found:
    """The first daemon that answers, or :class:`DaemonUnavailable` (within ``timeout`` per host)."""
    error: DaemonUnavailable | None = None
    for host in candidate_hosts():
        try:
            probe(host, timeout)
            return Found(host)
        except DaemonUnavailable as exc:
            error = error if error and error.reason == "permission" else exc
    assert error is not None
    raise error


@lru_cache(maxsize=1)
def _cached_client(host: str):
    import docker

    return docker.DockerClient(base_url=host, timeout=120)


def client():
    """The docker SDK client for the daemon in use (created on first use, then reused).

    Each call checks within seconds that the daemon still answers, so a stopped daemon gives a
    clear message instead of a long hang.
    """
    found = find()
    return _cached_client(found.host)


def reset_client() -> None:
    """Forget the cached client (after the daemon restarted: no pooled connection to the old one)."""
    _cached_client.cache_clear()


def available() -> bool:
    """True when a daemon answers (quietly; for notebooks that also run without Docker)."""
    try:
        find(timeout=2.0)
    except DaemonUnavailable:
        return False
    return True


def explain(exc: DaemonUnavailable) -> None:
    """Print the message for a missing daemon to stderr, without a traceback."""
    print(f"Docker daemon: {exc.reason}\n{exc}", file=sys.stderr)
