"""The room registry serves a second daemon: a Docker Engine 28 in a container pulls from it over TLS.

The second daemon trusts the room CA only once its certificate is in ``/etc/docker/certs.d/<host>:<port>/``
(the address is not loopback, so nothing is insecure by default): the pull is refused before, works after.
The engine image comes from the course's matrix (``python -m helpers.infra.engines build docker-28``).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from helpers.core import cleanup, course, images, ports, wait
from helpers.core.shell import docker, docker_out
from helpers.infra import engines, room

NOTEBOOK = "room-test"
ENGINE_IMAGE = "dmac-engines/docker-28:latest"
SOCKET = "unix:///run/room-client.sock"
ASKED = "DMAC_ROOM_TESTS"  # set by make test-room: CI builds Engine 28 beside make test, whose tests must not race it


def _inner(box: str, *args: str, **kwargs):
    return docker("exec", *kwargs.pop("exec_args", ()), box, "docker", "-H", SOCKET, *args, show=False, **kwargs)


@pytest.fixture(scope="module")
def setting() -> Iterator[tuple[str, str, Path]]:
    """(client container, room address, CA file): the room registry with busybox, and a second daemon."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("DMAC_NAMESPACE", os.environ.get("DMAC_TEST_NAMESPACE", "dmac-test"))
        course.set_notebook(NOTEBOOK)
        if os.environ.get(ASKED) != "1":  # make test's run of the tests: Engine 28's image may be half built now
            pytest.skip(f"the room's tests run in make test-room ({ASKED}=1), after make matrix built Engine 28")
        if not images.exists(ENGINE_IMAGE):
            pytest.skip(f"no {ENGINE_IMAGE}: build it with python -m helpers.infra.engines build docker-28")
        host, port = room.host_address(), ports.free()
        ca = room.start(host, port, refs=["busybox:latest"])
        box, data = course.name("room-client"), course.name("room-client-data")
        docker("rm", "-f", box, show=False, echo=False, check=False)
        docker("volume", "create", data, show=False, echo=False)
        docker(
            "run", "-d", "--name", box, *engines.DIND_FLAGS, "--stop-timeout", "5", "-v", f"{data}:/var/lib/docker",
            ENGINE_IMAGE, "dockerd", f"--host={SOCKET}", "--storage-driver=overlay2", show=False,
        )  # fmt: skip
        wait.until(lambda: _inner(box, "version", check=False, echo=False).ok, "the second daemon", timeout=90)
        yield box, f"{host}:{port}", ca
        cleanup.tidy(NOTEBOOK, verbose=False)
        course.set_notebook("")


def test_the_second_daemon_trusts_the_room_only_with_its_ca(setting: tuple[str, str, Path]) -> None:
    box, address, ca = setting
    remote = f"{address}/library/busybox:latest"
    refused = _inner(box, "pull", remote, check=False)
    assert not refused.ok and ("certificate" in refused.output or "x509" in refused.output), refused.output
    folder = f"/etc/docker/certs.d/{address}"
    install = f"mkdir -p {folder} && cat > {folder}/ca.crt"
    docker("exec", "-i", box, "sh", "-c", install, input=ca.read_text(), show=False)
    _inner(box, "pull", remote)
    assert _inner(box, "run", "--rm", remote, "echo", "pulled from the room").output.strip() == "pulled from the room"


def test_the_room_serves_its_catalog_and_is_read_only(setting: tuple[str, str, Path]) -> None:
    _, address, ca = setting
    assert room.catalog(address, ca) == ["library/busybox:latest"]
    local = f"127.0.0.1:{address.rsplit(':', 1)[1]}/{course.namespace()}/not-allowed:1"
    docker("tag", "busybox:latest", local, show=False)
    assert not docker("push", local, show=False, check=False).ok
    docker("rmi", local, show=False)


def test_a_bundle_ships_the_room_and_a_machine_serves_it_from_the_bundle(setting: tuple[str, str, Path]) -> None:
    """make bundle carries the room registry's data; room start --from-bundle serves it again with no pushes."""
    import tarfile

    from helpers.infra import bundle

    box, address, ca = setting
    host, port = address.rsplit(":", 1)
    shipped = bundle.save(
        course.workdir("room-test") / "bundle.tar", wheels=False, debs=False, images=["busybox:latest"]
    )
    assert room.DATA_IN_BUNDLE in tarfile.open(shipped).getnames()
    room.stop()
    docker("volume", "rm", room.volumes()[0], show=False)  # the room machine starts with no registry data
    ca = room.start(host, int(port), data=shipped)
    assert room.catalog(address, ca) == ["library/busybox:latest"]
    folder = f"/etc/docker/certs.d/{address}"
    install = f"mkdir -p {folder} && cat > {folder}/ca.crt"  # a new CA: the room's certificate was made again
    docker("exec", "-i", box, "sh", "-c", install, input=ca.read_text(), show=False)
    _inner(box, "rmi", "-f", f"{address}/library/busybox:latest", check=False)
    _inner(box, "pull", f"{address}/library/busybox:latest")


def test_clean_up_removes_the_room_and_its_keys(setting: tuple[str, str, Path]) -> None:
    cleanup.tidy(NOTEBOOK, verbose=False)
    left = docker_out("volume", "ls", "-q", "--filter", f"label={course.label_filter()}").split()
    assert not set(room.volumes()) & set(left)
    assert not docker_out("ps", "-aq", "--filter", f"name=^{room.container()}$")
