"""Every exercise's solution is accepted: each notebook runs with SOLUTIONS=True, in a second namespace.

This is also the "two learners on one daemon" test: ``make test`` runs it (phase 2) at the same time
as the restart-halfway learner of ``tests/test_rerun.py`` (pytest-xdist, one worker each); names and
ports come from the namespace, so neither run sees or removes the other's resources.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pytest

from helpers import engine
from helpers.exercises import get
from tests.notebook_runs import NOTEBOOKS, error_outputs, execute, ids, stdout_text

# DMAC_SOLUTIONS_NAMESPACE: make matrix-podman uses its own, so it may run beside make matrix (build/<ns>/ apart)
SECOND_LEARNER = os.environ.get("DMAC_SOLUTIONS_NAMESPACE", "dmac-b")


def exercises(notebook: Path) -> set[str]:
    """The exercise ids a notebook checks (``check("05.1", …)``, ``check_widget("00.2", …)``)."""
    cells = json.loads(notebook.read_text())["cells"]
    source = "\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "code")
    return set(re.findall(r"\bcheck(?:_widget)?\(\s*[\"'](\d\d\.\d+)[\"']", source))


def accepted(text: str) -> set[str]:
    """The exercise ids whose verdict in a notebook's output is "Correct"."""
    return set(re.findall(r"Exercise (\d\d\.\d+)\b[^\n]*\n✅ Correct", text))


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=ids())
def test_solutions_are_accepted(notebook) -> None:
    params = {"NAMESPACE": SECOND_LEARNER, "SOLUTIONS": True}
    if notebook.stem.startswith("04-"):
        params["ALLOW_DAEMON_RESTART"] = False  # restarting the shared daemon is tested alone
    out, _ = execute(notebook, "solutions", params)
    assert error_outputs(out) == []
    text = stdout_text(out)
    expected = exercises(notebook)
    assert len(expected) >= 2, f"{notebook.name}: a notebook has at least two exercises"
    # an exercise that needs what this engine cannot do is skipped by the notebook, which says why
    skipped = {ex for ex in expected if (kind := get(ex).needs) and engine.limitation(kind)}
    for ex in skipped:
        assert engine.limitation(get(ex).needs) in text, f"{notebook.name}: {ex} skipped without saying why"
    expected -= skipped
    assert accepted(text) == expected, f"{notebook.name}: accepted {sorted(accepted(text))}, has {sorted(expected)}"
    assert "❌ Not yet" not in text
