"""Host ports the kernel picks: publish ``-p 127.0.0.1::PORT``, read the answer back with ``docker port``.

No host port is computed per learner or per notebook, so learners sharing a host (or two notebooks of one
learner) never ask for the same port, and a port someone else holds is never a conflict. Docker picks from
the kernel's ephemeral range (``/proc/sys/net/ipv4/ip_local_port_range``) each time the container starts:
read it again after a restart instead of keeping it.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess

from .shell import CommandFailed, docker_out

LOOPBACK = "127.0.0.1"


def publish(container_port: int) -> str:
    """The ``-p`` value that publishes ``container_port`` on a loopback port the kernel picks."""
    return f"{LOOPBACK}::{container_port}"


def published(container: str, container_port: int, *, protocol: str = "tcp") -> int:
    """The host port ``container`` publishes ``container_port`` on (``docker port CONTAINER PORT``)."""
    out = docker_out("port", container, f"{container_port}/{protocol}", check=False)
    for line in out.splitlines():
        host, _, number = line.strip().rpartition(":")
        if host in (LOOPBACK, "0.0.0.0") and number.isdigit():
            return int(number)
    raise CommandFailed(
        f"{container} publishes no host port for {container_port}/{protocol}: is it running? "
        f"(`docker ps -a --filter name={container}`, `docker port {container}`)"
    )


def address(container: str, container_port: int) -> str:
    """``127.0.0.1:<host port>`` where ``container_port`` of ``container`` answers on this host."""
    return f"{LOOPBACK}:{published(container, container_port)}"


def free() -> int:
    """A loopback port that is free right now, picked by the kernel (for a service whose port must be given)."""
    with socket.socket() as probe:
        probe.bind((LOOPBACK, 0))
        return int(probe.getsockname()[1])


def addresses(port_output: str) -> set[str]:
    """The host addresses in ``docker port`` output (``0.0.0.0:49153``, ``[::]:49153``, ``127.0.0.1:49154``)."""
    return {line.strip().rpartition(":")[0].strip("[]") for line in port_output.splitlines() if ":" in line}


def bound_to(container: str, container_port: int, *, protocol: str = "tcp") -> set[str]:
    """The host addresses ``container`` publishes ``container_port`` on (``0.0.0.0`` means every interface)."""
    return addresses(docker_out("port", container, f"{container_port}/{protocol}", check=False))


def dnat_for(rules: str, host_port: int) -> bool:
    """Whether ``iptables -t nat -S DOCKER`` output has a DNAT rule for ``host_port``."""
    return any(f"--dport {host_port} " in rule and "DNAT" in rule for rule in rules.splitlines())


def nat_rule(host_port: int) -> bool | None:
    """Whether the host's ``nat`` table sends ``host_port`` to a container (Docker's DNAT rule, before any
    ``INPUT`` rule of ufw or firewalld sees the packet); None where it cannot be read (not root, no iptables,
    rootless Docker or Podman, which publish ports another way)."""

    iptables = shutil.which("iptables") or shutil.which("iptables", path="/usr/sbin:/sbin")
    if os.geteuid() != 0 or iptables is None:
        return None
    done = subprocess.run([iptables, "-t", "nat", "-S", "DOCKER"], capture_output=True, text=True, timeout=10)
    if done.returncode != 0:
        return None
    return dnat_for(done.stdout, host_port)
