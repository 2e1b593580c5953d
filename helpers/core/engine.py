"""What this engine can do: product, version, rootless, cgroups, enforced limits, BuildKit.

``capabilities()`` reads ``docker info`` and ``docker version`` once per daemon (cached).
``limitation(kind)`` gives one plain sentence when a demonstration cannot run as designed on this
engine (None when it can); ``require(kind)`` prints that sentence and returns False, so a cell skips
the part that would run unbounded or fail, with no traceback and no hang::

    if engine.require("memory-limit"):
        docker("run", "-m", "64m", ...)

The reading of the two API answers is a pure function (:func:`from_api`), tested on recorded
answers of other engines (rootless on cgroup v1 and v2, Podman 5, Engine 28).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum
from functools import lru_cache
from typing import Any

from .cli import cli
from .daemon import client, find

EOL_BEFORE = (25,)
"""Docker Engine releases older than this get no more fixes from Docker (23.0 and 24.0 ended in 2024)."""

DOCKER, PODMAN = "Docker Engine", "Podman"

# The daemon's own warnings when a cgroup controller is missing (moby daemon/info_unix.go).
_NO_CGROUPS = "without cgroups"
_NO_MEMORY = "No memory limit support"
_NO_CPU = "No cpu cfs quota support"
_NO_PIDS = "No pids limit support"


@dataclass(frozen=True)
class Capabilities:
    """One engine's facts, as its API reports them."""

    product: str  # "Docker Engine" or "Podman"
    version: str  # the server version string, e.g. "20.10.24+dfsg1", "5.4.2"
    rootless: bool
    cgroup_version: str  # "1", "2" or "" when not reported
    cgroup_driver: str  # "cgroupfs", "systemd", or "none" (rootless without cgroups)
    memory_limit: bool  # -m / --memory is enforced
    cpu_limit: bool  # --cpus is enforced
    pids_limit: bool  # --pids-limit is enforced
    buildkit: bool  # builds can use BuildKit (secrets, RUN --mount)
    live_restore: bool
    storage_driver: str
    warnings: tuple[str, ...] = ()
    image_store: str = "classic"  # "containerd" (Docker Desktop 4.34+, fresh Engine 29) or "classic" (graph driver)

    @property
    def release(self) -> tuple[int, ...]:
        """The version as numbers: ``(20, 10, 24)``."""
        return _numbers(self.version)

    @property
    def eol(self) -> bool:
        """A Docker Engine older than 25: Docker publishes no more fixes for it."""
        return self.product == DOCKER and self.release < EOL_BEFORE

    @property
    def cgroups(self) -> bool:
        """Each container gets cgroups of its own (per-container ``docker stats``, ``docker top``, limits).

        Rootless Docker on cgroup v1 runs without: its containers share the daemon's.
        """
        return not (self.cgroup_driver == "none" or (self.rootless and self.cgroup_version == "1"))

    @property
    def limits_enforced(self) -> bool:
        return self.memory_limit and self.cpu_limit and self.pids_limit

    @property
    def short(self) -> str:
        """``Docker`` or ``Podman``, for sentences."""
        return "Podman" if self.product == PODMAN else "Docker"

    @property
    def name(self) -> str:
        """``Docker Engine 20.10.24+dfsg1 (rootless)``."""
        return f"{self.product} {self.version}" + (" (rootless)" if self.rootless else "")


def _numbers(version: str) -> tuple[int, ...]:
    match = re.match(r"v?(\d+(?:\.\d+)*)", version.strip())
    return tuple(int(part) for part in match.group(1).split(".")) if match else (0,)


def _product(version: dict[str, Any]) -> str:
    """Podman's Docker-compatible API names its main component "Podman Engine"."""
    names = [str(c.get("Name", "")) for c in version.get("Components") or []]
    platform = str((version.get("Platform") or {}).get("Name", ""))
    return PODMAN if any("podman" in n.lower() for n in [*names, platform]) else DOCKER


def from_api(info: dict[str, Any], version: dict[str, Any], *, cli_buildkit: bool = True) -> Capabilities:
    """Capabilities from the answers of ``GET /info`` and ``GET /version`` (a pure function).

    ``cli_buildkit``: whether the docker CLI in use builds with BuildKit (see ``cli.cli()``);
    Podman's API never does (its build endpoint has no BuildKit session).
    """
    product = _product(version)
    security = " ".join(info.get("SecurityOptions") or [])
    rootless = "name=rootless" in security or bool(info.get("Rootless"))
    warnings = tuple(str(w) for w in info.get("Warnings") or [])
    driver = str(info.get("CgroupDriver") or "")
    cgroup_version = str(info.get("CgroupVersion") or "")
    # rootless Docker on cgroup v1 has no cgroups at all: flags are accepted and not enforced
    no_cgroups = driver == "none" or any(_NO_CGROUPS in w for w in warnings) or (rootless and cgroup_version == "1")

    def enforced(field: str, warning: str) -> bool:
        return not no_cgroups and bool(info.get(field)) and not any(warning in w for w in warnings)

    return Capabilities(
        product=product,
        version=str(info.get("ServerVersion") or version.get("Version") or "?"),
        rootless=rootless,
        cgroup_version=cgroup_version,
        cgroup_driver=driver,
        memory_limit=enforced("MemoryLimit", _NO_MEMORY),
        cpu_limit=enforced("CpuCfsQuota", _NO_CPU),
        pids_limit=enforced("PidsLimit", _NO_PIDS),
        buildkit=cli_buildkit and product == DOCKER,
        live_restore=bool(info.get("LiveRestoreEnabled")),
        storage_driver=str(info.get("Driver") or "?"),
        warnings=warnings,
        image_store=image_store(info),
    )


def image_store(info: dict[str, Any]) -> str:
    """``containerd`` when images are containerd's content and snapshots (``docker info``'s ``DriverStatus``
    says ``driver-type io.containerd.snapshotter.v1``), else ``classic`` (a graph driver such as overlay2)."""
    status = info.get("DriverStatus") or []
    kinds = {str(value) for pair in status if isinstance(pair, list | tuple) and len(pair) == 2 for value in pair}
    return "containerd" if "io.containerd.snapshotter.v1" in kinds else "classic"


@lru_cache(maxsize=4)
def _for_host(host: str) -> Capabilities:

    dc = client()
    return from_api(dc.info(), dc.version(), cli_buildkit=cli().buildkit)


def capabilities() -> Capabilities:
    """This daemon's capabilities (asked once per daemon address, then cached)."""

    return _for_host(find().host)


def api_version() -> tuple[int, ...]:
    """The API version the daemon speaks at most, as numbers: ``(1, 41)`` for Engine 20.10 and Podman 5."""

    return _numbers(str(client().version().get("ApiVersion", "0")))


# ---------------------------------------------------------------- limitations, in one sentence each

_UNBOUNDED = "this demonstration would use the host's {what} without bound, so it is skipped."


def _no_cgroups(caps: Capabilities) -> bool:
    return not caps.cgroups


def _no_limit_reason(caps: Capabilities, what: str) -> str:
    if caps.rootless and _no_cgroups(caps):
        return f"Rootless {caps.short} on cgroup v{caps.cgroup_version or '1'} cannot enforce {what} limits"
    if caps.rootless:
        return f"This rootless {caps.short} was not given the cgroup {what} controller (systemd delegation)"
    return f"This {caps.short} daemon reports no cgroup {what} controller"


_PODMAN_DIFFERENCES = {
    "stats-no-stream": (
        "Podman's one-shot statistics carry no earlier reading to compare with, so `docker stats --no-stream` "
        "shows CPU % near 0 for every container; the samples below take two readings a second apart."
    ),
    "recursive-ro": (
        "Podman makes a read-only bind mount read-only at its top only (Docker Engine 25 and later make it "
        "read-only all the way down), so file systems mounted below it stay writable: the write attempt is skipped."
    ),
    "api-pin": (
        "Podman's Docker-compatible API serves any API version a client pins instead of refusing one that is "
        "too new, so there is no refusal to show here."
    ),
    "net-raw": (
        "Podman gives containers no NET_RAW capability by default (Docker does), so `ping` needs "
        "`--cap-add NET_RAW` here; the course adds it."
    ),
    "course-registry": (
        "Podman reaches a registry over plain HTTP, or with a CA of its own, only where containers-registries.conf "
        "says `insecure = true` for it (Docker trusts 127.0.0.0/8 by default); the course leaves your Podman "
        "configuration alone, so the parts that use the course registry are skipped."
    ),
    "live-restore": (
        "Podman has no long-running daemon whose restart could stop containers: live-restore does not apply."
    ),
    "log-rotation": (
        "Podman's log drivers are k8s-file, journald and none: it has no `local` driver and no `max-file` (its "
        "k8s-file log is cut at `max-size`), and its Docker-compatible API does not report a container's log options "
        "(`HostConfig.LogConfig.Config` is empty), so the comparison of drivers and exercise 16.2 are skipped."
    ),
    "image-healthcheck": (
        "Podman's Docker-compatible build writes OCI images, whose configuration has no HEALTHCHECK (Podman keeps "
        "it only in its `docker` image format), so exercise 08.3's image is never healthy here: it is skipped."
    ),
}
"""What Podman does differently from Docker Engine, by demonstration kind (see :func:`limitation`)."""


class Limitation(StrEnum):
    """The demonstrations an engine may not run as designed (see :func:`limitation`): a kind misspelt in a notebook
    or an exercise's ``needs`` is an error, never a silent "no limitation"."""

    MEMORY_LIMIT = "memory-limit"
    CPU_LIMIT = "cpu-limit"
    PIDS_LIMIT = "pids-limit"
    UPDATE_LIMITS = "update-limits"
    STATS = "stats"
    TOP = "top"
    HOST_ROOT = "host-root"
    BIND_USER = "bind-user"
    BUILDKIT = "buildkit"
    INLINE_CACHE = "inline-cache"
    LIVE_RESTORE = "live-restore"
    EOL = "eol"
    RECURSIVE_RO = "recursive-ro"
    API_PIN = "api-pin"
    NET_RAW = "net-raw"
    STATS_NO_STREAM = "stats-no-stream"
    COURSE_REGISTRY = "course-registry"
    IMAGE_HEALTHCHECK = "image-healthcheck"
    LOG_ROTATION = "log-rotation"


def limitation(kind: str, caps: Capabilities | None = None) -> str | None:
    """One plain sentence when demonstration ``kind`` (a :class:`Limitation`) cannot run as designed here, else None.

    Kinds: ``memory-limit``, ``cpu-limit``, ``pids-limit`` (limits enforced), ``update-limits``
    (``docker update --memory``), ``stats`` (per-container figures), ``top`` (``docker top``),
    ``host-root`` (root in a container is root on the host), ``bind-user`` (``--user $(id -u)`` on a
    bind mount), ``buildkit``, ``inline-cache`` (BuildKit's cache metadata and ``--cache-from IMAGE``),
    ``live-restore``, ``eol``; Podman's differences from Docker Engine: ``recursive-ro`` (``-v /:/host:ro``
    also read-only below), ``api-pin`` (a too-new pinned API version is refused), ``net-raw`` (``ping``),
    ``stats-no-stream`` (CPU % of ``docker stats --no-stream``), ``course-registry`` (push to and pull from the
    course's loopback registry without changing the engine's configuration), ``log-rotation`` (the ``local`` log
    driver and ``max-file``).
    """
    kind = Limitation(kind)  # ValueError for a kind that does not exist
    caps = caps or capabilities()
    no_cgroups = _no_cgroups(caps)
    if kind == "memory-limit" and not caps.memory_limit:
        return f"{_no_limit_reason(caps, 'memory')}: {_UNBOUNDED.format(what='memory')}"
    if kind == "cpu-limit" and not caps.cpu_limit:
        return (
            f"{_no_limit_reason(caps, 'CPU')}: `--cpus` would be accepted and ignored, so this measurement is skipped."
        )
    if kind == "pids-limit" and not caps.pids_limit:
        return f"{_no_limit_reason(caps, 'pids')}: {_UNBOUNDED.format(what='processes')}"
    if kind == "update-limits" and not caps.memory_limit:
        return (
            f"{_no_limit_reason(caps, 'memory')}, so `docker update --memory` fails here; "
            "the restart policy is changed on its own."
        )
    if kind == "stats" and no_cgroups:
        return (
            f"Rootless {caps.short} without cgroups cannot measure containers one by one: "
            "`docker stats` shows figures for the whole host (or none), so per-container verdicts are skipped."
        )
    if kind == "top" and no_cgroups:
        return (
            f"Rootless {caps.short} without cgroups cannot list a container's host processes "
            '(`docker top` fails with "unable to get all container pids"), so the host\'s view is skipped.'
        )
    if kind == "host-root" and caps.rootless:
        return (
            f"This {caps.short} daemon is rootless: root in its containers is your own user on the host, "
            "not root, so a container reaches only what you can reach."
        )
    if kind == "bind-user" and caps.rootless:
        return (
            f"This {caps.short} daemon is rootless: uid 0 in a container is you on the host and any other uid is an "
            "unprivileged stand-in, so `--user $(id -u)` cannot write your folder; leave `--user` out here."
        )
    if kind == "buildkit" and not caps.buildkit:
        return (
            f"This {caps.short} engine and CLI build without BuildKit: build secrets and `RUN --mount` are not "
            "available, so that part is skipped."
        )
    if kind == "inline-cache" and not caps.buildkit:
        if caps.product == PODMAN:
            return (
                "Podman builds without BuildKit: its images carry no inline cache metadata and its `--cache-from` "
                "names a registry repository, not a local image, so this part is skipped."
            )
        return (
            "This Docker CLI builds without BuildKit: its images carry no inline cache metadata; this part is skipped."
        )
    if caps.product == PODMAN and kind in _PODMAN_DIFFERENCES:
        return _PODMAN_DIFFERENCES[kind]
    if kind == "eol" and caps.eol:
        return (
            f"Docker Engine {caps.version} is end of life: Docker publishes no more fixes (security fixes "
            "included) for releases older than 25; your distribution may still patch it, but plan an upgrade."
        )
    return None


def require(kind: str, caps: Capabilities | None = None) -> bool:
    """True when demonstration ``kind`` runs as designed here; else print why (one line) and return False."""
    sentence = limitation(kind, caps)
    if sentence:
        print(f"⚠ {sentence}")
        return False
    return True


def limits_sentence(caps: Capabilities) -> str | None:
    """One sentence for the preflight when some limit is not enforced, else None."""
    missing = [
        n for n, ok in (("memory", caps.memory_limit), ("CPU", caps.cpu_limit), ("pids", caps.pids_limit)) if not ok
    ]
    if not missing:
        return None
    what = " or ".join(missing) if len(missing) < 3 else "memory, CPU or pids"
    flags = {"memory": "-m", "CPU": "--cpus", "pids": "--pids-limit"}
    named = ", ".join(f"`{flags[n]}`" for n in missing)
    verb = "is" if len(missing) == 1 else "are"
    return (
        f"{_no_limit_reason(caps, what)}: {named} {verb} accepted and ignored here, so the notebooks skip "
        "the demonstrations that need them."
    )


def limits_summary(caps: Capabilities) -> str:
    """``memory, CPU and pids limits enforced`` or which ones are not."""
    missing = [
        n for n, ok in (("memory", caps.memory_limit), ("CPU", caps.cpu_limit), ("pids", caps.pids_limit)) if not ok
    ]
    if not missing:
        return "memory, CPU and pids limits enforced"
    return f"NOT enforced: {', '.join(missing)} (flags are accepted and ignored)"
