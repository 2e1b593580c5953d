"""The workshop hub's HTTPS: a room CA made once, and the hub's certificate for every name the room uses.

Learners' browsers accept the hub without a click-through once they trust the room's CA (one file, or a
fingerprint to compare with the one on the sheet). The certificate names the host's name, ``localhost`` and
every address the hub answers on (subject alternative names: browsers ignore a certificate's CN). The CA's key
stays in the hub's state folder (root, 0700); the CA signs nothing but this hub's certificate (a name
constraint limits it to the names and addresses it was made for).
"""

from __future__ import annotations

import ipaddress
import os
import socket
import subprocess
from pathlib import Path

DAYS_CA = 365
DAYS_CERT = 90


BRIDGES = ("docker", "br-", "veth", "virbr", "cni", "podman", "lo")
"""Interfaces that are not the room's network (container bridges come and go; their addresses would change
the certificate's names, and so the CA, whenever a network is made)."""


def names() -> list[str]:
    """The names and addresses the hub's certificate must carry: this host's name, localhost, the addresses
    of its network interfaces (not container bridges), and ``DMAC_HUB_NAMES`` (comma-separated) if set."""
    found = [os.uname().nodename, "localhost", "127.0.0.1", "::1"]
    try:
        out = subprocess.run(["ip", "-o", "addr", "show", "scope", "global"], capture_output=True, text=True,
                             timeout=10).stdout  # fmt: skip
    except (OSError, subprocess.SubprocessError):
        out = ""
    for line in out.splitlines():
        parts = line.split()
        if len(parts) > 3 and not parts[1].startswith(BRIDGES):
            found.append(parts[3].partition("/")[0])
    found += [n.strip() for n in os.environ.get("DMAC_HUB_NAMES", "").split(",") if n.strip()]
    try:
        fqdn = socket.getfqdn()
    except OSError:
        fqdn = ""
    if fqdn and "." in fqdn:
        found.append(fqdn)
    return list(dict.fromkeys(found))


def _is_ip(name: str) -> bool:
    try:
        ipaddress.ip_address(name)
    except ValueError:
        return False
    return True


def san(entries: list[str]) -> str:
    """``subjectAltName`` for openssl: ``DNS:host,DNS:localhost,IP:127.0.0.1,…``."""
    return ",".join(f"IP:{n}" if _is_ip(n) else f"DNS:{n}" for n in entries)


def _constraints(entries: list[str]) -> str:
    """A name constraint: the CA may vouch for these names and addresses only (a stolen CA key signs no bank)."""
    permitted = []
    for n in entries:
        if _is_ip(n):
            net = ipaddress.ip_network(n)
            permitted.append(f"permitted;IP:{net.network_address}/{net.netmask}")
        else:
            permitted.append(f"permitted;DNS:{n}")
    return "critical," + ",".join(permitted)


def _openssl(*argv: str) -> None:
    subprocess.run(["openssl", *argv], check=True, capture_output=True, timeout=120)


def ensure(folder: Path, entries: list[str] | None = None) -> tuple[Path, Path, Path]:
    """The room CA (made once) and a hub certificate for ``entries`` (made again when the names change).

    Returns (ca.crt, hub.crt, hub.key) in ``folder``; the keys are 0600.
    """
    entries = entries or names()
    ca_crt, ca_key = folder / "room-ca.crt", folder / "room-ca.key"
    crt, key, made_for = folder / "hub.crt", folder / "hub.key", folder / "hub.names"
    folder.mkdir(parents=True, exist_ok=True)
    wanted = "\n".join(entries)
    if not ca_crt.exists() or not ca_key.exists() or (made_for.exists() and made_for.read_text() != wanted):
        # a new name means a new CA too: its name constraint lists the names it may vouch for
        _openssl(
            "req", "-x509", "-newkey", "rsa:3072", "-nodes", "-days", str(DAYS_CA),
            "-subj", f"/CN=DMAC workshop room CA ({entries[0]})", "-keyout", str(ca_key), "-out", str(ca_crt),
            "-addext", "basicConstraints=critical,CA:TRUE,pathlen:0",
            "-addext", "keyUsage=critical,keyCertSign,cRLSign",
            "-addext", f"nameConstraints={_constraints(entries)}",
        )  # fmt: skip
        ca_key.chmod(0o600)
        crt.unlink(missing_ok=True)
    if not crt.exists() or not key.exists():
        csr, ext = folder / "hub.csr", folder / "hub.ext"
        _openssl("req", "-newkey", "rsa:2048", "-nodes", "-subj", f"/CN={entries[0]}", "-keyout", str(key),
                 "-out", str(csr))  # fmt: skip
        ext.write_text(
            f"subjectAltName={san(entries)}\nextendedKeyUsage=serverAuth\n"
            "keyUsage=critical,digitalSignature,keyEncipherment\nbasicConstraints=critical,CA:FALSE\n"
            "subjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid,issuer\n"
        )
        _openssl("x509", "-req", "-in", str(csr), "-CA", str(ca_crt), "-CAkey", str(ca_key), "-CAcreateserial",
                 "-days", str(DAYS_CERT), "-extfile", str(ext), "-out", str(crt))  # fmt: skip
        key.chmod(0o600)
        for leftover in (csr, ext, folder / "room-ca.srl"):
            leftover.unlink(missing_ok=True)
        made_for.write_text(wanted)
    return ca_crt, crt, key


def fingerprint(cert: Path) -> str:
    """The certificate's SHA-256 fingerprint, as browsers show it (``AB:CD:…``)."""
    out = subprocess.run(
        ["openssl", "x509", "-in", str(cert), "-noout", "-fingerprint", "-sha256"],
        capture_output=True, text=True, check=True, timeout=30,
    ).stdout  # fmt: skip
    return out.strip().partition("=")[2]


def alt_names(cert: Path) -> list[str]:
    """The subject alternative names of a certificate (``DNS:…``, ``IP Address:…``)."""
    out = subprocess.run(
        ["openssl", "x509", "-in", str(cert), "-noout", "-ext", "subjectAltName"],
        capture_output=True, text=True, check=True, timeout=30,
    ).stdout  # fmt: skip
    return [part.strip() for part in out.splitlines()[-1].split(",")] if "Alternative" in out else []
