"""The instructor's offline bundle: images, Python wheels and Debian packages in one archive.

    python -m helpers.bundle save build/dmac-bundle.tar   # make bundle (on a machine with network)
    python -m helpers.bundle load build/dmac-bundle.tar   # make load-bundle BUNDLE=… (in the room)

Images are saved with ``docker save`` (base images and every image of the namespace, which carry
BuildKit's inline cache, so the notebooks' builds hit the cache with no network); wheels of the
versions uv.lock pins (``pip wheel``); the Docker Engine packages with ``apt-get download`` where apt exists.
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

from . import course
from .daemon import client
from .images import BASE_IMAGES

DEBS = ["docker.io", "containerd", "runc", "tini", "debootstrap", "busybox-static", "iptables"]


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


def save(target: Path, *, wheels: bool = True, debs: bool = True, images: list[str] | None = None) -> Path:
    """Write the bundle archive ``target``; returns it."""
    refs = images if images is not None else course_images()
    with tempfile.TemporaryDirectory(prefix="dmac-bundle-") as tmp:
        root = Path(tmp)
        _say(f"saving {len(refs)} image(s): {', '.join(refs)}")
        subprocess.run(["docker", "save", "-o", str(root / "images.tar"), *refs], check=True, timeout=1800)
        (root / "images.txt").write_text("\n".join(refs) + "\n")
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
            for own in (root / "wheels").glob("dmac_containers-*"):
                own.unlink()
        if debs and shutil.which("apt-get"):
            _say("downloading Debian's Docker Engine packages")
            (root / "debs").mkdir()
            result = subprocess.run(
                ["apt-get", "download", *DEBS], cwd=root / "debs", capture_output=True, text=True, timeout=900
            )
            if result.returncode != 0:
                _say("could not download the Debian packages (the bundle has images and wheels only)")
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
            subprocess.run(["dpkg", "-i", *map(str, debs)], check=True, timeout=900)
        if (root / "images.tar").exists():
            from .setup import ensure_daemon

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
    opts = parser.parse_args(argv)
    if opts.action == "save":
        save(opts.bundle, wheels=not opts.no_wheels, debs=not opts.no_debs)
    else:
        load(opts.bundle, venv=opts.venv)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
