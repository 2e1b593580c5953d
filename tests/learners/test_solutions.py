"""Every exercise's solution is accepted: each notebook runs with SOLUTIONS=True, in a second namespace.

The engine matrix, rootless-free engines and Podman run it (namespace ``dmac-b-<engine>``, ``dmac-p``; under
pytest-xdist each worker adds its id). ``make test`` asks the same of the host daemon in tests/learners/test_rerun.py,
whose last run of each notebook applies every solution on top of what the earlier runs left.
"""

from __future__ import annotations

import os

import pytest

from helpers.infra import runs
from tests.notebook_runs import NOTEBOOKS, assert_solutions_accepted, execute, ids, learner

# DMAC_SOLUTIONS_NAMESPACE: each engine of the matrix and Podman have their own, so they may run side by side
# (build/<ns>/ apart); under pytest-xdist each worker adds its id (dmac-b-gw0)
SECOND_LEARNER = learner(os.environ.get("DMAC_SOLUTIONS_NAMESPACE", "dmac-b"))


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=ids())
def test_solutions_are_accepted(notebook) -> None:
    out, _ = execute(notebook, "solutions", runs.solutions_parameters(notebook, SECOND_LEARNER))
    assert_solutions_accepted(notebook, out)
