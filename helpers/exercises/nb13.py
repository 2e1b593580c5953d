"""Exercises of notebook 13 (compose: multi-service stacks)."""

from __future__ import annotations

import io
import json
import os
import re
import tarfile
from pathlib import Path
from typing import Any

from ..core import course, wait
from ..core.daemon import client
from ..core.shell import docker
from ..lessons import compose
from . import Verdict, check_command_problem, course_image, exercise, failed, passed


def _sql(query: str) -> str:
    return docker(
        "exec", compose.container("db"), "psql", "-U", "postgres", "-tAc", query, echo=False, show=False, timeout=30
    ).output.strip()


def backup_file() -> Path:
    """Where exercise 13.1's dump goes: ``build/<ns>/13/catalog.sql``."""
    return course.workdir("13") / "catalog.sql"


COPY_BLOCK = re.compile(r"^COPY public\.catalog \([^)]*\) FROM stdin;\n(.*?)^\\\.$", re.M | re.S)


@exercise(
    "13.1",
    "back up the catalog's database to a file on the host",
    hint="pg_dump runs in the db service: docker compose -p PROJECT -f FILE exec -T db pg_dump -U postgres > FILE "
    "in a terminal (-T: no terminal in the container, so the redirect gets plain text).",
    solution="""
    dump = compose.compose(healthy, "exec", "-T", "db", "pg_dump", "-U", "postgres", show=False)
    nb13.backup_file().write_text(dump.output)
    """,
)
def backup() -> Verdict:
    path = backup_file()
    where = os.path.relpath(path)
    if not path.is_file():
        return failed(f"there is no {where} yet.")  # nothing tried yet: no hint
    raw = path.read_bytes()
    custom = raw.startswith(b"PGDMP")  # pg_dump -Fc, the usual format in production: read back with pg_restore
    text = _restore_script(raw) if custom else raw.decode(errors="replace")
    if not text.strip():
        return failed(f"{where} is empty: did the command fail before it wrote anything?", "Run it without > first.")
    if "\r\n" in text and "PostgreSQL database dump" in text:
        return failed(
            f"{where} has Windows line ends: the dump went through a terminal (docker exec -t), which rewrote them.",
            "Give exec -T (no terminal) when its output goes to a file.",
        )
    if "PostgreSQL database dump" not in text:
        return failed(
            f"{where} is not a pg_dump file (it starts {text.strip()[:40]!r}).",
            "SELECT output is not a backup: pg_dump writes what psql needs to rebuild the tables.",
        )
    if "CREATE TABLE public.catalog" not in text:
        return failed(f"{where} has no catalog table: was it dumped from another database or with -t?")
    rows = COPY_BLOCK.search(text)
    inserts = text.count("INSERT INTO public.catalog")
    saved = len(rows.group(1).splitlines()) if rows else inserts
    if not saved:
        return failed(f"{where} has the table but no rows: a schema-only dump (-s) restores an empty catalog.")
    now = int(_sql("SELECT count(*) FROM catalog"))
    when = "" if saved == now else f" (the database holds {now} now: a backup is as recent as when it was taken)"
    return passed(
        f"{where} holds the catalog table and its {saved} datasets{when}; "
        "psql -U postgres < FILE, through docker compose exec -T, restores it."
    )


def _restore_script(dump: bytes) -> str:
    """The SQL a custom-format dump (``pg_dump -Fc``) holds, as ``pg_restore -f -`` prints it in the db service."""
    box = client().containers.get(compose.container("db"))
    archive = io.BytesIO()
    with tarfile.open(fileobj=archive, mode="w") as tar:
        info = tarfile.TarInfo("dmac-13-1.dump")
        info.size, info.mode = len(dump), 0o644
        tar.addfile(info, io.BytesIO(dump))
    box.put_archive("/tmp", archive.getvalue())
    try:
        code, out = box.exec_run(["pg_restore", "-f", "-", "/tmp/dmac-13-1.dump"])
    finally:
        box.exec_run(["rm", "-f", "/tmp/dmac-13-1.dump"])
    return out.decode(errors="replace") if code == 0 else ""


@exercise(
    "13.2",
    "add a dataset to the catalog",
    hint="The app takes a dataset as JSON POSTed to /catalog, with a title and a variable: compose.http(PATH, "
    "data=DICT) in the notebook, or curl -H 'Content-Type: application/json' -d JSON in a terminal, to the host "
    "port that docker compose port app 8000 prints.",
    solution="""
    compose.http("/catalog", data={"title": "learner-dataset", "variable": "sea_water_temperature"})
    """,
)
def add() -> Verdict:
    found = _sql("SELECT count(*) FROM catalog WHERE title = 'learner-dataset'")
    if found == "1":
        return passed("the database has a dataset titled 'learner-dataset'.")
    near = _sql("SELECT title FROM catalog WHERE title <> 'learner-dataset' AND title ILIKE '%learner%' LIMIT 1")
    if near:
        return failed(
            f"the catalog has {near!r}, but no dataset titled exactly 'learner-dataset'.",
            'compose.http("/catalog", data={"title": "learner-dataset", ...}): the title exactly so.',
        )
    return failed("no dataset titled 'learner-dataset' in the catalog table yet.")


CATALOG = (
    "import json, urllib.request; "
    "print(len(json.load(urllib.request.urlopen('http://127.0.0.1:8000/catalog', timeout=5))))"
)
QUIET: dict[str, Any] = {"check": False, "show": False, "echo": False}


def _config(path: Path) -> dict[str, Any] | Verdict:
    """What Compose understood of the learner's file (``docker compose config --format json``), or a verdict."""
    out = path.parent / "config.json"
    out.unlink(missing_ok=True)
    argv = ("config", "--format", "json", "--output", str(out))
    done = compose.project_compose(compose.exercise_project(), [path], *argv, timeout=60, **QUIET)
    if not done.ok or not out.exists():
        first = next((ln for ln in done.lines if ln.strip()), "no output")
        hint = "Check the indentation and key names."
        return failed(f"docker compose config rejects {compose.rel(path)}: {first}", hint)
    return json.loads(out.read_text())


OVER_TCP = re.compile(r"(^|\s)(-h|--host)(\s|=)|postgres(ql)?://[^/\s:@]*@?[\w.\-\[\]]+|\bhost=\S")
"""A connection over TCP: ``-h 127.0.0.1``, ``--host=db``, a URI with a host (``postgresql://127.0.0.1/…``) or a
conninfo ``host=…`` (the Unix socket answers while the server still refuses TCP clients)."""


def health_problem(services: dict[str, Any]) -> Verdict | None:
    """A failed verdict when the db's healthcheck is missing, elsewhere, disabled or never checks anything."""
    spec = services["db"].get("healthcheck") or {}
    test = spec.get("test") or []
    if not test or spec.get("disable") or test[0] == "NONE":
        elsewhere = [s for s, svc in services.items() if s != "db" and (svc.get("healthcheck") or {}).get("test")]
        if elsewhere:
            return failed(
                f"the healthcheck is on {', '.join(elsewhere)}, but the app waits for the database's readiness.",
                "Move healthcheck: under the db service.",
            )
        return failed("db has no healthcheck: compose cannot know when it is ready.")  # the starter's: no hint yet
    command = " ".join(test[1:])
    asks = "pg_isready" if "pg_isready" in command else "psql"  # `psql -h … -c 'select 1'` asks as well
    unasked = check_command_problem(
        test,
        "the db's healthcheck",
        asks,
        "PostgreSQL whether it accepts connections",
        "a command that connects to PostgreSQL: pg_isready (or psql) with the host it serves on",
    )
    if unasked:
        return unasked
    if not OVER_TCP.search(command):
        return failed(
            "pg_isready without -h asks the Unix socket, which answers during initialisation "
            "while TCP clients are still refused.",
            "pg_isready -h 127.0.0.1 -U postgres",
        )
    return None


def _up(files: list[Path]) -> Verdict:
    """Start the learner's stack as the exercise's project, check the app answers, and take it down."""
    name = compose.exercise_project()
    shown = " ".join(f"-f {compose.rel(f)}" for f in files)
    compose.project_compose(name, files, "down", "-v", **QUIET)
    try:
        up = compose.project_compose(name, files, "up", "-d", "--wait", "--wait-timeout", "90", timeout=150, **QUIET)
        if not up.ok:
            log = compose.project_compose(name, files, "logs", "--no-log-prefix", "app", **QUIET).lines
            return failed(
                f"docker compose -p {name} {shown} up --wait failed; the app's last log line: "
                f"{log[-1] if log else '(none)'}",
                "The app must start only once the db is healthy.",
            )
        ask = ("exec", "-T", "app", "python3", "-c", CATALOG)
        answer = wait.until(
            lambda: (r := compose.project_compose(name, files, *ask, **QUIET)).ok and r.output.strip(),
            "an answer from the app",
            timeout=30,
        )
        box = compose.project_compose(name, files, "ps", "-q", "app", **QUIET).lines[-1].strip()
        restarts = docker("inspect", "--format", "{{.RestartCount}}", box, echo=False, show=False).output.strip()
        if restarts != "0":
            return failed(f"the app only answered after {restarts} restart(s).", "condition: service_healthy")
        return passed(
            f"docker compose -p {name} {shown} up --wait started the db, waited until it was healthy, "
            f"then the app, which answered with {answer} catalog entries at its first start."
        )
    finally:
        compose.project_compose(name, files, "down", "-v", **QUIET)


@exercise(
    "13.3",
    "write a compose file whose app waits for a healthy database",
    hint="A healthcheck on db that asks PostgreSQL whether it accepts connections (pg_isready), and on app a "
    "depends_on with a condition: it waits until db is healthy, not merely started.",
    solution='''
    compose.exercise_file().write_text(f"""services:
      db:
        image: {compose.db_image()}
        environment:
          DB_INIT_DELAY: "3"
        volumes:
          - pgdata:/var/lib/postgresql/data
        healthcheck:
          test: ["CMD", "pg_isready", "-h", "127.0.0.1", "-U", "postgres"]
          interval: 1s
          timeout: 2s
          retries: 30
      app:
        image: {compose.app_image()}
        depends_on:
          db:
            condition: service_healthy
        init: true
    volumes:
      pgdata:
    """)
    ''',
)
def healthy_stack() -> Verdict:
    path = compose.exercise_file()
    if not path.exists():
        return failed(f"there is no {compose.rel(path)} yet.", "Run the cell that writes the starter file.")
    for ref in (compose.db_image(), compose.app_image()):
        found = course_image(ref, f"{ref} is missing: run section 1 of the notebook first.")
        if isinstance(found, Verdict):
            return found
    doc = _config(path)
    if isinstance(doc, Verdict):
        return doc
    services = doc.get("services") or {}
    missing = [s for s in ("db", "app") if s not in services]
    if missing:
        return failed(f"the file has no service called {' or '.join(missing)}.", "Keep the starter's db and app.")
    problem = health_problem(services)
    if problem is not None:
        return problem
    condition = ((services["app"].get("depends_on") or {}).get("db") or {}).get("condition")
    if condition != "service_healthy":
        said = f"condition {condition}" if condition else "no depends_on on db"
        return failed(
            f"the app's depends_on has {said}: compose starts the app once the db container has started, "
            "healthy or not (depends_on: [db] means service_started).",
            "depends_on: {db: {condition: service_healthy}}",
        )
    return _up([path, compose.labelled(doc, path.parent)])
