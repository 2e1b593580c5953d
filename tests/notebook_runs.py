"""Running whole notebooks from tests (papermill), outside nbval's output comparison."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

from helpers.limits import cell_timeout

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]-*.ipynb"))
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
    import papermill

    out = OUT / kind / notebook.name
    out.parent.mkdir(parents=True, exist_ok=True)
    saved = dict(os.environ)
    os.environ.update(env or {})
    start = time.monotonic()
    try:
        papermill.execute_notebook(
            str(notebook),
            str(out),
            parameters=parameters,
            cwd=str(notebook.parent),
            execution_timeout=timeout or cell_timeout(),
            progress_bar=False,
            log_output=False,
            kernel_name="python3",
        )
    finally:
        os.environ.clear()
        os.environ.update(saved)
    seconds = time.monotonic() - start
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
