"""Layers and copy-on-write (notebook 05): layer tables, the writable layer, copy-up, diagrams.

Everything goes through the daemon's API or a container, so it works where the daemon's files
are not on this host (Docker Desktop, a remote ``DOCKER_HOST``). Host-side overlay2 paths are
offered only as an extra, when the daemon reports them and they exist here.
"""

from __future__ import annotations

import os
import re
import statistics
from dataclasses import dataclass
from pathlib import Path

from ..core import imagetar
from ..core.daemon import client, disk_usage
from ..core.images import magnitude
from ..core.shell import docker

MB = 1_000_000


@dataclass(frozen=True)
class Layer:
    """One row of ``docker history``: the instruction that made it and the bytes it added."""

    instruction: str
    size: int

    @property
    def empty(self) -> bool:
        return self.size == 0


def _short(created_by: str, width: int = 60) -> str:
    text = created_by.removesuffix(" # buildkit").replace("RUN /bin/sh -c ", "RUN ")
    text = text.replace("/bin/sh -c #(nop) ", "").replace("/bin/sh -c ", "RUN ")
    text = " ".join(text.split())
    if text.startswith("|"):  # legacy builder's ARG prefix "|1 X=y RUN ..."
        text = text.split(" ", 2)[-1]
    return text if len(text) <= width else text[: width - 1] + "…"


def history(ref: str) -> list[Layer]:
    """The image's history, oldest first (as built), from the API (``docker history``)."""
    rows = client().api.history(ref)
    return [Layer(_short(r.get("CreatedBy") or "(imported)"), int(r.get("Size") or 0)) for r in reversed(rows)]


def rootfs_layers(ref: str) -> list[str]:
    """The image's layer digests (``RootFS.Layers``), bottom first: the filesystem layers only."""
    return list(client().api.inspect_image(ref)["RootFS"]["Layers"])


def shared_layers(a: str, b: str) -> list[str]:
    """The bottom layers two images have in common (stored once on disk)."""
    common: list[str] = []
    for x, y in zip(rootfs_layers(a), rootfs_layers(b), strict=False):
        if x != y:
            break
        common.append(x)
    return common


def own_bytes(ref: str, other: str) -> int:
    """Bytes that ``ref`` has and ``other`` lacks: its ``docker history`` rows above the ones the two images have in
    common (same instruction, time and size: the same layer), added up as the image store counts them."""

    def rows(image: str) -> list[tuple[str, int, int]]:
        found = reversed(client().api.history(image))  # oldest first
        return [(r.get("CreatedBy") or "", int(r.get("Created") or 0), int(r.get("Size") or 0)) for r in found]

    mine, theirs = rows(ref), rows(other)
    common = 0
    while common < min(len(mine), len(theirs)) and mine[common] == theirs[common]:
        common += 1
    return sum(size for _, _, size in mine[common:])


def added_layers(ref: str, base: str) -> int:
    """How many filesystem layers ``ref`` adds on top of ``base``."""
    return len(rootfs_layers(ref)) - len(shared_layers(ref, base))


def size_rw(container: str, *, show: bool = False) -> int:
    """Bytes in the container's writable layer: ``docker inspect --size --format '{{.SizeRw}}'`` (the first figure of
    ``docker ps --size``; the classic store counts the files' bytes, the containerd store disk blocks). The course's
    one way to read it. ``show``: the command shown, its figure in grey (it changes from run to run)."""
    argv = ("inspect", "--size", "--format", "{{.SizeRw}}", container)
    out = (docker(*argv, show="stderr") if show else docker(*argv, echo=False, show=False)).output.strip()
    return int(out) if out.isdigit() else 0


def diff(container: str) -> list[tuple[str, str]]:
    """``docker diff`` as (kind, path) pairs, kind A (added), C (changed) or D (deleted), sorted by path."""
    kinds = {0: "C", 1: "A", 2: "D"}
    return sorted(((kinds[c["Kind"]], c["Path"]) for c in client().api.diff(container) or []), key=lambda x: x[1])


@dataclass(frozen=True)
class CopyUp:
    """A copy-up measured: writable-layer size before/after and the times of two one-byte writes."""

    file_size: int
    rw_before: int
    rw_after_first: int
    rw_after_second: int
    first_s: float
    second_s: float

    @property
    def growth(self) -> int:
        return self.rw_after_first - self.rw_before

    @property
    def ratio(self) -> float:
        return self.first_s / max(self.second_s, 1e-4)

    def raw(self) -> str:
        """The raw figures (they vary from run to run: for stderr or a plot, not for stored output)."""
        return (
            f"file {self.file_size / MB:.1f} MB; writable layer {self.rw_before} B -> {self.rw_after_first} B "
            f"-> {self.rw_after_second} B; first write {self.first_s * 1000:.1f} ms, "
            f"second {self.second_s * 1000:.1f} ms (×{self.ratio:.0f})"
        )


ONE_BYTE = "printf x | dd of={path} bs=1 count=1 conv=notrunc status=none"


def copy_up(container: str, path: str) -> CopyUp:
    """Write one byte into ``path`` (a file from an image layer) twice, as a terminal would: each ``docker``
    command shown, its figures (they change from run to run) in grey. The file's size, the writable layer's size
    (``docker inspect --size``) before and after each write, each write timed inside the container (bash's
    ``time``)."""
    size = int(docker("exec", container, "stat", "-c", "%s", path, show="stderr").output.strip())
    sizes = [size_rw(container, show=True)]
    times: list[float] = []
    for _ in range(2):
        timed = docker("exec", container, "bash", "-c", f"time ({ONE_BYTE.format(path=path)})", show="stderr")
        times.append(real_seconds(timed.output))
        sizes.append(size_rw(container, show=True))
    return CopyUp(size, sizes[0], sizes[1], sizes[2], times[0], times[1])


_REAL = re.compile(r"^real\s+(?:(\d+)m)?([0-9.]+)s$", re.MULTILINE)


def real_seconds(timed: str) -> float:
    """The seconds of bash's ``time`` report (``real\t0m0.434s``) in a command's output."""
    found = _REAL.search(timed)
    if found is None:
        raise RuntimeError(f"no `real` line from bash's time in: {timed[-200:]!r}")
    return int(found.group(1) or 0) * 60 + float(found.group(2))


def about_mb(n: int, step: int = 10) -> str:
    """A size rounded to a stable figure: ``about 200 MB`` (to ``step`` MB), or ``less than 1 MB``."""
    if abs(n) < MB:
        return "less than 1 MB"
    return f"about {round(n / MB / step) * step:.0f} MB" if abs(n) >= step * MB / 2 else f"about {n / MB:.0f} MB"


def times_verdict(ratio: float, thresholds: tuple[int, ...] = (10, 5, 2)) -> str:
    """``more than 10×`` style wording, using the largest threshold the ratio clears."""
    for t in thresholds:
        if ratio > t:
            return f"more than {t}×"
    return "not clearly"


def median(values: list[float]) -> float:
    return statistics.median(values)


# ---------------------------------------------------------------- the stack, as text and as a picture


@dataclass(frozen=True)
class StackRow:
    kind: str  # "image" or "container"
    label: str
    size: int


def stack(ref: str, container: str | None = None, base: str | None = None) -> list[StackRow]:
    """The layer stack bottom-up: the image's filesystem layers (empty ones left out), then the container's."""
    rows: list[StackRow] = []
    hist = history(ref)
    n_base = len(history(base)) if base else 0
    for i, layer in enumerate(hist):
        if layer.empty and i != 0:
            continue
        label = "base image " + base if base and i < n_base else layer.instruction
        if rows and base and i < n_base and rows[-1].label == label:
            rows[-1] = StackRow("image", label, rows[-1].size + layer.size)
            continue
        rows.append(StackRow("image", label, layer.size))
    if container:
        rows.append(StackRow("container", f"writable layer of {container}", size_rw(container)))
    return rows


def stack_text(rows: list[StackRow]) -> str:
    """The stack as text, top first (the way the union filesystem looks down through it)."""
    lines = []
    for row in reversed(rows):
        tag = "[container, read-write]" if row.kind == "container" else "[image, read-only]     "
        # a base image's size is counted a little differently by the two image stores: its magnitude is the same
        size = magnitude(row.size) if row.label.startswith("base image") else about_mb(row.size, 1)
        lines.append(f"{tag} {size:>15}  {row.label}")
    return "\n".join(lines)


def diagram(rows: list[StackRow], title: str = "", highlight: int | None = None):  # a matplotlib Figure
    """A matplotlib picture of the stack: one box per layer, height growing with its size, container on top."""
    import matplotlib.pyplot as plt  # deferred: heavy; only a figure needs it
    from matplotlib.patches import Rectangle  # deferred: heavy; only a figure needs it

    fig, ax = plt.subplots(figsize=(8, 0.6 + 0.55 * len(rows)))
    y = 0.0
    for i, row in enumerate(rows):
        h = 0.45 + min(0.9, row.size / (250 * MB))
        writable = row.kind == "container"
        color = "#f4a261" if writable else "#8ecae6"
        alpha = 1.0 if highlight is None or i == highlight else 0.3
        ax.add_patch(
            Rectangle(
                (0, y), 10, h, facecolor=color, edgecolor="#023047", linestyle="--" if writable else "-", alpha=alpha
            )
        )
        ax.text(0.2, y + h / 2, row.label, va="center", fontsize=9, alpha=max(alpha, 0.5))
        ax.text(9.8, y + h / 2, about_mb(row.size, 1), va="center", ha="right", fontsize=9, alpha=max(alpha, 0.5))
        y += h + 0.08
    ax.set_xlim(0, 10)
    ax.set_ylim(0, y)
    ax.axis("off")
    ax.set_title(title or "layer stack (bottom: base image; top: the container's writable layer)", fontsize=10)
    fig.tight_layout()
    return fig


def stepper(rows: list[StackRow]):  # an ipywidgets box
    """A slider that steps through the stack one layer at a time (highlighted in the diagram)."""
    import ipywidgets as widgets  # deferred: only a widget in a kernel needs it
    import matplotlib.pyplot as plt  # deferred: heavy; only a figure needs it

    out = widgets.Output()
    slider = widgets.IntSlider(value=0, min=0, max=len(rows) - 1, description="layer")

    def show(change: object = None) -> None:
        # set the Output's content directly (no clear_output messages): works live and in a batch run
        row = rows[slider.value]
        fig = diagram(rows, highlight=slider.value)
        out.outputs = ()
        out.append_stdout(f"layer {slider.value} ({row.kind}): {row.label} — {about_mb(row.size, 1)}\n")
        out.append_display_data(fig)
        plt.close(fig)

    slider.observe(show, names="value")
    show()
    return widgets.VBox([slider, out])


@dataclass(frozen=True)
class Overlay:
    """A container's root file system as the kernel mounted it: the writable folder and the read-only ones."""

    upper: str  # UpperDir: the container's writable layer
    lower: list[str]  # LowerDir: the image's layers and the container's -init layer, top first


def overlay_mount(container: str, *, echo: bool = False) -> Overlay | None:
    """The overlay file system a running container's ``/`` is, as the kernel reports it (the container's process's
    ``/proc/PID/mountinfo``): its writable ``upperdir`` and read-only ``lowerdir`` folders on this host.

    This works on both image stores (overlay2's graph driver and containerd's overlayfs snapshotter, whose
    ``docker inspect`` has no ``GraphDriver.Data``); None when the daemon's files are not on this host (Docker
    Desktop, a remote daemon) or the container does not run. ``echo``: the process id is asked for as a terminal
    would, ``docker inspect --format '{{.State.Pid}}' NAME`` shown (the id in grey).
    """
    if echo:
        pid = docker("inspect", "--format", "{{.State.Pid}}", container, show="stderr").output.strip()
    else:
        pid = str(client().api.inspect_container(container)["State"].get("Pid") or 0)
    try:
        text = Path(f"/proc/{pid or 0}/mountinfo").read_text()
    except OSError:
        return None
    for line in text.splitlines():
        head, _, tail = line.partition(" - ")
        fields, rest = head.split(), tail.split()
        if len(fields) > 4 and len(rest) > 2 and fields[4] == "/" and rest[0] == "overlay":
            options = dict(item.partition("=")[::2] for item in rest[2].split(","))
            upper, lower = options.get("upperdir", ""), [d for d in options.get("lowerdir", "").split(":") if d]
            if not os.path.isabs(upper):  # overlay2 mounts with paths relative to its folder when they are long
                base = Path(client().info()["DockerRootDir"]) / "overlay2"
                upper, lower = str(base / upper), [str(base / d) for d in lower]
            if not os.path.isdir(upper):
                return None
            return Overlay(upper, lower)
    return None


def whiteouts(ref: str) -> list[str]:
    """Paths hidden by whiteout files (``.wh.<name>``) in the image's layers, read from ``docker save``.

    Works with a remote daemon too: the image comes over the API as a tar of layer tars.
    """

    with imagetar.open_saved(ref) as image:
        return imagetar.whiteouts(image)


def whiteouts_saved(archive: str | os.PathLike[str]) -> list[str]:
    """Paths hidden by whiteout files in an image archive that ``docker save -o ARCHIVE IMAGE`` wrote."""
    with imagetar.open_archive(archive) as image:
        return imagetar.whiteouts(image)


def df_sizes(ref: str) -> tuple[int, int]:
    """(size, shared size) of an image, as ``docker system df -v`` reports them."""
    want = client().images.get(ref).id.removeprefix("sha256:")
    for row in disk_usage().get("Images") or []:
        if row["Id"].removeprefix("sha256:") == want:  # Podman's /system/df gives ids without the prefix
            return int(row["Size"]), int(row.get("SharedSize") or 0)
    raise LookupError(ref)
