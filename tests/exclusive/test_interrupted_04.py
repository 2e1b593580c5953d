"""Notebook 04 after an interrupted run: what it prints about daemon.json is what its stored outputs show.

An earlier run stopped between "live-restore on" and its restore leaves daemon.json changed and a backup
behind; the next run puts the file back first, and its lines about the setting read as a fresh run's.
Only where the course started the daemon itself (as in CI); runs in the exclusive phase.
"""

from __future__ import annotations

import json
import re

import pytest

from helpers.core import managed, procs
from helpers.lessons import upgrade
from tests.notebook_runs import NOTEBOOKS, error_outputs, execute, stdout_text

NOTEBOOK = next(nb for nb in NOTEBOOKS if nb.stem.startswith("04-"))
SETTING = re.compile(r"^(daemon configuration file|daemon\.json now|daemon\.json restored).*$", re.M)


def _stored() -> list[str]:
    cells = json.loads(NOTEBOOK.read_text())["cells"]
    text = "".join(
        "".join(out.get("text", "")) for cell in cells for out in cell.get("outputs", []) if out.get("name") == "stdout"
    )
    return [m.group(0) for m in SETTING.finditer(text)]


def _course_daemon_alive() -> bool:
    """Whether the course started the daemon (managed.managed()) and it still runs."""
    state = managed.managed()
    return procs.alive(state["pid"]) if state else False


@pytest.mark.skipif(not _course_daemon_alive(), reason="the daemon was not started by the course")
def test_a_run_after_an_interrupted_one_prints_the_stored_setting() -> None:
    upgrade.set_live_restore(True)  # what a run interrupted after step 3 leaves: live-restore on, a backup
    assert upgrade.BACKUP.exists()
    assert upgrade.read_config() == {"live-restore": True}
    out, _ = execute(NOTEBOOK, "interrupted-04", {"NAMESPACE": "dmac-stop", "ALLOW_DAEMON_RESTART": True})
    assert error_outputs(out) == []
    shown = [m.group(0) for m in SETTING.finditer(stdout_text(out))]
    assert len(shown) == 3
    assert shown == _stored()
    assert not upgrade.BACKUP.exists()
    assert upgrade.live_restore_setting() is False
