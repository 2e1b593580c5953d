"""Every exercise's solution is accepted: each notebook runs with SOLUTIONS=True, in a second namespace.

This is also the "two learners on one daemon" test: with ``make test`` it runs at the same time as
nbval runs the notebooks in namespace ``dmac`` (pytest-xdist, one worker each); names and ports come
from the namespace, so neither run sees or removes the other's resources.
"""

from __future__ import annotations

import pytest

from tests.notebook_runs import NOTEBOOKS, error_outputs, execute, ids, stdout_text

SECOND_LEARNER = "dmac-b"


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=ids())
def test_solutions_are_accepted(notebook) -> None:
    params = {"NAMESPACE": SECOND_LEARNER, "SOLUTIONS": True}
    if notebook.stem.startswith("04-"):
        params["ALLOW_DAEMON_RESTART"] = False  # restarting the shared daemon is tested alone
    out, _ = execute(notebook, "solutions", params)
    assert error_outputs(out) == []
    text = stdout_text(out)
    verdicts = text.count("✅ Correct")
    assert verdicts >= 2, f"{notebook.name}: expected every exercise to be checked and accepted"
    assert "❌ Not yet" not in text
