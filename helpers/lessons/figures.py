"""Measured numbers in plain view: this run's figures as a small table of text.

A cell whose stored output must stay the same from run to run prints a *verdict* on stdout (a boolean, a
range, a count class) and shows the numbers it came from with :func:`table`. nbval compares the verdict;
it does not compare the table's ``text/markdown`` (conftest.py), and the table's ``text/plain`` stand-in
only names its title and number of rows, so the learner sees the measurement (and can copy it) and the
regression test proves the verdict, with no sanitize rule.
"""

from __future__ import annotations


def table(title: str, rows: list[tuple[str, str]]) -> None:
    """Show ``rows`` (what was measured, this run's value) under ``title`` as a real table: text a learner can
    select and copy (Markdown in JupyterLab), not a picture of one.

    Returns nothing, so a call as a cell's last line shows nothing twice.
    """
    from IPython.display import display  # deferred: only a notebook's kernel needs it

    display(markdown_table(title, rows), raw=True)


def markdown_table(title: str, rows: list[tuple[str, str]]) -> dict[str, str]:
    """The display data :func:`table` shows: a Markdown table under a bold title, and its plain-text stand-in
    (title and number of rows: no measured value, so nbval can compare it)."""

    def cell(text: str) -> str:
        return text.replace("|", "\\|").replace("\n", " ")

    lines = [f"**{cell(title)}**", "", "| measured in this run | value |", "|---|---|"]
    lines += [f"| {cell(what)} | {cell(value)} |" for what, value in rows]
    return {"text/markdown": "\n".join(lines), "text/plain": f"table: {title} ({len(rows)} rows)"}
