"""The cgroup v2 lane: a real cgroup v2 host, Debian trixie in a VM under QEMU (software emulation, TCG).

This course's CI host runs cgroup v1, so what learners meet on a current distribution (cgroup v2: Docker's
systemd cgroup driver, limits in ``memory.max``/``cpu.max``, per-container ``io.stat``, rootless Docker with
limits through systemd's delegation) is checked in a VM, made offline from the project's own files:

* :func:`build`: ``debootstrap`` of trixie with its kernel, Docker Engine 26.1, rootless Docker's packages and
  busybox-static (1.5 to 3 min here, once), then the course's files (:mod:`helpers.infra.cgroupvm_guest`,
  :mod:`helpers.infra.cgroups`, :mod:`helpers.infra.cgroupvm_hub`) and ``mkfs.ext4 -d`` into a raw disk. Cached under
  ``build/vm/<packages hash>/disk-<files hash>.img``, so a second run starts at once.
* :func:`run`: boots it (``-snapshot``: the cached disk is never written) with a bounded timeout; a systemd unit
  runs the checks, prints their values as one JSON line on ttyS0 and powers off. The console goes to
  ``build/vm/console.log``; its progress lines are echoed here.

``python -m helpers.infra.cgroupvm build|run`` (root). ``tests/vm/test_cgroup_v2.py`` asserts the values
(``make test-cgroup2``).
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import os
import shutil
import subprocess
import sys
import tarfile
import time
from dataclasses import dataclass
from pathlib import Path

from ..core import course
from ..core.errors import VMError
from ..lessons import monitor
from .cgroupvm_guest import LIB, MARKER, PROGRESS, UNIT, checks_sh

SUITE = "trixie"
MIRROR = os.environ.get("DMAC_DEBIAN_MIRROR", "http://deb.debian.org/debian")
PACKAGES = (
    "systemd-sysv", "dbus", "linux-image-amd64",  # boot: systemd, the kernel and its initrd
    "docker.io", "docker-cli",  # Engine 26.1 (the CLI is its own package)
    "rootlesskit", "slirp4netns", "uidmap", "iproute2", "dbus-user-session",  # rootless Docker; systemd --user bus
    "busybox-static", "python3",  # the busybox image; the hub's cgroups.py
)  # fmt: skip
RECIPE = "1"
"""Bumped when the way the root file system is made changes (part of its cache key)."""

VM_DIR = course.ROOT / "build" / "vm"
CONSOLE = VM_DIR / "console.log"
RESULTS = VM_DIR / "results.json"
DISK_SIZE = "6G"
# Single-threaded TCG (both vCPUs in one host thread, in turn): with thread=multi (QEMU 7.2), one boot in about ten
# oopsed ("int3" in dequeue_entity, a kernel panic) when `--cpus 0.5` switched a static key: the kernel patches its
# code with int3 while the other vCPU still ran the old translation. Measured here, single is no slower on 2 cores.
QEMU = ("qemu-system-x86_64", "-accel", "tcg,thread=single", "-cpu", "max", "-smp", "2", "-m", "4096")
# quiet: the kernel's messages stay off the console the results line is on; no reboot on a panic (QEMU exits)
KERNEL_ARGS = "root=/dev/vda rw console=ttyS0 quiet panic=-1"
RUN_TIMEOUT = 600.0
HOST_TOOLS = (("qemu-system-x86_64", "qemu-system-x86"), ("debootstrap", "debootstrap"), ("mkfs.ext4", "e2fsprogs"))
SBIN_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"


@dataclass(frozen=True)
class Disk:
    """A built VM: its raw root disk, and the kernel and initrd booted from outside it."""

    image: Path
    kernel: Path
    initrd: Path


@dataclass(frozen=True)
class Check:
    """One value the VM measures (a key of its results), described for the documentation's table."""

    key: str
    what: str
    expected: str


CHECKS = (
    Check("engine.cgroup_version", "`docker info`: cgroup version", "2"),
    Check("engine.cgroup_driver", "`docker info`: cgroup driver", "systemd"),
    Check("limits.memory_max", "`docker run -m 64m`: memory.max inside", "67108864"),
    Check("limits.cpu_max", "`docker run --cpus 0.5`: cpu.max inside", "50000 100000"),
    Check("limits.pids_max", "`docker run --pids-limit 100`: pids.max inside", "100"),
    Check("oom.logs", "128 MiB touched under `-m 64m` (dd, a child of the container's shell)", "dd exit 137"),
    Check("oom.exit_code", "the same: the container's exit code", "137"),
    Check("oom.oom_killed", "the same: `OOMKilled` in `docker inspect`", "true"),
    Check("update.memory_max", "`docker update -m 128m` (running): memory.max inside", "134217728"),
    Check("stats.mem_usage", "`docker stats --no-stream`: memory usage / limit (`-m 64m`)", "… / 64MiB"),
    Check("io.wbytes", "32 MiB written with `dd oflag=direct`: wbytes in the scope's io.stat", "≥ 33554432"),
    Check("exporter.memory_limit", "notebook 11's exporter on that container: cgroup_memory_limit_bytes", "67108864"),
    Check("exporter.cpu_seconds", "the same: cgroup_cpu_seconds_total", "> 0"),
    Check("hub.memory.max", "hub's learner cgroup (`cgroups.create`): memory.max", "67108864"),
    Check("hub.memory.swap.max", "the same: memory.swap.max", "0"),
    Check("hub.pids.max", "the same: pids.max", "64"),
    Check("hub.cpu.max", "the same: cpu.max", "50000 100000"),
    Check("hub.child_returncode", "100 MiB touched in it (`cgroups.enter`): return code", "-9 (SIGKILL)"),
    Check("hub.oom_kill", "the same: oom_kill in memory.events", "1"),
    Check("hub.removed", "the group removed afterwards", "true"),
    Check("rootless.controllers", "controllers delegated to user@.service", "cpu memory pids"),
    Check("rootless.cgroup_driver", "rootless `docker info`: cgroup driver", "systemd"),
    Check("rootless.memory_max", "rootless `docker run -m 64m`: memory.max inside", "67108864"),
)
"""What the documentation's table shows (:func:`helpers.infra.compat.cgroup2_section`); the test asserts each."""


# ---------------------------------------------------------------- progress and host tools


def say(message: str, since: float | None = None) -> None:
    """One progress line; with ``since`` (a ``time.monotonic()``), the seconds it took."""
    took = f" ({time.monotonic() - since:.0f} s)" if since is not None else ""
    print(f"[cgroup-vm] {message}{took}", flush=True)


def which(binary: str) -> str | None:
    """A tool on PATH or in the sbin folders (mkfs.ext4 and debootstrap live there)."""
    return shutil.which(binary) or shutil.which(binary, path=SBIN_PATH)


def ensure_host_tools() -> None:
    """Install QEMU, debootstrap and e2fsprogs with apt-get when missing (root on Debian/Ubuntu)."""
    missing = [package for binary, package in HOST_TOOLS if not which(binary)]
    if not missing:
        return
    if os.geteuid() != 0 or not which("apt-get"):
        raise VMError(f"the cgroup v2 VM needs {', '.join(missing)}: install them (as root: apt-get install …)")
    start = time.monotonic()
    say(f"installing {' '.join(missing)} (apt-get, once)")
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    install = ["apt-get", "install", "-y", "-qq", "--no-install-recommends", *missing]
    for argv in (["apt-get", "update", "-qq"], install):
        done = subprocess.run(argv, env=env, timeout=1200, capture_output=True, text=True)
        if done.returncode != 0:
            raise VMError(f"{' '.join(argv[:2])} failed:\n{done.stderr[-800:]}")
    say(f"installed {' '.join(missing)}", start)


# ---------------------------------------------------------------- the image


def guest_files() -> dict[str, tuple[str, int]]:
    """Every file the course puts into the VM's root: ``{absolute path: (text, mode)}``."""
    helpers = Path(__file__).parent
    return {
        f"{LIB}/checks.sh": (checks_sh(), 0o755),
        f"{LIB}/helpers/__init__.py": ("", 0o644),
        f"{LIB}/helpers/infra/__init__.py": ("", 0o644),
        f"{LIB}/helpers/infra/cgroups.py": ((helpers / "cgroups.py").read_text(), 0o644),
        f"{LIB}/helpers/infra/cgroupvm_hub.py": ((helpers / "cgroupvm_hub.py").read_text(), 0o644),
        f"{LIB}/exporter.py": (monitor.EXPORTER_PY, 0o644),  # notebook 11's exporter, run on a live container's files
        "/etc/systemd/system/dmac-checks.service": (UNIT, 0o644),
        "/etc/hostname": ("dmac-cgroup2\n", 0o644),
    }


GUEST_LINKS = {
    "/etc/systemd/system/multi-user.target.wants/dmac-checks.service": "/etc/systemd/system/dmac-checks.service",
    "/etc/systemd/system/serial-getty@ttyS0.service": "/dev/null",  # masked: the checks own the console
}


def _digest(*parts: object) -> str:
    return hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()[:12]


def rootfs_key() -> str:
    """The root file system's cache key: the suite, the packages and the recipe."""
    return _digest(SUITE, sorted(PACKAGES), RECIPE)


def disk_key() -> str:
    """The disk's cache key: the root file system's, and every file the course adds."""
    return _digest(rootfs_key(), guest_files(), GUEST_LINKS)


def debootstrap(rootfs: Path) -> None:
    """``debootstrap --variant=minbase --include=…`` of :data:`SUITE`, one progress line per phase."""
    argv = [which("debootstrap") or "debootstrap", "--variant=minbase", "--arch=amd64",
            f"--include={','.join(PACKAGES)}", SUITE, str(rootfs), MIRROR]  # fmt: skip
    start = time.monotonic()
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    assert proc.stdout is not None
    phase, seen, said = "", set[str](), start
    tail: list[str] = []
    for line in proc.stdout:  # "I: Retrieving libc6", "I: Validating libc6", …: a line per new phase, or 15 s
        tail = [*tail[-20:], line.rstrip()]
        words = line[3:].split()
        if line.startswith("I: ") and words and words[0] != phase:
            phase = words[0]
            if phase not in seen or time.monotonic() - said >= 15:
                seen.add(phase)
                said = time.monotonic()
                say(f"debootstrap: {phase.lower()} … {said - start:.0f} s")
    if proc.wait(timeout=1800) != 0:
        raise VMError("debootstrap failed (is the Debian mirror reachable? DMAC_DEBIAN_MIRROR):\n" + "\n".join(tail))
    unmount_below(rootfs)


def mounts_below(folder: Path, mounts: str | None = None) -> list[str]:
    """The mount points inside ``folder`` (``/proc/mounts``), deepest first."""
    text = Path("/proc/mounts").read_text() if mounts is None else mounts
    inside = str(folder.resolve()) + "/"
    points = [line.split()[1].replace("\\040", " ") for line in text.splitlines() if len(line.split()) > 1]
    return sorted({p for p in points if p.startswith(inside)}, key=lambda p: p.count("/"), reverse=True)


def unmount_below(folder: Path) -> None:
    """Unmount what is still mounted inside the root file system: debootstrap mounts ``proc`` there to configure
    packages and, in CI (the host's daemon starting containers meanwhile), once left it behind; ``mkfs.ext4 -d``
    would then try to copy the host's ``/proc`` into the disk and fail ("Permission denied ... auxv")."""
    for point in mounts_below(folder):
        subprocess.run(["umount", "--lazy", point], capture_output=True, timeout=60)
    if left := mounts_below(folder):
        raise VMError(f"still mounted inside the VM's root file system, which cannot go into its disk: {left}")


def busybox_tar(rootfs: Path, out: Path) -> int:
    """The ``busybox`` image's files as a tar for ``docker import``: busybox-static's binary and its applets."""
    binary = rootfs / "usr/bin/busybox"
    listed = subprocess.run([str(binary), "--list"], capture_output=True, text=True, check=True, timeout=30)
    applets = [name for name in listed.stdout.split() if name != "busybox"]
    with tarfile.open(out, "w") as tar:
        for folder in ("bin", "etc", "tmp", "root", "proc", "sys", "dev"):
            info = tarfile.TarInfo(folder)
            info.type, info.mode = tarfile.DIRTYPE, 0o1777 if folder == "tmp" else 0o755
            tar.addfile(info)
        tar.add(binary, arcname="bin/busybox")
        for applet in applets:
            link = tarfile.TarInfo(f"bin/{applet}")
            link.type, link.linkname = tarfile.SYMTYPE, "busybox"
            tar.addfile(link)
        passwd = b"root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n"
        info = tarfile.TarInfo("etc/passwd")
        info.size = len(passwd)
        tar.addfile(info, io.BytesIO(passwd))
    out.chmod(0o644)  # the rootless user imports it too
    return len(applets)


def add_guest_files(rootfs: Path) -> None:
    """Write the course's files into ``rootfs`` (replacing an earlier version's) and the busybox image's tar."""
    lib = rootfs / LIB.lstrip("/")
    shutil.rmtree(lib, ignore_errors=True)
    for path, (text, mode) in guest_files().items():
        target = rootfs / path.lstrip("/")
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text)
        target.chmod(mode)
    for path, points_to in GUEST_LINKS.items():
        link = rootfs / path.lstrip("/")
        link.parent.mkdir(parents=True, exist_ok=True)
        link.unlink(missing_ok=True)
        link.symlink_to(points_to)
    busybox_tar(rootfs, lib / "busybox.tar")


def extract_boot(rootfs: Path, folder: Path) -> tuple[Path, Path]:
    """Copy the kernel and its initrd out of ``rootfs/boot`` (QEMU boots them directly)."""
    kernels = sorted((rootfs / "boot").glob("vmlinuz-*"))
    initrds = sorted((rootfs / "boot").glob("initrd.img-*"))
    if not kernels or not initrds:
        raise VMError(f"no kernel or initrd in {rootfs / 'boot'}: did linux-image-amd64 install?")
    kernel, initrd = folder / "vmlinuz", folder / "initrd.img"
    shutil.copyfile(kernels[-1], kernel)
    shutil.copyfile(initrds[-1], initrd)
    return kernel, initrd


def make_disk(rootfs: Path, image: Path) -> None:
    """``mkfs.ext4 -d rootfs``: a sparse raw disk of :data:`DISK_SIZE` holding the root file system."""
    unmount_below(rootfs)  # a rootfs made by an earlier, interrupted build may still hold debootstrap's /proc
    partial = image.with_suffix(".partial")
    partial.unlink(missing_ok=True)
    made = subprocess.run(
        [which("mkfs.ext4") or "mkfs.ext4", "-q", "-F", "-L", "dmac-root", "-d", str(rootfs), str(partial), DISK_SIZE],
        capture_output=True,
        text=True,
        timeout=900,
    )
    if made.returncode != 0:
        raise VMError(f"mkfs.ext4 could not make the VM's disk from {rootfs}: {(made.stderr or made.stdout).strip()}")
    partial.rename(image)


def _prune(keep: Path) -> None:
    """Remove the cached builds of other keys (each holds a root file system of about 1.5 GB)."""
    for entry in VM_DIR.iterdir() if VM_DIR.is_dir() else ():
        if entry.is_dir() and entry != keep and len(entry.name) == 12:
            shutil.rmtree(entry)


def build() -> Disk:
    """The VM's disk, kernel and initrd: from the cache when its key matches, else made now (root)."""
    folder = VM_DIR / rootfs_key()
    disk = Disk(folder / f"disk-{disk_key()}.img", folder / "vmlinuz", folder / "initrd.img")
    if disk.image.exists() and disk.kernel.exists() and disk.initrd.exists():
        say(f"disk cached: {disk.image.relative_to(course.ROOT)}")
        return disk
    if os.geteuid() != 0:
        raise VMError("building the VM's disk needs root (debootstrap, file ownership): run it as root")
    ensure_host_tools()
    rootfs, done = folder / "rootfs", folder / "rootfs.done"
    if not done.exists():
        _prune(folder)
        shutil.rmtree(rootfs, ignore_errors=True)
        folder.mkdir(parents=True, exist_ok=True)
        start = time.monotonic()
        say(f"debootstrap {SUITE} with {len(PACKAGES)} packages and their dependencies from {MIRROR} (1.5-3 min, once)")
        debootstrap(rootfs)
        for deb in (rootfs / "var/cache/apt/archives").glob("*.deb"):  # debootstrap's downloads: not needed inside
            deb.unlink()
        extract_boot(rootfs, folder)
        done.touch()
        say("root file system ready", start)
    start = time.monotonic()
    for old in folder.glob("disk-*.img"):
        old.unlink()
    add_guest_files(rootfs)
    make_disk(rootfs, disk.image)
    say(f"disk made: mkfs.ext4 -d into {disk.image.relative_to(course.ROOT)}", start)
    return disk


# ---------------------------------------------------------------- the run


def qemu_argv(disk: Disk, console: Path, only: tuple[str, ...] = ()) -> list[str]:
    """QEMU under TCG: the kernel booted directly, the disk as virtio (``-snapshot``), no network, ttyS0 to a file.

    ``only``: run just these checks (``engine``, ``limits``, ``oom``, ``live``, ``hub``, ``rootless``)."""
    append = KERNEL_ARGS + (f" dmac.checks={','.join(only)}" if only else "")
    return [
        *QEMU, "-nodefaults", "-no-user-config", "-display", "none", "-no-reboot", "-snapshot",
        "-kernel", str(disk.kernel), "-initrd", str(disk.initrd), "-append", append,
        "-drive", f"file={disk.image},format=raw,if=virtio",
        "-nic", "none", "-serial", f"file:{console}",
    ]  # fmt: skip


def parse_console(text: str) -> dict[str, str]:
    """The results of the last line carrying :data:`MARKER`; VMError when there is none."""
    for line in reversed(text.splitlines()):
        if MARKER in line:
            payload = line.split(MARKER, 1)[1].strip()
            try:
                return json.loads(payload)
            except ValueError as exc:
                raise VMError(f"the results line is not JSON ({exc}): {payload[:200]}") from None
    tail = "\n".join(text.splitlines()[-25:])
    why = "its kernel panicked" if "Kernel panic" in text else "it printed no results"
    raise VMError(f"the VM stopped early: {why} (console: {CONSOLE}). Its last lines:\n{tail}")


def _follow(console: Path, offset: int) -> tuple[int, list[str]]:
    """New complete progress lines of the console since ``offset``."""
    try:
        with console.open("rb") as fh:
            fh.seek(offset)
            chunk = fh.read()
    except FileNotFoundError:
        return offset, []
    complete = chunk[: chunk.rfind(b"\n") + 1]
    lines = complete.decode(errors="replace").splitlines()
    return offset + len(complete), [line.strip() for line in lines if line.strip().startswith(PROGRESS)]


def boot(disk: Disk, timeout: float = RUN_TIMEOUT, only: tuple[str, ...] = ()) -> str:
    """Boot the VM until it powers off (bounded), echoing its progress lines; returns the console's text."""
    CONSOLE.unlink(missing_ok=True)
    qemu_log = VM_DIR / "qemu.log"
    start = time.monotonic()
    say(f"booting Debian {SUITE} under QEMU (TCG, 2 vCPUs, 4 GiB; console: {CONSOLE.relative_to(course.ROOT)})")
    with qemu_log.open("wb") as log:
        proc = subprocess.Popen(qemu_argv(disk, CONSOLE, only), stdout=log, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL)  # fmt: skip
    offset, last_said = 0, start
    try:
        while proc.poll() is None:
            if time.monotonic() - start > timeout:
                raise VMError(f"the VM did not finish within {timeout:.0f} s (console: {CONSOLE})")
            time.sleep(1)
            offset, lines = _follow(CONSOLE, offset)
            for line in lines:
                say(f"{line.removeprefix(PROGRESS).strip()} — {time.monotonic() - start:.0f} s")
            if lines:
                last_said = time.monotonic()
            elif time.monotonic() - last_said >= 20:
                say(f"still booting or checking … {time.monotonic() - start:.0f} s")
                last_said = time.monotonic()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=30)
    if proc.returncode != 0:
        raise VMError(f"QEMU exited with {proc.returncode}: {qemu_log.read_text(errors='replace')[-800:]}")
    say("VM powered off", start)
    return CONSOLE.read_text(errors="replace")


def run(disk: Disk | None = None, timeout: float = RUN_TIMEOUT, only: tuple[str, ...] = ()) -> dict[str, str]:
    """Boot the VM once (building it first when needed) and return the values its checks measured."""
    disk = disk or build()
    start = time.monotonic()
    values = parse_console(boot(disk, timeout, only))
    values["host.run_seconds"] = f"{time.monotonic() - start:.0f}"
    return values


def lane(only: tuple[str, ...] = ()) -> dict[str, str]:
    """Everything ``make test-cgroup2`` needs: host tools, the disk (cached), one boot; timings included."""
    start = time.monotonic()
    ensure_host_tools()
    disk = build()
    built = time.monotonic() - start
    values = run(disk, only=only)
    values["host.build_seconds"] = f"{built:.0f}"
    return values


def save(values: dict[str, str], path: Path = RESULTS) -> Path:
    """Write the measured values (for the documentation: :func:`helpers.infra.compat.cgroup2_section`)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(values, indent=2, sort_keys=True) + "\n")
    return path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m helpers.infra.cgroupvm", description=__doc__.splitlines()[0])
    parser.add_argument("command", choices=["build", "run"], help="build: the disk (cached); run: boot and check")
    parser.add_argument("--only", default="", help="run: just these checks, e.g. engine,rootless (not saved)")
    opts = parser.parse_args(argv)
    only = tuple(filter(None, opts.only.split(",")))
    try:
        if opts.command == "build":
            build()
            return 0
        values = lane(only)
    except (VMError, subprocess.CalledProcessError) as exc:
        print(f"✗ {exc}", file=sys.stderr)
        return 1
    for key, value in sorted(values.items()):
        print(f"  {key:32} {value}")
    if not only:
        say(f"results: {save(values).relative_to(course.ROOT)}")
    return 1 if any(key.startswith("error.") for key in values) else 0


if __name__ == "__main__":
    raise SystemExit(main())
