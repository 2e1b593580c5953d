"""A network namespace per workshop learner (the hub's finding F5): one learner who holds every port holds only
their own.

Without it every learner's server, kernels, terminals and rootless daemon share the host's network stack, and one
Python line that binds ``('0.0.0.0', 0)`` some 28 000 times takes the host's whole ephemeral port range: the proxy
can no longer reach the hub or any server, and every learner's ``pip`` and ``docker build`` fail. Here each
learner (uid U) has ``/run/netns/dmac-U``, made by root before their server starts:

- a veth pair, ``dmvU`` on the host (10.201.x.1/30) and ``eth0`` inside (10.201.x.2/30, the default route), and
  ``lo``: their ports, sockets and loopback are theirs alone; their server listens on the inside address, which
  the hub's proxy reaches through the pair;
- the hub's API on 10.201.0.1, an address of the host's on ``lo`` (JupyterHub's ``hub_ip``): what a learner's
  server calls back to, reachable from every namespace through its pair (the host's own 127.0.0.1 is not);
- forwarding with masquerade out of 10.201.0.0/16 (Debian's mirror, PyPI), and none from one learner's pair to
  another's (a learner reaches no other learner's server directly);
- inside the namespace, a REJECT rule for the cloud metadata service (169.254.169.254; F9), where the learner has
  no privilege to change it (the namespace belongs to root's user namespace); slirp4netns, which carries their
  containers' traffic, runs there too.

Root runs these (``ip``, ``iptables``); :func:`enter` moves the calling process into a namespace (the spawner's
child, before it drops to the learner) and :func:`nsenter` prefixes a command that should start there as the
learner.
"""

from __future__ import annotations

import ctypes
import ipaddress
import os
import shlex
import shutil
import subprocess
from pathlib import Path

SUBNET = ipaddress.ip_network("10.201.0.0/16")
HUB_ADDRESS = str(SUBNET[1])
"""The hub's API address (``c.JupyterHub.hub_ip``): an address of the host's, on ``lo`` (label :data:`HUB_LABEL`)."""
HUB_LABEL = "lo:dmac-hub"
NETNS = Path("/run/netns")
METADATA = "169.254.169.254"
"""The link-local address of the metadata service of AWS, Google Cloud, Azure and OpenStack."""
CLONE_NEWNET = 0x40000000
BLOCKS = SUBNET.num_addresses // 4 - 1  # /30 blocks for learners (block 0 is the hub's)


class NetnsError(RuntimeError):
    """A namespace could not be made or entered: the message says which command failed and why."""


def name(uid: int) -> str:
    return f"dmac-{uid}"


def path(uid: int) -> Path:
    return NETNS / name(uid)


def host_interface(uid: int) -> str:
    return f"dmv{uid}"  # at most 15 characters: uids up to 12 digits


def addresses(uid: int) -> tuple[str, str]:
    """(host side, inside) of the learner's pair: a /30 of 10.201.0.0/16 chosen by the uid (block 0 is the hub's)."""
    base = int(SUBNET.network_address) + 4 * (1 + uid % BLOCKS)
    return str(ipaddress.ip_address(base + 1)), str(ipaddress.ip_address(base + 2))


def inside_address(uid: int) -> str:
    return addresses(uid)[1]


def _run(argv: list[str], *, check: bool = True) -> subprocess.CompletedProcess:
    done = subprocess.run(argv, capture_output=True, text=True, timeout=60)
    if check and done.returncode != 0:
        raise NetnsError(f"`{shlex.join(argv)}` failed: {(done.stderr or done.stdout).strip()[:300]}")
    return done


def _iptables() -> str:
    found = shutil.which("iptables") or shutil.which("iptables", path="/usr/sbin:/sbin")
    if found is None:
        raise NetnsError("iptables is missing: `apt-get install iptables` (the hub's learners need its rules)")
    return found


def _rule(rule: list[str], *, table: str = "filter", inside: int | None = None, top: bool = True) -> None:
    """Add an iptables ``rule`` once (``-C`` first): at the top of its chain, or at its end."""
    prefix = ["ip", "netns", "exec", name(inside)] if inside is not None else []
    iptables = [*prefix, _iptables(), "-t", table]
    if _run([*iptables, "-C", *rule], check=False).returncode != 0:
        _run([*iptables, "-I" if top else "-A", *rule])


def _comment(instance: str, what: str) -> list[str]:
    return ["-m", "comment", "--comment", f"{instance}: {what}"]


def ensure_host(instance: str) -> None:
    """The host's side, once per hub (idempotent): the hub's address, forwarding, masquerade, no learner to learner."""
    _run(["ip", "addr", "replace", f"{HUB_ADDRESS}/32", "dev", "lo", "label", HUB_LABEL])
    Path("/proc/sys/net/ipv4/ip_forward").write_text("1\n")  # Docker turns it on too; a host without Docker needs it
    out = ["-s", str(SUBNET), "!", "-d", str(SUBNET)]
    _rule(["POSTROUTING", *out, *_comment(instance, "learners out"), "-j", "MASQUERADE"], table="nat", top=False)
    _rule(["FORWARD", "-i", "dmv+", *_comment(instance, "learners out"), "-j", "ACCEPT"])
    back = ["-m", "conntrack", "--ctstate", "RELATED,ESTABLISHED"]
    _rule(["FORWARD", "-o", "dmv+", *back, *_comment(instance, "answers to learners"), "-j", "ACCEPT"])
    _rule(["FORWARD", "-i", "dmv+", "-o", "dmv+", *_comment(instance, "no learner to learner"), "-j", "DROP"])


def ensure(instance: str, uid: int) -> Path:
    """The learner's namespace with its pair, routes and metadata rule, made where missing; its path."""
    host, inside = addresses(uid)
    if not path(uid).exists():
        _run(["ip", "netns", "add", name(uid)])
    ns = ["ip", "-n", name(uid)]
    _run([*ns, "link", "set", "lo", "up"])
    if _run([*ns, "link", "show", "eth0"], check=False).returncode != 0:
        peer = f"{host_interface(uid)}p"
        _run(["ip", "link", "del", host_interface(uid)], check=False)  # a half-made pair of an interrupted run
        _run(["ip", "link", "add", host_interface(uid), "type", "veth", "peer", "name", peer])
        _run(["ip", "link", "set", peer, "netns", name(uid)])
        _run([*ns, "link", "set", peer, "name", "eth0"])
        _run([*ns, "addr", "add", f"{inside}/30", "dev", "eth0"])
        _run([*ns, "link", "set", "eth0", "up"])
        _run(["ip", "addr", "replace", f"{host}/30", "dev", host_interface(uid)])
        _run(["ip", "link", "set", host_interface(uid), "up"])
        _run([*ns, "route", "replace", "default", "via", host])
    no_metadata = ["OUTPUT", "-d", METADATA, *_comment(instance, "no cloud metadata for workshop learners")]
    _rule([*no_metadata, "-j", "REJECT"], inside=uid)
    return path(uid)


def metadata_rejections(instance: str, uid: int) -> int:
    """Packets the learner's metadata rule rejected so far (``iptables -L OUTPUT -v -x`` in their namespace)."""
    listed = _run(["ip", "netns", "exec", name(uid), _iptables(), "-L", "OUTPUT", "-v", "-n", "-x"]).stdout
    rows = [line.split() for line in listed.splitlines() if f"{instance}: no cloud metadata" in line]
    return sum(int(row[0]) for row in rows)


def enter(uid: int) -> None:
    """Move the calling process (root, single-threaded: a child before ``exec``) into the learner's namespace."""
    fd = os.open(path(uid), os.O_RDONLY)
    try:
        if ctypes.CDLL(None, use_errno=True).setns(fd, CLONE_NEWNET) != 0:
            raise NetnsError(f"setns into {path(uid)} failed: {os.strerror(ctypes.get_errno())}")
    finally:
        os.close(fd)


def nsenter(uid: int, gid: int) -> list[str]:
    """A prefix that starts a command in the learner's namespace as the learner (root runs it; nsenter drops to
    ``uid``/``gid`` and clears the supplementary groups)."""
    return ["nsenter", f"--net={path(uid)}", "--setgid", str(gid), "--setuid", str(uid), "--"]


def remove(uid: int) -> None:
    """The learner's namespace and pair (their rules inside go with it)."""
    _run(["ip", "link", "del", host_interface(uid)], check=False)
    if path(uid).exists():
        _run(["ip", "netns", "del", name(uid)], check=False)


def remove_host(instance: str) -> None:
    """The host's side of :func:`ensure_host`: this hub's rules and the hub's address."""
    iptables = _iptables()
    for table, chain in (("nat", "POSTROUTING"), ("filter", "FORWARD")):
        listed = _run([iptables, "-t", table, "-S", chain]).stdout
        for line in listed.splitlines():
            if line.startswith("-A ") and f"{instance}: " in line:
                _run([iptables, "-t", table, "-D", *shlex.split(line)[1:]], check=False)
    _run(["ip", "addr", "del", f"{HUB_ADDRESS}/32", "dev", "lo"], check=False)
