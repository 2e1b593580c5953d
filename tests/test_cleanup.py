"""Clean-up removes the course's labelled resources of one namespace and nothing else."""

from __future__ import annotations

import pytest

from helpers.core import cleanup, course, engine
from helpers.core.shell import docker


@pytest.fixture
def foreign(dc, unique: str):
    """Resources that are NOT the course's, named like the course's (same prefix), no label."""
    prefix = course.name(unique)
    made = {
        "container": dc.containers.create("busybox", "true", name=f"{prefix}-mine"),
        "running": dc.containers.run("busybox", "sleep 300", name=f"{prefix}-mine-running", detach=True),
        "volume": dc.volumes.create(f"{prefix}-mine-vol"),
        "network": dc.networks.create(f"{prefix}-mine-net"),
    }
    dc.images.get("busybox:latest").tag(f"{course.namespace()}/mine-{unique}", "1.0")
    yield made
    for key in ("container", "running"):
        made[key].remove(force=True)
    made["volume"].remove(force=True)
    made["network"].remove()
    dc.images.remove(f"{course.namespace()}/mine-{unique}:1.0")


def test_remove_takes_only_labelled_resources_of_the_namespace(dc, foreign, unique: str) -> None:
    ours = course.name("ours", unique)
    docker("run", "-d", "--name", ours, "busybox", "sleep", "300", show=False)
    docker("volume", "create", f"{ours}-vol", show=False)
    docker("network", "create", f"{ours}-net", show=False)
    # another learner's resource, same daemon
    other_ns = course.namespace() + "-other"
    other = dc.containers.create("busybox", "true", name=f"{other_ns}-{unique}", labels={course.LABEL: other_ns})
    try:
        removed = cleanup.remove(verbose=False)
        names = {r.name for r in removed}
        assert {ours, f"{ours}-vol", f"{ours}-net"} <= names
        for resource in foreign.values():
            resource.reload()  # raises NotFound if it was removed
        assert dc.images.get(f"{course.namespace()}/mine-{unique}:1.0")
        other.reload()
        assert cleanup.resources() == []
    finally:
        other.remove(force=True)


def test_tidy_takes_one_notebooks_leftovers(dc, unique: str) -> None:
    course.set_notebook("t1")
    try:
        docker("create", "--name", course.name("nb-t1", unique), "busybox", "true", show=False)
        course.set_notebook("t2")
        docker("create", "--name", course.name("nb-t2", unique), "busybox", "true", show=False)
        removed = cleanup.tidy("t1", verbose=False)
        assert [r.name for r in removed] == [course.name("nb-t1", unique)]
        assert dc.containers.get(course.name("nb-t2", unique))
    finally:
        course.set_notebook("")
        cleanup.tidy("t2", verbose=False)



def test_the_prune_commands_filter_by_label_and_remove_only_the_namespace(dc, monkeypatch) -> None:
    """Notebook 14 runs these: every command carries the namespace's label filter, containers go by name;
    in a namespace of its own (image prune would take the test namespace's cached images), with decoys."""
    from helpers.core import images
    from tests import isolation

    monkeypatch.setenv("DMAC_NAMESPACE", "dmac-prune-test")
    made = isolation.create()
    try:
        box = course.name("prune-me")
        docker("run", "-d", "--name", box, "busybox", "sleep", "60", show=False, echo=False)
        docker("volume", "create", course.name("prune-vol"), show=False, echo=False)
        ref = course.image("prune-img", "1")
        dockerfile = "FROM busybox\nRUN echo pruned > /f\n"
        images.build(ref, images.context("prune-img", {"Dockerfile": dockerfile}), show=False)
        commands = cleanup.prune_commands()
        assert commands[0][:3] == ["rm", "-f", "-v"] and box in commands[0]
        labelled = f"label={course.label_filter()}"
        assert all(c[-1] == labelled and c[-2] == "--filter" for c in commands[1:])
        assert ("--all" in commands[2]) == (engine.api_version() >= (1, 42))
        for command in commands:
            docker(*command, show=False, echo=False)
        assert cleanup.resources() == []
        assert isolation.problems(made) == []
    finally:
        cleanup.remove(verbose=False)
        isolation.remove(made)
