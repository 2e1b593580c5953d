"""DMAC Containers: the small library the course notebooks use.

Importing it needs no Docker daemon; the client is made on first use. Notebooks start with::

    from helpers import start, docker, check, name, image
    start()
"""

from __future__ import annotations

import os
import sys
from typing import Any

from . import cleanup, course, exercises, offline
from .course import LABEL, image, label_filter, labels, name, namespace
from .daemon import DaemonUnavailable, available, client
from .exercises import check, configure, solution
from .ports import publish, published
from .shell import CommandFailed, CommandTimeout, docker, docker_out

__all__ = [
    "LABEL",
    "CommandFailed",
    "CommandTimeout",
    "DaemonUnavailable",
    "available",
    "check",
    "client",
    "docker",
    "docker_out",
    "image",
    "label_filter",
    "labels",
    "name",
    "namespace",
    "publish",
    "published",
    "solution",
    "start",
]


def notebook_namespace() -> dict[str, Any]:
    """The running notebook's globals (for solutions that run in it), or a fresh dict."""
    try:
        from IPython import get_ipython  # deferred: only a kernel has one, and it is slow to import

        shell = get_ipython()
    except ImportError:
        shell = None
    if shell is not None:
        return shell.user_ns
    return {key: globals()[key] for key in __all__}  # outside Jupyter: the helpers' public names


def start(notebook: str, namespace_: str | None = None, *, solutions: bool = False) -> None:
    """First cell of every notebook: pick the namespace, connect, tidy leftovers of an earlier run.

    Without a daemon it prints what to do (no traceback); ``available()`` then says False.
    """
    if namespace_:
        os.environ["DMAC_NAMESPACE"] = namespace_
    course.set_notebook(notebook)
    exercises.configure(solutions=solutions, scope=notebook_namespace)
    ns = namespace()
    try:
        client()
    except DaemonUnavailable as exc:
        print(f"Notebook {notebook} · namespace: {ns} · no Docker daemon ({exc.reason})")
        offline.activate()
        return
    offline.deactivate()  # a daemon answers (again): cells run for real
    leftovers = cleanup.tidy(verbose=False)
    print(f"Notebook {notebook} · namespace: {ns} · connected to the Docker daemon")
    if leftovers:
        print(f"(removed {len(leftovers)} leftover(s) of an earlier run of this notebook)", file=sys.stderr)


configure(scope=notebook_namespace)  # a solution applied runs among the notebook's names
