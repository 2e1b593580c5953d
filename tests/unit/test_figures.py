"""The measured-numbers table is text a learner can copy, and its compared stand-in holds no measured value (no
daemon needed: a pure function)."""

from __future__ import annotations

from helpers.lessons import figures


def test_table_shows_every_measured_value_as_text() -> None:
    shown = figures.markdown_table("a measurement", [("cgroup file", "104.2 MiB"), ("docker stats", "101.9 MiB")])
    assert shown["text/markdown"].splitlines() == [
        "**a measurement**",
        "",
        "| measured in this run | value |",
        "|---|---|",
        "| cgroup file | 104.2 MiB |",
        "| docker stats | 101.9 MiB |",
    ]


def test_the_stand_in_text_depends_only_on_the_title_and_the_number_of_rows() -> None:
    one = figures.markdown_table("t", [("a", "1.0 s")])
    other = figures.markdown_table("t", [("b", "99.9 s")])
    assert one["text/plain"] == other["text/plain"] == "table: t (1 rows)"
    assert figures.markdown_table("t", [("a|b", "1\n2")])["text/markdown"].endswith("| a\\|b | 1 2 |")


def test_a_call_as_a_cells_last_line_returns_nothing() -> None:
    assert figures.table("t", [("a", "1")]) is None  # type: ignore[func-returns-value]
