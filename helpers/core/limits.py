"""The bound on one notebook cell: ``[tool.dmac] cell-timeout`` in pyproject.toml, read by make and Python alike.

``DMAC_CELL_TIMEOUT`` (seconds) replaces it for a whole run: CI sets it, where five notebooks share two cores.
"""

from __future__ import annotations

import os
import tomllib
from functools import cache

from .course import ROOT

OVERRIDE = "DMAC_CELL_TIMEOUT"


@cache
def cell_timeout() -> int:
    """Seconds one notebook cell may take (nbval, nbconvert, papermill) before the run stops it."""
    if os.environ.get(OVERRIDE, "").isdigit():
        return int(os.environ[OVERRIDE])
    settings = tomllib.loads((ROOT / "pyproject.toml").read_text())
    return int(settings["tool"]["dmac"]["cell-timeout"])
