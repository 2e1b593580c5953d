"""Volumes and persistence (notebook 06): mounts described, I/O measured, bind-mount ownership.

Named volumes are made with ``docker volume create`` through :func:`helpers.docker` (so they carry
the course labels and clean-up finds them); anonymous volumes go with their container
(``docker rm -v``, which is what clean-up does).
"""

from __future__ import annotations

import os
import shutil
import statistics
import sys
from dataclasses import dataclass, field
from pathlib import Path

from ..core import course, engine, oneshot
from ..core.daemon import client
from ..core.shell import docker


def exists(volume: str) -> bool:
    """True if the daemon has a volume called ``volume``."""
    import docker as sdk  # deferred: the Docker SDK is slow to import

    try:
        client().volumes.get(volume)
    except sdk.errors.NotFound:
        return False
    return True


@dataclass(frozen=True)
class Mount:
    kind: str  # volume | bind
    name: str  # volume name, "(anonymous)" for a random one, or the host folder
    destination: str
    rw: bool

    def __str__(self) -> str:
        return f"{self.kind:6} {self.destination:16} {'rw' if self.rw else 'ro'}  {self.name}"


def is_anonymous(name: str) -> bool:
    """Anonymous volumes get a random 64-hex-digit name."""
    return len(name) == 64 and all(c in "0123456789abcdef" for c in name)


def mounts(container: str) -> list[Mount]:
    """The container's mounts (``docker inspect``'s ``Mounts``), sorted by destination."""
    found = []
    for m in client().api.inspect_container(container)["Mounts"]:
        if m["Type"] == "volume":
            label = "(anonymous: random name)" if is_anonymous(m["Name"]) else m["Name"]
        else:
            label = m["Source"]
        found.append(Mount(m["Type"], label, m["Destination"], bool(m["RW"])))
    return sorted(found, key=lambda m: m.destination)


def anonymous_volumes(container: str) -> list[str]:
    """Names of the container's anonymous volumes (to check later whether they still exist)."""
    return [
        m["Name"]
        for m in client().api.inspect_container(container)["Mounts"]
        if m["Type"] == "volume" and is_anonymous(m["Name"])
    ]


# ---------------------------------------------------------------- I/O: writable layer vs volume

BENCH_SCRIPT = r"""
set -e
# bash 5's EPOCHREALTIME without its point: microseconds, read without starting a process
ms() { printf '%d.%03d' $(($1 / 1000)) $(($1 % 1000)); }  # microseconds as milliseconds
run() {  # workload target dir
  t0=${EPOCHREALTIME/[.,]/}
  case $1 in
    small)  mkdir -p "$3/small"; i=0
            while [ $i -lt {files} ]; do printf '%4096s' x > "$3/small/f$i"; i=$((i+1)); done ;;
    stream) dd if=/dev/zero of="$3/stream.bin" bs=1M count={stream_mb} conv=fdatasync status=none ;;
  esac
  t1=${EPOCHREALTIME/[.,]/}
  echo "$1 $2 $(ms $(( t1 - t0 )))"
}
# short rounds, alternating targets: a busy neighbour slows both sides alike
for rep in $(seq 1 {rounds}); do
  run small layer /work; run small volume /vol
  rm -rf /work/small /vol/small
done
for rep in $(seq 1 {reps}); do
  run stream layer /work; run stream volume /vol
  rm -f /work/stream.bin /vol/stream.bin
done
"""

MODIFY_SCRIPT = r"""
# bash 5's EPOCHREALTIME without its point: microseconds, read without starting a process
ms() { printf '%d.%03d' $(($1 / 1000)) $(($1 % 1000)); }  # microseconds as milliseconds
for rep in $(seq 1 {reps}); do
  for target in layer:/seed volume:/vol; do
    t0=${EPOCHREALTIME/[.,]/}; for f in "${target#*:}"/set$rep/*; do printf x >> "$f"; done
    t1=${EPOCHREALTIME/[.,]/}
    echo "modify ${target%%:*} $(ms $(( t1 - t0 )))"
  done
done
"""


@dataclass
class IoResult:
    """Milliseconds per workload and target, every repetition kept."""

    times: dict[tuple[str, str], list[float]] = field(default_factory=dict)

    def add(self, workload: str, target: str, ms: float) -> None:
        self.times.setdefault((workload, target), []).append(ms)

    def total(self, workload: str, target: str) -> float:
        """All rounds added up: the rounds alternate targets, so a busy moment slows both sides alike."""
        return sum(self.times[(workload, target)])

    def ratio(self, workload: str) -> float:
        """Writable layer time / volume time (above 1: the layer is slower).

        The median of the rounds' own ratios (each round times both targets back to back), so one round that a
        busy neighbour slowed cannot flip the answer; a volume round under 0.5 ms counts as 0.5 ms.
        """
        layer, volume = self.times[(workload, "layer")], self.times[(workload, "volume")]
        return statistics.median(a / max(b, 0.5) for a, b in zip(layer, volume, strict=True))

    def workloads(self) -> list[str]:
        return sorted({w for w, _ in self.times}, key=["small", "stream", "modify"].index)

    def table(self) -> str:
        """Raw totals (these vary from run to run)."""
        return "\n".join(
            f"{w:7} layer {self.total(w, 'layer'):8.0f} ms   volume {self.total(w, 'volume'):8.0f} ms"
            f"   ratio {self.ratio(w):.2f}"
            for w in self.workloads()
        )


def verdict(ratio: float, clear: float = 5.0, same: float = 5.0) -> str:
    """A stable wording for a layer/volume time ratio: wide bands so noise does not flip it."""
    if ratio >= clear:
        return f"the writable layer is much slower (more than {clear:g}× the volume's time)"
    if ratio <= 1 / clear:
        return f"the volume is much slower (more than {clear:g}× the layer's time)"
    if 1 / same <= ratio <= same:
        return f"no clear winner on this machine (within {same:g}× either way)"
    return f"somewhat different (between {same:g}× and {clear:g}×)"


def _parse(out: str, result: IoResult) -> None:
    for line in out.splitlines():
        parts = line.split()
        if len(parts) == 3 and parts[2].replace(".", "", 1).isdigit():
            result.add(parts[0], parts[1], float(parts[2]))
            if parts[0] != "small":  # the many short small-file rounds are summed up in the table
                print(f"  … {line} ms", file=sys.stderr, flush=True)


def benchmark(
    image: str, volume: str, *, files: int = 200, rounds: int = 10, stream_mb: int = 64, reps: int = 3
) -> IoResult:
    """Time new small files (``rounds`` × ``files``) and a large stream (``reps`` × ``stream_mb``) on the
    writable layer (``/work``) vs ``volume`` (``/vol``), alternating between the two."""
    script = BENCH_SCRIPT.replace("{files}", str(files)).replace("{stream_mb}", str(stream_mb))
    script = script.replace("{reps}", str(reps)).replace("{rounds}", str(rounds))
    result = IoResult()
    _parse(_bash(image, volume, script, "new-files-and-streams"), result)
    return result


def benchmark_modify(image: str, volume: str, result: IoResult, *, reps: int = 3) -> IoResult:
    """Append one byte to each existing file of ``/seed/setN`` (image layer) vs the same files on ``volume``.

    The volume is mounted empty-or-not at ``/vol``; the image's ``/seed`` is copied into it first (not timed).
    """
    _bash(image, volume, "cp -a /seed/. /vol/ && sync\n", "copy-seed")
    _parse(_bash(image, volume, MODIFY_SCRIPT.replace("{reps}", str(reps)), "append"), result)
    return result


def _bash(image: str, volume: str, script: str, name: str) -> str:
    """Run ``script`` (kept as ``build/<ns>/06/io/<name>.sh``, mounted read-only) with bash in a throwaway course
    container with ``volume`` at ``/vol``; its output. The command is shown as it ran: type it to run it again."""
    path = course.workdir("06", "io") / f"{name}.sh"
    path.write_text(script.lstrip("\n"))
    mounts = ["-v", f"{volume}:/vol", "-v", f"{path}:/bench/{name}.sh:ro"]
    return docker("run", "--rm", *mounts, image, "bash", f"/bench/{name}.sh", show=False, timeout=900).output


def plot(result: IoResult):  # a matplotlib Figure
    """Bars: total time per workload on the writable layer and on the volume (every round as a dot)."""
    import matplotlib.pyplot as plt  # deferred: heavy; only a figure needs it

    names = {"small": "many small new files", "stream": "one large stream", "modify": "append to existing files"}
    fig, axes = plt.subplots(1, len(result.workloads()), figsize=(4 * len(result.workloads()), 3.2))
    for ax, w in zip(axes, result.workloads(), strict=True):
        for x, target, color in ((0, "layer", "#f4a261"), (1, "volume", "#2a9d8f")):
            values = result.times[(w, target)]
            ax.bar(x, sum(values), color=color, width=0.6)
            ax.plot([x] * len(values), values, "k.", alpha=0.6)
        ax.set_xticks([0, 1], ["writable layer", "named volume"])
        ax.set_title(names[w], fontsize=10)
        ax.set_ylabel("milliseconds (lower is faster)")
    fig.tight_layout()
    return fig


# ---------------------------------------------------------------- bind mounts and ownership


def demo_uid() -> int:
    """The uid a container should use to write as *you*: your own, or 1000 when the notebook runs as root."""
    return os.getuid() if os.getuid() != 0 else 1000


def demo_gid() -> int:
    return os.getgid() if os.getuid() != 0 else 1000


def as_you() -> list[str]:
    """The ``docker run`` options that make a container write bind-mounted files as *you*.

    ``--user UID:GID`` on a rootful daemon; nothing on a rootless one, whose container root already is you
    (there ``--user`` with your uid maps to an unprivileged subordinate uid instead).
    """

    return [] if engine.capabilities().rootless else ["--user", f"{demo_uid()}:{demo_gid()}"]


def scratch(*parts: str) -> Path:
    """An empty scratch folder under ``build/<namespace>/`` (files a container left there are removed first).

    Files a container wrote as root cannot be deleted by a non-root learner: a container removes them.
    """
    folder = course.workdir(*parts)
    try:
        shutil.rmtree(folder)
    except PermissionError:
        oneshot.output(
            "busybox",
            ["sh", "-c", "rm -rf /x/* /x/.[!.]*"],
            labels=course.labels(),
            volumes={str(folder): {"bind": "/x", "mode": "rw"}},
        )
        folder.chmod(0o755)
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    return folder


def owners(folder: Path) -> str:
    """``uid:gid mode name`` for each file in ``folder``, sorted: what ``ls -ln`` shows."""
    lines = []
    for path in sorted(folder.iterdir()):
        st = path.stat()
        lines.append(f"uid={st.st_uid} gid={st.st_gid} mode={st.st_mode & 0o777:o}  {path.name}")
    return "\n".join(lines) or "(empty)"
