"""A workshop hub: JupyterHub on one host, each learner a Unix account with a rootless Docker daemon of their own.

Run as root (``make hub`` / ``make hub-stop``)::

    python -m helpers.infra.hub start --learners 3        # install, accounts, start JupyterHub; prints the sheet
    python -m helpers.infra.hub start --roster names.txt  # one learner per line of the file (names go on the sheet)
    python -m helpers.infra.hub status                    # who runs a server, their memory and processes
    python -m helpers.infra.hub reset dmac-l02            # stop their server, empty their daemon, fresh notebooks
    python -m helpers.infra.hub stop [--purge]            # the hub and every learner's daemon (--purge: accounts too)

What is shared and what is not: JupyterHub, JupyterLab and the course's Python packages are installed once
in ``/opt/dmac-hub/venv`` (root's, read-only to learners); ``configurable-http-proxy`` from the npm
registry in ``/opt/dmac-hub/proxy``. Each learner (``dmac-l01``, ``dmac-l02``, ...) has a home of mode
0700 with their own clone of the course (``~/course``: notebooks and helpers, which write under it), and
their own daemon (``helpers.infra.rootless``) whose data lives in that home. The hub's state (database, cookie
secret, the admin token, the password sheet) is in ``/var/lib/<instance>`` (mode 0700).
"""

from __future__ import annotations

import argparse
import json
import os
import pwd
import re
import secrets
import shutil
import signal
import ssl
import subprocess
import sys
import time
import urllib.request
from dataclasses import asdict, dataclass, field
from pathlib import Path

from ..core import course, procs, wait
from ..core.errors import HubError
from . import cgroups, disks, hub_confine, hub_tls, netns, rootless

OPT = Path("/opt/dmac-hub")
VENV = OPT / "venv"
PROXY = OPT / "proxy" / "node_modules" / ".bin" / "configurable-http-proxy"
CONFIG = course.ROOT / "hub" / "jupyterhub_config.py"
HUB_REQUIREMENTS = course.ROOT / "hub" / "requirements.txt"
"""JupyterHub, its culler and the course's packages, exact versions with hashes (``make lock`` exports it from
uv.lock): the learners' kernels run what ``make test`` proved."""
PROXY_LOCK = course.ROOT / "hub" / "proxy"
"""configurable-http-proxy's ``package.json`` and ``package-lock.json`` (versions and integrity): ``npm ci``."""
SOURCE = OPT / "course"  # root's clone of this checkout's HEAD: what every learner clones


MIN_DISK = 7 * (1 << 30)  # a learner's data root: 5 GB free for notebook 00's preflight, plus the base images


@dataclass
class Settings:
    """One hub instance: its accounts' prefix, ports, limits and where it keeps its state."""

    instance: str = "dmac-hub"
    prefix: str = "dmac-l"
    instructor: str = "dmac-instructor"  # the admin account (its own per instance: a purge removes it)
    learners: list[str] = field(default_factory=list)
    names: dict[str, str] = field(default_factory=dict)  # account -> the person's name on the sheet
    port: int = 8000
    memory: str = "2g"
    pids: int = 2048
    cpus: float = 1.0
    disk: str = "10g"  # each learner's daemon data root (a file system of its own: helpers.infra.disks)
    cull_seconds: int = 3600
    days: int = 7  # the accounts expire this many days after their passwords were made; a later hub makes new ones
    tls: bool = True  # HTTPS with the room CA's certificate (helpers.infra.hub_tls); False: plain HTTP on loopback only

    @property
    def state(self) -> Path:
        return Path("/var/lib") / self.instance

    @property
    def logs(self) -> Path:
        return Path("/var/log") / self.instance

    @property
    def file(self) -> Path:
        return self.state / "settings.json"

    @property
    def token_file(self) -> Path:
        return self.state / "admin-token"

    @property
    def url(self) -> str:
        return f"{'https' if self.tls else 'http'}://127.0.0.1:{self.port}"

    @property
    def tls_folder(self) -> Path:
        """The room CA and the hub's certificate (keys 0600, in the state folder: root's, 0700)."""
        return self.state / "tls"

    @property
    def daemon_configs(self) -> Path:
        """The learners' daemon configurations: root's, readable by their daemons (the state folder is not)."""
        return Path("/etc") / self.instance

    @property
    def ca_file(self) -> Path:
        return self.tls_folder / "room-ca.crt"

    def limits(self) -> cgroups.Limits:
        return cgroups.Limits(memory=parse_bytes(self.memory), pids=self.pids, cpus=self.cpus)

    def save(self) -> None:
        self.state.mkdir(parents=True, exist_ok=True)
        self.state.chmod(0o700)
        self.file.write_text(json.dumps(asdict(self), indent=2))


def parse_bytes(text: str) -> int:
    """``2g`` -> 2147483648 (k, m, g; a plain number is bytes)."""
    text = text.strip().lower()
    units = {"k": 1 << 10, "m": 1 << 20, "g": 1 << 30}
    return int(float(text[:-1]) * units[text[-1]]) if text[-1:] in units else int(text)


def load(instance: str = "dmac-hub") -> Settings:
    path = Path(os.environ.get("DMAC_HUB_SETTINGS", Path("/var/lib") / instance / "settings.json"))
    try:
        return Settings(**json.loads(path.read_text()))
    except (OSError, ValueError) as exc:
        raise HubError(f"no hub settings at {path}: start the hub first (make hub)") from exc


def _say(message: str) -> None:
    print(f"[hub] {message}", file=sys.stderr, flush=True)


# ---------------------------------------------------------------- installed once (root)


HOST_TOOLS = {"npm": ("nodejs", "npm"), "ip": ("iproute2",), "iptables": ("iptables",)}
"""Debian's packages the hub runs, by the command it looks for: configurable-http-proxy runs on Node.js; the
learners' network namespaces are made with iproute2 and iptables (helpers/infra/netns.py)."""


def ensure_host_tools() -> None:
    """Node.js and npm, iproute2 and iptables (Debian's), each when its command is missing."""
    missing = [pkg for tool, pkgs in HOST_TOOLS.items() if not shutil.which(tool, path="/usr/sbin:/usr/bin:/sbin:/bin")
               for pkg in pkgs]  # fmt: skip
    if not missing:
        return
    _say(f"installing {' '.join(missing)} (apt-get) for the proxy and the learners' networks")
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    subprocess.run(["apt-get", "update", "-qq"], env=env, check=True, timeout=600)
    argv = ["apt-get", "install", "-y", "-qq", "--no-install-recommends", *missing]
    subprocess.run(argv, env=env, check=True, timeout=900)


def install() -> None:
    """The shared environment (from the lock, with hashes) and the proxy (``npm ci``), each when missing or stale."""
    wanted = HUB_REQUIREMENTS.read_text()
    marker = VENV / ".dmac-requirements"
    if not (marker.exists() and marker.read_text() == wanted):
        _say(f"installing JupyterHub and the course's packages into {VENV} (exact versions from the lock)")
        if not (VENV / "bin" / "python").exists():
            subprocess.run([rootless.python_for_user(), "-m", "venv", str(VENV)], check=True, timeout=300)
        pip = [str(VENV / "bin" / "python"), "-m", "pip", "install", "--quiet", "--require-hashes", "--no-deps"]
        subprocess.run([*pip, "-r", str(HUB_REQUIREMENTS)], check=True, timeout=1800)
        marker.write_text(wanted)
    folder = PROXY.parents[2]
    installed, pinned = folder / "package-lock.json", (PROXY_LOCK / "package-lock.json").read_text()
    if not (PROXY.exists() and installed.is_file() and installed.read_text() == pinned):
        ensure_host_tools()
        _say(f"installing configurable-http-proxy into {folder} (the version and integrity hub/proxy's lock gives)")
        folder.mkdir(parents=True, exist_ok=True)
        for name in ("package.json", "package-lock.json"):
            shutil.copyfile(PROXY_LOCK / name, folder / name)
        argv = ["npm", "ci", "--silent", "--no-fund", "--no-audit", "--omit=dev", "--prefix", str(folder)]
        subprocess.run(argv, check=True, timeout=600)
    if (SOURCE / ".git").is_dir():
        subprocess.run(["git", "-C", str(SOURCE), "pull", "--quiet", "--ff-only", str(course.ROOT), "HEAD"], check=True)
    else:
        subprocess.run(["git", "clone", "--quiet", str(course.ROOT), str(SOURCE)], check=True, timeout=300)
    for folder in (OPT, VENV, PROXY.parents[2], SOURCE):
        folder.chmod(0o755)  # readable and runnable by learners, writable by root only


# ---------------------------------------------------------------- accounts


def account_names(settings: Settings, count: int, roster: Path | None) -> tuple[list[str], dict[str, str]]:
    """``dmac-l01``, ``dmac-l02``, ... for ``count`` learners, or one per non-empty line of ``roster``."""
    people = [line.strip() for line in roster.read_text().splitlines() if line.strip()] if roster else []
    total = len(people) if roster else count
    if not 1 <= total <= 99:
        raise HubError(f"between 1 and 99 learners per host, not {total}")
    accounts = [f"{settings.prefix}{i:02d}" for i in range(1, total + 1)]
    return accounts, dict(zip(accounts, people, strict=False))


def new_password() -> str:
    words = secrets.token_urlsafe(9).replace("-", "x").replace("_", "y")
    return f"{words[:4]}-{words[4:8]}-{words[8:12]}"


def ensure_account(name: str, passwords: dict[str, str]) -> rootless.Learner:
    """The Unix account (home mode 0700, no docker group, subordinate ids) with a password of its own."""
    user = rootless.ensure_user(name)
    user.home.chmod(0o700)  # Debian's useradd makes homes 0755: learners must not read each other's work
    hub_confine.no_login_shell(name)  # no su, no login: their processes start in their server's cgroup only
    groups = subprocess.run(["id", "-nG", name], capture_output=True, text=True, check=True).stdout.split()
    if "docker" in groups:
        subprocess.run(["gpasswd", "--delete", name, "docker"], check=True, capture_output=True)
    passwords.setdefault(name, new_password())  # set every time: an account made again gets the sheet's password
    subprocess.run(["chpasswd"], input=f"{name}:{passwords[name]}\n", text=True, check=True, timeout=30)
    return user


def sheet(settings: Settings, passwords: dict[str, str]) -> str:
    """The page the instructor prints and cuts into slips: address, account, password (and the person).

    With HTTPS, how a learner trusts the room CA: the file to import, and its fingerprint to compare.
    """
    lines = [f"Workshop hub: {settings.url.replace('127.0.0.1', os.uname().nodename)}", ""]
    if settings.tls and settings.ca_file.exists():
        lines += [
            f"Before logging in, trust the room's certificate authority: import {settings.ca_file.name} (the",
            "instructor hands it out) into your browser's authorities, and check that its SHA-256 fingerprint is",
            f"  {hub_tls.fingerprint(settings.ca_file)}",
            "A browser that warns about the hub's certificate has not trusted it: never click through.",
            "",
        ]
    elif not settings.tls:
        lines += ["Plain HTTP, on this host's loopback only (TLS=0): not reachable from the room's network.", ""]
    for name in [settings.instructor, *settings.learners]:
        who = "instructor" if name == settings.instructor else settings.names.get(name, "")
        lines.append(f"{name:<16} {passwords.get(name, '?'):<16} {who}")
    return "\n".join(lines)


def load_passwords(settings: Settings, now: float) -> tuple[dict[str, str], float]:
    """This workshop's passwords and when they were made; none when the last ones are past their days (F12)."""
    path = settings.state / "passwords.json"
    saved = json.loads(path.read_text()) if path.exists() else {}
    if "passwords" not in saved:  # an older hub's file: the passwords alone, of unknown age
        saved = {"made": 0.0, "passwords": saved} if saved else {"made": now, "passwords": {}}
    if now - float(saved["made"]) > settings.days * 86400:
        return {}, now  # another workshop: new passwords, so a former learner's no longer opens anything
    return dict(saved["passwords"]), float(saved["made"])


def former_learners(settings: Settings, existing: list[str]) -> list[str]:
    """Accounts of this hub's kind (prefix and a number) that are not in the roster now (a smaller room)."""
    pattern = re.compile(re.escape(settings.prefix) + r"\d+")
    return sorted(n for n in existing if pattern.fullmatch(n) and n not in settings.learners)


def expiry(made: float, days: int) -> str:
    """The day the workshop's accounts expire (``usermod --expiredate``): ``days`` after the passwords were made."""
    return time.strftime("%Y-%m-%d", time.gmtime(made + days * 86400))


def accounts(settings: Settings) -> dict[str, str]:
    """Every account (learners and the instructor) and their password, created where missing; each expires
    ``settings.days`` after its password was made; accounts of former learners are locked and expired."""
    passwords, made = load_passwords(settings, time.time())
    for name in [settings.instructor, *settings.learners]:
        user = ensure_account(name, passwords)
        subprocess.run(["usermod", "--expiredate", expiry(made, settings.days), name], check=True, timeout=30)
        if name != settings.instructor and not (user.checkout / ".git").is_dir():
            rootless.sync_checkout(user, SOURCE)  # cloned once: a restarted hub never pulls over their work
    everyone = [settings.instructor, *settings.learners]
    hub_confine.deny_schedulers(everyone)  # cron and at would run their jobs outside any cgroup of the hub's
    hub_confine.deny_ssh(settings.instance, everyone)
    netns.ensure_host(settings.instance)  # the hub's API address, forwarding out, no learner to learner (F5)
    for name in settings.learners:  # a network of their own each, the metadata service rejected there (F5, F9)
        netns.ensure(settings.instance, rootless.learner(name).uid)
    for name in former_learners(settings, [p.pw_name for p in pwd.getpwall()]):
        _say(f"locking {name}: not a learner of this workshop")
        subprocess.run(["usermod", "--lock", "--expiredate", "1970-01-02", name], check=True, timeout=30)
    path = settings.state / "passwords.json"
    path.write_text(json.dumps({"made": made, "passwords": passwords}, indent=2))
    path.chmod(0o600)
    return passwords


def learner_env(name: str) -> dict[str, str]:
    """What a learner's server, kernels and terminals see: their daemon, the shared environment, their clone."""
    user = rootless.learner(name)
    env = rootless.user_env(user)
    env.update(
        PATH=f"{VENV / 'bin'}:{env['PATH']}",
        PYTHONPATH=str(user.checkout),  # `from helpers import ...` finds the learner's own clone
        DOCKER_BUILDKIT="1",
    )
    return env


def run_confined(settings: Settings, name: str, argv: list[str], **popen) -> subprocess.Popen:
    """Start ``argv`` as the learner inside their cgroup and network namespace (as their server's kernels run),
    with :func:`learner_env`.

    The process waits on a gate until root has moved it into the cgroup, so nothing it starts runs outside.
    """
    user = rootless.learner(name)
    folders = cgroups.folders(settings.instance, name)
    proc = rootless.as_user(
        user,
        ["/bin/sh", "-c", 'read -r _ && exec "$@"', "gate", *argv],
        stdin=subprocess.PIPE,
        env=learner_env(name),
        own_network=True,  # in their network namespace, as their server (helpers.infra.netns)
        **popen,
    )
    assert proc.stdin is not None
    try:
        cgroups.enter(folders, proc.pid)
    except BaseException:
        proc.stdin.close()  # unopened gate: the shell exits without running argv
        raise
    proc.stdin.write(b"go\n")
    proc.stdin.close()
    proc.stdin = None  # the gate is done with: communicate() must not flush it
    return proc


# ---------------------------------------------------------------- the hub process


def _pid(settings: Settings) -> int | None:
    try:
        pid = int((settings.state / "jupyterhub.pid").read_text())
        return pid if procs.alive(pid) else None
    except (OSError, ValueError):
        return None


def start_hub(settings: Settings) -> int:
    """Start JupyterHub (it starts the proxy) in the background; returns its pid once its API answers."""
    if (pid := _pid(settings)) is not None:
        _say(f"JupyterHub already runs (pid {pid})")
        return pid
    if not settings.token_file.exists():
        settings.token_file.write_text(secrets.token_hex(32))
        settings.token_file.chmod(0o600)
    if settings.tls:
        hub_tls.ensure(settings.tls_folder)
    settings.logs.mkdir(parents=True, exist_ok=True)
    env = {key: value for key, value in os.environ.items() if key not in ("DOCKER_HOST", "DOCKER_CONTEXT")}
    env.update(
        DMAC_HUB_SETTINGS=str(settings.file),
        PYTHONPATH=str(course.ROOT),  # the spawner and the hooks come from this checkout (root's)
        PATH=f"{VENV / 'bin'}:{env.get('PATH', '/usr/bin:/bin')}",
    )
    log = open(settings.logs / "jupyterhub.log", "ab")  # the hub keeps it open
    (settings.logs / "jupyterhub.log").chmod(0o600)  # every learner's server output is in it: root's only (F17)
    proc = subprocess.Popen(
        [str(VENV / "bin" / "jupyterhub"), "-f", str(CONFIG)],
        cwd=settings.state,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        start_new_session=True,
    )
    (settings.state / "jupyterhub.pid").write_text(str(proc.pid))

    def gone() -> str | None:
        return None if proc.poll() is None else f"JupyterHub exited; see {settings.logs / 'jupyterhub.log'}"

    wait.until(lambda: api(settings, "GET", "/"), "JupyterHub's API answering", timeout=90, give_up=gone)
    return proc.pid


def api(settings: Settings, method: str, path: str, body: dict | None = None, timeout: float = 30) -> dict:
    """One JupyterHub REST API call with the admin token (``path`` after ``/hub/api``)."""

    request = urllib.request.Request(
        f"{settings.url}/hub/api{path}",
        method=method,
        data=json.dumps(body).encode() if body is not None else None,
        headers={"Authorization": f"token {settings.token_file.read_text().strip()}"},
    )
    # HTTPS, verified against the room CA: a process that took the hub's port while the proxy was down (a
    # learner's) cannot show the hub's certificate, so the handshake fails before the admin token is sent
    context = ssl.create_default_context(cafile=str(settings.ca_file)) if settings.tls else None
    with urllib.request.urlopen(request, timeout=timeout, context=context) as response:
        data = response.read()
    return json.loads(data) if data else {}


def stop_learner(settings: Settings, name: str) -> None:
    """Stop a learner's daemon and everything left in their cgroup (what the hub's post-stop hook does)."""
    if name not in {p.pw_name for p in pwd.getpwall()}:
        return
    user = rootless.learner(name)
    rootless.stop_daemon(user)
    groups = cgroups.folders(settings.instance, name)
    wait.until(lambda: cgroups.kill_all(groups) == 0, f"{name}'s processes gone", timeout=30)
    cgroups.remove(groups)
    hub_confine.remove_shared_memory(user.uid)  # /dev/shm and System V IPC outlive the cgroup (F8)
    hub_confine.unmount_runtime_dir(user.runtime_dir)
    disks.release(rootless.learner(name))


def stop(settings: Settings, purge: bool = False) -> None:
    """Stop JupyterHub (it stops the servers and the proxy), then every learner's daemon; purge: remove accounts."""
    if (pid := _pid(settings)) is not None:
        _say(f"stopping JupyterHub (pid {pid})")
        os.kill(pid, signal.SIGTERM)
        try:
            wait.until(lambda: not procs.alive(pid), "JupyterHub stopping", timeout=60)
        except wait.WaitTimeout:
            os.killpg(pid, signal.SIGKILL)
    (settings.state / "jupyterhub.pid").unlink(missing_ok=True)
    for name in settings.learners:
        stop_learner(settings, name)
    for top in {folder.parent for name in settings.learners for folder in cgroups.folders(settings.instance, name)}:
        cgroups.remove([top])
    if purge:  # every account of this hub's kind, former learners' too
        existing = [p.pw_name for p in pwd.getpwall()]
        names = [*settings.learners, *former_learners(settings, existing), settings.instructor]
        hub_confine.allow_schedulers(names)
        hub_confine.allow_metadata(settings.instance)  # the rules of hubs made before the namespaces
        for name in names:
            if name in {p.pw_name for p in pwd.getpwall()}:
                netns.remove(rootless.learner(name).uid)
        netns.remove_host(settings.instance)
        (hub_confine.SSHD_DROPIN / f"{settings.instance}.conf").unlink(missing_ok=True)
        for name in names:
            if name in {p.pw_name for p in pwd.getpwall()}:
                disks.remove(settings.state, rootless.learner(name))
                _say(f"removing account {name} and its home")
                subprocess.run(["userdel", "--remove", name], capture_output=True, timeout=120)
                rootless.Learner(name, 0, 0, Path("/")).log.unlink(missing_ok=True)
        shutil.rmtree(settings.state, ignore_errors=True)
        shutil.rmtree(settings.daemon_configs, ignore_errors=True)


def start(settings: Settings) -> str:
    """Install, accounts, JupyterHub; returns the sheet to print."""
    if os.geteuid() != 0:
        raise HubError("the hub creates accounts and cgroups: run it as root (sudo make hub)")
    if parse_bytes(settings.disk) < MIN_DISK:
        raise HubError(
            f"DISK={settings.disk} is too small: a learner's daemon needs at least 7g (notebook 00's preflight "
            "asks for 5 GB free, and the base images take their share)"
        )
    rootless.install_packages()
    rootless.ensure_tun()
    install()
    settings.save()
    passwords = accounts(settings)
    start_hub(settings)
    return sheet(settings, passwords)


def status(settings: Settings) -> str:
    users = {u["name"]: u for u in api(settings, "GET", "/users")}
    rows = []
    for name in settings.learners:
        running = bool(users.get(name, {}).get("servers"))
        used = cgroups.usage(cgroups.folders(settings.instance, name))
        mib = used.get("memory", 0) / (1 << 20)
        disk = disks.usage(rootless.learner(name)) if name in {p.pw_name for p in pwd.getpwall()} else None
        on_disk = f"{disk[0] / 1e9:5.1f} of {disk[1] / 1e9:.0f} GB" if disk else "disk not mounted"
        state = "running" if running else "stopped"
        rows.append(f"{name:<12} {state:<8} {mib:7.0f} MiB {used.get('pids', 0):5d} pids  {on_disk}")
    return "\n".join(rows)


def reset(settings: Settings, name: str) -> None:
    """A learner back to the start: server stopped, their daemon's data removed, a fresh clone of the course."""
    if name not in settings.learners:
        raise HubError(f"{name} is not a learner of this hub")
    try:
        api(settings, "DELETE", f"/users/{name}/server")
    except OSError:
        pass
    stopped = lambda: not api(settings, "GET", f"/users/{name}").get("servers")  # noqa: E731
    wait.until(stopped, f"{name}'s server stopping", timeout=60)
    stop_learner(settings, name)
    user = rootless.learner(name)
    disks.remove(settings.state, user)
    for tree in (user.home / ".local" / "share" / "docker", user.checkout):
        if not remove_within(user.home, tree.relative_to(user.home)):
            _say(f"left {tree} alone: a symlink (or a file) stands on its way, and root follows none in a home")
    rootless.sync_checkout(user, SOURCE)


def remove_within(home: Path, relative: Path) -> bool:
    """As root, remove ``home/relative`` without following a symlink anywhere on the way (finding F1).

    A learner owns their home and can turn any folder in it into a symlink (``~/.local/share`` ->
    ``/var/lib``): a path-based ``rmtree`` as root would then delete outside the home. Here every component
    is opened with ``O_NOFOLLOW`` from a descriptor of the one before, and ``shutil.rmtree`` works on that
    descriptor (its descriptor-based walk never follows a link either). A symlink met on the way is left alone
    (it is the learner's, and removing it would not reset anything): returns False. True when the tree was
    removed or was not there.
    """
    flags = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
    *parents, last = relative.parts
    fd = os.open(home, flags)
    try:
        for part in parents:
            try:
                child = os.open(part, flags, dir_fd=fd)
            except FileNotFoundError:
                return True
            except OSError:  # ELOOP (a symlink) or ENOTDIR: not a folder of the learner's to walk through
                return False
            os.close(fd)
            fd = child
        try:
            shutil.rmtree(last, dir_fd=fd)
        except FileNotFoundError:
            return True
        except OSError:  # the last component is a symlink (rmtree refuses it) or not a folder
            return False
        return True
    finally:
        os.close(fd)


def _from_env(opts: argparse.Namespace) -> Settings:
    settings = Settings(instance=opts.instance, prefix=os.environ.get("DMAC_HUB_PREFIX", "dmac-l"))
    knobs = (
        ("port", int), ("memory", str), ("pids", int), ("cpus", float), ("disk", str), ("cull_seconds", int),
        ("days", int),
    )  # fmt: skip
    for key, cast in knobs:
        value = os.environ.get(f"DMAC_HUB_{key.upper()}")
        if value:
            setattr(settings, key, cast(value))
    settings.tls = os.environ.get("DMAC_HUB_TLS", "1") != "0"  # TLS=0: plain HTTP, and then on loopback only
    return settings


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m helpers.infra.hub", description=__doc__.splitlines()[0])
    parser.add_argument("--instance", default=os.environ.get("DMAC_HUB_INSTANCE", "dmac-hub"))
    sub = parser.add_subparsers(dest="command", required=True)
    begin = sub.add_parser("start", help="install, create the accounts, start JupyterHub, print the sheet")
    begin.add_argument("--learners", type=int, default=3)
    begin.add_argument("--roster", type=Path, help="one learner's name per line (instead of --learners)")
    end = sub.add_parser("stop", help="stop the hub and every learner's daemon")
    end.add_argument("--purge", action="store_true", help="also remove the accounts, their homes and the hub's state")
    sub.add_parser("status", help="who runs a server, memory and processes per learner")
    sub.add_parser("sheet", help="print the sheet again")
    again = sub.add_parser("reset", help="a learner back to the start (daemon emptied, fresh notebooks)")
    again.add_argument("name")
    opts = parser.parse_args(argv)
    try:
        if opts.command == "start":
            settings = _from_env(opts)
            settings.learners, settings.names = account_names(settings, opts.learners, opts.roster)
            print(start(settings))
            admin = f"{settings.url}/hub/admin (log in as {settings.instructor})"
            print(f"\nAdmin page: {admin}; stop with `make hub-stop`.")
        elif opts.command == "stop":
            try:
                settings = load(opts.instance)
            except HubError:
                _say("no hub state: nothing to stop")
                return 0
            stop(settings, purge=opts.purge)
        elif opts.command == "status":
            print(status(load(opts.instance)))
        elif opts.command == "sheet":
            settings = load(opts.instance)
            print(sheet(settings, load_passwords(settings, time.time())[0]))
        else:
            reset(load(opts.instance), opts.name)
    except (HubError, rootless.RootlessError, wait.WaitTimeout, subprocess.CalledProcessError) as exc:
        print(f"✗ {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
