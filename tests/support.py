"""What several test modules share (a test module imports this, never another test module).

``Made``: what a test made, removed after it whatever happened (the ``made`` fixture of tests/conftest.py);
``terminal``: ``docker`` as a learner types it in the course's terminal; ``recorded``: an engine's capabilities
from a recorded API answer; the multi-stage Dockerfile that passes exercise 10.2; the catalog's database alone
(exercises 13.1 and 13.2).
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

from helpers.core import course, engine, images, wait
from helpers.core.shell import course_cli_link, docker, terminal_env
from helpers.lessons import compose, javaserver, proxy

ENGINE_FIXTURES = Path(__file__).parent / "fixtures" / "engine"


class Made(dict[str, list[str]]):
    """What a test made, by kind (``made["containers"].append(name)`` or ``made.add("volume", name)``): removed
    by :meth:`remove` (the fixture, after the test), containers first (a volume in use stays), images last."""

    KINDS = ("containers", "volumes", "networks", "images")

    def __init__(self) -> None:
        super().__init__({kind: [] for kind in self.KINDS})

    def add(self, kind: str, *names: str) -> Made:
        """``add("container", name, …)``: the singular or plural of one of :data:`KINDS`."""
        self[kind if kind.endswith("s") else kind + "s"].extend(names)
        return self

    def remove(self) -> None:
        commands = {"containers": ("rm", "-f", "-v"), "volumes": ("volume", "rm", "-f"),
                    "networks": ("network", "rm"), "images": ("rmi", "-f")}  # fmt: skip
        for kind in self.KINDS:
            for name in dict.fromkeys(self[kind]):  # each once, in the order made
                docker(*commands[kind], name, check=False, show=False, echo=False)


def terminal(*args: str, stdin: str | None = None, into: Path | None = None) -> str:
    """``docker ARGS`` as typed in the course's terminal (JupyterLab's, whose environment ``make lab`` sets):
    the first ``docker`` on its PATH, no label, no helper; ``into``: its output redirected there (``> FILE``)."""
    course_cli_link()  # as make lab does before JupyterLab starts
    env = terminal_env()
    typed = shutil.which("docker", path=env["PATH"])
    assert typed is not None, "no docker on the terminal's PATH"
    done = subprocess.run([typed, *args], input=stdin, env=env, capture_output=True, text=True, timeout=180)
    assert done.returncode == 0, done.stdout + done.stderr
    if into is not None:
        into.write_text(done.stdout)
    return done.stdout


def recorded(name: str, *, cli_buildkit: bool = True) -> engine.Capabilities:
    data = json.loads((ENGINE_FIXTURES / f"{name}.json").read_text())
    return engine.from_api(data["info"], data["version"], cli_buildkit=cli_buildkit)


QC_MULTI_STAGE = """FROM debian:bookworm-slim AS builder
RUN apt-get update && apt-get install -y --no-install-recommends gcc libc6-dev \\
    && rm -rf /var/lib/apt/lists/* /var/cache/apt/*.bin
WORKDIR /src
COPY qc-flags.c .
RUN gcc -O2 -static -o /usr/local/bin/qc-flags qc-flags.c

FROM scratch
COPY --from=builder /usr/local/bin/qc-flags /qc-flags
COPY salinity.csv /data/salinity.csv
ENTRYPOINT ["/qc-flags"]
CMD ["/data/salinity.csv"]
"""


CATALOG_DB_IMAGE = ("nearmiss-db", "1")


def start_catalog_db() -> str:
    """Only the stack's database, under the name compose gives its container, with the catalog's three
    datasets; returns that name (also exercises 13.1/13.2's terminal cases)."""
    ref = course.image(*CATALOG_DB_IMAGE)
    images.build(ref, compose.contexts()["db"], show=False, echo=False)
    box = compose.container("db")
    docker("rm", "-f", box, show=False, echo=False)
    docker("run", "-d", "--name", box, ref, show=False, echo=False)
    # over TCP: postgres's entrypoint first runs the init scripts on a socket-only server, then restarts
    ask = ["exec", box, "psql", "-h", "127.0.0.1", "-U", "postgres", "-tAc", "SELECT count(*) FROM catalog"]
    wait.until(lambda: docker(*ask, check=False, echo=False, show=False).ok, "the catalog database", timeout=60)
    return box


def start_proxy_backend() -> None:
    """Notebook 16's section 7 as its exercise 16.4 finds it: the proxied Tomcat on its network, and the course CA's
    certificates in their volume (made once, by the course's helpers)."""
    proxy.build(show=False, echo=False)
    net, tomcat, certs = course.name("ops-net"), course.name("ops-tomcat"), course.name("ops-certs")
    docker("network", "create", net, check=False, show=False, echo=False)
    if not docker("volume", "ls", "-q", "--filter", f"name=^{certs}$", show=False, echo=False).output.strip():
        docker("volume", "create", certs, show=False, echo=False)
        docker("run", "--rm", "-v", f"{certs}:/certs", proxy.proxy_ref(), "sh", "-c", proxy.CERT_SCRIPT,
               show=False, echo=False)
    if not docker("ps", "-q", "--filter", f"name=^{tomcat}$", show=False, echo=False).output.strip():
        docker("rm", "-f", tomcat, check=False, show=False, echo=False)
        docker("run", "-d", "--name", tomcat, "--network", net, proxy.tomcat_ref(), show=False, echo=False)
    javaserver.wait_ready(tomcat)


def stop_proxy_backend() -> None:
    docker("rm", "-f", course.name("ops-tomcat"), check=False, show=False, echo=False)
    docker("network", "rm", course.name("ops-net"), check=False, show=False, echo=False)
    docker("volume", "rm", "-f", course.name("ops-certs"), check=False, show=False, echo=False)
