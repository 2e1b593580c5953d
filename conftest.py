"""pytest configuration shared by the helpers' tests and nbval over notebooks/."""

from __future__ import annotations

import os

import pytest


def pytest_collectstart(collector):
    # nbval compares every output except what is listed here. stderr carries live progress only
    # (build logs, debootstrap phases, timings); every result a cell proves is printed to stdout.
    if collector.fspath and collector.fspath.ext == ".ipynb":
        collector.skip_compare += ("stderr",)


def _controller(session: pytest.Session) -> bool:
    """True in the main pytest process (not in an xdist worker)."""
    return not hasattr(session.config, "workerinput")


_decoys: list = []


def pytest_sessionstart(session: pytest.Session) -> None:
    # Resources that are not the course's, named like them: they must survive the whole suite.
    if _controller(session) and os.environ.get("DMAC_DECOYS", "1") == "1":
        from tests import isolation

        _decoys.append(isolation.create())


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    if _decoys:
        from tests import isolation

        found = isolation.problems(_decoys[0])
        isolation.remove(_decoys.pop())
        if found:
            print("\nISOLATION FAILURE: " + "; ".join(found))
            session.exitstatus = pytest.ExitCode.TESTS_FAILED
