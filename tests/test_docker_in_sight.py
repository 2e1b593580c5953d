"""Docker in sight: at most one cell per notebook does its Docker work out of the learner's sight.

``make test`` counts, in each notebook's kernel, the ``docker`` commands each cell showed and the daemon requests
or commands it made quietly (helpers/core/audit.py; the file is ``DMAC_DOCKER_AUDIT``). This test reads the
notebooks' nbval runs that came before it (namespace ``dmac``): notebook 04 from make test's first phase, the
others from its second, which runs the notebooks before these tests. A cell is hidden when it asked the daemon
something and showed no command a learner could type; exercise checks, solutions, ``start()`` and the clean-up are
the course's own machinery, and so is an exercise's setup (what it deals is for the learner to find).
"""

from __future__ import annotations

import json
import os
import re
from collections import defaultdict
from pathlib import Path

import pytest

from helpers.core.audit import FILE_ENV

TARGET = 1  # hidden cells a notebook may have: one, and it says in a comment what its helper does
# The course's own machinery, not a lesson: checks, solutions, start(), the clean-up, and an exercise's setup
# (`nb05.make_mystery()`: what it deals is for the learner to find)
SAYS = re.compile(r"#.*\bhelper\b")
MACHINERY = re.compile(r"\b(?:check|solution|start|cleanup\.tidy)\(|\bnb\d\d\.\w+\(|from helpers\.exercises import")


def hidden_cells(rows: list[dict]) -> dict[str, list[str]]:
    """Per notebook, the source of each hidden cell in its latest run (namespace dmac)."""
    latest: dict[str, str] = {}
    for row in rows:
        if row["namespace"] == "dmac":
            latest[row["notebook"]] = max(latest.get(row["notebook"], ""), row["run"])
    found: dict[str, list[str]] = defaultdict(list)
    for row in rows:
        if row["namespace"] != "dmac" or row["run"] != latest[row["notebook"]] or MACHINERY.search(row["source"]):
            continue
        if row["quiet"] and not row["shown"]:
            found[row["notebook"]].append(row["source"].strip())
    return {notebook: found.get(notebook, []) for notebook in latest}


def test_the_audit_tells_a_shown_command_from_work_out_of_sight() -> None:
    rows = [
        {"namespace": "dmac", "notebook": "05", "run": "2", "source": "docker('ps')", "shown": 1, "quiet": 3},
        {"namespace": "dmac", "notebook": "05", "run": "2", "source": "layers.copy_up(c)\nx", "shown": 0, "quiet": 4},
        {"namespace": "dmac", "notebook": "05", "run": "2", "source": "check('05.1', answer)", "shown": 0, "quiet": 9},
        {"namespace": "dmac", "notebook": "05", "run": "1", "source": "old run", "shown": 0, "quiet": 1},
        {"namespace": "dmac-rerun-gw0", "notebook": "05", "run": "3", "source": "a rerun", "shown": 0, "quiet": 1},
        {"namespace": "dmac", "notebook": "06", "run": "1", "source": "docker('run')", "shown": 1, "quiet": 0},
    ]
    assert hidden_cells(rows) == {"05": ["layers.copy_up(c)\nx"], "06": []}


def test_no_notebook_hides_docker_in_more_than_one_cell() -> None:
    path = os.environ.get(FILE_ENV)
    if not path or not Path(path).exists():
        pytest.skip(f"no notebook ran with {FILE_ENV} set before this test (make test sets it and runs them first)")
    rows = [json.loads(line) for line in Path(path).read_text().splitlines() if line.strip()]
    found = hidden_cells(rows)
    assert found, f"{path} holds no nbval run of a notebook (namespace dmac)"
    report = "\n".join(f"{nb}: {[c.splitlines()[0] for c in cells]}" for nb, cells in sorted(found.items()))
    print(report)
    over = {nb: cells for nb, cells in found.items() if len(cells) > TARGET}
    said = "\n".join(f"{nb}: {len(cells)} hidden: {[c.splitlines()[0] for c in cells]}" for nb, cells in over.items())
    assert not over, f"Docker out of sight in more than {TARGET} cell (show it: docker(…), sh(…)):\n{said}"
    silent = [f"{nb}: {c.splitlines()[0]}" for nb, cells in found.items() for c in cells if not SAYS.search(c)]
    assert not silent, f"a hidden cell says in a comment what its helper does (`# the helper …`): {silent}"
