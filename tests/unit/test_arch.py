"""CPU architecture names and ELF headers (pure: no daemon)."""

from __future__ import annotations

import struct

import pytest

from helpers.lessons import arch


def _elf(machine: int, *, little: bool = True) -> bytes:
    order = "<" if little else ">"
    ident = b"\x7fELF" + bytes([2, 1 if little else 2, 1]) + bytes(9)
    return ident + struct.pack(f"{order}HH", 2, machine) + bytes(44)


@pytest.mark.parametrize(
    ("machine", "name"), [(62, "amd64"), (183, "arm64"), (40, "arm"), (3, "386"), (243, "riscv64")]
)
def test_elf_machine_names_docker_platforms(machine: int, name: str) -> None:
    assert arch.elf_machine(_elf(machine)) == name


def test_elf_machine_reads_big_endian_headers_and_unknown_machines() -> None:
    assert arch.elf_machine(_elf(22, little=False)) == "s390x"
    assert arch.elf_machine(_elf(9999)) == "e_machine 9999"


@pytest.mark.parametrize("data", [b"", b"#!/bin/sh\necho hi\n", b"\x7fELF", b"MZ" + bytes(64)])
def test_elf_machine_is_none_for_anything_but_elf(data: bytes) -> None:
    assert arch.elf_machine(data) is None


def test_kernel_names_become_docker_names_and_the_foreign_one_is_the_other() -> None:
    assert [arch.platform_name(a) for a in ("x86_64", "aarch64", "amd64", "ppc64le")] == [
        "amd64",
        "arm64",
        "amd64",
        "ppc64le",
    ]
    assert arch.foreign("amd64") == "arm64"
    assert arch.foreign("arm64") == "amd64"
    assert set(arch.QEMU) >= {arch.foreign("amd64"), arch.foreign("arm64")}


def test_kernel_names_are_dockers_names_turned_back() -> None:
    assert [arch.kernel_name(a) for a in ("amd64", "arm64", "riscv64")] == ["x86_64", "aarch64", "riscv64"]
    assert all(arch.platform_name(arch.kernel_name(a)) == a for a in ("amd64", "arm64", "arm", "386", "s390x"))
