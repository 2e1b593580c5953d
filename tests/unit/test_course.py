"""Namespace, names and labels (pure functions: no daemon needed)."""

from __future__ import annotations

import pytest

from helpers.core import course


def test_names_come_from_the_namespace(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DMAC_NAMESPACE", "dmac-alice")
    assert course.name("web") == "dmac-alice-web"
    assert course.image("hello", "1.0") == "dmac-alice/hello:1.0"
    assert course.labels()[course.LABEL] == "dmac-alice"


def test_default_namespace(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DMAC_NAMESPACE", raising=False)
    assert course.namespace() == "dmac"


@pytest.mark.parametrize("bad", ["Alice", "a b", "-x", "x" * 40, "dmac;rm"])
def test_unusable_namespace_is_refused_with_words(monkeypatch: pytest.MonkeyPatch, bad: str) -> None:
    monkeypatch.setenv("DMAC_NAMESPACE", bad)
    with pytest.raises(ValueError, match="not usable in Docker names"):
        course.namespace()


def test_notebook_label_is_added_when_known(monkeypatch: pytest.MonkeyPatch) -> None:
    course.set_notebook("05")
    try:
        assert course.labels()[course.NOTEBOOK_LABEL] == "05"
    finally:
        course.set_notebook("")
    assert course.NOTEBOOK_LABEL not in course.labels()
