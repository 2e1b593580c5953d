"""The Docker daemon the course started itself (``make setup`` on a machine with none): its state and config.

Core: notebook 04 (:mod:`helpers.lessons.upgrade`) edits that daemon's configuration and restarts it, and the set-up
(:mod:`helpers.infra.setup`) starts it; a daemon the course did not start is never touched.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

STATE_DIR = Path(os.environ.get("DMAC_STATE_DIR", "/var/lib/dmac-course"))
LOG_DIR = Path("/var/log/dmac-course")


def daemon_config() -> Path:
    """The daemon configuration file the course's own dockerd reads (notebook 04 edits it)."""
    return STATE_DIR / "daemon.json"


def managed() -> dict | None:
    """How the course started dockerd (argv, pid, log), if it did; else None."""
    state = STATE_DIR / "dockerd.json"
    try:
        return json.loads(state.read_text())
    except (OSError, ValueError):
        return None
