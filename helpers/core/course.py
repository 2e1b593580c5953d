"""The learner's namespace: deterministic names and the one label on everything the course makes.

Every container, image, volume and network the course creates carries
``org.dmac-course.namespace=<ns>``. Clean-up keys off that label and nothing else,
so a learner's own resources are never touched, whatever their names.
"""

from __future__ import annotations

import os
import re
import sys
from pathlib import Path

LABEL = "org.dmac-course.namespace"
"""Label key carried by every resource the course creates."""

NOTEBOOK_LABEL = "org.dmac-course.notebook"
"""Label key naming the notebook that made a resource, so a re-run can tidy its own leftovers."""

BASE_LABEL = "org.dmac-course.base"
"""Label key on base images the course bootstrapped locally (value: how they were made)."""

DEFAULT_NAMESPACE = "dmac"
_VALID = re.compile(r"^[a-z0-9][a-z0-9-]{0,30}$")

ROOT = Path(__file__).resolve().parent.parent.parent
"""The course checkout (notebooks/, helpers/, tests/ live here)."""


def namespace() -> str:
    """The learner namespace: ``DMAC_NAMESPACE`` or ``dmac``.

    Lower-case letters, digits and dashes only, so it is valid in every Docker name.
    """
    ns = os.environ.get("DMAC_NAMESPACE", DEFAULT_NAMESPACE).strip() or DEFAULT_NAMESPACE
    if not _VALID.match(ns):
        raise ValueError(
            f"DMAC_NAMESPACE={ns!r} is not usable in Docker names: use 1-31 lower-case "
            "letters, digits or dashes, starting with a letter or digit (e.g. dmac-alice)."
        )
    return ns


def name(*parts: str) -> str:
    """A container/volume/network name in this namespace: ``name("web")`` -> ``dmac-web``."""
    return "-".join([namespace(), *parts])


def image(repo: str, tag: str = "latest") -> str:
    """An image reference in this namespace: ``image("hello", "1.0")`` -> ``dmac/hello:1.0``."""
    return f"{namespace()}/{repo}:{tag}"


_current = {"notebook": ""}


def set_notebook(notebook: str) -> None:
    """Record which notebook is running (``"05"``); its resources get ``NOTEBOOK_LABEL``."""
    _current["notebook"] = notebook


def notebook() -> str:
    return _current["notebook"]


def labels(**extra: str) -> dict[str, str]:
    """The course labels (namespace, and notebook when known), plus extra ``org.dmac-course.*`` ones."""
    out = {LABEL: namespace()}
    if notebook():
        out[NOTEBOOK_LABEL] = notebook()
    out.update({f"org.dmac-course.{key.replace('_', '-')}": value for key, value in extra.items()})
    return out


def label_filter(ns: str | None = None) -> str:
    """A ``--filter label=...`` value selecting one namespace's resources."""
    return f"{LABEL}={ns or namespace()}"


def workdir(*parts: str) -> Path:
    """A scratch folder for this namespace under ``build/`` (created, never committed)."""
    path = ROOT / "build" / namespace() / Path(*parts) if parts else ROOT / "build" / namespace()
    path.mkdir(parents=True, exist_ok=True)
    return path


def starter(path: Path, text: str) -> Path:
    """Write an exercise's starter file unless the learner already has one there; returns ``path``.

    A kept file is said on stderr, so the cell's compared output is the same on a second run.
    """
    if path.exists():
        print(f"{os.path.relpath(path)} exists: your file is kept (delete it for a fresh starter)", file=sys.stderr)
    else:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return path
