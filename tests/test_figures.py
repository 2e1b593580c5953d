"""The measured-numbers table shows each row's value (no daemon needed: a pure drawing function)."""

from __future__ import annotations

import matplotlib.pyplot as plt

from helpers import figures


def drawn(title: str, rows: list[tuple[str, str]]):
    # a cell's last line must not show the figure twice; mypy rejects using a None function's value, which is
    # what this checks at run time (the annotation alone would not catch a `return fig` with it changed too)
    assert figures.table(title, rows) is None  # type: ignore[func-returns-value]
    return plt.gcf()  # Agg: show() leaves it open


def test_table_shows_every_measured_value() -> None:
    fig = drawn("a measurement", [("cgroup file", "104.2 MiB"), ("docker stats", "101.9 MiB")])
    texts = {cell.get_text().get_text() for cell in fig.axes[0].tables[0].get_celld().values()}
    assert {"cgroup file", "104.2 MiB", "docker stats", "101.9 MiB"} <= texts
    assert fig.axes[0].get_title(loc="left") == "a measurement"


def test_the_stand_in_text_depends_only_on_the_number_of_rows() -> None:
    one = drawn("t", [("a", "1.0 s")])
    other = drawn("t", [("b", "99.9 s")])
    assert repr(one.get_size_inches().tolist()) == repr(other.get_size_inches().tolist())
    assert drawn("t", [("a", "1"), ("b", "2")]).get_size_inches()[1] > one.get_size_inches()[1]
