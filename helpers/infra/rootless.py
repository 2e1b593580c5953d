"""Rootless Docker for a course user: a non-root user's own ``dockerd-rootless.sh``, and the course run as them.

Run as root (it installs packages and creates the user)::

    python -m helpers.infra.rootless start     # packages, user dmac-learner, its daemon, the base images
    python -m helpers.infra.rootless env       # export lines for that daemon (DOCKER_HOST, XDG_RUNTIME_DIR)
    python -m helpers.infra.rootless run -- CMD ...   # CMD as that user, in their own checkout, on their daemon
    python -m helpers.infra.rootless_matrix matrix   # all of it, then every notebook as that user
    python -m helpers.infra.rootless stop

What it needs is Debian's: ``docker.io`` ships ``dockerd-rootless.sh``; ``rootlesskit``, ``slirp4netns``
and ``uidmap`` (``newuidmap``) are installed when missing. The user gets subordinate uid/gid ranges in
``/etc/subuid`` and ``/etc/subgid``, a runtime folder ``/run/user/<uid>`` (what a login session would
give), and ``/dev/net/tun`` must be usable by them (mode 0666, the usual one). The daemon's data lives
in the user's home (``~/.local/share/docker``; on the hub, a disk of its own: :mod:`helpers.infra.disks`), its log
in ``/var/log/dmac-course/dockerd-rootless.log``.
The course runs from the user's own clone of this checkout (``~/course``), with its own ``.venv``.
"""

from __future__ import annotations

import argparse
import json
import os
import pwd
import re
import shlex
import shutil
import signal
import stat
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from ..core import course, procs, wait
from ..core.cli import cli
from ..core.daemon import DaemonUnavailable, probe
from ..core.errors import RootlessError
from ..core.images import BASE_IMAGES
from . import netns

USER = os.environ.get("DMAC_ROOTLESS_USER", "dmac-learner")
PACKAGES = ("rootlesskit", "slirp4netns", "uidmap")
SCRIPT = Path("/usr/share/docker.io/contrib/dockerd-rootless.sh")  # Debian's docker.io
STATE_DIR = Path(os.environ.get("DMAC_STATE_DIR", "/var/lib/dmac-course"))
LOG = Path("/var/log/dmac-course/dockerd-rootless.log")
START_TIMEOUT = 60.0
SUBID_COUNT = 65536
# What the user's processes inherit from root's environment: the proxy's CA bundle, pip's and uv's settings.
PASSED = (
    "PIP_",
    "UV_",
    "SSL_CERT",
    "REQUESTS_CA_BUNDLE",
    "CURL_CA_BUNDLE",
    "GIT_SSL_CAINFO",
    "DMAC_DEBIAN_MIRROR",
    "LANG",
)


@dataclass(frozen=True)
class Learner:
    """The course user and where their daemon and checkout live."""

    name: str
    uid: int
    gid: int
    home: Path

    @property
    def runtime_dir(self) -> Path:
        return Path(f"/run/user/{self.uid}")

    @property
    def socket(self) -> Path:
        return self.runtime_dir / "docker.sock"

    @property
    def host(self) -> str:
        return f"unix://{self.socket}"

    @property
    def checkout(self) -> Path:
        return self.home / "course"

    @property
    def log(self) -> Path:
        """The daemon's log: one file per user, so several users' daemons never share one."""
        return LOG if self.name == USER else LOG.with_name(f"dockerd-rootless-{self.name}.log")


def _say(message: str) -> None:
    print(f"[rootless] {message}", file=sys.stderr, flush=True)


def need_root() -> None:
    if os.geteuid() != 0:
        raise RootlessError("this sets up a course user and their daemon: run it as root (sudo)")


def learner(name: str = USER) -> Learner:
    entry = pwd.getpwnam(name)
    return Learner(name, entry.pw_uid, entry.pw_gid, Path(entry.pw_dir))


# ---------------------------------------------------------------- what the daemon needs (root)


def install_packages() -> list[str]:
    """Install the Debian packages rootless Docker needs; returns those that were missing."""
    missing = [p for p in PACKAGES if subprocess.run(["dpkg", "-s", p], capture_output=True).returncode != 0]
    if not SCRIPT.exists():
        missing.append("docker.io")
    if not missing:
        return []
    _say(f"installing {' '.join(missing)} (apt-get)")
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    argv = ["apt-get", "install", "-y", "-qq", "--no-install-recommends", *missing]
    if subprocess.run(argv, env=env, capture_output=True, timeout=900).returncode != 0:
        subprocess.run(["apt-get", "update", "-qq"], env=env, check=True, timeout=600)
        subprocess.run(argv, env=env, check=True, capture_output=True, timeout=900)
    return missing


def has_subids(path: Path, name: str) -> bool:
    try:
        return any(line.split(":")[0] == name for line in path.read_text().splitlines())
    except OSError:
        return False


def free_subid_start(*files: Path) -> int:
    """The first start above every range in ``files`` (ranges never overlap another user's)."""
    end = 100000
    for path in files:
        try:
            for line in path.read_text().splitlines():
                parts = line.split(":")
                if len(parts) == 3 and parts[1].isdigit() and parts[2].isdigit():
                    end = max(end, int(parts[1]) + int(parts[2]))
        except OSError:
            continue
    return end


def ensure_user(name: str = USER) -> Learner:
    """The course user with a home and subordinate uid/gid ranges (created when missing)."""
    try:
        pwd.getpwnam(name)
    except KeyError:
        _say(f"creating user {name}")
        subprocess.run(["useradd", "--create-home", "--shell", "/bin/bash", name], check=True, timeout=60)
    subuid, subgid = Path("/etc/subuid"), Path("/etc/subgid")
    for path, option in ((subuid, "--add-subuids"), (subgid, "--add-subgids")):
        if not has_subids(path, name):
            start = free_subid_start(subuid, subgid)
            subprocess.run(["usermod", option, f"{start}-{start + SUBID_COUNT - 1}", name], check=True, timeout=60)
    return learner(name)


def ensure_tun() -> None:
    """slirp4netns opens /dev/net/tun as the user: it must be readable and writable by all (0666)."""
    tun = Path("/dev/net/tun")
    if not tun.exists():
        raise RootlessError("/dev/net/tun is missing: the kernel's tun module is needed for slirp4netns")
    mode = stat.S_IMODE(tun.stat().st_mode)
    if mode & 0o006 != 0o006:
        _say("making /dev/net/tun usable by ordinary users (mode 0666, the usual one)")
        tun.chmod(mode | 0o666)


def ensure_runtime_dir(user: Learner) -> None:
    """``/run/user/<uid>`` owned by the user, mode 0700: what a login session (pam_systemd) provides."""
    folder = user.runtime_dir
    folder.mkdir(parents=True, exist_ok=True)
    os.chown(folder, user.uid, user.gid)
    folder.chmod(0o700)


_SECRET_NAME = re.compile(r"PASSWORD|TOKEN|SECRET|AUTH|USERNAME|KEYRING", re.I)
_CREDENTIALS_IN_URL = re.compile(r"://[^/@\s]+@")


def passed(environ: dict[str, str]) -> dict[str, str]:
    """What a learner inherits of root's environment: :data:`PASSED`, but no credential (a variable named like
    one, or a URL with a user or password in it: ``PIP_INDEX_URL=https://user:token@…``; finding F17)."""
    return {
        key: value
        for key, value in environ.items()
        if key.startswith(PASSED) and not _SECRET_NAME.search(key) and not _CREDENTIALS_IN_URL.search(value)
    }


def user_env(user: Learner) -> dict[str, str]:
    """A clean environment for the user's processes, pointed at their own daemon."""
    env = passed(dict(os.environ))
    env.update(
        HOME=str(user.home),
        USER=user.name,
        LOGNAME=user.name,
        SHELL="/bin/bash",
        XDG_RUNTIME_DIR=str(user.runtime_dir),
        PATH="/usr/local/bin:/usr/bin:/bin:/usr/local/sbin:/usr/sbin:/sbin",  # dockerd is in /usr/sbin
        DOCKER_HOST=user.host,
    )
    return env


def as_user(
    user: Learner, argv: list[str], *, cwd: Path | None = None, own_network: bool = False, **kwargs
) -> subprocess.Popen:
    """Start ``argv`` as the user (no supplementary groups), with :func:`user_env`. ``own_network``: in the user's
    network namespace (a workshop hub's learner: :mod:`helpers.infra.netns`), where root made one."""
    env = {**user_env(user), **kwargs.pop("env", {})}
    if own_network and netns.path(user.uid).exists():  # root enters it, nsenter then becomes the user
        return subprocess.Popen([*netns.nsenter(user.uid, user.gid), *argv], env=env, cwd=str(cwd or user.home),
                                **kwargs)  # fmt: skip
    return subprocess.Popen(
        argv, user=user.uid, group=user.gid, extra_groups=[], env=env, cwd=str(cwd or user.home), **kwargs
    )


def run_as(user: Learner, argv: list[str], *, cwd: Path | None = None, timeout: float = 3600, **kwargs) -> int:
    proc = as_user(user, argv, cwd=cwd, **kwargs)
    try:
        return proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
        raise RootlessError(f"`{shlex.join(argv[:3])} ...` did not finish within {timeout:.0f} s") from None


# ---------------------------------------------------------------- the daemon


def _state_file(user: Learner) -> Path:
    return STATE_DIR / f"rootless-{user.name}.json"


def state(user: Learner) -> dict | None:
    try:
        return json.loads(_state_file(user).read_text())
    except (OSError, ValueError):
        return None


def answers(user: Learner, timeout: float = 2.0) -> bool:

    try:
        probe(user.host, timeout)
    except DaemonUnavailable:
        return False
    return True


def start_daemon(
    user: Learner, confine: Callable[[int], None] | None = None, config: Path | None = None, own_network: bool = False
) -> dict:
    """Start ``dockerd-rootless.sh`` as the user (or reuse theirs if it answers); wait until it answers.

    ``confine(pid)`` (root) runs before the script starts: the process waits on a gate until then, so
    every process of the daemon's tree is born where ``confine`` put it (a cgroup of the user's own).
    ``config``: a daemon configuration file of root's (``--config-file``) instead of the user's own
    ``~/.config/docker/daemon.json``, whose ``data-root`` could move the daemon's data off its disk.
    ``own_network``: in the user's network namespace (:func:`as_user`), where its ports and slirp4netns live.
    """
    if answers(user):
        _say(f"the rootless daemon of {user.name} already answers at {user.host}")
        return state(user) or {"host": user.host}
    log_path = user.log
    log_path.parent.mkdir(parents=True, exist_ok=True)
    user.socket.unlink(missing_ok=True)  # left by a daemon that was killed
    _say(f"starting dockerd-rootless.sh as {user.name} (log {log_path})")
    gate = ["/bin/sh", "-c", 'read -r _ && exec "$0" "$@"'] if confine else []
    flags = ["--config-file", str(config)] if config else []
    with open(log_path, "ab") as log:
        log_path.chmod(0o600)  # root's: other learners read no one's daemon log (F17)
        proc = as_user(
            user,
            [*gate, str(SCRIPT), *flags],
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.PIPE if confine else subprocess.DEVNULL,
            start_new_session=True,
            own_network=own_network,
        )
    if confine:
        assert proc.stdin is not None
        try:
            confine(proc.pid)
        except BaseException:
            proc.stdin.close()  # the gate closes unopened: the shell exits without starting the script
            proc.wait()
            raise
        proc.stdin.write(b"go\n")
        proc.stdin.close()
    record = {"user": user.name, "pid": proc.pid, "host": user.host, "log": str(log_path), "started": time.time(),
              "ticks": procs.start_ticks(proc.pid)}  # fmt: skip
    STATE_DIR.mkdir(parents=True, exist_ok=True)
    _state_file(user).write_text(json.dumps(record, indent=2))
    _state_file(user).chmod(0o600)
    try:
        wait.until(
            lambda: answers(user, 1.0), f"the rootless daemon of {user.name} answering", timeout=START_TIMEOUT,
            interval=0.5, give_up=lambda: None if proc.poll() is None else "dockerd-rootless.sh exited",
        )  # fmt: skip
    except wait.WaitFailed:
        tail = "\n  ".join(log_path.read_text(errors="replace").splitlines()[-8:])
        raise RootlessError(f"dockerd-rootless.sh exited at once. Last lines of its log:\n  {tail}") from None
    except wait.WaitTimeout:
        message = f"the rootless daemon did not answer within {START_TIMEOUT:.0f} s; see {log_path}"
        raise RootlessError(message) from None
    _say(f"the rootless daemon answers at {user.host}")
    return record


def stop_daemon(user: Learner, timeout: float = 30.0) -> bool:
    """Stop the daemon this module started (SIGTERM to its process group, then SIGKILL); True if stopped."""
    record = state(user)
    # the pid and its start: a learner who killed their own daemon leaves a pid the kernel may give to another
    # process; root signals only the process it started (F19)
    if not record or not procs.same(record["pid"], record.get("ticks")):
        _state_file(user).unlink(missing_ok=True)
        return False
    pgid = record["pid"]  # started in a session of its own: its pid is the group id
    os.killpg(pgid, signal.SIGTERM)
    try:
        gone = f"the rootless daemon of {user.name} stopping"
        wait.until(lambda: not procs.alive(record["pid"]), gone, timeout=timeout)
    except wait.WaitTimeout:
        os.killpg(pgid, signal.SIGKILL)
    _state_file(user).unlink(missing_ok=True)
    return True


# ---------------------------------------------------------------- images and the user's checkout


def _image_id(cli: str, ref: str, env: dict[str, str]) -> str | None:
    proc = subprocess.run(
        [cli, "image", "inspect", "--format", "{{.Id}}", ref], capture_output=True, text=True, timeout=60, env=env
    )
    return proc.stdout.strip() if proc.returncode == 0 else None


def load_images(user: Learner) -> list[str]:
    """``docker save`` the base images from root's daemon into the user's (``docker load``); what moved."""

    binary = cli().path
    root_env = {k: v for k, v in os.environ.items() if k not in ("DOCKER_HOST", "DOCKER_CONTEXT")}
    theirs = {**root_env, "DOCKER_HOST": user.host}
    missing = [ref for ref in BASE_IMAGES if not _image_id(binary, ref, root_env)]
    if missing:
        raise RootlessError(f"root's daemon lacks {', '.join(missing)}: run `make images` as root first")
    wanted = [ref for ref in BASE_IMAGES if _image_id(binary, ref, theirs) != _image_id(binary, ref, root_env)]
    if not wanted:
        return []
    save = subprocess.Popen([binary, "save", *wanted], stdout=subprocess.PIPE, env=root_env)
    load = subprocess.run([binary, "load"], stdin=save.stdout, capture_output=True, text=True, timeout=600, env=theirs)
    assert save.stdout is not None
    save.stdout.close()
    if save.wait(timeout=600) != 0 or load.returncode != 0:
        raise RootlessError(f"moving {', '.join(wanted)} into the rootless daemon failed: {load.stderr.strip()[-600:]}")
    return wanted


def python_for_user() -> str:
    """A Python 3.10+ the user can run (root's own may live in /root, out of their reach)."""
    for candidate in ("/usr/bin/python3", shutil.which("python3") or ""):
        path = Path(candidate)
        if candidate and path.exists() and os.access(path, os.X_OK) and not str(path.resolve()).startswith("/root"):
            return candidate
    raise RootlessError("no system python3 the course user can run: install Debian's python3 and python3-venv")


def sync_checkout(user: Learner, source: Path = course.ROOT) -> Path:
    """The user's own clone of ``source`` (its committed HEAD) at ``~/course``: cloned once, then pulled."""
    # root owns the source: the user trusts it in their own git configuration (git's safe.directory)
    for folder in (source, source / ".git"):
        trusted = as_user(user, ["git", "config", "--global", "--get-all", "safe.directory"], stdout=subprocess.PIPE)
        if str(folder) not in (trusted.communicate(timeout=30)[0] or b"").decode().split():
            run_as(user, ["git", "config", "--global", "--add", "safe.directory", str(folder)], timeout=30)
    if (user.checkout / ".git").is_dir():
        argv = ["git", "-C", str(user.checkout), "pull", "--quiet", "--ff-only", str(source), "HEAD"]
    else:
        argv = ["git", "clone", "--quiet", str(source), str(user.checkout)]
    if run_as(user, argv, timeout=300) != 0:
        raise RootlessError(f"`{shlex.join(argv[-4:])}` failed as {user.name}")
    return user.checkout


def setup_course(user: Learner) -> None:
    """``make setup`` as the user in their checkout: environment, their daemon answers, images, compose."""
    argv = ["make", "setup", f"PYTHON={python_for_user()}"]
    if run_as(user, argv, cwd=user.checkout, timeout=1800, stdout=sys.stderr) != 0:
        raise RootlessError(f"`make setup` failed as {user.name} in {user.checkout}")


def start(name: str = USER) -> Learner:
    """Everything up to a daemon that answers with the base images in it (root)."""
    need_root()
    install_packages()
    user = ensure_user(name)
    ensure_tun()
    ensure_runtime_dir(user)
    start_daemon(user)
    moved = load_images(user)
    if moved:
        _say(f"loaded {', '.join(moved)} into the rootless daemon")
    return user


def env_lines(user: Learner) -> str:
    return "\n".join(
        f"export {key}={shlex.quote(value)}"
        for key, value in (("XDG_RUNTIME_DIR", str(user.runtime_dir)), ("DOCKER_HOST", user.host))
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m helpers.infra.rootless", description=__doc__.splitlines()[0])
    parser.add_argument("--user", default=USER, help=f"the course user (default {USER})")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("start", help="packages, user, daemon, base images (root)")
    sub.add_parser("stop", help="stop the daemon this module started")
    sub.add_parser("env", help="export lines for the user's daemon")
    sub.add_parser("checkout", help="clone or pull the user's checkout and `make setup` there as the user")
    one = sub.add_parser("run", help="run a command as the user in their checkout: run -- CMD ...")
    one.add_argument("argv", nargs=argparse.REMAINDER)
    opts = parser.parse_args(argv)
    try:
        if opts.command == "start":
            user = start(opts.user)
            print(env_lines(user))
        elif opts.command == "stop":
            need_root()
            print("stopped" if stop_daemon(learner(opts.user)) else "no rootless daemon of ours was running")
        elif opts.command == "env":
            print(env_lines(learner(opts.user)))
        elif opts.command == "checkout":
            need_root()
            user = learner(opts.user)
            sync_checkout(user)
            setup_course(user)
        else:  # run
            need_root()
            command = opts.argv[1:] if opts.argv[:1] == ["--"] else opts.argv
            if not command:
                parser.error("run needs a command: run -- CMD ...")
            user = learner(opts.user)
            return run_as(user, command, cwd=user.checkout if user.checkout.is_dir() else user.home)
    except RootlessError as exc:
        print(f"✗ {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
