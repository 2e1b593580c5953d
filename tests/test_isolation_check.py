"""The suite's isolation check itself can fail: it notices a removed, replaced or stopped decoy."""

from __future__ import annotations

from tests import isolation


def test_the_decoy_check_notices_harm(dc) -> None:
    decoys = isolation.create()
    try:
        assert isolation.problems(decoys) == []
        dc.containers.get(decoys.names["running"]).stop(timeout=0)
        dc.volumes.get(decoys.names["volume"]).remove()
        found = isolation.problems(decoys)
        assert "the learner's running container was stopped" in found
        assert "the learner's volume decoy was removed" in found
    finally:
        isolation.remove(decoys)
