"""Measured numbers in plain view: this run's figures drawn as a small table image.

A cell whose stored output must stay the same from run to run prints a *verdict* on stdout (a boolean, a
range, a count class) and shows the numbers it came from with :func:`table`. nbval compares the verdict;
it does not compare ``image/png`` outputs (its default skip list), and the figure's ``text/plain`` stand-in
(``<Figure size …>``) only depends on the number of rows, so the learner sees the measurement and the
regression test proves the verdict, with no sanitize rule.
"""

from __future__ import annotations

import sys


def table(title: str, rows: list[tuple[str, str]]) -> None:
    """Draw ``rows`` (what was measured, this run's value) under ``title`` and show it.

    Returns nothing, so a call as a cell's last line does not show the figure a second time.
    """
    import matplotlib  # deferred: heavy; only a figure needs it

    matplotlib.use("Agg") if "ipykernel" not in sys.modules else None
    import matplotlib.pyplot as plt  # deferred: heavy; only a figure needs it

    fig, ax = plt.subplots(figsize=(7, 0.5 + 0.32 * (len(rows) + 1)))
    ax.axis("off")
    cells = ax.table(
        cellText=[[what, value] for what, value in rows],
        colLabels=["measured in this run", "value"],
        colWidths=[0.7, 0.3],
        cellLoc="left",
        loc="center",
    )
    cells.auto_set_font_size(False)
    cells.set_fontsize(10)
    ax.set_title(title, fontsize=10, loc="left")
    fig.tight_layout()
    plt.show()
