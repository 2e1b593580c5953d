"""pytest configuration shared by the helpers' tests and nbval over notebooks/."""

from __future__ import annotations

import contextlib
import json
import os
import sys

import pytest


def pytest_collectstart(collector):
    # nbval compares every output except what is listed here. stderr carries live progress only
    # (build logs, debootstrap phases, timings); every result a cell proves is printed to stdout.
    # text/markdown: figures.table's measured values (its text/plain stand-in, title and row count, is compared).
    if collector.fspath and collector.fspath.ext == ".ipynb":
        collector.skip_compare += ("stderr", "text/markdown")


def _controller(session: pytest.Session) -> bool:
    """True in the main pytest process (not in an xdist worker)."""
    return not hasattr(session.config, "workerinput")


_decoys: list = []
_held = contextlib.ExitStack()
_held_now: list[bool] = []


def pytest_runtest_setup(item: pytest.Item) -> None:
    # nbval runs in namespace dmac (build/dmac/): one such run at a time on this machine, make test's or an engine's
    # (CI runs the containerd engine beside make test; the engine's own run is told that its matrix holds the lock).
    # Held from the first notebook cell to the first test that is not one (make test runs the notebooks first).
    from helpers.infra import matrix

    if str(item.fspath).endswith(".ipynb"):
        if not _held_now and os.environ.get(matrix.LOCK_HELD) != "1":
            _held.enter_context(matrix.nbval_file_lock(lambda said: print(said, file=sys.stderr, flush=True)))
            _held_now.append(True)
    elif _held_now:
        _held.close()
        _held_now.clear()


def pytest_sessionstart(session: pytest.Session) -> None:
    # Resources that are not the course's, named like them: they must survive the whole suite.
    if _controller(session) and os.environ.get("DMAC_DECOYS", "1") == "1":
        from tests import isolation

        _decoys.append(isolation.create())


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    _held.close()
    _held_now.clear()
    if _decoys:
        from tests import isolation

        found = isolation.problems(_decoys[0])
        isolation.remove(_decoys.pop())
        if found:
            print("\nISOLATION FAILURE: " + "; ".join(found))
            session.exitstatus = pytest.ExitCode.TESTS_FAILED


def _record_skip(nodeid: str, longrepr: object) -> None:
    """CI's record of a skip (``DMAC_SKIP_REPORT=folder``): .ci/run compares it with .ci/expected-skips.toml,
    so a test that skipped for a reason nobody expected fails the run."""
    folder = os.environ.get("DMAC_SKIP_REPORT")
    if not folder or os.environ.get("PYTEST_XDIST_WORKER"):  # xdist: the controller records every worker's
        return
    reason = str(longrepr[2]) if isinstance(longrepr, tuple) else str(longrepr or "")
    entry = {"stage": os.environ.get("DMAC_CI_STAGE", "?"), "test": nodeid, "reason": reason.removeprefix("Skipped: ")}
    os.makedirs(folder, exist_ok=True)
    with open(os.path.join(folder, "skips.jsonl"), "a") as fh:
        fh.write(json.dumps(entry, ensure_ascii=False) + "\n")


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    if report.skipped and report.when in ("setup", "call") and not hasattr(report, "wasxfail"):
        _record_skip(report.nodeid, report.longrepr)


def pytest_collectreport(report: pytest.CollectReport) -> None:
    if report.skipped:  # a whole module skipped at import (pytest.skip(allow_module_level=True))
        _record_skip(report.nodeid, report.longrepr)
