"""Every notebook follows the course skeleton (CONTRIBUTING.md) and can be shown as slides."""

from __future__ import annotations

import re

import nbformat
import pytest

from tests.notebook_runs import NOTEBOOKS, ids

SECTIONS = [
    "## Overview",
    "## Prerequisites",
    "**Time to learn:**",
    "## Exercises",
    "## Key points",
    "## Clean-up",
    "## What's next",
]


@pytest.fixture(params=NOTEBOOKS, ids=ids())
def nb(request: pytest.FixtureRequest) -> nbformat.NotebookNode:
    return nbformat.read(request.param, as_version=4)


def test_skeleton_sections(nb: nbformat.NotebookNode) -> None:
    markdown = "\n".join(c.source for c in nb.cells if c.cell_type == "markdown")
    assert re.match(r"# \d\d · ", nb.cells[0].source), "title '# NN · Title' first"
    missing = [s for s in SECTIONS if s not in markdown]
    assert not missing, f"missing sections: {missing}"


def test_parameters_then_start(nb: nbformat.NotebookNode) -> None:
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert "parameters" in code[0].metadata.get("tags", []), "first code cell is tagged 'parameters'"
    assert "SOLUTIONS" in code[0].source and "NAMESPACE" in code[0].source
    assert "start(" in code[1].source


def test_at_least_two_checked_exercises_and_a_tidy_end(nb: nbformat.NotebookNode) -> None:
    code = [c.source for c in nb.cells if c.cell_type == "code"]
    checks = {m for src in code for m in re.findall(r'check(?:_widget)?\("(\d\d\.\d+)"', src)}
    assert len(checks) >= 2, f"exercises checked: {sorted(checks)}"
    assert any("tidy(" in src for src in code[-3:]), "the notebook ends by tidying its resources"


def test_every_code_cell_has_a_stored_output_run(nb: nbformat.NotebookNode) -> None:
    unrun = [
        i for i, c in enumerate(nb.cells) if c.cell_type == "code" and c.source.strip() and c.execution_count is None
    ]
    assert not unrun, f"cells without a stored run: {unrun} (make outputs)"
    errors = [
        i
        for i, c in enumerate(nb.cells)
        if c.cell_type == "code"
        for o in c.get("outputs", [])
        if o.get("output_type") == "error"
    ]
    assert not errors, f"stored error outputs in cells {errors}"


def test_slide_metadata_for_rise(nb: nbformat.NotebookNode) -> None:
    kinds = [c.metadata.get("slideshow", {}).get("slide_type") for c in nb.cells]
    assert None not in kinds, "run `make slides`"
    assert kinds[0] == "slide"


def test_ignored_outputs_are_rare_and_assert(nb: nbformat.NotebookNode) -> None:
    code = [c.source for c in nb.cells if c.cell_type == "code" and c.source.strip()]
    ignored = [src for src in code if "NBVAL_IGNORE_OUTPUT" in src or "NBVAL_SKIP" in src]
    assert len(ignored) <= max(1, int(0.15 * len(code))), f"{len(ignored)} of {len(code)} cells ignored"
    for src in ignored:
        if "NBVAL_IGNORE_OUTPUT" in src:
            assert "assert" in src or "check(" in src, f"an ignored cell must assert what matters:\n{src[:200]}"
