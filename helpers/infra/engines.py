"""Newer Docker Engines for the course's matrix: a real ``dockerd`` in a container on the host daemon.

Each engine is Debian's own ``docker.io`` (trixie: Engine 26.1, sid: Engine 28.5) installed on a
rootfs that ``debootstrap`` made offline, the course's way (see :mod:`helpers.core.images`); ``podman-5``
is trixie's ``podman`` serving its Docker-compatible API (``podman system service``), used through
the docker CLI as learners with Podman do (``DOCKER_HOST`` at Podman's socket). Its data
root is a named volume; its API socket is a file in ``build/engines/<name>/run/`` on the host. The
course checkout is mounted at the same path inside, so the notebooks' bind mounts resolve there too.

Tests run as on the engine's own host (:func:`sandbox_argv`, root only): in the engine container's
network and PID namespaces, with its data root at ``/var/lib/docker``, so published ports, PIDs and
the daemon's files are where a learner on that engine finds them.

Everything here carries ``org.dmac-course.namespace=dmac-engines``: ``make clean`` of a learner's
namespace keeps it, ``make clean-all`` removes it. CLI: ``python -m helpers.infra.engines --help``.
"""

from __future__ import annotations

import argparse
import grp
import json
import os
import platform
import shlex
import subprocess
import sys
import time
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from ..core import course, wait
from ..core.daemon import DaemonUnavailable, probe
from ..core.errors import EngineError
from ..core.images import bootstrap_suite

NAMESPACE = "dmac-engines"
"""The label value on every engine image, container and volume (never a learner's namespace)."""

ENGINE_LABEL = "org.dmac-course.engine"
"""Label key naming the engine (``docker-26``) on its images, container and volume."""

INNER_RUN = "/run/dmac-engine"
"""Where the inner daemon's socket folder is mounted inside the engine container."""

INNER_DATA_ROOT = "/var/lib/docker"
"""The inner daemon's data root (the engine's volume is mounted there)."""

START_TIMEOUT = 90.0
"""Seconds to wait for the inner daemon's ``_ping`` before giving up with its log."""

# The exact flags that run dockerd in a container here: --privileged (= every capability) fails,
# because the host's capability bounding set lacks CAP_SYS_RESOURCE (see DESIGN.md).
DIND_FLAGS = (
    "--cap-add", "ALL", "--cap-drop", "SYS_RESOURCE",
    "--security-opt", "seccomp=unconfined", "--security-opt", "apparmor=unconfined",
    "--security-opt", "systempaths=unconfined",  # else every inner start fails to disable IPv6
    "--cgroupns", "host", "-v", "/sys/fs/cgroup:/sys/fs/cgroup:rw",
)  # fmt: skip

DOCKERFILE = """\
FROM {base}
# sid's snapshot Release file is past its Valid-Until date; trixie's is not, the option is harmless
RUN apt-get -o Acquire::Check-Valid-Until=false update \\
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends {packages} \\
 && rm -rf /var/lib/apt/lists/*
{setup}VOLUME {data_root}
CMD {cmd}
"""

# What the course needs besides the engine: BuildKit (buildx), Compose, NAT (iptables), TLS roots
COMMON_PACKAGES = ("docker-buildx", "docker-compose", "iptables", "ca-certificates", "xz-utils", "pigz", "procps")

# Podman 5 rootful in the engine container: its OCI runtime, conmon, netavark networks (nftables or
# iptables), catatonit for --init; the docker CLI, buildx and Compose are the learner's tools.
PODMAN_PACKAGES = (
    "podman", "runc", "conmon", "netavark", "aardvark-dns", "catatonit", "nftables", "uidmap",
    "docker-cli", *COMMON_PACKAGES,
)  # fmt: skip

CONTAINERD_STORE_JSON = '{"features": {"containerd-snapshotter": true}}\n'
"""The inner daemon's configuration that switches it to the containerd image store (no --storage-driver then:
with it every create fails "snapshotter not loaded: overlay2")."""

INNER_PODMAN_ROOT = "/var/lib/containers"
"""Podman's storage (graph root ``storage/``) inside the engine: on the engine's volume, so native overlay works."""

# No systemd in the engine container: cgroupfs, a file for events, k8s-file logs; runc, because crun
# refuses this host's hybrid cgroups ("cgroups in hybrid mode not supported"). This machine's root
# lacks CAP_SYS_RESOURCE, so Podman must not raise the containers' RLIMIT_NOFILE (default_ulimits; the
# service script below pins them to the engine's own limits, which builds need too).
PODMAN_CONTAINERS_CONF = """\
[containers]
default_ulimits = []
log_driver = "k8s-file"

[engine]
runtime = "runc"
cgroup_manager = "cgroupfs"
events_logger = "file"
"""

PODMAN_SERVICE = "/usr/local/lib/dmac/podman-service.sh"
"""The engine container's command: pin the default ulimits, run health checks as systemd would, serve the API."""

# Without a nofile/nproc ulimit of its own, a build's RUN step asks for 1048576 (buildah's default),
# which needs CAP_SYS_RESOURCE above the current hard limit; Podman's compat build API cannot take the
# CLI's --ulimit (it fails to parse it), so the defaults are the engine's own hard limits.
PODMAN_SERVICE_SH = r"""
set -e
export PODMAN_IGNORE_CGROUPSV1_WARNING=1  # this host runs cgroup v1 (see DESIGN.md)
nofile=$(awk '/^Max open files/ {print $5}' /proc/self/limits)
nproc=$(awk '/^Max processes/ {print $4}' /proc/self/limits)
limits=""
[ "$nofile" = unlimited ] || limits="\"nofile=$nofile:$nofile\""
[ "$nproc" = unlimited ] || limits="$limits${limits:+, }\"nproc=$nproc:$nproc\""
mkdir -p /etc/containers/containers.conf.d /run/dmac-health
printf '[containers]\ndefault_ulimits = [%s]\n' "$limits" > /etc/containers/containers.conf.d/ulimits.conf

# On a host with systemd, Podman gives each container with a health check a transient systemd timer
# that runs `podman healthcheck run` every interval; there is no systemd here, so this loop does it.
health_timers() {
  while sleep 1; do
    now=$(date +%s)
    ids=$(podman ps -q --no-trunc 2>/dev/null) || continue
    [ -n "$ids" ] || continue
    podman inspect --format '{{.Id}} {{if .Config.Healthcheck}}{{.Config.Healthcheck.Interval.Seconds}}{{end}}' \
      $ids 2>/dev/null | while read -r id every; do
      [ -n "$every" ] || continue
      every=$(awk -v s="$every" 'BEGIN { n = int(s); if (n < s) n++; print (n < 1 ? 30 : n) }')
      due=$(cat "/run/dmac-health/$id" 2>/dev/null || echo $((now + every)))
      if [ "$now" -ge "$due" ]; then
        podman healthcheck run "$id" >/dev/null 2>&1 &
        due=$((now + every))
      fi
      echo "$due" > "/run/dmac-health/$id"
    done
  done
}
health_timers &
exec podman system service --time=0 "$1"
"""

PODMAN_STORAGE_CONF = """\
[storage]
driver = "overlay"
runroot = "/run/containers/storage"
graphroot = "/var/lib/containers/storage"
"""


@dataclass(frozen=True)
class Engine:
    """One engine of the matrix: a Debian suite and the packages that make its Docker."""

    name: str
    suite: str
    packages: tuple[str, ...]
    product: str = "docker"  # or "podman"
    files: tuple[tuple[str, str], ...] = ()  # (absolute path, text) written into the image
    python: bool = False  # the course's tests run inside, with the suite's own Python (helpers.infra.matrix)
    store: str = "classic"  # Docker's image store: "classic" (overlay2 graph driver) or "containerd"
    nbval: bool = True  # the matrix compares its outputs with the stored ones (else: every solution only)
    solutions: bool = True  # the matrix runs every solution with papermill (else: nbval only)

    @property
    def podman(self) -> bool:
        return self.product == "podman"

    @property
    def data_root(self) -> str:
        """Where the engine keeps images and containers inside (its volume is mounted there)."""
        return INNER_PODMAN_ROOT if self.podman else INNER_DATA_ROOT

    @property
    def base(self) -> str:
        """The debootstrapped rootfs image the engine image is built on."""
        return f"{NAMESPACE}/debian:{self.suite}"

    @property
    def image(self) -> str:
        return f"{NAMESPACE}/{self.name}:latest"

    @property
    def container(self) -> str:
        return f"{NAMESPACE}-{self.name}"

    @property
    def volume(self) -> str:
        return f"{NAMESPACE}-{self.name}-data"

    @property
    def folder(self) -> Path:
        return course.ROOT / "build" / "engines" / self.name

    @property
    def socket(self) -> Path:
        return self.folder / "run" / "docker.sock"

    @property
    def host(self) -> str:
        return f"unix://{self.socket}"

    @property
    def labels(self) -> dict[str, str]:
        return {course.LABEL: NAMESPACE, ENGINE_LABEL: self.name}


# In both suites the CLI is its own package (docker.io only recommends it; recommends are not installed).
ENGINES = {
    # trixie's Python 3.13 runs the course's tests on Engine 26: a newer Python than the host's is tried too.
    # Every solution runs here; nbval (the same classic store as Engine 28 and this host's 20.10, which both
    # run it) does not: CI's 90 minutes could not hold a third classic nbval beside the containerd store's
    "docker-26": Engine(
        "docker-26",
        "trixie",
        ("docker.io", "docker-cli", "python3-venv", *COMMON_PACKAGES),
        python=True,
        nbval=False,
    ),
    # nbval with the classic store; every solution on Engine 28.5 runs on docker-28c (the same engine, the containerd
    # store), and with the classic store on Engine 26, this host's 20.10 and rootless: CI's 90 minutes hold no more
    "docker-28": Engine("docker-28", "sid", ("docker.io", "docker-cli", *COMMON_PACKAGES), solutions=False),
    # Engine 28.5 with the containerd image store, as Docker Desktop (since 4.34) and every fresh Engine 29
    # install run it: images are containerd's content and snapshots (overlayfs), image IDs are manifest digests
    "docker-28c": Engine(
        "docker-28c",
        "sid",
        ("docker.io", "docker-cli", *COMMON_PACKAGES),
        files=(("/etc/docker/daemon.json", CONTAINERD_STORE_JSON),),
        store="containerd",
        # nbval against the same stored outputs as the classic store (which are recorded here: `make outputs`), and
        # every solution: the lessons measure sizes and layers in ways both stores agree on
        nbval=True,
    ),
    "podman-5": Engine(
        "podman-5",
        "trixie",
        PODMAN_PACKAGES,
        product="podman",
        files=(
            ("/etc/containers/containers.conf", PODMAN_CONTAINERS_CONF),
            ("/etc/containers/storage.conf", PODMAN_STORAGE_CONF),
            (PODMAN_SERVICE, PODMAN_SERVICE_SH),
        ),
    ),
}

BASE_IMAGES = ("debian:bookworm-slim", "busybox:latest")
"""The course's base images, moved from the host daemon into each engine (no registry here)."""


def get(name: str) -> Engine:
    try:
        return ENGINES[name]
    except KeyError:
        raise EngineError(f"unknown engine {name!r}: choose one of {', '.join(ENGINES)}") from None


def _progress(message: str) -> None:
    print(f"  … {message}", file=sys.stderr, flush=True)


# ---------------------------------------------------------------- the host daemon


def _engine_paths() -> tuple[set[str], set[str]]:
    """The engines' DOCKER_HOST values and CLI folders (to strip them when talking to the host)."""
    return {e.host for e in ENGINES.values()}, {str(e.folder / "bin") for e in ENGINES.values()}


def host_env() -> dict[str, str]:
    """Environment for commands on the host daemon, even inside a shell that exported an engine's env."""
    hosts, folders = _engine_paths()
    env = {k: v for k, v in os.environ.items() if k not in ("DMAC_DOCKER_CLI", "DOCKER_CONFIG", "DMAC_COMPOSE_PLUGIN")}
    if env.get("DOCKER_HOST") in hosts:
        del env["DOCKER_HOST"]
    env["PATH"] = os.pathsep.join(p for p in env.get("PATH", "").split(os.pathsep) if p not in folders)
    env["DOCKER_BUILDKIT"] = "1"
    return env


@lru_cache(maxsize=1)
def host_cli() -> str:
    """The host's docker CLI, chosen as the course does (:func:`helpers.core.shell.cli`): one with BuildKit."""
    env = host_env()
    found = [p for p in (os.path.join(d, "docker") for d in env["PATH"].split(os.pathsep)) if os.access(p, os.X_OK)]
    if not found:
        raise EngineError("no docker CLI on PATH to talk to the host daemon")
    for path in found:
        version = subprocess.run([path, "--version"], capture_output=True, text=True, env=env).stdout
        major = int(version.split()[2].split(".")[0]) if version.startswith("Docker version") else 0
        buildx = subprocess.run([path, "buildx", "version"], capture_output=True, env=env).returncode == 0
        if buildx or 0 < major < 23:  # an older CLI builds with BuildKit through DOCKER_BUILDKIT=1
            return path
    return found[0]


def host(*args: str, timeout: float = 600, check: bool = True, quiet: bool = True) -> str:
    """Run ``docker <args>`` on the host daemon; its output (stdout), or raise with its stderr."""
    proc = subprocess.run(
        [host_cli(), *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE if quiet else None,
        text=True,
        timeout=timeout,
        env=host_env(),
    )
    if check and proc.returncode != 0:
        raise EngineError(f"`docker {shlex.join(args[:3])} ...` failed: {(proc.stderr or '').strip()[-800:]}")
    return proc.stdout.strip()


def _label_args(engine: Engine) -> list[str]:
    return [x for key, value in engine.labels.items() for x in ("--label", f"{key}={value}")]


def image_id(ref: str, env: dict[str, str] | None = None, cli: str | None = None) -> str | None:
    """The image id of ``ref`` on the host daemon (or the daemon of ``env``), None if absent."""
    proc = subprocess.run(
        [cli or host_cli(), "image", "inspect", "--format", "{{.Id}}", ref],
        capture_output=True,
        text=True,
        timeout=60,
        env=env or host_env(),
    )
    return proc.stdout.strip() if proc.returncode == 0 else None


# ---------------------------------------------------------------- build


def dockerfile(engine: Engine) -> str:
    setup = "COPY files/ /\n" if engine.files else ""
    return DOCKERFILE.format(
        base=engine.base,
        packages=" ".join(engine.packages),
        setup=setup,
        data_root=engine.data_root,
        cmd=json.dumps(engine_command(engine) if engine.podman else dockerd_command(engine)[:-1]),
    )


def ensure_base(engine: Engine) -> bool:
    """Bootstrap the engine's Debian rootfs image unless it exists; True if it was made now."""
    if image_id(engine.base):
        return False

    bootstrap_suite(engine.suite, engine.base, engine.labels)
    return True


def build_image(engine: Engine, *, no_cache: bool = False) -> None:
    """``docker build`` the engine image on the host daemon (layer cache: a rebuild takes seconds)."""
    context = engine.folder / "context"
    context.mkdir(parents=True, exist_ok=True)
    (context / "Dockerfile").write_text(dockerfile(engine))
    for path, text in engine.files:
        target = context / "files" / path.lstrip("/")
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text)
    cache = ["--no-cache"] if no_cache else []
    argv = [host_cli(), "build", *cache, *_label_args(engine), "-t", engine.image, str(context)]
    log = engine.folder / "build.log"
    with open(log, "w") as out:
        proc = subprocess.run(argv, stdout=out, stderr=subprocess.STDOUT, timeout=1200, env=host_env())
    if proc.returncode != 0:
        tail = "\n".join(log.read_text().splitlines()[-15:])
        raise EngineError(f"building {engine.image} failed (full log: {log}):\n{tail}")


def extract_cli(engine: Engine) -> Path:
    """Copy the engine's own docker CLI and its buildx/compose plugins out of its image.

    They land in ``build/engines/<name>/bin/docker`` and ``.../config/cli-plugins/`` (a
    ``DOCKER_CONFIG`` folder); skipped when they come from the current image already.
    """
    bin_dir, plugins = engine.folder / "bin", engine.folder / "config" / "cli-plugins"
    stamp = engine.folder / "bin" / ".image-id"
    current = image_id(engine.image)
    if stamp.is_file() and stamp.read_text() == current and (bin_dir / "docker").is_file():
        return bin_dir / "docker"
    bin_dir.mkdir(parents=True, exist_ok=True)
    plugins.mkdir(parents=True, exist_ok=True)
    tmp = f"{engine.container}-extract"
    host("rm", "-f", tmp, check=False)
    host("create", "--name", tmp, *_label_args(engine), engine.image)
    try:
        host("cp", f"{tmp}:/usr/bin/docker", str(bin_dir / "docker"))
        for plugin in ("docker-buildx", "docker-compose"):
            host("cp", f"{tmp}:/usr/libexec/docker/cli-plugins/{plugin}", str(plugins / plugin))
    finally:
        host("rm", "-f", tmp, check=False)
    stamp.write_text(current or "")
    return bin_dir / "docker"


def cli_runs(binary: Path) -> str | None:
    """The CLI's version if the binary runs on this host (its C library may be too old), else None."""
    try:
        proc = subprocess.run([str(binary), "--version"], capture_output=True, text=True, timeout=20)
    except OSError:
        return None
    return proc.stdout.strip() if proc.returncode == 0 else None


def remove_stale_images(engine: Engine) -> int:
    """Remove earlier builds of the engine image (untagged, with this engine's label) that no container uses."""
    stale = host("image", "ls", "-q", "--filter", "dangling=true", "--filter", f"label={ENGINE_LABEL}={engine.name}")
    return sum(bool(host("rmi", image, check=False)) for image in dict.fromkeys(stale.split()))


def build(engine: Engine, *, cold: bool = False) -> None:
    """Make the engine image (rootfs by debootstrap once, then the Dockerfile) and extract its CLI.

    ``cold``: bootstrap the rootfs again and build without the layer cache (to measure a first build).
    """
    start = time.monotonic()
    if cold:
        host("rmi", engine.image, engine.base, check=False)
    if ensure_base(engine):
        _progress(f"{engine.base} bootstrapped in {time.monotonic() - start:.0f} s")
    step = time.monotonic()
    build_image(engine, no_cache=cold)
    _progress(f"{engine.image} built in {time.monotonic() - step:.0f} s")
    binary = extract_cli(engine)
    removed = remove_stale_images(engine)
    if removed:
        _progress(f"removed {removed} earlier build(s) of {engine.image}")
    version = cli_runs(binary)
    _progress(f"engine CLI: {version}" if version else f"the engine's CLI does not run on this host: {binary}")
    record_time(engine, "build", time.monotonic() - start)
    print(f"✔ {engine.name} built in {time.monotonic() - start:.0f} s")


# ---------------------------------------------------------------- start / stop


def state(engine: Engine) -> str | None:
    """The engine container's state (``running``, ``exited`` …), None if there is none."""
    out = host("inspect", "--format", "{{.State.Status}}", engine.container, check=False)
    return out or None


def answers(engine: Engine, timeout: float = 2.0) -> bool:
    try:
        probe(engine.host, timeout)
    except DaemonUnavailable:
        return False
    return True


def _check_socket_path(engine: Engine) -> None:
    if len(str(engine.socket)) >= 104:  # sun_path is 108 bytes on Linux, 104 on macOS
        raise EngineError(f"the socket path {engine.socket} is too long for a unix socket: use a shorter checkout path")


def dockerd_command(engine: Engine | None = None) -> list[str]:
    """The inner ``dockerd``: socket in the mounted folder, owned by the host's ``docker`` group (last flag).

    The group is given by number: inside the engine ``docker`` has another gid, and the host names a
    socket's group by its own ``/etc/group`` (notebook 01 shows the socket's owner). The containerd image
    store takes no ``--storage-driver`` (its snapshotter comes from ``/etc/docker/daemon.json``).
    """
    try:
        group = str(grp.getgrnam("docker").gr_gid)
    except KeyError:
        group = "0"  # no docker group here: root's, as the host's own socket has then
    driver = [] if engine is not None and engine.store == "containerd" else ["--storage-driver=overlay2"]
    return ["dockerd", f"--host=unix://{INNER_RUN}/docker.sock", *driver, f"--group={group}"]


def engine_command(engine: Engine) -> list[str]:
    """What the engine container runs: ``dockerd``, or Podman's Docker-compatible API service (no timeout)."""
    if engine.podman:
        return ["sh", PODMAN_SERVICE, f"unix://{INNER_RUN}/docker.sock"]
    return dockerd_command(engine)


def run_container(engine: Engine) -> None:
    """``docker run -d`` the engine: DinD flags, data root on the volume, socket folder and checkout mounted."""
    _check_socket_path(engine)
    run_dir = engine.socket.parent
    run_dir.mkdir(parents=True, exist_ok=True)
    engine.socket.unlink(missing_ok=True)  # stale from a container that was killed
    host("volume", "create", *_label_args(engine), engine.volume)
    host(
        "run", "-d", "--name", engine.container, "--hostname", engine.name, "--init", *_label_args(engine),
        *DIND_FLAGS,
        "-v", f"{engine.volume}:{engine.data_root}",
        "-v", f"{run_dir}:{INNER_RUN}",
        "-v", f"{course.ROOT}:{course.ROOT}",  # bind mounts of the notebooks name host paths
        engine.image, *engine_command(engine),
    )  # fmt: skip


def logs_tail(engine: Engine, lines: int = 25) -> str:
    proc = subprocess.run(
        [host_cli(), "logs", "--tail", str(lines), engine.container],
        capture_output=True,
        text=True,
        timeout=30,
        env=host_env(),
    )
    return (proc.stdout + proc.stderr).strip()


def wait_ready(engine: Engine, timeout: float = START_TIMEOUT) -> float:
    """Wait until the inner daemon answers ``_ping``; seconds waited, or EngineError with its log."""

    def gone() -> str | None:
        now = state(engine)
        return None if now in ("running", "created") else f"its container is {now}"

    try:
        return wait.timed(
            lambda: answers(engine),
            f"the inner dockerd of {engine.name} at {engine.host}",
            timeout=timeout,
            interval=0.5,
            give_up=gone,
        )
    except (wait.WaitTimeout, wait.WaitFailed) as exc:
        tail = logs_tail(engine)
        raise EngineError(f"{exc} (container state: {state(engine)}). Last lines of its log:\n{tail}") from None


def inner_env(engine: Engine) -> dict[str, str]:
    """The variables that point the docker CLI and the course at the inner daemon.

    ``DMAC_HOST_FILES=0``: the suite's fingerprint of this host's account files is not taken there (the
    inner daemon's containers see the engine container's files, and CI's other lanes add accounts here).
    """
    env = {"DOCKER_HOST": engine.host, "DMAC_HOST_FILES": "0"}
    binary = engine.folder / "bin" / "docker"
    if cli_runs(binary):
        env["DMAC_DOCKER_CLI"] = str(binary)
        env["DOCKER_CONFIG"] = str(engine.folder / "config")
        env["DMAC_COMPOSE_PLUGIN"] = str(engine.folder / "config" / "cli-plugins" / "docker-compose")
        env["PATH"] = f"{binary.parent}{os.pathsep}{os.environ.get('PATH', '')}"
    return env


def inner(engine: Engine) -> tuple[str, dict[str, str]]:
    env = {**host_env(), **inner_env(engine)}
    return env.get("DMAC_DOCKER_CLI", host_cli()), env


def load_base_images(engine: Engine) -> list[str]:
    """``docker save`` the course's base images on the host | ``docker load`` them into the engine.

    Only those missing there or different (by image id); returns what was loaded.
    """
    cli, env = inner(engine)
    wanted = [ref for ref in BASE_IMAGES if image_id(ref) and image_id(ref, env, cli) != image_id(ref)]
    missing = [ref for ref in BASE_IMAGES if not image_id(ref)]
    if missing:
        raise EngineError(f"the host daemon lacks {', '.join(missing)}: run `make images` first")
    if not wanted:
        return []
    save = subprocess.Popen([host_cli(), "save", *wanted], stdout=subprocess.PIPE, env=host_env())
    load = subprocess.run([cli, "load"], stdin=save.stdout, capture_output=True, text=True, timeout=600, env=env)
    assert save.stdout is not None
    save.stdout.close()
    if save.wait(timeout=600) != 0 or load.returncode != 0:
        raise EngineError(f"moving {', '.join(wanted)} into {engine.name} failed: {load.stderr.strip()[-800:]}")
    if engine.podman:  # Podman files a loaded short name under localhost/; a pulled one is docker.io/library/
        for ref in wanted:
            host("exec", engine.container, "podman", "tag", f"localhost/{ref}", f"docker.io/library/{ref}")
            host("exec", engine.container, "podman", "untag", f"docker.io/library/{ref}", f"localhost/{ref}")
    return wanted


def start(engine: Engine) -> None:
    """Start the engine (or reuse it when it already answers), load the base images, print its env."""
    begin = time.monotonic()
    if not image_id(engine.image):
        raise EngineError(f"{engine.image} does not exist: run `python -m helpers.infra.engines build {engine.name}`")
    current = host("inspect", "--format", "{{.Image}}", engine.container, check=False) == image_id(engine.image)
    if current and state(engine) == "running" and answers(engine):
        _progress(f"{engine.container} already runs")
    else:  # none, stopped, or from an older build of the image: a new container on the same volume
        host("stop", "-t", "30", engine.container, check=False, timeout=90)
        host("rm", "-f", engine.container, check=False)
        run_container(engine)
        _progress(f"the inner daemon answered after {wait_ready(engine):.1f} s")
    loaded = load_base_images(engine)
    if loaded:
        _progress(f"loaded {', '.join(loaded)}")
    record_time(engine, "start", time.monotonic() - begin)
    print(f"✔ {engine.name} ({server_version(engine)}) ready in {time.monotonic() - begin:.0f} s")
    print(env_lines(engine))


def stop(engine: Engine, *, purge: bool = False) -> None:
    """Stop and remove the engine container; ``purge`` also removes its data volume (a cold start)."""
    host("stop", "-t", "30", engine.container, check=False, timeout=90)
    host("rm", "-f", engine.container, check=False)
    engine.socket.unlink(missing_ok=True)
    if purge:
        host("volume", "rm", engine.volume, check=False)
    print(f"✔ {engine.name} stopped" + (" and its data volume removed" if purge else " (data volume kept)"))


def server_version(engine: Engine) -> str:
    cli, env = inner(engine)
    proc = subprocess.run(
        [cli, "version", "--format", "{{.Server.Version}}"], capture_output=True, text=True, timeout=30, env=env
    )
    return proc.stdout.strip() or "unknown"


def env_lines(engine: Engine) -> str:
    """Shell ``export`` lines for the inner daemon (``eval $(python -m helpers.infra.engines env docker-28)``)."""
    env = inner_env(engine)
    if "DMAC_DOCKER_CLI" not in env:
        env["DMAC_DOCKER_CLI"] = host_cli()  # the engine's own CLI does not run here
    lines = [f"export {key}={shlex.quote(value)}" for key, value in env.items() if key != "PATH"]
    if "PATH" in env:
        lines.append(f'export PATH={shlex.quote(str(engine.folder / "bin"))}:"$PATH"')
    return "\n".join(lines)


def describe(engine: Engine) -> dict[str, str]:
    """Versions of the engine and of the CLI, buildx and Compose the course used with it."""
    cli, env = inner(engine)

    def out(*args: str) -> str:
        proc = subprocess.run([cli, *args], capture_output=True, text=True, timeout=30, env=env)
        return proc.stdout.strip() if proc.returncode == 0 else "none"

    return {
        "python": platform.python_version(),  # the host's .venv; helpers.infra.matrix names an engine's own Python
        "server": out("version", "--format", "{{.Server.Version}}"),
        "cli": out("version", "--format", "{{.Client.Version}}"),
        "buildx": out("buildx", "version").split(" ")[1] if out("buildx", "version") != "none" else "none",
        "compose": out("compose", "version", "--short"),
        "cli_path": cli,
        "store": f"{engine.store} image store ({out('info', '--format', '{{.Driver}}')})",
    }


def record_time(engine: Engine, step: str, seconds: float) -> None:
    """Keep how long a step took in ``build/engines/<name>/timings.json`` (read into docs/compat.json)."""
    path = engine.folder / "timings.json"
    timings = json.loads(path.read_text()) if path.is_file() else {}
    timings[step] = round(seconds, 1)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(timings, indent=1) + "\n")


def sandbox_argv(engine: Engine, argv: list[str], *, as_host: bool = False) -> list[str]:
    """``argv`` run as on the engine's own host: in the engine container's network and PID namespaces,
    with a private mount namespace whose ``/proc`` shows those PIDs and whose ``/var/lib/docker``
    (Podman: ``/var/lib/containers``) is the engine's data root (the volume).

    So published ports answer on 127.0.0.1, ``State.Pid`` names a process in ``/proc``, and the paths
    the engine reports (``GraphDriver.Data.UpperDir``, ``LogPath``) exist, as for a learner on that
    engine. The host daemon, which keeps its own files there, never sees this mount.
    """
    pid = host("inspect", "--format", "{{.State.Pid}}", engine.container)
    if not pid or pid == "0":
        raise EngineError(f"{engine.container} is not running: `python -m helpers.infra.engines start {engine.name}`")
    if os.geteuid() != 0:
        raise EngineError("running against an engine needs root (nsenter into the engine container's namespaces)")
    data = host("volume", "inspect", "--format", "{{.Mountpoint}}", engine.volume)
    script = f'mkdir -p {engine.data_root} && mount --bind "$0" {engine.data_root}'
    if as_host:  # the engine's socket and CLI where a learner's are: what the course prints names no build folder
        cli = engine.folder / "bin" / "docker"
        script += f" && mount --bind {engine.socket} {DEFAULT_SOCKET} && mount --bind {cli} {DEFAULT_CLI}"
    return [
        "nsenter", f"--net=/proc/{pid}/ns/net", f"--pid=/proc/{pid}/ns/pid", "--",
        "unshare", "--mount", "--propagation", "private", "--mount-proc", "--",
        "sh", "-c", f'{script} && exec "$@"', data, *argv,
    ]  # fmt: skip


DEFAULT_SOCKET = "/var/run/docker.sock"
DEFAULT_CLI = "/usr/bin/docker"
"""Where Debian's docker.io puts the daemon's socket and the CLI (``run --as-host`` mounts the engine's there)."""


def run(engine: Engine, argv: list[str], *, step: str | None = None, as_host: bool = False) -> int:
    """Run ``argv`` against the inner daemon (its env, its namespaces: :func:`sandbox_argv`); its exit code.

    ``step``: record how long it took under that name (``nbval``, ``solutions``). ``as_host``: the engine's
    socket and CLI at their usual paths (``make outputs`` records so), found there as on a learner's machine.
    """
    _, env = inner(engine)
    if as_host:  # the socket found where it usually is; the CLI named by its usual path (another may come first)
        env.pop("DOCKER_HOST", None)
        env.update(DMAC_DOCKER_CLI=DEFAULT_CLI, PATH=os.environ.get("PATH", ""))
    begin = time.monotonic()
    code = subprocess.run(sandbox_argv(engine, argv, as_host=as_host), env=env).returncode
    if step:
        record_time(engine, step, time.monotonic() - begin)
    return code


def main(argv: list[str] | None = None) -> int:

    parser = argparse.ArgumentParser(
        prog="python -m helpers.infra.engines",
        description="Docker Engines 26 and 28 and Podman 5, each in a container.",
    )
    sub = parser.add_subparsers(dest="command", required=True)
    for command, text in [
        ("build", "bootstrap the rootfs (once), build the engine image, extract its CLI"),
        ("start", "start the engine (or reuse it), load the base images, print its environment"),
        ("stop", "stop and remove the engine container (the data volume stays unless --purge)"),
        ("env", "print export lines that point docker and the course at the engine"),
        ("run", "run a command against the engine, as on its own host: run ENGINE -- CMD ..."),
    ]:
        one = sub.add_parser(command, help=text)
        one.add_argument("engine", choices=sorted(ENGINES))
        if command == "build":
            one.add_argument("--cold", action="store_true", help="bootstrap again and build without cache")
        if command == "stop":
            one.add_argument("--purge", action="store_true", help="also remove the data volume")
        if command == "run":
            one.add_argument("--time", metavar="STEP", help="record how long the command took as STEP")
            one.add_argument(
                "--as-host", action="store_true", help=f"the engine's socket and CLI at {DEFAULT_SOCKET}, {DEFAULT_CLI}"
            )
            one.add_argument("argv", nargs=argparse.REMAINDER)
    opts = parser.parse_args(argv)
    engine = get(opts.engine)
    try:
        if opts.command == "build":
            build(engine, cold=opts.cold)
        elif opts.command == "start":
            start(engine)
        elif opts.command == "stop":
            stop(engine, purge=opts.purge)
        elif opts.command == "env":
            print(env_lines(engine))
        else:
            command = opts.argv[1:] if opts.argv[:1] == ["--"] else opts.argv
            if not command:
                parser.error("run needs a command: run ENGINE -- CMD ...")
            return run(engine, command, step=opts.time, as_host=opts.as_host)
    except EngineError as exc:
        print(f"✗ {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
