"""How many learners a host can hold on the workshop hub, from the figures measured there (INSTRUCTORS.md).

Measured on a 2-CPU, 24 GB host (``make test-hub``, ``scripts/hub_scale.py``, 2026-11-28): a learner's server,
rootless daemon, kernel and the page cache a notebook's builds leave take about 0.5 GiB; when the whole room
runs the same cell at once, one learner per CPU keeps a cell within about 1.3x its solo time (1.5 per CPU took
2.8x). A self-paced room holds more; 3 per CPU is an estimate, not a measurement. The host keeps 2 GiB.
"""

from __future__ import annotations

import argparse
import os
from dataclasses import dataclass

from ..lessons import preflight

GIB = 1024**3
MEMORY_PER_LEARNER = 0.5 * GIB  # measured
HOST_MEMORY = 2 * GIB  # the host's own share
IN_STEP_PER_CPU = 1.0  # measured: the room runs the same cell together
SELF_PACED_PER_CPU = 3.0  # an estimate (not measured)


@dataclass(frozen=True)
class Room:
    cpus: int
    memory: int  # bytes
    by_memory: int
    in_step: int
    self_paced: int

    @property
    def holds(self) -> int:
        """Learners working in step: the smaller of what memory and CPUs allow."""
        return min(self.by_memory, self.in_step)


def room(cpus: int, memory: int) -> Room:
    """What a host with ``cpus`` CPUs and ``memory`` bytes can hold (pure: no daemon, no host reads)."""
    by_memory = max(int((memory - HOST_MEMORY) // MEMORY_PER_LEARNER), 0)
    return Room(cpus, memory, by_memory, int(cpus * IN_STEP_PER_CPU), min(by_memory, int(cpus * SELF_PACED_PER_CPU)))


def this_host() -> Room:
    """This host's figures: its CPUs (those this process may use) and its physical memory."""
    memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    return room(len(os.sched_getaffinity(0)), memory)


def verdict(host: Room, learners: int) -> str:
    """One paragraph for ``make preflight LEARNERS=N``: whether this host holds the room, and what to add."""
    lines = [
        f"This host: {host.cpus} CPUs, {host.memory / GIB:.0f} GiB of memory.",
        f"  memory holds {host.by_memory} learners (0.5 GiB each, measured, plus 2 GiB for the host)",
        f"  CPUs hold {host.in_step} learners running cells together (1 per CPU, measured), "
        f"about {host.self_paced} self-paced (3 per CPU, an estimate)",
    ]
    if learners <= host.holds:
        lines.append(f"✔ {learners} learner{'s' if learners != 1 else ''} working in step fit on this host.")
    else:
        cpus = int(-(-learners // IN_STEP_PER_CPU))
        memory = (HOST_MEMORY + learners * MEMORY_PER_LEARNER) / GIB
        fit = "self-paced only" if learners <= host.self_paced else "neither in step nor self-paced"
        lines.append(
            f"✗ {learners} learners in step need about {cpus} CPUs and {memory:.0f} GiB: this host holds "
            f"{host.holds} ({fit}). Use a bigger host, several hosts, or Kubernetes (INSTRUCTORS.md)."
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """``make preflight LEARNERS=N``: this machine's readiness report, then whether it holds N learners on the hub."""
    parser = argparse.ArgumentParser(prog="python -m helpers.infra.sizing", description=__doc__.splitlines()[0])
    parser.add_argument("--learners", type=int, required=True, help="can this host hold N learners on the hub?")
    args = parser.parse_args(argv)
    ready = preflight.main([])
    host = this_host()
    print("\n" + verdict(host, args.learners))
    return 1 if ready or args.learners > host.holds else 0


if __name__ == "__main__":
    raise SystemExit(main())
