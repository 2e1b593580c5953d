"""Docker in sight: which notebook cells do their Docker work out of the learner's sight.

A cell that asks the daemon something (an SDK request, a ``docker`` command run quietly) and shows no command a
learner could type is "hidden": its lesson happens inside a helper. Off unless ``DMAC_DOCKER_AUDIT`` names a file
(the notebooks' test runs set it: the root conftest.py); then :func:`install`, called by ``start()``, counts per cell
in the kernel and appends one JSON line per cell that touched Docker: the notebook, a run stamp, the cell's source,
the commands it showed and the requests or commands it made quietly. ``tests/test_docker_in_sight.py`` reads it.
Engine detection (``/_ping``, ``/version``, ``/info``) is not the lesson's Docker work and is not counted.
"""

from __future__ import annotations

import json
import os
import re
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

FILE_ENV = "DMAC_DOCKER_AUDIT"
PLUMBING = re.compile(r"/(?:_ping|version|info)$")

_counts = {"shown": 0, "quiet": 0}
_state: dict[str, Any] = {}


def note(*, shown: bool) -> None:
    """One ``docker`` command run: shown as a terminal would show it, or quietly."""
    _counts["shown" if shown else "quiet"] += 1


def _request(path: str) -> None:
    if not PLUMBING.search(path):
        _counts["quiet"] += 1


def _patch_sdk() -> None:
    """Count every request of the docker SDK (class-wide, once): they are never shown."""
    from docker.api.client import APIClient  # deferred: only an audited kernel patches the SDK

    if getattr(APIClient.send, "_dmac_audit", False):
        return
    original = APIClient.send

    def send(self: APIClient, request: Any, **kwargs: Any) -> Any:
        _request(urlparse(request.url).path)
        return original(self, request, **kwargs)

    send._dmac_audit = True  # type: ignore[attr-defined]
    APIClient.send = send


def install(notebook: str) -> None:
    """In a kernel with :data:`FILE_ENV` set: count each cell from now on (a second call changes the notebook)."""
    target = os.environ.get(FILE_ENV)
    if not target:
        return
    try:
        from IPython import get_ipython  # deferred: only a kernel has one, and it is slow to import
    except ImportError:
        return
    shell = get_ipython()
    if shell is None:
        return
    _state.update(notebook=notebook, file=Path(target), run=f"{time.time():.3f}")
    if _state.get("installed"):
        return
    _patch_sdk()

    def before(info: Any) -> None:
        _counts.update(shown=0, quiet=0)

    def after(result: Any) -> None:
        if not (_counts["shown"] or _counts["quiet"]):
            return
        row = {
            "notebook": _state["notebook"],
            "namespace": os.environ.get("DMAC_NAMESPACE", "dmac"),
            "run": _state["run"],
            "source": result.info.raw_cell[:400],  # enough to tell a check or a clean-up from a lesson
            **_counts,
        }
        _state["file"].parent.mkdir(parents=True, exist_ok=True)
        with open(_state["file"], "a", encoding="utf-8") as out:  # one short line: O_APPEND keeps lines whole
            out.write(json.dumps(row) + "\n")

    shell.events.register("pre_run_cell", before)
    shell.events.register("post_run_cell", after)
    _state["installed"] = True
