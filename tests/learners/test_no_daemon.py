"""Binder mode: with no reachable daemon every notebook still runs top to bottom without an error."""

from __future__ import annotations

import pytest

from tests.notebook_runs import NOTEBOOKS, error_outputs, execute, ids, stdout_text


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=ids())
def test_notebook_runs_without_a_daemon(notebook, tmp_path) -> None:
    env = {"DOCKER_HOST": f"unix://{tmp_path}/no-daemon.sock", "DMAC_NAMESPACE": "dmac-nodaemon"}
    out, seconds = execute(notebook, "no-daemon", {}, env=env, timeout=120)
    assert error_outputs(out) == []
    text = stdout_text(out)
    assert "No Docker daemon here" in text
    assert seconds < 120
