"""A data server's state and its backups (notebook 16): the catalog database of notebook 13, its rows
fingerprinted so that a restore can be proven to have kept every one.

The notebook runs the ``docker`` commands itself (``docker run``, ``docker exec … pg_dump``, a volume as a tar
stream); these functions only wait for the database and measure what it holds.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ..core import course, images, wait
from ..core.shell import CommandFailed, docker, docker_out
from . import compose

TABLE = "observations"
READY_TIMEOUT = 60.0

FILL_SQL = f"""
CREATE TABLE IF NOT EXISTS {TABLE} (id serial PRIMARY KEY, station text, observed timestamptz, temperature real);
INSERT INTO {TABLE} (station, observed, temperature)
SELECT 'station-' || (41001 + g % 5), timestamptz '2026-01-01 00:00Z' + g * interval '10 minutes',
       round((12 + 4 * sin(g / 40.0))::numeric, 2)
FROM generate_series(1, ROWS) AS g;
"""


UPGRADE_TO = 17
"""The PostgreSQL major version of Debian 13 (trixie), the upgrade's target; Debian 12 (bookworm) has 15."""

TRIXIE_DOCKERFILE = """FROM debian:bookworm-slim
# Debian 12 to 13 as Debian's release notes upgrade a machine: the new suite in apt's sources, then a full upgrade
RUN sed -i 's/bookworm/trixie/g' $(ls /etc/apt/sources.list /etc/apt/sources.list.d/*.sources 2>/dev/null) \\
 && apt-get update \\
 && DEBIAN_FRONTEND=noninteractive apt-get full-upgrade -y --no-install-recommends \\
 && apt-get autoremove -y --purge && rm -rf /var/lib/apt/lists/*
"""


def trixie_image() -> str:
    """The course's Debian 13 image, made from its Debian 12 one (no registry: no ``debian:trixie-slim``)."""
    return course.image("trixie", "13")


def db_image(version: int = 15) -> str:
    """The course's PostgreSQL image from Debian packages: 15 (notebook 13's, same build cache) or 17."""
    return compose.db_image() if version == 15 else course.image("catalog-db", str(version))


def db_dockerfile(version: int = 15) -> str:
    """The database image's Dockerfile: notebook 13's, or for 17 the same on Debian 13 (two lines differ)."""
    if version == 15:
        return compose.DB_DOCKERFILE
    return (
        compose.DB_DOCKERFILE.replace("FROM debian:bookworm-slim", f"FROM {trixie_image()}")
        .replace("postgresql-15", f"postgresql-{version}")
        .replace("/usr/lib/postgresql/15/", f"/usr/lib/postgresql/{version}/")
    )


def build_db(version: int = 15) -> None:
    """Build the database image (15: cached after notebook 13; 17: the Debian 13 image first)."""
    if version == 15:
        images.build(db_image(), compose.contexts()["db"])
        return
    images.build(trixie_image(), images.context("trixie", {"Dockerfile": TRIXIE_DOCKERFILE}))
    files = {"Dockerfile": db_dockerfile(version), "db-entrypoint.sh": compose.DB_ENTRYPOINT}
    images.build(db_image(version), images.context(f"catalog-db-{version}", files))


def major(container: str) -> int:
    """The PostgreSQL major version the server in ``container`` runs (``server_version_num`` 170012 -> 17)."""
    return int(psql(container, "SHOW server_version_num")) // 10000


def folder() -> Path:
    """Where this namespace's backups go on the host: ``build/<ns>/ops/backups``."""
    return course.workdir("ops", "backups")


def psql(container: str, sql: str, database: str = "postgres") -> str:
    """One SQL statement's rows as ``psql -tA`` prints them (no header, ``|`` between columns). Over TCP: while
    the image's entrypoint initialises a new data folder, its temporary server listens on its socket only."""
    return docker_out(
        "exec", container, "psql", "-h", "127.0.0.1", "-U", "postgres", "-d", database, "-v", "ON_ERROR_STOP=1",
        "-tAc", sql,
    )


def wait_ready(container: str, *, timeout: float = READY_TIMEOUT) -> None:
    """Until the database in ``container`` accepts queries (a first start runs initdb first)."""

    def answers() -> bool:
        try:
            return psql(container, "SELECT 1") == "1"
        except CommandFailed:
            return False

    wait.until(answers, f"the database in {container}", timeout=timeout)


def fill(container: str, rows: int) -> None:
    """Add ``rows`` observations (five stations, one every ten minutes) to the catalog database."""
    sql = FILL_SQL.replace("ROWS", str(int(rows)))
    docker("exec", container, "psql", "-q", "-U", "postgres", "-v", "ON_ERROR_STOP=1", "-c", sql,
           show=False, echo=False)


@dataclass(frozen=True)
class Fingerprint:
    """How many rows a table holds and an MD5 of all of them in order: equal fingerprints, same data."""

    rows: int
    md5: str

    def __str__(self) -> str:
        return f"{self.rows} rows, md5 {self.md5[:12]}"


def fingerprint(container: str, table: str = TABLE, database: str = "postgres") -> Fingerprint | None:
    """The table's fingerprint in ``database``, or None when the database has no such table."""
    exists = psql(container, f"SELECT to_regclass('{table}') IS NOT NULL", database)
    if exists != "t":
        return None
    every_row = "coalesce(md5(string_agg(t::text, ',' ORDER BY t.id)), '')"
    found = psql(container, f"SELECT count(*), {every_row} FROM {table} t", database)
    count, digest = found.split("|")
    return Fingerprint(int(count), digest)
