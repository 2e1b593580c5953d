"""One bound on a notebook cell ([tool.dmac] cell-timeout), the same for make and Python, near what cells take."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from helpers.core.limits import cell_timeout

ROOT = Path(__file__).resolve().parents[2]


def _dry_run(*target: str) -> str:
    return subprocess.run(["make", "-n", *target], cwd=ROOT, capture_output=True, text=True, timeout=60).stdout


def test_make_runs_notebooks_with_the_same_bound() -> None:
    bound = cell_timeout()
    assert f"--nbval-cell-timeout={bound} " in _dry_run("test-notebooks", "NB=notebooks/x.ipynb")
    assert f"--ExecutePreprocessor.timeout={bound} " in _dry_run("outputs", "NB=notebooks/x.ipynb")
    assert f"--execution-timeout {bound} " in _dry_run("run", "NB=notebooks/x.ipynb")


def test_the_bound_is_a_small_multiple_of_the_slowest_measured_cell(monkeypatch) -> None:
    from helpers.core import limits

    monkeypatch.delenv(limits.OVERRIDE, raising=False)  # the course's own bound, not CI's
    cell_timeout.cache_clear()
    cells = json.loads((ROOT / "docs" / "benchmark.json").read_text())["notebooks"]["cells"]
    slowest = max(c["seconds"] for c in cells)  # a cold first build (make bench)
    assert 2 * slowest <= cell_timeout() <= 8 * slowest, (slowest, cell_timeout())


def test_ci_s_bound_on_a_cell_reaches_every_run(monkeypatch) -> None:
    """DMAC_CELL_TIMEOUT (CI's, five notebooks on two cores) replaces the course's bound in make and in the matrix's
    solutions (given explicitly: docker-26 runs them in its container)."""
    from helpers.core import limits
    from helpers.infra import matrix

    monkeypatch.setenv(limits.OVERRIDE, "420")
    limits.cell_timeout.cache_clear()
    try:
        assert limits.cell_timeout() == 420
        assert "DMAC_CELL_TIMEOUT=420" in matrix.command(matrix.engines.get("docker-26"), "solutions", [], [])
        assert "--nbval-cell-timeout=420 " in _dry_run("test-notebooks", "NB=notebooks/x.ipynb")
    finally:
        limits.cell_timeout.cache_clear()
