"""Interruptions: a kernel restart halfway, then the same notebook twice in a row with no clean-up.

For each notebook, in namespace ``dmac-rerun`` (``dmac-rerun-gw0`` in an xdist worker):
1. the first half runs, then the kernel dies without cleaning up;
2. the whole notebook runs from the top, except its final clean-up cell (leftovers of step 1 must
   not break it, and this run leaves its own containers, volumes and networks behind);
3. the whole notebook runs again, with every solution applied, and passes on top of everything step 2 left,
   which must be something (containers, volumes or networks) except for the notebooks that remove all they
   make themselves; every exercise's solution must be accepted there (tests/learners/test_solutions.py's assertions).

Step 2 runs for one half of the notebooks (scripts/ci.py HALVES), the halves swapping with every commit (its
parity), so that two commits in a row take every notebook through all three steps; the other half goes from
step 1 straight to step 3 (a restart halfway, then the whole notebook with its solutions). A whole pass of the
course less per ``make test``: about four minutes of CI's two cores. ``DMAC_RERUN_ALL=1`` runs step 2 everywhere.
In CI (``DMAC_RERUN_SAMPLED=1``) the phase takes one half of the course per commit, each notebook of it through
all three steps (see SAMPLED below).

``make test`` runs it on two pytest-xdist workers, notebook by notebook, each worker a learner with namespaces
of its own (``dmac-rerun-gw0``, ``dmac-rerun-gw1``): two learners on one daemon at once.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from helpers.core.limits import cell_timeout
from helpers.infra import runs
from tests import scripts_loader
from tests.notebook_runs import NOTEBOOKS, ROOT, assert_solutions_accepted, execute, learner

NS = learner(os.environ.get("DMAC_RERUN_NAMESPACE", "dmac-rerun"))  # dmac-rerun-gw0 under pytest-xdist
# Notebooks whose own cells remove every container, volume and network they make (images stay, and are not
# counted: a cached build keeps an old image), so step 2 leaves nothing. Every other notebook must leave some.
# 03, 07 and 09 leave the course registry (its container and volumes) to their clean-up cell, 04 the five services
# of its exercises.
LEAVES_NOTHING = {"01", "10", "14"}


def _half(sample: int) -> set[str]:
    """One half of the course at this commit (scripts/ci.py HALVES, swapped with the commit's parity)."""
    head = subprocess.run(["git", "rev-parse", "--short=7", "HEAD"], cwd=ROOT, capture_output=True, text=True)
    return set(scripts_loader.load("ci").half(head.stdout.strip() if head.returncode == 0 else "0", sample).split())


# CI (DMAC_RERUN_SAMPLED=1, set by .ci/run): one half of the course per commit, the half whose solutions Engine 26
# does not run on the classic store in that commit, every notebook of it through all three steps; two commits in a
# row take every notebook through them. Measured in the emulation of 174b698: this phase took 25 minutes of CI's 86,
# beside the engines' lanes, with the whole course; CI stops at 85. A learner's `make test` takes every notebook.
SAMPLED = os.environ.get("DMAC_RERUN_SAMPLED") == "1"
RERUN = [nb for nb in NOTEBOOKS if nb.stem[:2] in _half(1)] if SAMPLED else NOTEBOOKS


def _twice_in_a_row() -> set[str]:
    """The notebooks that take step 2 in this commit: one half of the course, all of a sampled run, or all with
    DMAC_RERUN_ALL=1."""
    if os.environ.get("DMAC_RERUN_ALL") == "1" or SAMPLED:
        return {nb.stem[:2] for nb in RERUN}
    return _half(0)


TWICE = _twice_in_a_row()


def _run_without_cleanup(notebook: Path, upto: str) -> int:
    """Run the notebook's first half (``upto="half"``) or all but its clean-up cell (``"all"``) in
    one kernel that then dies; returns how many cells ran. A failing cell raises CellExecutionError."""
    nb = nbformat.read(notebook, as_version=4)
    code = [i for i, c in enumerate(nb.cells) if c.cell_type == "code"]
    stop = code[len(code) // 2] if upto == "half" else code[-1]
    assert "cleanup.tidy()" in nb.cells[code[-1]].source, "the last code cell should be the clean-up"
    nb.cells = nb.cells[:stop]
    for cell in nb.cells:  # the parameters cell: this run's namespace
        if "parameters" in cell.metadata.get("tags", []):
            cell.source += f"\nNAMESPACE = {NS!r}\n"
            if notebook.stem.startswith("04-"):
                cell.source += "ALLOW_DAEMON_RESTART = False\n"
    client = NotebookClient(
        nb, timeout=cell_timeout(), kernel_name="python3", resources={"metadata": {"path": str(notebook.parent)}}
    )
    with client.setup_kernel():
        for index, cell in enumerate(nb.cells):
            client.execute_cell(cell, index)
        # leaving the block kills the kernel: no clean-up cell has run
    return len(nb.cells)


def _leftovers() -> set[tuple[str, str]]:
    """This namespace's containers, volumes and networks that exist right now, each once in its lifetime
    (a container or network by id, a volume by name and creation time: one made again is a new one)."""
    from helpers.core import course
    from helpers.core.daemon import client

    dc, flt = client(), {"label": course.label_filter(NS)}
    return (
        {("container", c.id) for c in dc.containers.list(all=True, filters=flt)}
        | {("volume", f"{v.name}@{v.attrs.get('CreatedAt')}") for v in dc.volumes.list(filters=flt)}
        | {("network", n.id) for n in dc.networks.list(filters=flt)}
    )


@pytest.mark.parametrize("notebook", RERUN, ids=[nb.stem for nb in RERUN])
def test_restart_halfway_then_twice_in_a_row(notebook: Path) -> None:
    before = _leftovers()  # what an earlier notebook's failed run may have left is not this one's
    assert _run_without_cleanup(notebook, "half") > 0
    if notebook.stem[:2] in TWICE:  # step 2 (half of the notebooks in a commit: see the docstring)
        assert _run_without_cleanup(notebook, "all") > 0
        left = len(_leftovers() - before)
        if notebook.stem[:2] in LEAVES_NOTHING:
            assert left == 0, f"{notebook.stem} left {left} resource(s): take it out of LEAVES_NOTHING"
        else:
            assert left > 0, f"{notebook.stem} left nothing behind, so running on top of leftovers proves nothing"
    left = len(_leftovers() - before)
    out, _ = execute(notebook, "rerun", runs.solutions_parameters(notebook, NS))
    assert json.loads(out.read_text())["cells"], os.fspath(out)
    assert_solutions_accepted(notebook, out)
    print(f"{notebook.stem}: a run with every solution passed on top of {left} leftover containers/volumes/networks")
