"""Fixtures for the helpers' tests: all of them use the real daemon, in a namespace of their own."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import pytest

from tests.support import Made


@pytest.fixture(autouse=True)
def _test_namespace(monkeypatch: pytest.MonkeyPatch) -> None:
    """Helpers' tests work in namespace ``dmac-test`` so they never touch a learner's ``dmac``."""
    monkeypatch.setenv("DMAC_NAMESPACE", os.environ.get("DMAC_TEST_NAMESPACE", "dmac-test"))


@pytest.fixture
def unique() -> str:
    """A short random suffix for names that must not clash."""
    return uuid.uuid4().hex[:8]


@pytest.fixture
def dc():
    from helpers.core.daemon import client

    return client()


@pytest.fixture
def made() -> Iterator[Made]:
    """What the test made (``made["containers"].append(name)``, ``made.add("volume", name)``), removed after it
    whatever happened: the one tracker of the helpers' tests."""
    things = Made()
    yield things
    things.remove()
