"""A disk quota for each learner's Docker daemon on the hub: their data root is a file system of its own.

Their rootless daemon keeps images, containers and volumes on an ext4 file system in a sparse file,
``/var/lib/<instance>/disks/<learner>.ext4`` (root's, mode 0600), loop-mounted by root at
``/srv/dmac-hub-disks/<learner>`` before their daemon starts; the daemon's configuration (root's) names it as its
data root. The mount point is on a path only root can write (finding F2: root never acts on a path in the
learner's home, where a symlink swapped in at the right moment would redirect a ``chown`` or a ``mount``).
A learner who fills it gets "no space left on device" in their own daemon; the host's disk and the other
learners' daemons keep working. The file only takes the space written to it, up to its size. Root only
(``mount``, ``mkfs.ext4`` from e2fsprogs, ``losetup``'s loop devices).
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from .rootless import Learner


def image(state: Path, name: str) -> Path:
    return state / "disks" / f"{name}.ext4"


MOUNTS = Path("/srv/dmac-hub-disks")
"""Where the learners' data roots are mounted: root's, 0711 (passable, not listable)."""


def mount_point(user: Learner) -> Path:
    return MOUNTS / user.name


def mounted(point: Path) -> bool:
    """Whether ``point`` is a mount point now (``/proc/self/mounts``, octal escapes as the kernel writes them)."""
    target = str(point).replace(" ", "\\040")
    return any(line.split()[1] == target for line in Path("/proc/self/mounts").read_text().splitlines())


def ensure(state: Path, user: Learner, size: int) -> Path:
    """Mount the learner's data-root file system (made, ``size`` bytes, the first time); its mount point."""
    point = mount_point(user)
    if mounted(point):
        return point
    MOUNTS.mkdir(mode=0o711, parents=True, exist_ok=True)
    MOUNTS.chmod(0o711)
    point.mkdir(mode=0o700, exist_ok=True)  # root's until the learner's file system is mounted over it
    disk = image(state, user.name)
    if not disk.exists():
        disk.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        with open(disk, "wb") as sparse:
            sparse.truncate(size)
        disk.chmod(0o600)
        subprocess.run(
            ["mkfs.ext4", "-q", "-F", "-m", "0", "-E", f"root_owner={user.uid}:{user.gid}", str(disk)],
            check=True, capture_output=True, timeout=120,
        )  # fmt: skip
    # plain "loop": nosuid or nodev would be locked flags in the learner's user namespace, and BuildKit's
    # read-only bind remounts there fail with "operation not permitted" (measured: notebook 05's builds)
    subprocess.run(["mount", "-o", "loop", str(disk), str(point)], check=True, capture_output=True, timeout=60)
    point.chmod(0o700)  # the file system's root: the learner's (mkfs's root_owner), theirs alone
    return point


def release(user: Learner) -> None:
    """Unmount the learner's data root once their daemon has stopped (lazily if something still holds it)."""
    point = mount_point(user)
    if mounted(point) and subprocess.run(["umount", str(point)], capture_output=True, timeout=60).returncode != 0:
        subprocess.run(["umount", "-l", str(point)], capture_output=True, timeout=60)


def remove(state: Path, user: Learner) -> None:
    """Unmount and delete the learner's file system: their daemon's data is gone (a reset, a purge)."""
    release(user)
    image(state, user.name).unlink(missing_ok=True)
    point = mount_point(user)
    if point.is_dir() and not mounted(point):
        point.rmdir()  # root's empty mount point (a lazily unmounted one still busy stays)


def usage(user: Learner) -> tuple[int, int] | None:
    """(used, size) in bytes of the learner's data root, or None when it is not mounted."""
    point = mount_point(user)
    if not mounted(point):
        return None
    total, used, _ = shutil.disk_usage(point)
    return used, total
