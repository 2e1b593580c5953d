"""Remove what the course created, by label and namespace only.

Resources without the course label are never touched, whatever their names, with one exception:
what an exercise's checker recorded by id (``helpers.core.records``), because a learner may
answer an exercise in a terminal, without the label. Run as ``python -m helpers.core.cleanup``
(``make clean``).
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass

from . import course, engine, logins, records
from .daemon import client
from .images import BASE_IMAGES
from .shell import docker


class Removed(list):
    """A list of removed resources that shows nothing as a cell's last value (a summary was printed)."""

    def _ipython_display_(self) -> None:
        pass


@dataclass(frozen=True, order=True)
class Resource:
    kind: str  # container | image | volume | network
    name: str
    namespace: str


def _filters(ns: str | None, all_namespaces: bool) -> dict[str, str]:
    return {"label": course.LABEL if all_namespaces else course.label_filter(ns)}


def resources(ns: str | None = None, *, all_namespaces: bool = False) -> list[Resource]:
    """The course's resources in namespace ``ns`` (default: the current one), sorted."""
    dc = client()
    flt = _filters(ns, all_namespaces)
    found: list[Resource] = []
    for c in dc.containers.list(all=True, filters=flt):
        found.append(Resource("container", c.name, c.labels.get(course.LABEL, "")))
    for i in dc.images.list(filters=flt):
        name = i.tags[0] if i.tags else i.short_id
        found.append(Resource("image", name, (i.labels or {}).get(course.LABEL, "")))
    for v in dc.volumes.list(filters=flt):
        found.append(Resource("volume", v.name, (v.attrs.get("Labels") or {}).get(course.LABEL, "")))
    for n in dc.networks.list(filters=flt):
        found.append(Resource("network", n.name, (n.attrs.get("Labels") or {}).get(course.LABEL, "")))
    for made_ns in records.namespaces() if all_namespaces else [ns or course.namespace()]:
        found += [Resource(m.kind, m.name, made_ns) for m in records.live(made_ns)]
    return sorted(set(found))


def prune_commands(ns: str | None = None) -> list[list[str]]:
    """The ``docker`` commands that remove one namespace's resources by label, as a learner types them in a
    terminal: containers first (``prune`` removes only what is unused), then networks, volumes, images.

    ``docker volume prune`` removes only anonymous volumes from API 1.42 (Engine 23) on unless given ``--all``,
    which older daemons (Engine 20.10, Podman 5's API 1.41) do not know.
    """
    labelled = f"label={course.label_filter(ns)}"
    names = sorted(c.name for c in client().containers.list(all=True, filters={"label": course.label_filter(ns)}))
    every_volume = ["--all"] if engine.api_version() >= (1, 42) else []
    containers = [["rm", "-f", "-v", *names]] if names else []
    return [
        *containers,
        ["network", "prune", "-f", "--filter", labelled],
        ["volume", "prune", "-f", *every_volume, "--filter", labelled],
        ["image", "prune", "-a", "-f", "--filter", labelled],
    ]


def remove(
    ns: str | None = None, *, all_namespaces: bool = False, include_base: bool = False, verbose: bool = True
) -> list[Resource]:
    """Remove the course's containers, images, volumes and networks of one namespace (or all).

    ``include_base`` also removes base images that the course bootstrapped itself (never pulled ones).
    Returns what was removed.
    """
    import docker as sdk  # deferred: the Docker SDK is slow to import

    dc = client()
    flt = _filters(ns, all_namespaces)
    removed = Removed()

    def done(kind: str, name: str, labels: dict | None) -> None:
        removed.append(Resource(kind, name, (labels or {}).get(course.LABEL, "")))

    # what learners made for exercises (maybe in a terminal, unlabelled), recorded by id by the checkers
    for made_ns in records.namespaces() if all_namespaces else [ns or course.namespace()]:
        removed += [Resource(kind, name, made_ns) for kind, name in records.sweep(made_ns)]

    for c in dc.containers.list(all=True, filters=flt):
        c.remove(force=True, v=True)
        done("container", c.name, c.labels)
    for n in dc.networks.list(filters=flt):
        n.remove()
        done("network", n.name, n.attrs.get("Labels"))
    for v in dc.volumes.list(filters=flt):
        try:
            v.remove(force=True)
            done("volume", v.name, v.attrs.get("Labels"))
        except sdk.errors.APIError as exc:  # still used by a container outside the course
            print(f"kept volume {v.name}: {exc.explanation}")
    images = dc.images.list(filters=flt)
    if include_base:  # only the base names themselves: images built FROM them inherit the label

        images += [i for i in dc.images.list(filters={"label": course.BASE_LABEL}) if set(i.tags) & set(BASE_IMAGES)]
    # children before parents: remove the newest first
    for img in sorted(images, key=lambda i: i.attrs.get("Created", ""), reverse=True):
        try:
            dc.images.remove(img.id, force=True)
            done("image", img.tags[0] if img.tags else img.short_id, img.labels)
        except sdk.errors.NotFound:  # Podman's 404 text is not "No such image": no ImageNotFound
            continue  # went with another tag of the same image
        except sdk.errors.APIError as exc:
            print(f"kept image {img.tags[0] if img.tags else img.short_id}: {exc.explanation}")
    for made_ns in records.namespaces() if all_namespaces else [ns or course.namespace()]:
        removed += [Resource(kind, name, made_ns) for kind, name in records.sweep(made_ns)]  # freed only now
    if not all_namespaces and (ns or course.namespace()) == course.namespace():
        _forget_login()
    if verbose:
        label = "all course namespaces" if all_namespaces else f"namespace {ns or course.namespace()}"
        kinds = {k: sum(r.kind == k for r in removed) for k in ("container", "image", "volume", "network")}
        print(f"Removed from {label}: " + ", ".join(f"{n} {k}(s)" for k, n in kinds.items()))
    return removed


def _forget_login() -> None:
    """Remove this namespace's course-registry entries from ~/.docker/config.json (``docker logout``), no other."""
    logins.forget()


def tidy(notebook: str | None = None, *, images: bool = False, verbose: bool = True) -> Removed:
    """Remove one notebook's containers, volumes and networks in this namespace (and images if asked).

    Used at a notebook's start (leftovers of an interrupted run) and at its end. Images stay by
    default so the next run reuses them; notebook 14 and ``make clean`` remove those too.
    """
    import docker as sdk  # deferred: the Docker SDK is slow to import

    nb = notebook or course.notebook()
    flt = {"label": [course.label_filter(), f"{course.NOTEBOOK_LABEL}={nb}"]}
    dc = client()
    removed = Removed(Resource(kind, name, course.namespace()) for kind, name in records.sweep(notebook=nb))
    for c in dc.containers.list(all=True, filters=flt):
        c.remove(force=True, v=True)
        removed.append(Resource("container", c.name, course.namespace()))
    for n in dc.networks.list(filters=flt):
        n.remove()
        removed.append(Resource("network", n.name, course.namespace()))
    for v in dc.volumes.list(filters=flt):
        try:
            v.remove(force=True)
            removed.append(Resource("volume", v.name, course.namespace()))
        except sdk.errors.APIError:
            pass
    if nb == "07":  # the notebook that logs in to the course registry
        _forget_login()
    if images:
        for img in sorted(dc.images.list(filters=flt), key=lambda i: i.attrs.get("Created", ""), reverse=True):
            try:
                dc.images.remove(img.id, force=True)
                removed.append(Resource("image", img.tags[0] if img.tags else img.short_id, course.namespace()))
            except sdk.errors.APIError:
                pass
    if verbose:
        kinds = sorted({r.kind for r in removed})
        summary = ", ".join(f"{sum(r.kind == k for r in removed)} {k}(s)" for k in kinds) or "nothing left over"
        print(f"Tidied notebook {nb} in namespace {course.namespace()}: {summary}")
    return removed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Remove the DMAC course's Docker resources (by label only).")
    parser.add_argument("--namespace", help="namespace to clean (default: DMAC_NAMESPACE or dmac)")
    parser.add_argument("--all-namespaces", action="store_true", help="every learner namespace on this daemon")
    parser.add_argument("--include-base", action="store_true", help="also the base images the course bootstrapped")
    parser.add_argument("--dry-run", action="store_true", help="only list what would be removed")
    opts = parser.parse_args(argv)
    if opts.dry_run:
        for r in resources(opts.namespace, all_namespaces=opts.all_namespaces):
            print(f"{r.kind:10} {r.name}  ({r.namespace})")
        return 0
    remove(opts.namespace, all_namespaces=opts.all_namespaces, include_base=opts.include_base)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())


def remove_named(**names: str) -> int:
    """Remove these exact names (``container=``, ``volume=``, ``network=``, ``image=``) if they exist, labelled or not;
    returns how many went. Only for things made without the label on purpose (notebook 14's decoys, exercises'
    containers a learner made by hand)."""
    return _remove_named(names, echo=False)


def remove_named_shown(**names: str) -> int:
    """:func:`remove_named`, each one still there removed with the ``docker`` command a terminal would use, shown
    (``docker rm -f NAME``, ``docker volume rm NAME`` …); one already gone is left alone, quietly."""
    return _remove_named(names, echo=True)


def _remove_named(names: dict[str, str], *, echo: bool) -> int:
    import docker as sdk  # deferred: the Docker SDK is slow to import

    unknown = set(names) - {"container", "volume", "network", "image"}
    if unknown:
        raise TypeError(f"remove_named() takes container=, volume=, network= and image=, not {sorted(unknown)}")
    container, volume, network, image = (names.get(k) for k in ("container", "volume", "network", "image"))
    dc = client()
    steps = [
        (container, dc.containers.get, ("rm", "-f"), lambda n: dc.containers.get(n).remove(force=True)),
        (volume, dc.volumes.get, ("volume", "rm"), lambda n: dc.volumes.get(n).remove(force=True)),
        (network, dc.networks.get, ("network", "rm"), lambda n: dc.networks.get(n).remove()),
        (image, dc.images.get, ("image", "rm"), lambda n: dc.images.remove(n)),
    ]
    count = 0
    for target, find, command, remove_it in steps:
        if target is None:
            continue
        try:
            if echo:
                find(target)  # NotFound: gone already
                docker(*command, target)
            else:
                remove_it(target)
            count += 1
        except sdk.errors.NotFound:
            pass
    return count
