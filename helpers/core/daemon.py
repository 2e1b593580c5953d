"""Find the Docker daemon, explain clearly when it cannot be used, and report what it is.

The client is created lazily: ``import helpers`` works without a daemon (Binder).
"""

from __future__ import annotations

import errno
import os
import shutil
import socket
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlparse

from .errors import DaemonUnavailable

T = TypeVar("T")
CONNECT_TIMEOUT = 5.0
"""Seconds to wait for the daemon to answer before giving up with a message."""


DEFAULT_SOCKET = "/var/run/docker.sock"


@dataclass(frozen=True)
class Found:
    """A daemon address and where it came from: ``DOCKER_HOST``, ``context NAME``, ``default socket``
    or ``found socket`` (a well-known socket the CLI would not use by itself: the course then hands
    ``DOCKER_HOST`` to every ``docker`` command it runs, so the CLI and the SDK talk to the same daemon)."""

    host: str
    source: str = "DOCKER_HOST"
    tls: Any = field(default=None, compare=False)


def _env_endpoint() -> Found | None:
    """``DOCKER_HOST`` with the TLS variables (``DOCKER_TLS_VERIFY``, ``DOCKER_CERT_PATH``), read by the SDK."""
    if not os.environ.get("DOCKER_HOST"):
        return None
    from docker.utils import kwargs_from_env  # deferred: the Docker SDK is slow to import

    return Found(os.environ["DOCKER_HOST"], "DOCKER_HOST", kwargs_from_env().get("tls"))


def _context_endpoint() -> Found | None:
    """The CLI's current context (``DOCKER_CONTEXT`` or ``docker context use``), unless it is ``default``."""
    try:
        from docker.context import ContextAPI  # deferred: the Docker SDK is slow to import

        context = ContextAPI.get_current_context()
    except Exception:  # a broken ~/.docker/config.json: the CLI will say so itself
        return None
    if context is None or context.name == "default" or not context.Host:
        return None
    return Found(context.Host, f"context {context.name}", context.TLSConfig)


def well_known_sockets() -> list[Path]:
    """Sockets of the usual engines besides the default one (rootless, Desktop, Colima, OrbStack, Podman)."""
    home = Path.home()
    runtime = os.environ.get("XDG_RUNTIME_DIR") or f"/run/user/{os.getuid()}"
    return [
        Path(runtime) / "docker.sock",  # rootless Docker
        home / ".docker/run/docker.sock",  # Docker Desktop
        home / ".docker/desktop/docker.sock",
        home / ".colima/default/docker.sock",  # Colima
        home / ".orbstack/run/docker.sock",  # OrbStack
        Path(runtime) / "podman/podman.sock",  # rootless Podman (podman system service)
        Path("/run/podman/podman.sock"),  # Podman as root
    ]


def candidates() -> list[Found]:
    """Where to look, in the CLI's order: ``DOCKER_HOST`` alone if set; else the current context if it is
    not ``default``; else the default socket, then the well-known sockets that exist."""
    for explicit in (_env_endpoint(), _context_endpoint()):
        if explicit:
            return [explicit]
    found = [Found(f"unix://{DEFAULT_SOCKET}", "default socket")]
    found += [Found(f"unix://{p}", "found socket") for p in well_known_sockets() if p.exists()]
    return found


def candidate_hosts() -> list[str]:
    """The addresses of :func:`candidates`."""
    return [c.host for c in candidates()]


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


def find(timeout: float = CONNECT_TIMEOUT) -> Found:
    """The first daemon that answers, or :class:`DaemonUnavailable` (within ``timeout`` per address)."""
    error: DaemonUnavailable | None = None
    for found in candidates():
        try:
            probe(found.host, timeout)
            return found
        except DaemonUnavailable as exc:
            error = error if error and error.reason == "permission" else exc
    assert error is not None
    raise error


@lru_cache(maxsize=4)
def _cached_client(found: Found):
    import docker  # deferred: the Docker SDK is slow to import

    return docker.DockerClient(base_url=found.host, tls=found.tls or False, timeout=120)


def client():
    """The docker SDK client for the daemon in use (created on first use, then reused).

    Each call checks within seconds that the daemon still answers, so a stopped daemon gives a
    clear message instead of a long hang.
    """
    return _cached_client(find())


def past_lost_snapshots(call: Callable[[], T]) -> T:
    """``call()``, asked again (up to three times in all) when it fails only because the containerd image store lost
    a snapshot under it: the daemon walks every snapshot for sizes (``docker system df``, ``docker images``), and one
    removed meanwhile by another build or container on the same daemon fails the whole call with "snapshot … does
    not exist: not found"."""
    for attempt in range(3):
        try:
            return call()
        except Exception as exc:  # the SDK's NotFound (its module is imported with the client, not here)
            if attempt == 2 or not ("snapshot" in str(exc) and "does not exist" in str(exc)):
                raise
            time.sleep(1)
    raise AssertionError("unreachable")


def disk_usage() -> dict[str, Any]:
    """``docker system df`` over the API (:func:`past_lost_snapshots`)."""
    return past_lost_snapshots(lambda: client().df())


def cli_env() -> dict[str, str]:
    """What the ``docker`` CLI needs to reach the same daemon as the SDK: ``DOCKER_HOST`` only when the
    daemon was found on a well-known socket the CLI does not look at by itself; else nothing."""
    try:
        found = find(timeout=2.0)
    except DaemonUnavailable:
        return {}
    return {"DOCKER_HOST": found.host} if found.source == "found socket" else {}


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
