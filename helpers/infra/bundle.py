"""The instructor's offline bundle: images, Python wheels and Debian packages in one archive.

    python -m helpers.infra.bundle save build/dmac-bundle.tar   # make bundle (on a machine with network)
    python -m helpers.infra.bundle load build/dmac-bundle.tar   # make load-bundle BUNDLE=… (in the room)

Images are saved with ``docker save`` (base images and every image of the namespace, which carry
BuildKit's inline cache, so the notebooks' builds hit the cache with no network); wheels of the
versions uv.lock pins (``pip wheel``); the Docker Engine packages with ``apt-get download`` where apt exists;
the room registry's data when ``make room-registry`` ran here (``helpers.infra.room``).
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

from ..core import course
from ..core.daemon import client
from ..core.images import BASE_IMAGES
from ..core.shell import CommandFailed
from . import room
from .setup import ensure_daemon

DEBS = [
    "docker.io", "containerd", "runc", "tini", "debootstrap", "busybox-static", "iptables", "python3", "python3-venv",
]  # fmt: skip
"""What a room machine needs from Debian; the bundle carries them with every dependency a minimal Debian 12 lacks."""

BASE = "debian:bookworm-slim"
"""The minimal Debian 12 the closure is computed against (the course's own, made by debootstrap)."""


def _say(message: str) -> None:
    print(f"[bundle] {message}", flush=True)


def _export_lock(target: Path) -> Path:
    """uv.lock as a requirements file (the test tools included): the bundle's wheels are the locked versions."""
    uv = course.ROOT / ".uv" / "bin" / "uv"  # bootstrapped by `make env`
    subprocess.run(
        [
            str(uv),
            "export",
            "--locked",
            "--no-emit-project",
            "--extra",
            "test",
            "--no-hashes",
            "--quiet",
            "--output-file",
            str(target),
        ],
        cwd=course.ROOT,
        check=True,
        timeout=300,
        env=dict(os.environ, UV_SYSTEM_CERTS="1"),
    )
    return target


def course_images(ns: str | None = None) -> list[str]:
    """Tags of the base images and of every image in the namespace, sorted."""
    tags = set(BASE_IMAGES)
    for img in client().images.list(filters={"label": course.label_filter(ns)}):
        tags.update(img.tags)
    return sorted(tags)


def download_debs(folder: Path) -> int:
    """Fetch :data:`DEBS` with their whole dependency closure, as apt resolves it on the course's minimal
    Debian 12 (``debian:bookworm-slim``, made by debootstrap), into ``folder`` as a flat apt repository
    (the .deb files and their ``Packages`` index): a container with network downloads them, and
    :data:`INSTALL_DEBS` installs from them with no network (proved by helpers.infra.bundle_check)."""
    labels = [arg for key, value in course.labels().items() for arg in ("--label", f"{key}={value}")]
    script = (
        "apt-get update -qq && apt-get install -y -qq --download-only --no-install-recommends "
        + " ".join(DEBS)
        + " > /dev/null && cd /var/cache/apt/archives && for f in *.deb; do cp $f /out/; dpkg-deb -f $f;"
        + ' printf "Filename: ./%s\nSize: %s\nSHA256: %s\n\n" $f $(stat -c %s $f) $(sha256sum $f | cut -c1-64);'
        + " done > /out/Packages"
    )
    result = subprocess.run(
        ["docker", "run", "--rm", *labels, "-v", f"{folder.resolve()}:/out", BASE, "sh", "-c", script],
        capture_output=True, text=True, timeout=900,
    )  # fmt: skip
    if result.returncode != 0:
        raise RuntimeError(f"downloading the Debian packages failed: {result.stderr.strip()[-800:]}")
    return len(list(folder.glob("*.deb")))


def wheels_for_debian(folder: Path, requirements: Path) -> None:
    """Add to ``folder`` the locked wheels as Debian 12's own ``python3`` resolves them (in a container
    of the course's minimal Debian with network; the host's CA bundle given to pip for a TLS proxy)."""
    labels = [arg for key, value in course.labels().items() for arg in ("--label", f"{key}={value}")]
    ca = Path(os.environ.get("PIP_CERT") or "/etc/ssl/certs/ca-certificates.crt")
    mounts = ["-v", f"{folder.resolve()}:/out", "-v", f"{requirements.resolve()}:/requirements.txt:ro"]
    if ca.is_file():
        mounts += ["-v", f"{ca.resolve()}:/ca.crt:ro", "-e", "PIP_CERT=/ca.crt"]
    script = (
        "apt-get update -qq && apt-get install -y -qq --no-install-recommends python3-venv > /dev/null"
        " && python3 -m venv /v && /v/bin/pip wheel --quiet --disable-pip-version-check -w /out"
        " -r /requirements.txt 'setuptools>=64' wheel"
    )
    argv = ["docker", "run", "--rm", *labels, *mounts, BASE, "sh", "-c", script]
    result = subprocess.run(argv, capture_output=True, text=True, timeout=1800)
    if result.returncode != 0:
        raise RuntimeError(f"collecting wheels for Debian's Python failed: {result.stderr.strip()[-800:]}")


# Install DEBS from a bundle's flat repository ($1: its folder) with apt, which orders pre-dependencies
# (dpkg -i of the lot does not), and with that folder as apt's only source, so nothing is fetched.
INSTALL_DEBS = f"""
set -e
src=$(mktemp -d)
echo "deb [trusted=yes] file:$1 ./" > "$src/bundle.list"
only="-o Dir::Etc::SourceList=$src/bundle.list -o Dir::Etc::SourceParts=$src"
apt-get $only -qq update
DEBIAN_FRONTEND=noninteractive apt-get $only install -y -qq --no-install-recommends {" ".join(DEBS)}
"""


def save(
    target: Path,
    *,
    wheels: bool = True,
    debs: bool = True,
    images: list[str] | None = None,
    registry_data: bool | None = None,
) -> Path:
    """Write the bundle archive ``target``; returns it.

    ``registry_data``: the room registry's data (``make room-registry`` ran here), so that a room machine serves
    it with ``python -m helpers.infra.room start --from-bundle``; None: when there is some.
    """
    refs = images if images is not None else course_images()
    with tempfile.TemporaryDirectory(prefix="dmac-bundle-") as tmp:
        root = Path(tmp)
        _say(f"saving {len(refs)} image(s): {', '.join(refs)}")
        subprocess.run(["docker", "save", "-o", str(root / "images.tar"), *refs], check=True, timeout=1800)
        (root / "images.txt").write_text("\n".join(refs) + "\n")
        if registry_data is not False:

            try:
                room.export_data(root / room.DATA_IN_BUNDLE)
                _say(f"the room registry's data ({room.DATA_IN_BUNDLE}), for `make room-registry FROM_BUNDLE=…`")
            except CommandFailed:
                if registry_data:
                    raise
                _say("no room registry data here (make room-registry first to ship it): left out")
        if wheels:
            _say("collecting the Python wheels of the environment (sdists are built into wheels)")
            # `pip wheel`, not `pip download`: a package published only as an sdist is built here, where
            # its build tools can be fetched; the course's own build backend comes along too
            locked = _export_lock(root / "requirements.txt")
            subprocess.run(
                [
                    sys.executable,
                    "-m",
                    "pip",
                    "wheel",
                    "--quiet",
                    "-w",
                    str(root / "wheels"),
                    "-r",
                    str(locked),
                    f"{course.ROOT}[test]",
                    "setuptools>=64",
                    "wheel",
                ],
                check=True,
                timeout=1800,
            )
            if debs:  # the room's Debian 12 Python (3.11.2) takes other versions where the lock forks on it
                wheels_for_debian(root / "wheels", locked)
            for own in (root / "wheels").glob("dmac_containers-*"):
                own.unlink()
        if debs:
            (root / "debs").mkdir()
            count = download_debs(root / "debs")
            _say(f"{count} Debian packages: {', '.join(DEBS)} and everything they need on a minimal Debian 12")
        target.parent.mkdir(parents=True, exist_ok=True)
        with tarfile.open(target, "w") as tar:
            for entry in sorted(root.iterdir()):
                tar.add(entry, arcname=entry.name)
    _say(f"wrote {target} ({target.stat().st_size / 1e6:.0f} MB)")
    return target


def load(bundle: Path, *, venv: Path | None = None) -> list[str]:
    """Load a bundle: Debian packages (root, no daemon yet), the images, then wheels into ``venv``."""
    with tempfile.TemporaryDirectory(prefix="dmac-bundle-") as tmp:
        root = Path(tmp)
        with tarfile.open(bundle) as tar:
            tar.extractall(root, filter="data")
        debs = sorted((root / "debs").glob("*.deb")) if (root / "debs").is_dir() else []
        if debs and os.geteuid() == 0 and not shutil.which("dockerd"):
            _say(f"installing {len(debs)} Debian package(s)")
            subprocess.run(["sh", "-c", INSTALL_DEBS, "install-debs", str(root / "debs")], check=True, timeout=900)
        if (root / "images.tar").exists():

            ensure_daemon()
            _say("loading the images")
            subprocess.run(["docker", "load", "-q", "-i", str(root / "images.tar")], check=True, timeout=1800)
        if venv is not None and (root / "wheels").is_dir():
            _say(f"installing the Python environment into {venv} from the bundled wheels")
            if not (venv / "bin" / "python").exists():
                subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
            subprocess.run(
                [
                    str(venv / "bin" / "python"),
                    "-m",
                    "pip",
                    "install",
                    "--quiet",
                    "--no-index",
                    "--find-links",
                    str(root / "wheels"),
                    *(["-r", str(root / "requirements.txt")] if (root / "requirements.txt").exists() else []),
                    "-e",
                    f"{course.ROOT}[test]",
                ],
                check=True,
            )
            (venv / ".installed").touch()
        refs = (root / "images.txt").read_text().split() if (root / "images.txt").exists() else []
    _say(f"loaded {len(refs)} image(s)")
    return refs


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Save or load the course's offline bundle.")
    parser.add_argument("action", choices=["save", "load"])
    parser.add_argument("bundle", type=Path)
    parser.add_argument("--venv", type=Path, default=course.ROOT / ".venv", help="environment to install wheels into")
    parser.add_argument("--no-wheels", action="store_true")
    parser.add_argument("--no-debs", action="store_true")
    parser.add_argument("--no-registry", action="store_true", help="leave out the room registry's data")
    opts = parser.parse_args(argv)
    if opts.action == "save":
        registry_data = False if opts.no_registry else None
        save(opts.bundle, wheels=not opts.no_wheels, debs=not opts.no_debs, registry_data=registry_data)
    else:
        load(opts.bundle, venv=opts.venv)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
