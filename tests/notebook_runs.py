"""Running whole notebooks from tests (papermill), outside nbval's output comparison."""

from __future__ import annotations

import ast
import json
import os
import re
from pathlib import Path

from helpers.infra import runs
from helpers.infra.runs import only

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = only(sorted((ROOT / "notebooks").glob("[0-9][0-9]-*.ipynb")))  # DMAC_NOTEBOOKS: CI's sampled lanes
OUT = Path(os.environ.get("DMAC_TEST_RUNS") or ROOT / "build" / "test-runs")  # the engine matrix has its own


def learner(base: str) -> str:
    """A learner's namespace: ``base``, or ``base-gw0`` in pytest-xdist's worker gw0.

    ``make test`` spreads the whole-course learners over two workers notebook by notebook, so each worker
    is a learner of its own: its names, labels and ``build/<namespace>/`` never meet the other's.
    """
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    return f"{base}-{worker}" if worker else base


def ids() -> list[str]:
    return [nb.stem for nb in NOTEBOOKS]


def execute(
    notebook: Path, kind: str, parameters: dict, env: dict[str, str] | None = None, timeout: int | None = None
) -> tuple[Path, float]:
    """Run ``notebook`` with papermill into ``build/test-runs/<kind>/``; returns (output, seconds).

    Raises papermill's error (with the failing cell) if a cell fails.
    """
    out = OUT / kind / notebook.name
    saved = dict(os.environ)
    os.environ.update(env or {})
    try:
        seconds = runs.execute(notebook, out, parameters, timeout)
    finally:
        os.environ.clear()
        os.environ.update(saved)
    record(kind, notebook.stem, seconds)
    return out, seconds


def record(kind: str, stem: str, seconds: float) -> None:
    """Append a timing to build/test-runs/timings.jsonl (read by the benchmark)."""
    OUT.mkdir(parents=True, exist_ok=True)
    with open(OUT / "timings.jsonl", "a") as fh:
        fh.write(json.dumps({"kind": kind, "notebook": stem, "seconds": round(seconds, 1)}) + "\n")


def error_outputs(path: Path) -> list[str]:
    """Every error output of an executed notebook, as 'cell N: Ename: value'."""
    nb = json.loads(path.read_text())
    found = []
    for i, cell in enumerate(nb["cells"]):
        for out in cell.get("outputs", []):
            if out.get("output_type") == "error":
                found.append(f"cell {i}: {out['ename']}: {out['evalue']}")
    return found


def stdout_text(path: Path) -> str:
    """All stdout of an executed notebook (stream text may be stored as a list of lines)."""
    nb = json.loads(path.read_text())

    def text(out: dict) -> str:
        value = out.get("text", "")
        return "".join(value) if isinstance(value, list) else value

    return "".join(
        text(out)
        for cell in nb["cells"]
        for out in cell.get("outputs", [])
        if out.get("output_type") == "stream" and out.get("name") == "stdout"
    )


def assert_solutions_accepted(notebook: Path, out: Path) -> None:
    """A run with every solution applied passed: no error, every exercise accepted or skipped where this engine
    cannot do what it needs (with the engine's own sentence: :mod:`helpers.infra.runs`), and no answer shown earlier."""
    from helpers.core import engine
    from helpers.exercises import get
    from helpers.infra import runs

    assert error_outputs(out) == []
    result = runs.verdict_of(out)  # the course's one rule, as the matrix, rootless, the hub and compat read it
    assert result.status in ("pass", "limited"), f"{notebook.name}: {result.why}"
    expected = runs.exercises(json.loads(notebook.read_text()))
    assert len(expected) >= 2, f"{notebook.name}: a notebook has at least two exercises"
    for ex, said in result.skipped.items():
        kind = get(ex).needs
        assert kind and engine.limitation(kind) == said, f"{notebook.name}: {ex} skipped saying {said!r}"
    assert given_away(notebook, answers(stdout_text(out))) == []


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
