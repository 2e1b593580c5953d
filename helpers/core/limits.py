"""The bound on one notebook cell: ``[tool.dmac] cell-timeout`` in pyproject.toml, read by make and Python alike."""

from __future__ import annotations

import tomllib
from functools import cache

from .course import ROOT


@cache
def cell_timeout() -> int:
    """Seconds one notebook cell may take (nbval, nbconvert, papermill) before the run stops it."""
    settings = tomllib.loads((ROOT / "pyproject.toml").read_text())
    return int(settings["tool"]["dmac"]["cell-timeout"])
