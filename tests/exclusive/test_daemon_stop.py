"""The daemon stops while a notebook runs: the next cell fails within seconds with a message that
says so, and once the daemon is back, re-running from the top works.

Only where the course started the daemon itself (as in CI); runs in the exclusive phase.
"""

from __future__ import annotations

import os
import signal
import time

import nbformat
import pytest
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError

from helpers.core import daemon, managed
from helpers.infra import setup
from tests.notebook_runs import NOTEBOOKS, error_outputs, execute

NS = "dmac-stop"


def _managed_pid() -> int | None:
    state = managed.managed()
    if not state:
        return None
    try:
        os.kill(state["pid"], 0)
    except OSError:
        return None
    return state["pid"]


@pytest.mark.skipif(_managed_pid() is None, reason="the daemon was not started by the course")
def test_daemon_stopping_mid_notebook_gives_words_then_rerun_works() -> None:
    notebook = NOTEBOOKS[0]
    nb = nbformat.read(notebook, as_version=4)
    for cell in nb.cells:
        if "parameters" in cell.metadata.get("tags", []):
            cell.source += f"\nNAMESPACE = {NS!r}\n"
    code = [i for i, c in enumerate(nb.cells) if c.cell_type == "code"]
    first, rest = code[:4], code[4:]  # parameters, setup, preflight, base images
    client = NotebookClient(
        nb, timeout=120, kernel_name="python3", resources={"metadata": {"path": str(notebook.parent)}}
    )
    state = managed.managed()
    assert state is not None
    with client.setup_kernel():
        for index in first:
            client.execute_cell(nb.cells[index], index)
        os.kill(state["pid"], signal.SIGTERM)
        deadline = time.monotonic() + 30
        while daemon.available() and time.monotonic() < deadline:
            time.sleep(0.5)
        assert not daemon.available(), "the daemon did not stop"
        start = time.monotonic()
        with pytest.raises(CellExecutionError) as err:
            client.execute_cell(nb.cells[rest[0]], rest[0])
        assert time.monotonic() - start < 15
        message = str(err.value)
        assert "DaemonUnavailable" in message and "no daemon answers" in message
    from helpers.core import procs, wait

    # the old daemon finishes its shutdown (and drops its pid file)
    wait.until(lambda: not procs.alive(state["pid"]), "the stopped dockerd exiting", timeout=60)
    setup.start_dockerd(state["data_root"])
    out, _ = execute(notebook, "daemon-stop", {"NAMESPACE": NS})
    assert error_outputs(out) == []
