"""Notebook 04: daemon versions, live-restore, and restarting a daemon the course started itself.

Restarting is allowed only for the ``dockerd`` that ``helpers.infra.setup`` started (its argv and pid are in
``managed.managed()``, its configuration in ``managed.daemon_config()``). Every wait is bounded.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

from ..core import course, managed, procs, wait
from ..core.daemon import DaemonUnavailable, client, find, reset_client

RESTART_TIMEOUT = 30.0
"""Seconds to wait for the old daemon to exit, and again for the new one to answer."""

BACKUP = managed.STATE_DIR / "daemon.json.before-04"


def _progress(message: str) -> None:
    print(f"  … {message}", file=sys.stderr, flush=True)


def _is_dockerd(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/comm").read_text().strip() == "dockerd"
    except OSError:
        return False


def restart_allowed(parameter: bool | None) -> tuple[bool, str]:
    """Whether this notebook may restart the daemon, and why (``parameter`` None means "auto")."""
    if parameter is False:
        return False, "the ALLOW_DAEMON_RESTART parameter is False"
    state = managed.managed()
    if state is None:
        return False, "this daemon was not started by the course (systemd, Docker Desktop or another host runs it)"
    try:
        host = find().host
    except DaemonUnavailable:
        return False, "no Docker daemon answers"
    if host != "unix:///var/run/docker.sock":
        return False, f"the daemon in use ({host}) is not the one the course started"
    if os.geteuid() != 0:
        return False, "restarting the daemon needs root"
    if not (procs.alive(state["pid"]) and _is_dockerd(state["pid"])):
        return False, "the dockerd the course started is no longer the one running"
    how = "asked for by the parameter" if parameter else "auto: the course started this daemon itself"
    return True, how


def clis() -> list[Path]:
    """Every distinct ``docker`` CLI binary on PATH, in PATH order."""
    found: list[Path] = []
    for folder in os.environ.get("PATH", "").split(os.pathsep):
        candidate = Path(folder) / "docker"
        if os.access(candidate, os.X_OK) and candidate.resolve() not in [f.resolve() for f in found]:
            found.append(candidate)
    return found


def client_summary(cli: Path) -> str:
    """``client <version>, API <version as this CLI talks to the daemon>`` for one CLI binary."""
    out = subprocess.run([str(cli), "version"], capture_output=True, text=True, timeout=20).stdout
    client_part = out.split("Server:")[0]
    values = {}
    for line in client_part.splitlines():
        key, _, value = line.strip().partition(":")
        if key in ("Version", "API version") and key not in values:
            values[key] = value.strip()
    return f"client {values.get('Version', '?')}, API {values.get('API version', '?')}"


def read_config() -> dict:
    """The daemon configuration (``daemon.json``) the course's dockerd reads."""
    path = managed.daemon_config()
    text = path.read_text() if path.exists() else "{}"
    return json.loads(text or "{}")


def config_file() -> Path:
    """The configuration file of the daemon the course started (``daemon.json``)."""
    return managed.daemon_config()


def live_restore_setting() -> bool:
    """``live-restore`` as ``daemon.json`` sets it (absent means Docker's default: off).

    The notebook shows this one key, not the whole file: an interrupted earlier run may have left the key
    written out as ``false`` where a fresh file leaves it out, and both mean the same.
    """
    return bool(read_config().get("live-restore", False))


def _write_config(config: dict) -> None:
    managed.daemon_config().write_text(json.dumps(config, indent=2) + "\n")


def _wait_for(predicate, what: str, timeout: float = RESTART_TIMEOUT) -> float:
    return wait.timed(predicate, what, timeout=timeout, interval=0.2, retry=(DaemonUnavailable, OSError, ValueError))


def _live_restore() -> bool:
    import docker as sdk  # deferred: the Docker SDK is slow to import

    fresh = sdk.DockerClient(base_url=find().host, timeout=5)
    try:
        return bool(fresh.info().get("LiveRestoreEnabled"))
    finally:
        fresh.close()


def set_live_restore(on: bool) -> None:
    """Write ``live-restore`` into the config file and reload the daemon (SIGHUP: no restart needed)."""
    if not BACKUP.exists():
        shutil.copy2(managed.daemon_config(), BACKUP)
    config = read_config()
    config["live-restore"] = on
    _write_config(config)
    state = managed.managed()
    assert state is not None, "live-restore is only set on the daemon the course started (managed.managed())"
    os.kill(state["pid"], signal.SIGHUP)
    _wait_for(lambda: _live_restore() == on, f"live-restore={on} after reload", timeout=10)


def restore_config() -> None:
    """Put back the configuration found before the notebook changed it (if it did), and reload."""
    if not BACKUP.exists():
        return
    shutil.copy2(BACKUP, managed.daemon_config())
    BACKUP.unlink()
    state = managed.managed()
    if state and procs.alive(state["pid"]):
        config = read_config()
        wanted = bool(config.get("live-restore", False))
        if "live-restore" not in config and _live_restore() != wanted:  # a reload keeps the running value of
            # a key the file leaves out: say it explicitly (notebook 04's restart was skipped with it on)
            config["live-restore"] = wanted
            _write_config(config)
        os.kill(state["pid"], signal.SIGHUP)
        _wait_for(lambda: _live_restore() == wanted, "config reload", timeout=10)


def _answers() -> bool:
    find(timeout=1.0)
    return True


def restart_daemon(timeout: float = RESTART_TIMEOUT) -> dict:
    """Stop the course's dockerd (SIGTERM) and start it again with the same argv; bounded waits.

    Updates the state file that ``managed.managed()`` reads. Returns the new state.
    """
    state = managed.managed()
    if state is None:
        raise RuntimeError("The course did not start this daemon: it will not restart it.")
    old = state["pid"]
    _progress(f"stopping dockerd (pid {old})")
    os.kill(old, signal.SIGTERM)
    took = _wait_for(lambda: not procs.alive(old), "dockerd exit", timeout)
    _progress(f"dockerd stopped after {took:.1f} s; starting it again")
    log = Path(state.get("log", managed.LOG_DIR / "dockerd.log"))
    log.parent.mkdir(parents=True, exist_ok=True)
    with open(log, "ab") as out:
        proc = subprocess.Popen(
            state["argv"], stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True
        )
    new_state = {**state, "pid": proc.pid}
    (managed.STATE_DIR / "dockerd.json").write_text(json.dumps(new_state, indent=2))
    took = _wait_for(_answers, "dockerd answering again", timeout)
    _progress(f"dockerd (pid {proc.pid}) answers after {took:.1f} s")
    reset_client()  # no pooled connection to the old process
    return new_state


def running_elsewhere() -> list[str]:
    """Names of running containers that are not this notebook's own in this namespace.

    A restart without live-restore would stop them: the notebook then only explains that step.
    """
    mine = course.labels()
    return sorted(c.name for c in client().containers.list() if any(c.labels.get(k) != v for k, v in mine.items()))
