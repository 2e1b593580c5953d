"""What a learner made for an exercise, recorded by id so clean-up removes exactly that.

A learner may answer in a terminal, where nothing carries the course label. The checker therefore
records each container, volume or image it inspected (kind, name, id and exercise) in
``build/<namespace>/exercises/made.json``. Clean-up (``helpers.core.cleanup``) removes a recorded
resource only while the name still points at the recorded id, and only under the exercise names
(``<ns>-ex-…`` and ``<ns>/ex-…``): a learner's own resources, or one re-made under the same name
after the check, are never touched.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path

from . import course
from .daemon import client

KINDS = ("container", "volume", "image")  # removal order: containers free their volumes and images


@dataclass(frozen=True)
class Made:
    exercise: str  # "00.1"
    kind: str  # container | volume | image
    name: str  # container or volume name, or image reference
    id: str  # container or image id; a volume's creation time (its name is its id)


def path(ns: str | None = None) -> Path:
    return course.ROOT / "build" / (ns or course.namespace()) / "exercises" / "made.json"


def exercise_name(kind: str, name: str, ns: str | None = None) -> bool:
    """Whether ``name`` is one of the exercises' names in namespace ``ns`` (the only ones recorded)."""
    ns = ns or course.namespace()
    prefix = f"{ns}/ex-" if kind == "image" else f"{ns}-ex-"
    return name.startswith(prefix)


def read(ns: str | None = None) -> list[Made]:
    try:
        rows = json.loads(path(ns).read_text())
        return [Made(**row) for row in rows]
    except (OSError, ValueError, TypeError):  # none yet, or unreadable: nothing recorded
        return []


def write(made: list[Made], ns: str | None = None) -> None:
    target = path(ns)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_suffix(f".{os.getpid()}.tmp")
    tmp.write_text(json.dumps([asdict(m) for m in made], indent=1))
    tmp.replace(target)


def _identity(kind: str, obj: object) -> str:
    if kind == "volume":
        return str(obj.attrs.get("CreatedAt", ""))  # type: ignore[attr-defined]
    return str(obj.id)  # type: ignore[attr-defined]


def note(exercise: str, kind: str, name: str, obj: object) -> bool:
    """Record that exercise ``exercise`` inspected ``obj`` (an SDK container, volume or image) as ``name``.

    Returns False, recording nothing, for a name outside the exercises' names.
    """
    if kind not in KINDS or not exercise_name(kind, name):
        return False
    entry = Made(exercise, kind, name, _identity(kind, obj))
    kept = [m for m in read() if (m.kind, m.name) != (kind, name)]
    write([*kept, entry])
    return True


def _current(kind: str, name: str) -> object | None:
    import docker as sdk  # deferred: the Docker SDK is slow to import

    dc = client()
    get = {"container": dc.containers.get, "volume": dc.volumes.get, "image": dc.images.get}[kind]
    try:
        return get(name)
    except sdk.errors.NotFound:
        return None


def _still(m: Made, ns: str) -> object | None:
    """The resource of record ``m`` if its name still points at what the checker saw, else None."""
    obj = _current(m.kind, m.name) if exercise_name(m.kind, m.name, ns) else None
    return obj if obj is not None and _identity(m.kind, obj) == m.id else None


def live(ns: str | None = None) -> list[Made]:
    """The records whose resources clean-up would remove now."""
    ns = ns or course.namespace()
    return [m for m in read(ns) if _still(m, ns) is not None]


def _remove(kind: str, name: str, obj: object) -> None:
    if kind == "container":
        obj.remove(force=True, v=True)  # type: ignore[attr-defined]
    elif kind == "volume":
        obj.remove()  # type: ignore[attr-defined]
    else:
        client().images.remove(name)  # this tag only; the image goes with its last tag


def sweep(ns: str | None = None, notebook: str | None = None) -> list[tuple[str, str]]:
    """Remove the recorded resources (of one notebook's exercises, or all) that are still the ones recorded.

    Returns ``(kind, name)`` of each removed. A record whose name is gone or points at something else
    is dropped; one that cannot be removed yet (a volume in use) is kept for the next clean-up.
    """
    import docker as sdk  # deferred: the Docker SDK is slow to import

    ns = ns or course.namespace()
    removed: list[tuple[str, str]] = []
    kept: list[Made] = []
    made = read(ns)
    for kind in KINDS:
        for m in made:
            if m.kind != kind:
                continue
            if notebook is not None and m.exercise.split(".")[0] != notebook:
                kept.append(m)
                continue
            obj = _still(m, ns)
            if obj is None:
                continue  # gone, or no longer what the checker saw: not ours to remove
            try:
                _remove(m.kind, m.name, obj)
                removed.append((m.kind, m.name))
            except sdk.errors.NotFound:
                pass
            except sdk.errors.APIError:
                kept.append(m)
    if made:
        write(kept, ns)
    return removed


def namespaces() -> list[str]:
    """The namespaces with recorded exercise resources on this checkout."""
    return sorted(p.parent.parent.name for p in (course.ROOT / "build").glob("*/exercises/made.json"))
