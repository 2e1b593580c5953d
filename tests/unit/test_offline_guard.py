"""Binder's guard in a real IPython shell: a cell stopped for want of a daemon is excused, and so are later
cells that use the names it would have defined; a learner's own typo still raises NameError."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from IPython.core.interactiveshell import InteractiveShell

from helpers.core import offline

NEEDS_DAEMON = (
    "from helpers.core.daemon import DaemonUnavailable\n"
    "station = 'buoy-41001'\n"
    "raise DaemonUnavailable('no-daemon', 'no daemon here')  # what client() raises without one\n"
    "box = station + ' container'\n"
    "def logs():\n    return box\n"
)


@pytest.fixture
def shell() -> Iterator[InteractiveShell]:
    ip = InteractiveShell.instance()
    offline.undefined.clear()
    offline.activate()
    yield ip
    offline.deactivate()
    offline.undefined.clear()
    ip.ast_transformers[:] = [t for t in ip.ast_transformers if not isinstance(t, offline.Guard)]
    InteractiveShell.clear_instance()  # later tests must not find a running IPython (get_ipython())


def _cell(shell: InteractiveShell, source: str, capsys: pytest.CaptureFixture[str]) -> tuple[object, str]:
    result = shell.run_cell(source, store_history=False)
    return result.error_in_exec, capsys.readouterr().out


def test_names_of_a_stopped_cell_are_excused_a_typo_is_not(shell, capsys) -> None:
    error, out = _cell(shell, NEEDS_DAEMON, capsys)
    assert error is None and "needs a Docker daemon (no-daemon)" in out
    assert shell.user_ns["station"] == "buoy-41001"  # what ran before the daemon was needed is there
    error, out = _cell(shell, "print(logs())", capsys)  # defined only by the stopped cell
    assert error is None and "needs an earlier Docker cell" in out
    error, out = _cell(shell, "print(stattion)", capsys)  # a typo of the learner's own
    assert isinstance(error, NameError) and error.name == "stattion"
    assert "needs an earlier Docker cell" not in out


def test_a_cell_stopped_by_a_missing_name_passes_its_own_names_on(shell, capsys) -> None:
    _cell(shell, NEEDS_DAEMON, capsys)
    error, out = _cell(shell, "summary = box.upper()\n", capsys)
    assert error is None and "needs an earlier Docker cell" in out
    error, out = _cell(shell, "summary", capsys)
    assert error is None and "needs an earlier Docker cell" in out


def test_with_a_daemon_every_name_error_is_the_learners(shell, capsys) -> None:
    _cell(shell, NEEDS_DAEMON, capsys)
    offline.deactivate()
    error, _ = _cell(shell, "logs()", capsys)
    assert isinstance(error, NameError)
