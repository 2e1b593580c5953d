"""Base images (pulled, or bootstrapped offline from Debian packages) and labelled builds."""

from __future__ import annotations

import os
import platform
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from . import course, engine, imagetar
from .daemon import client, past_lost_snapshots
from .engine import capabilities
from .shell import CommandFailed, Result, buildkit, cli, docker, docker_out

if TYPE_CHECKING:
    from .engine import Capabilities

DEBIAN_MIRROR = os.environ.get("DMAC_DEBIAN_MIRROR", "http://deb.debian.org/debian")
PULL_TIMEOUT = 20.0

# name -> how to make it when no registry answers
BASE_IMAGES = {
    "debian:bookworm-slim": "debootstrap",
    "busybox:latest": "busybox-static",
}

# Trimmed from the bootstrapped Debian, as the official slim image does.
_TRIM = [
    "var/cache/apt/archives",
    "var/lib/apt/lists",
    "usr/share/doc",
    "usr/share/man",
    "usr/share/info",
    "usr/share/locale",
    "usr/share/common-licenses",
]


_DOCKER_CLEAN = (
    'DPkg::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb '
    '/var/cache/apt/*.bin || true"; };\n'
    'APT::Update::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb '
    '/var/cache/apt/*.bin || true"; };\n'
    'Dir::Cache::pkgcache "";\nDir::Cache::srcpkgcache "";\n'
)


def _progress(message: str) -> None:
    print(f"  … {message}", file=sys.stderr, flush=True)


def exists(ref: str) -> bool:
    """True if the daemon has an image called ``ref``."""
    import docker as sdk  # deferred: the Docker SDK is slow to import

    try:
        client().images.get(ref)
    except sdk.errors.NotFound:  # Podman's 404 text is not "No such image": no ImageNotFound
        return False
    return True


def registry_reachable(ref: str = "busybox:latest", timeout: float = 8.0) -> bool:
    """Ask the daemon whether it can reach the registry for ``ref`` (no image is pulled)."""
    try:
        result = subprocess.run([cli().path, "manifest", "inspect", ref], capture_output=True, timeout=timeout)
    except (OSError, subprocess.TimeoutExpired):
        return False
    if result.returncode == 0:
        return True
    try:  # the CLI may lack `manifest`: ask the daemon's distribution endpoint instead
        client().api.inspect_distribution(ref)
    except Exception:
        return False
    return True


def pull(ref: str, timeout: float = PULL_TIMEOUT) -> bool:
    """Try to pull ``ref`` within ``timeout`` seconds; False (not an error) when offline."""
    try:
        result = subprocess.run([cli().path, "pull", "-q", ref], capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return False
    return result.returncode == 0


def _arch() -> str:
    return {"x86_64": "amd64", "aarch64": "arm64", "armv7l": "armhf"}.get(platform.machine(), platform.machine())


def need_root(tool: str) -> None:
    if os.geteuid() != 0:
        raise CommandFailed(
            f"No registry answers, so the base images must be made locally with {tool}, which needs root.\n"
            + root_advice()
        )


def root_advice(caps: Capabilities | None = None) -> str:
    """How to get root's help: plain ``sudo make images``, unless that would fill another daemon than yours."""

    if not (caps or capabilities()).rootless:
        return "Run `sudo make images` once (or load the instructor's offline bundle: `make load-bundle`)."
    refs = " ".join(BASE_IMAGES)
    return (
        "Your Docker daemon is rootless: `sudo make images` would not reach it (sudo drops DOCKER_HOST) and would "
        "fill root's daemon instead. Have them made there and copy them into yours:\n"
        f"  sudo make images && sudo docker save {refs} | docker load\n"
        "(or load the instructor's offline bundle: `make load-bundle`)."
    )


def _ensure_tool(binary: str, package: str) -> str:
    path = shutil.which(binary) or shutil.which(binary, path="/usr/sbin:/sbin:/bin:/usr/bin")
    if path:
        return path
    need_root(package)
    if not shutil.which("apt-get"):
        raise CommandFailed(f"`{binary}` is missing and this is not a Debian/Ubuntu system: install `{package}`.")
    _progress(f"installing {package} (apt-get)")
    subprocess.run(["apt-get", "install", "-y", "-qq", package], check=True, capture_output=True, timeout=600)
    return shutil.which(binary, path="/usr/sbin:/sbin:/bin:/usr/bin") or binary


def _import(rootfs: Path, ref: str, how: str, cmd: str, labels: dict[str, str] | None = None) -> None:
    changes = [
        f'LABEL {course.BASE_LABEL}="{how}"',
        f'LABEL org.dmac-course.note="bootstrapped locally from Debian packages ({how})"',
        *(f'LABEL {key}="{value}"' for key, value in (labels or {}).items()),
        f"CMD {cmd}",
    ]
    args = [cli().path, "import"]
    for change in changes:
        args += ["--change", change]
    with tempfile.TemporaryFile() as tar_file:
        with tarfile.open(fileobj=tar_file, mode="w") as tar:
            for entry in sorted(rootfs.iterdir()):
                tar.add(entry, arcname=entry.name)
        tar_file.seek(0)
        subprocess.run([*args, "-", ref], stdin=tar_file, check=True, capture_output=True, timeout=300)


def bootstrap_debian(ref: str = "debian:bookworm-slim") -> None:
    """Make ``debian:bookworm-slim`` with debootstrap (minbase), trimmed like the official slim."""
    bootstrap_suite("bookworm", ref)


def bootstrap_suite(suite: str, ref: str, labels: dict[str, str] | None = None) -> None:
    """Import a minbase Debian ``suite`` (bookworm, trixie, sid) made with debootstrap as ``ref``."""
    need_root("debootstrap")
    debootstrap = _ensure_tool("debootstrap", "debootstrap")
    with tempfile.TemporaryDirectory(prefix="dmac-debian-") as tmp:
        rootfs = Path(tmp) / "rootfs"
        _progress(f"debootstrap {suite} for {_arch()} from {DEBIAN_MIRROR} (about 30 s)")
        start = time.monotonic()
        proc = subprocess.Popen(
            [debootstrap, "--variant=minbase", f"--arch={_arch()}", suite, str(rootfs), DEBIAN_MIRROR],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        assert proc.stdout is not None
        phase, count = "", 0
        for line in proc.stdout:  # one progress line per debootstrap phase, not per package
            words = line[3:].split()
            if line.startswith("I: ") and words and words[0] != phase:
                if phase and count:
                    _progress(f"{phase.lower()} {count} packages")
                phase, count = words[0], 0
            count += 1
        if proc.wait(timeout=900) != 0:
            raise CommandFailed(
                "debootstrap failed: is the Debian mirror reachable? Set DMAC_DEBIAN_MIRROR to a mirror you can reach."
            )
        for rel in _TRIM:
            target = rootfs / rel
            if target.is_dir():
                for child in target.iterdir():
                    if child.is_dir() and not child.is_symlink():
                        shutil.rmtree(child)
                    elif child.name != "lock":
                        child.unlink()
        # as in the official image: apt deletes what it downloaded and its caches after each run
        (rootfs / "etc/apt/apt.conf.d/docker-clean").write_text(_DOCKER_CLEAN)
        _progress(f"debootstrap done in {time.monotonic() - start:.0f} s; importing as {ref}")
        _import(rootfs, ref, "debootstrap", '["bash"]', labels)


def _is_static(binary: Path) -> bool:
    if not binary.exists():
        return False
    try:
        return subprocess.run(["ldd", str(binary)], capture_output=True, timeout=10).returncode != 0
    except (OSError, subprocess.TimeoutExpired):
        return False


def bootstrap_busybox(ref: str = "busybox:latest") -> None:
    """Make a tiny ``busybox`` image from Debian's statically linked busybox binary."""
    binary = Path("/bin/busybox")
    if not _is_static(binary):
        need_root("busybox-static")
        _ensure_tool("apt-get", "apt")
        _progress("installing busybox-static (apt-get)")
        subprocess.run(
            ["apt-get", "install", "-y", "-qq", "busybox-static"], check=True, capture_output=True, timeout=600
        )
        if not _is_static(binary):
            raise CommandFailed("/bin/busybox is not statically linked: install Debian's busybox-static package.")
    with tempfile.TemporaryDirectory(prefix="dmac-busybox-") as tmp:
        rootfs = Path(tmp)
        for folder in ("bin", "etc", "tmp", "root", "home", "var", "proc", "sys", "dev"):
            (rootfs / folder).mkdir()
        (rootfs / "tmp").chmod(0o1777)
        shutil.copy2(binary, rootfs / "bin/busybox")
        applets = subprocess.run([str(binary), "--list"], capture_output=True, text=True, check=True).stdout.split()
        for applet in applets:
            if applet != "busybox":
                (rootfs / "bin" / applet).symlink_to("busybox")
        (rootfs / "etc/passwd").write_text(
            "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/home:/bin/false\n"
        )
        (rootfs / "etc/group").write_text("root:x:0:\nnogroup:x:65534:\n")
        _progress(f"importing busybox ({len(applets)} applets) as {ref}")
        _import(rootfs, ref, "busybox-static", '["sh"]')


def ensure_base_images(*, allow_pull: bool = True) -> dict[str, str]:
    """Make sure every base image exists. Returns ``{name: "present"|"pulled"|"bootstrapped"}``.

    Idempotent: images already present are left alone and the call returns at once.
    """
    status: dict[str, str] = {}
    missing = [ref for ref in BASE_IMAGES if not exists(ref)]
    for ref in BASE_IMAGES:
        if ref not in missing:
            status[ref] = "present"
    online = bool(missing) and allow_pull and registry_reachable()
    for ref in missing:
        if online:
            _progress(f"pulling {ref}")
            if pull(ref):
                status[ref] = "pulled"
                continue
        _progress(f"no registry answers: bootstrapping {ref} from Debian packages")
        {"debootstrap": bootstrap_debian, "busybox-static": bootstrap_busybox}[BASE_IMAGES[ref]](ref)
        status[ref] = "bootstrapped"
    return status


def origin(ref: str) -> str:
    """How a base image came to be: its bootstrap label, or "registry"."""
    labels = client().images.get(ref).labels or {}
    return labels.get(course.BASE_LABEL, "registry")


# ---------------------------------------------------------------- builds


def context(name: str, files: Mapping[str, str | bytes]) -> Path:
    """Write a fresh build context ``build/<ns>/contexts/<name>/`` from ``{relative path: content}``."""
    folder = course.workdir("contexts", name)
    for child in folder.iterdir():
        shutil.rmtree(child) if child.is_dir() else child.unlink()
    for rel, content in files.items():
        target = folder / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            target.write_bytes(content)
        else:
            target.write_text(content.lstrip("\n") if rel.endswith("Dockerfile") else content)
    return folder


def ca_bundle() -> Path | None:
    """The CA bundle the host trusts for HTTPS (set when a TLS-intercepting proxy is in the way)."""
    for var in ("DMAC_CA_BUNDLE", "PIP_CERT", "REQUESTS_CA_BUNDLE", "SSL_CERT_FILE", "CURL_CA_BUNDLE"):
        value = os.environ.get(var)
        if value and Path(value).is_file():
            return Path(value)
    default = Path("/etc/ssl/certs/ca-certificates.crt")
    return default if default.is_file() else None


LOST_SNAPSHOT = re.compile(r"(parent |lower )?snapshot \S+ does not exist: not found|snapshot \S+: already exists")
"""A race of BuildKit on the containerd image store (Docker 29, Docker Desktop): two builds at once on one daemon,
and one fails to unpack or export a layer whose snapshot the other holds. The same build succeeds when run again."""
LOST_SNAPSHOT_BUG = "github.com/moby/buildkit/issues/6521"


def build(
    tag: str,
    path: Path | str,
    *args: str,
    show: bool | str = "progress",
    ca_secret: bool = False,
    timeout: float = 900,
    **kwargs,
) -> Result:
    """``docker build -t <tag> [args] <path>`` with the course label; live log on stderr.

    ``ca_secret``: hand the host's CA bundle to the build as BuildKit secret ``ca``
    (``RUN --mount=type=secret,id=ca ...``), never copied into a layer.
    """
    extra: list[str] = []
    if ca_secret:
        bundle = ca_bundle()
        if bundle is None or not buildkit():
            raise CommandFailed("Build secrets need BuildKit and a CA bundle; neither is available here.")
        extra = ["--secret", f"id=ca,src={bundle}"]
    rel = os.path.relpath(path) if Path(path).is_absolute() else str(path)
    cache: list[str] = ["--no-cache"] if os.environ.get("DMAC_NO_CACHE") == "1" else []  # cold benchmark
    if buildkit() and not cache:  # cache metadata in the image: a loaded offline bundle rebuilds from it
        cache = ["--build-arg", "BUILDKIT_INLINE_CACHE=1", *(["--cache-from", tag] if exists(tag) else [])]
    argv = ["build", "-t", tag, *cache, *extra, *args, rel]
    try:
        result = docker(*argv, show=show, timeout=timeout, **kwargs)
    except CommandFailed as exc:
        if exc.result is None or not LOST_SNAPSHOT.search(exc.result.output):
            raise
        result = exc.result
    if not result.ok and not kwargs.get("expect_error") and LOST_SNAPSHOT.search(result.output):
        print(f"↻ the image store lost a snapshot to a build running beside this one ({LOST_SNAPSHOT_BUG}): "
              "the same build again")  # fmt: skip
        result = docker(*argv, show=show, timeout=timeout, **kwargs)
    if show == "progress" and result.ok:
        print(f"✔ built {tag}")
    return result


def size_mb(ref: str) -> float:
    """An image's unpacked size in MB (10^6 bytes): :func:`disk_bytes`."""
    return disk_bytes(ref) / 1e6


def disk_bytes(ref: str) -> int:
    """What an image's files take once unpacked, as its image store counts them.

    The classic store: ``Size`` (its layers' file sizes; what ``docker images`` shows). The containerd store
    (Docker Desktop, Engine 29) counts the unpacked snapshots in disk blocks, a little more for images of many
    small files (debian:bookworm-slim: 84 MB against 74), and ``docker images`` there adds the image's content
    (its layers as pulled, often gzip): that total is no image's size, so it is left out here.
    """

    attrs = client().images.get(ref).attrs
    if engine.capabilities().image_store != "containerd":
        return int(attrs["Size"])
    api = client().api
    url = api._url("/images/json")
    rows = past_lost_snapshots(lambda: api._result(api._get(url, params={"manifests": 1}), json=True))
    for row in rows:
        if row["Id"] == attrs["Id"]:
            unpacked = [m.get("ImageData", {}).get("Size", {}).get("Unpacked") for m in row.get("Manifests") or []]
            found = [n for n in unpacked if n]
            if found:
                return int(found[0])
    return int(attrs["Size"])


def magnitude(size_bytes: float) -> str:
    """A size as its order of magnitude (``a few MB``, ``tens of MB``…): the same words on both image stores,
    which count the same files a little differently (:func:`disk_bytes`)."""
    mb = size_bytes / 1e6
    for limit, words in ((1, "less than 1 MB"), (10, "a few MB"), (100, "tens of MB"), (1000, "hundreds of MB")):
        if mb < limit:
            return words
    return "GBs"


def archive_layers(path: str | os.PathLike[str]) -> int:
    """How many layers a ``docker save`` archive holds, in either layout (:mod:`helpers.core.imagetar`: the classic
    store's plain tars, or the containerd store's OCI layout with gzip blobs)."""

    with imagetar.open_archive(path) as saved:
        return len(saved.layer_names)


def image_id(ref: str) -> str:
    """The short id of an image."""
    return docker_out("image", "inspect", "--format", "{{.Id}}", ref).split(":")[-1][:12]
