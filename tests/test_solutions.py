"""Every exercise's solution is accepted: each notebook runs with SOLUTIONS=True, in a second namespace.

This is also the "two learners on one daemon" test: ``make test`` runs it (phase 2) together with the
restart-halfway learner of ``tests/test_rerun.py`` on two pytest-xdist workers, notebook by notebook, each
worker in namespaces of its own (``dmac-b-gw0``, ``dmac-rerun-gw1``, …); names and ports come from the
namespace, so neither worker sees or removes the other's resources.
"""

from __future__ import annotations

import ast
import json
import os
import re
from pathlib import Path

import pytest

from helpers import engine, runs
from helpers.exercises import get
from tests.notebook_runs import NOTEBOOKS, error_outputs, execute, ids, learner, stdout_text

# DMAC_SOLUTIONS_NAMESPACE: each engine of the matrix and Podman have their own, so they may run side by side
# (build/<ns>/ apart); under pytest-xdist each worker adds its id (dmac-b-gw0)
SECOND_LEARNER = learner(os.environ.get("DMAC_SOLUTIONS_NAMESPACE", "dmac-b"))


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=ids())
def test_solutions_are_accepted(notebook) -> None:
    params = {"NAMESPACE": SECOND_LEARNER, "SOLUTIONS": True}
    if notebook.stem.startswith("04-"):
        params["ALLOW_DAEMON_RESTART"] = False  # restarting the shared daemon is tested alone
    out, _ = execute(notebook, "solutions", params)
    assert error_outputs(out) == []
    result = runs.verdict_of(out)  # the course's one rule, as the matrix, rootless, the hub and compat read it
    assert result.status in ("pass", "limited"), f"{notebook.name}: {result.why}"
    expected = runs.exercises(json.loads(notebook.read_text()))
    assert len(expected) >= 2, f"{notebook.name}: a notebook has at least two exercises"
    # skipped only where this engine cannot do what the exercise needs, with the engine's own sentence
    for ex, said in result.skipped.items():
        kind = get(ex).needs
        assert kind and engine.limitation(kind) == said, f"{notebook.name}: {ex} skipped saying {said!r}"
    text = stdout_text(out)
    assert given_away(notebook, answers(text)) == []


# Exercises whose answer a learner still reads off an earlier output, with the reason why that stands: none now
# (04.1 asked for the API version and 08.2 for the word "exec" until both became exercises to do)
PRINTED_ON_PURPOSE: dict[str, str] = {}


def answers(text: str) -> dict[str, object]:
    """The answer each solution found, as ``check`` prints it in solutions mode (``answer = …``)."""
    found = {}
    for value, ex in re.findall(r"^answer = (.*)\nExercise (\d\d\.\d+) —", text, re.M):
        try:
            found[ex] = ast.literal_eval(value)
        except (ValueError, SyntaxError):
            continue
    return found


def given_away(notebook: Path, found: dict[str, object]) -> list[str]:
    """Exercises whose answer (a text of 4 characters or more) stands as a word in an output stored before it."""
    cells = json.loads(notebook.read_text())["cells"]
    shown: list[str] = []  # the stored outputs a learner sees, cell by cell (stderr's progress lines aside)
    for cell in cells:
        parts = []
        for out in cell.get("outputs", []):
            if out.get("name") == "stderr":
                continue
            for value in (out.get("text", ""), out.get("data", {}).get("text/plain", "")):
                parts.append("".join(value) if isinstance(value, list) else value)
        shown.append("".join(parts))
    problems = []
    for ex, value in found.items():
        if ex in PRINTED_ON_PURPOSE or not isinstance(value, str) or len(value.strip()) < 4:
            continue
        checked_at = next(
            i for i, c in enumerate(cells) if re.search(rf"check(_widget)?\(\s*[\"']{ex}", "".join(c["source"]))
        )
        word = re.compile(rf"(?<![\w.-]){re.escape(value.strip())}(?![\w.-])")
        for i, text in enumerate(shown[:checked_at]):
            if word.search(text):
                problems.append(
                    f"{notebook.name}: the answer of {ex} ({value.strip()[:40]!r}) is in the output of cell {i}"
                )
    return problems
