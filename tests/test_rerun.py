"""A kernel restart halfway: the first half of a notebook runs, the kernel dies without cleaning up,
then the whole notebook runs again from the top and passes (leftovers do not break it)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from tests.notebook_runs import NOTEBOOKS, error_outputs, execute, ids

NS = "dmac-rerun"


def _run_first_half(notebook: Path) -> None:
    nb = nbformat.read(notebook, as_version=4)
    code = [i for i, c in enumerate(nb.cells) if c.cell_type == "code"]
    half = code[len(code) // 2]
    nb.cells = nb.cells[:half]
    for cell in nb.cells:  # the parameters cell: this run's namespace
        if "parameters" in cell.metadata.get("tags", []):
            cell.source += f"\nNAMESPACE = {NS!r}\n"
            if notebook.stem.startswith("04-"):
                cell.source += "ALLOW_DAEMON_RESTART = False\n"
    client = NotebookClient(
        nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(notebook.parent)}}
    )
    with client.setup_kernel():
        for index, cell in enumerate(nb.cells):
            client.execute_cell(cell, index)
        # leaving the block kills the kernel: no clean-up cell has run


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=ids())
def test_rerun_after_a_kernel_restart_halfway(notebook: Path) -> None:
    _run_first_half(notebook)
    params = {"NAMESPACE": NS}
    if notebook.stem.startswith("04-"):
        params["ALLOW_DAEMON_RESTART"] = False
    out, _ = execute(notebook, "rerun", params)
    assert error_outputs(out) == []
    assert json.loads(out.read_text())["cells"], os.fspath(out)
