"""What keeps a workshop learner inside their server's cgroup and out of root's way on a shared host.

Their server, daemon and containers run in the cgroup the hub made (:mod:`helpers.infra.cgroups`); these are the
ways around it the security review found, each closed here (the hub's findings F3, F8, F13):

- other daemons that start programs for a user outside any cgroup of the hub's: cron and at (the learner is
  in ``/etc/cron.deny`` and ``/etc/at.deny``), sshd (``DenyUsers`` in a drop-in of the hub's) and ``su`` or a
  login (the account's shell is ``nologin``; JupyterLab's terminals take ``SHELL`` from the server's
  environment, which is ``/bin/bash``);
- memory that outlives the cgroup: ``/run/user/<uid>`` is a tmpfs of its own with a size (not the host's
  ``/run``), unmounted when the server stops, and the learner's ``/dev/shm`` files and System V shared memory,
  semaphores and message queues are removed then;
- groups that are root on this host (``docker``, ``sudo`` …): a learner in one gets no server;
- the hub's log: a server writes to a pipe of its own, copied into a capped log of its own (:func:`pump`);
- the daemon's data root stays on the learner's disk: their daemon reads a configuration file of root's,
  not ``~/.config/docker/daemon.json`` (where ``data-root`` would move it into the home; F4);
- a cloud VM's metadata service (169.254.169.254: instance credentials, user-data) answers no learner: an
  ``iptables`` rule in each learner's network namespace rejects it, for their containers too (slirp4netns runs
  there; F9); the namespaces themselves are :mod:`helpers.infra.netns` (F5).
"""

from __future__ import annotations

import json
import os
import shlex
import shutil
import subprocess
from pathlib import Path

NOLOGIN = "/usr/sbin/nologin"
SCHEDULERS_DENY = (Path("/etc/cron.deny"), Path("/etc/at.deny"))
SSHD_DROPIN = Path("/etc/ssh/sshd_config.d")
PRIVILEGED_GROUPS = ("docker", "sudo", "wheel", "adm", "disk", "lxd", "root", "shadow", "kvm")
RUNTIME_SIZE = "256m"
SYSV = {"m": Path("/proc/sysvipc/shm"), "s": Path("/proc/sysvipc/sem"), "q": Path("/proc/sysvipc/msg")}


class Refused(RuntimeError):
    """A learner's account is in a state that would give them more than their server: it says why."""


def privileged(groups: list[str]) -> list[str]:
    """The groups among ``groups`` that give root, or the host's logs and disks, on this host."""
    return [g for g in groups if g in PRIVILEGED_GROUPS]


def check_groups(name: str) -> None:
    """Refuse a learner who is in a root-equivalent group (someone ran ``usermod -aG docker``; F13)."""
    out = subprocess.run(["id", "-nG", name], capture_output=True, text=True, check=True, timeout=30).stdout
    if found := privileged(out.split()):
        raise Refused(
            f"{name} is in the group(s) {', '.join(found)}, which give root on this host (the docker group is root:"
            f" notebook 03): their server is not started. `gpasswd --delete {name} {found[0]}` takes it away."
        )


def _lines(path: Path) -> list[str]:
    return path.read_text().splitlines() if path.exists() else []


def deny_schedulers(names: list[str], files: tuple[Path, ...] = SCHEDULERS_DENY) -> None:
    """Put ``names`` into cron's and at's deny lists (kept: the other lines there are the host's)."""
    for path in files:
        lines = _lines(path)
        missing = [n for n in names if n not in lines]
        if missing:
            path.write_text("\n".join([*lines, *missing]) + "\n")
            path.chmod(0o644)


def allow_schedulers(names: list[str], files: tuple[Path, ...] = SCHEDULERS_DENY) -> None:
    """Take ``names`` out of the deny lists again (the accounts are being removed)."""
    for path in files:
        lines = _lines(path)
        kept = [ln for ln in lines if ln not in names]
        if kept != lines:
            path.write_text("".join(f"{ln}\n" for ln in kept))


def deny_ssh(instance: str, names: list[str], folder: Path = SSHD_DROPIN) -> Path | None:
    """A drop-in for sshd that denies the learners (where sshd reads drop-ins); sshd reloads it if it runs."""
    if not folder.is_dir():
        return None
    path = folder / f"{instance}.conf"
    text = f"# {instance}: workshop learners log in through the hub only\nDenyUsers {' '.join(names)}\n"
    if not path.exists() or path.read_text() != text:
        path.write_text(text)
        subprocess.run(["pkill", "-HUP", "-x", "sshd"], capture_output=True, timeout=30)
    return path


def _iptables() -> str | None:
    return shutil.which("iptables") or shutil.which("iptables", path="/usr/sbin:/sbin")


def allow_metadata(instance: str) -> None:
    """Remove the per-uid metadata rules a hub made in ``OUTPUT`` before learners had network namespaces of their
    own (``make hub`` stopped with purge): the rule is now inside each namespace (:mod:`helpers.infra.netns`)."""
    iptables = _iptables()
    if iptables is None:
        return
    listed = subprocess.run([iptables, "-S", "OUTPUT"], capture_output=True, text=True, timeout=30).stdout
    for line in listed.splitlines():
        if f"{instance}: no cloud metadata" in line and line.startswith("-A "):
            subprocess.run([iptables, "-D", *shlex.split(line)[1:]], capture_output=True, timeout=30)


def no_login_shell(name: str) -> None:
    """``nologin`` as the account's shell: ``su`` and logins get nothing (the server sets ``SHELL`` itself)."""
    subprocess.run(["usermod", "--shell", NOLOGIN, name], check=True, capture_output=True, timeout=30)


def mount_runtime_dir(folder: Path, uid: int, gid: int, size: str = RUNTIME_SIZE) -> None:
    """``/run/user/<uid>`` as a tmpfs of its own (size-capped, the learner's, 0700), like a login session's."""
    folder.mkdir(parents=True, exist_ok=True)
    if not os.path.ismount(folder):
        options = f"size={size},mode=0700,uid={uid},gid={gid},nosuid,nodev"
        subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(folder)], check=True, timeout=30)
    os.chown(folder, uid, gid)
    folder.chmod(0o700)


def unmount_runtime_dir(folder: Path) -> None:
    """Unmount it (what the learner wrote there is gone with it)."""
    if os.path.ismount(folder):
        subprocess.run(["umount", "--lazy", str(folder)], check=True, capture_output=True, timeout=30)


def remove_shared_memory(uid: int, shm: Path = Path("/dev/shm")) -> list[str]:
    """Remove the learner's files in ``/dev/shm`` and their System V IPC objects; what was removed."""
    removed = []
    try:
        entries = list(os.scandir(shm))
    except OSError:
        entries = []
    for entry in entries:
        try:
            if entry.stat(follow_symlinks=False).st_uid == uid:
                if entry.is_dir(follow_symlinks=False):
                    continue  # a folder (none is expected): left for a person to look at
                os.unlink(entry.path)  # unlink never follows a symlink
                removed.append(entry.path)
        except OSError:
            continue
    for kind, table in SYSV.items():
        for ident in sysv_ids(table.read_text() if table.exists() else "", uid):
            proc = subprocess.run(["ipcrm", f"-{kind}", ident], capture_output=True, timeout=30)
            if proc.returncode == 0:
                removed.append(f"ipc -{kind} {ident}")
    return removed


def sysv_ids(table: str, uid: int) -> list[str]:
    """The ids of ``uid``'s objects in a ``/proc/sysvipc/*`` table (its header names the ``uid`` column)."""
    lines = table.splitlines()
    if not lines:
        return []
    header = lines[0].split()
    id_col = next(i for i, h in enumerate(header) if h in ("shmid", "semid", "msqid"))
    uid_col = header.index("uid")
    rows = [ln.split() for ln in lines[1:]]
    return [cols[id_col] for cols in rows if len(cols) > uid_col and cols[uid_col] == str(uid)]


LOG_CAP = 20 << 20
"""A server's log is moved to ``.1`` (the one before is dropped) when it reaches this many bytes."""


def pump(fd: int, log: Path, cap: int = LOG_CAP) -> None:
    """Copy what a server writes to ``fd`` into ``log`` (root's, 0600) until it closes; at most ``cap`` bytes
    a file, the last full one kept as ``.1``."""
    log.parent.mkdir(parents=True, exist_ok=True)
    out = open(log, "ab")
    log.chmod(0o600)
    try:
        with os.fdopen(fd, "rb") as source:
            while chunk := source.readline(65536):  # a line at a time (at most 64 KiB of one)
                if out.tell() and out.tell() + len(chunk) > cap:
                    out.close()
                    log.replace(log.with_name(log.name + ".1"))
                    out = open(log, "ab")
                    log.chmod(0o600)
                out.write(chunk)
                out.flush()
    finally:
        out.close()


def daemon_config(folder: Path, name: str, data_root: Path) -> Path:
    """A learner's daemon configuration, root's (0644 in a 0755 folder of root's): the data root on their disk."""
    folder.mkdir(parents=True, exist_ok=True)
    folder.chmod(0o755)
    path = folder / f"{name}.json"
    path.write_text(json.dumps({"data-root": str(data_root)}, indent=2) + "\n")
    path.chmod(0o644)
    return path
