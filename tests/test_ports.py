"""Published ports come from the kernel, on the real daemon: distinct per container, read back with ``docker port``."""

from __future__ import annotations

import urllib.request
from collections.abc import Iterator

import pytest

from helpers.core import course, ports, wait
from helpers.core.shell import CommandFailed, docker

SERVE = "mkdir -p /www && echo {0} > /www/index.html && exec httpd -f -p 8080 -h /www"


@pytest.fixture
def servers() -> Iterator[list[str]]:
    names = [course.name("ports-a"), course.name("ports-b"), course.name("ports-none")]
    yield names
    docker("rm", "-f", *names, show=False, echo=False, check=False)


def test_two_containers_get_different_ports_and_each_answers_on_its_own(servers: list[str]) -> None:
    a, b, _ = servers
    for box in (a, b):
        docker("rm", "-f", box, show=False, echo=False, check=False)
        docker("run", "-d", "--name", box, "-p", ports.publish(8080), "busybox", "sh", "-c", SERVE.format(box),
               show=False, echo=False)  # fmt: skip
    port_a, port_b = ports.published(a, 8080), ports.published(b, 8080)
    assert port_a != port_b and min(port_a, port_b) >= 1024

    def body(box: str) -> str:
        with urllib.request.urlopen(f"http://{ports.address(box, 8080)}/", timeout=3) as reply:
            return reply.read().decode().strip()

    assert wait.until(lambda: body(a), f"{a} answers", timeout=20) == a
    assert wait.until(lambda: body(b), f"{b} answers", timeout=20) == b


def test_a_container_that_publishes_nothing_says_how_to_look(servers: list[str]) -> None:
    box = servers[2]
    docker("rm", "-f", box, show=False, echo=False, check=False)
    docker("run", "-d", "--name", box, "busybox", "sleep", "60", show=False, echo=False)
    with pytest.raises(CommandFailed, match=f"docker port {box}"):
        ports.published(box, 8080)


def test_free_is_a_port_nothing_listens_on() -> None:
    import socket

    port = ports.free()
    with socket.socket() as probe:
        probe.bind((ports.LOOPBACK, port))  # raises if someone held it


def test_published_addresses_and_the_nat_rule_are_read_from_recorded_output() -> None:
    out = "0.0.0.0:49153\n[::]:49153\n"
    assert ports.addresses(out) == {"0.0.0.0", "::"}
    assert ports.addresses("127.0.0.1:49154\n") == {"127.0.0.1"}
    rules = (
        "-N DOCKER\n-A DOCKER -i docker0 -j RETURN\n"
        "-A DOCKER ! -i docker0 -p tcp -m tcp --dport 49153 -j DNAT --to-destination 172.17.0.3:8080\n"
    )
    assert ports.dnat_for(rules, 49153) and not ports.dnat_for(rules, 4915) and not ports.dnat_for(rules, 49154)
