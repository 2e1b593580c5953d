"""DMAC Containers: the small library the course notebooks use.

Importing it needs no Docker daemon; the client is made on first use. Notebooks start with::

    from helpers import start, docker, check, name, image
    start()
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.machinery
import importlib.util
import os
import sys
from types import ModuleType
from typing import Any

from . import exercises
from .core import audit, cleanup, course, offline
from .core.course import LABEL, image, label_filter, labels, name, namespace
from .core.daemon import DaemonUnavailable, available, client
from .core.ports import publish, published
from .core.shell import CommandFailed, CommandTimeout, docker, docker_out, sh
from .exercises import check, configure, solution

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
        "sh",
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
    audit.install(notebook)  # only where the notebooks' test runs ask for it (DMAC_DOCKER_AUDIT)
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


# Each module of the three layers under its short, flat name as well: `from helpers import layers` in a notebook,
# `helpers.shell` in a learner's own cell, a hub's config that names `helpers.hub_spawner`. The code itself imports
# the layered names (helpers.core.shell); the short name is the same module object, made on first use.
LAYERS: dict[str, tuple[str, ...]] = {
    "core": (
        "audit", "cleanup", "cli", "course", "daemon", "engine", "errors", "images", "imagetar", "limits", "logins",
        "managed", "offline", "oneshot", "ports", "procs", "progress", "records", "shell", "wait",
    ),
    "lessons": (
        "arch", "backups", "casestudy", "compose", "dockerfiles", "figures", "hostio", "javaserver", "layers",
        "logfiles", "monitor", "patching", "preflight", "proxy", "registry", "security", "signing", "upgrade",
        "volumes",
    ),
    "infra": (
        "bundle", "bundle_check", "cgroups", "cgroupvm", "cgroupvm_guest", "cgroupvm_hub", "compat", "disks", "engines",
        "hub", "hub_confine", "hub_spawner", "hub_tls", "lab", "matrix", "netns", "room", "rootless", "rootless_matrix",
        "runs", "setup", "sizing",
    ),
}
HOME = {module: f"{__name__}.{layer}.{module}" for layer, modules in LAYERS.items() for module in modules}


def __getattr__(name: str) -> ModuleType:
    """``helpers.layers``, ``from helpers import volumes``: the module in its layer."""
    if name in HOME:
        return importlib.import_module(HOME[name])
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


class _ShortNames(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """``import helpers.shell`` and ``from helpers.monitor import …``: the layered module under its short name."""

    def find_spec(self, fullname: str, path: Any = None, target: Any = None) -> importlib.machinery.ModuleSpec | None:
        package, _, short = fullname.rpartition(".")
        if package != __name__ or short not in HOME:
            return None
        return importlib.machinery.ModuleSpec(fullname, self)

    def __init__(self) -> None:
        self.specs: dict[str, importlib.machinery.ModuleSpec | None] = {}

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> ModuleType:
        module = importlib.import_module(HOME[spec.name.rpartition(".")[2]])
        self.specs[module.__name__] = module.__spec__
        return module

    def exec_module(self, module: ModuleType) -> None:
        module.__spec__ = self.specs[module.__name__]  # import gave it the short name's spec: its own again


if not any(isinstance(finder, _ShortNames) for finder in sys.meta_path):
    sys.meta_path.append(_ShortNames())
