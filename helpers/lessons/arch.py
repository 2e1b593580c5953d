"""CPU architectures: the daemon's own, the other one the course builds for, and what a program is compiled for.

Docker names architectures as Go does (``amd64``, ``arm64``); the kernel says ``x86_64`` or ``aarch64``
(``uname -m``); an ELF file says it in its header's ``e_machine`` field.
"""

from __future__ import annotations

import io
import tarfile
from typing import Literal

from ..core import course
from ..core.daemon import client

KERNEL_NAMES = {"x86_64": "amd64", "aarch64": "arm64", "armv7l": "arm", "i686": "386", "s390x": "s390x"}
"""``uname -m`` (and ``docker info``'s Architecture) to Docker's platform names."""

ELF_MACHINES = {62: "amd64", 183: "arm64", 40: "arm", 3: "386", 22: "s390x", 243: "riscv64"}
"""ELF ``e_machine`` values (System V ABI) to Docker's platform names."""

QEMU = {"arm64": "qemu-aarch64", "amd64": "qemu-x86_64"}
"""Debian's ``qemu-user`` program that runs a program of that architecture on another one."""


def platform_name(kernel_arch: str) -> str:
    """Docker's name for a kernel architecture: ``x86_64`` → ``amd64``; a name Docker already uses stays."""
    return KERNEL_NAMES.get(kernel_arch, kernel_arch)


def kernel_name(platform_arch: str) -> str:
    """The kernel's (and Python wheels') name for a Docker architecture: ``amd64`` → ``x86_64``."""
    return next((kernel for kernel, docker in KERNEL_NAMES.items() if docker == platform_arch), platform_arch)


def native() -> str:
    """The architecture of the daemon's machine, as Docker names it (``docker version`` Server.Arch)."""

    return platform_name(str(client().version().get("Arch", "")))


def foreign(native_arch: str) -> str:
    """The architecture the course builds for to show what happens on the wrong one: arm64 on an amd64
    machine, amd64 everywhere else (an Apple Silicon Mac's Docker Desktop VM is arm64)."""
    return "arm64" if native_arch == "amd64" else "amd64"


def elf_machine(data: bytes) -> str | None:
    """The architecture an ELF program is compiled for (``e_machine``), or None if ``data`` is not ELF."""
    if len(data) < 20 or data[:4] != b"\x7fELF":
        return None
    order: Literal["little", "big"] = "little" if data[5] == 1 else "big"
    number = int.from_bytes(data[18:20], order)
    return ELF_MACHINES.get(number, f"e_machine {number}")


def file_from_image(ref: str, path: str) -> bytes | None:
    """The content of ``path`` in image ``ref`` (a created, never started container, removed again), or None
    if there is no such file."""
    import docker as sdk  # deferred: the Docker SDK is slow to import


    box = client().containers.create(ref, labels=course.labels())
    try:
        stream, _ = box.get_archive(path)
        with tarfile.open(fileobj=io.BytesIO(b"".join(stream))) as tar:
            member = next((m for m in tar.getmembers() if m.isfile()), None)
            handle = tar.extractfile(member) if member else None
            return handle.read() if handle else None
    except sdk.errors.NotFound:
        return None
    finally:
        box.remove(force=True)
