"""Exercises of notebook 16 (operating a data server: restore a backup, bounded logs, a patched image, a TLS
proxy, a database upgrade that keeps every row)."""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from typing import Any

from ..core import course, oneshot, records
from ..core.shell import CommandFailed, docker, docker_out
from ..lessons import backups, logfiles, patching, proxy
from . import (
    Verdict,
    course_container,
    course_image,
    course_volume,
    exercise,
    failed,
    learner_image,
    passed,
    reset_images,
)

LOG_BOUND_MB = 100
"""16.2: the most one container's log may keep on disk (``--log-driver local`` keeps 5 files of 20 MB)."""
SHIPPED = {"journald", "syslog", "gelf", "fluentd", "awslogs", "splunk", "gcplogs", "etwlogs", "logentries"}
"""16.2: drivers that hand each line to a system that stores and rotates it, away from the container's folder."""
_SIZE = re.compile(r"^(\d+(?:\.\d+)?)\s*([kmg]?)b?$", re.I)


# ------------------------------------------------------------------ 16.1: restore a backup


RANDOM_SQL = f"""
CREATE TABLE {backups.TABLE} (id serial PRIMARY KEY, station text, observed timestamptz, temperature real);
INSERT INTO {backups.TABLE} (station, observed, temperature)
SELECT 'station-' || (44001 + (random() * 20)::int), timestamptz '2026-11-01 00:00Z' + g * interval '1 hour',
       round((random() * 30)::numeric, 2)
FROM generate_series(1, 300 + (random() * 200)::int) AS g;
"""


def backup_file() -> Path:
    """16.1's backup, a ``pg_dump -Fc`` of a catalog database, in this namespace's backup folder."""
    return backups.folder() / "catalog-2026-11.dump"


def _fingerprint_file() -> Path:
    return backups.folder() / ".catalog-2026-11.fingerprint"


def make_backup() -> Path:
    """Write 16.1's backup unless it is there: a database of a few hundred random observations (so no copy of
    the notebook's own rows restores it), dumped with ``pg_dump -Fc``; its fingerprint is kept beside it."""
    target = backup_file()
    if target.exists() and _fingerprint_file().exists():
        print(f"{target.name} is there already: kept (delete it for a new one)", file=sys.stderr)
        return target
    source = course.name("ops-backup-source")
    docker("rm", "-f", source, show=False, echo=False, check=False)
    docker("run", "-d", "--name", source, backups.db_image(), show=False, echo=False)
    try:
        backups.wait_ready(source)
        backups.psql(source, RANDOM_SQL)
        dump = ("pg_dump", "-U", "postgres", "-Fc", "-t", backups.TABLE, "-f", "/tmp/backup.dump")
        docker("exec", source, *dump, show=False, echo=False)
        docker("cp", f"{source}:/tmp/backup.dump", str(target), show=False, echo=False)
        _fingerprint_file().write_text(json.dumps(backups.fingerprint(source).__dict__))
    finally:
        docker("rm", "-f", "-v", source, show=False, echo=False, check=False)
    return target


def _expected() -> backups.Fingerprint | None:
    try:
        return backups.Fingerprint(**json.loads(_fingerprint_file().read_text()))
    except (OSError, ValueError, TypeError):
        return None


@exercise(
    "16.1",
    "restore a database backup into a new server with its own volume",
    hint="pg_restore reads a -Fc dump (psql reads plain SQL only): docker exec -i NAME pg_restore -U postgres "
    "-d postgres < FILE, or docker cp the file in first. The data folder is /var/lib/postgresql/data.",
    solution="""
    docker("volume", "create", name("ex-restored-data"))
    docker("run", "-d", "--name", name("ex-restored"), "-v", f"{name('ex-restored-data')}:/var/lib/postgresql/data",
           image("catalog-db", "15"))
    backups.wait_ready(name("ex-restored"))
    docker("cp", str(nb16.backup_file()), f"{name('ex-restored')}:/tmp/catalog.dump")
    docker("exec", name("ex-restored"), "pg_restore", "-U", "postgres", "-d", "postgres", "/tmp/catalog.dump")
    """,
)
def restored() -> Verdict:
    wanted, volume = course.name("ex-restored"), course.name("ex-restored-data")
    box = course_container("ex-restored", missing=f"there is no container called {wanted} yet.")
    if isinstance(box, Verdict):
        return box
    records.note("16.1", "container", wanted, box)
    ref = backups.db_image()
    img = course_image(ref, missing=f"no image {ref} yet: run the notebook's build cell.")
    if isinstance(img, Verdict):
        return img
    if box.image.id != img.id:
        return failed(f"{wanted} does not run {ref}.", f"Run the course's database image, {ref}.")
    if box.status != "running":
        return failed(f"{wanted} is {box.status}.", "docker logs NAME says why; start it with -d.")
    mounts = {m.get("Destination"): m for m in box.attrs.get("Mounts", [])}
    data = mounts.get("/var/lib/postgresql/data")
    if data is None or data.get("Type") != "volume" or data.get("Name") != volume:
        where = f"{data.get('Type')} {data.get('Name') or data.get('Source')}" if data else "its writable layer"
        return failed(
            f"{wanted} keeps its data in {where}, not in the volume {volume}: the restored rows would go with the "
            "container.",
            f"-v {volume}:/var/lib/postgresql/data",
        )
    vol = course_volume(volume)
    if vol is not None:
        records.note("16.1", "volume", volume, vol)
    try:
        backups.wait_ready(wanted, timeout=20)
        found = backups.fingerprint(wanted)
    except (CommandFailed, OSError) as exc:
        return failed(f"{wanted}'s database does not answer: {str(exc)[:100]}", "docker logs NAME says why.")
    expected = _expected()
    if expected is None:
        return failed(f"the backup's fingerprint is missing: run the cell that writes {backup_file().name} again.")
    if found is None:
        return failed(
            f"{wanted}'s database has no table {backups.TABLE}: the backup is not restored in it yet.",
            "A -Fc dump is restored with pg_restore (psql reads plain SQL only).",
        )
    if found != expected:
        return failed(
            f"{wanted}'s {backups.TABLE} holds {found}, the backup {expected}: not the backup's rows, or not all.",
            "Restore the backup file itself, once, into an empty database.",
        )
    return passed(
        f"{wanted} serves the backup's {expected.rows} rows, identical (same MD5 over every row), from the "
        f"volume {volume}."
    )


# ------------------------------------------------------------------ 16.2: bounded logs


def size_bytes(text: str) -> int | None:
    """A ``max-size`` value (``10m``, ``512k``, ``1g``, ``2048``) in bytes, or None if it is not one."""
    m = _SIZE.match(text.strip())
    if not m:
        return None
    return int(float(m[1]) * {"": 1, "k": 1024, "m": 1024**2, "g": 1024**3}[m[2].lower()])


def log_bound(kind: str, options: dict[str, str]) -> int | str | None:
    """The most bytes a container's log may keep on its host with driver ``kind`` and ``options``: a number, None
    when nothing bounds it, or ``"shipped"`` when each line goes to a system that stores it elsewhere."""
    if kind in SHIPPED:
        return "shipped"
    if kind == "local":
        size = size_bytes(options.get("max-size", "20m"))
        return None if not size else size * int(options.get("max-file", "5"))
    if kind in ("json-file", "k8s-file"):
        if "max-size" not in options or options["max-size"] == "-1":
            return None
        size = size_bytes(options["max-size"])
        return None if not size else size * int(options.get("max-file", "1"))
    return None


@exercise(
    "16.2",
    "a data server whose logs cannot fill the disk",
    needs="log-rotation",  # Podman's API does not report a container's log options: nothing to judge
    hint="--log-opt max-size=… with --log-opt max-file=… rotates the json-file log; --log-driver local rotates by "
    "itself. docker inspect --format '{{json .HostConfig.LogConfig}}' NAME shows what a container has.",
    solution="""
    docker("run", "-d", "--name", name("ex-quiet"), "--log-opt", "max-size=10m", "--log-opt", "max-file=3",
           image("access-log", "1"))
    """,
)
def bounded_logs() -> Verdict:
    wanted = course.name("ex-quiet")
    box = course_container("ex-quiet", missing=f"there is no container called {wanted} yet.")
    if isinstance(box, Verdict):
        return box
    records.note("16.2", "container", wanted, box)
    ref = course.image("access-log", "1")
    img = course_image(ref, missing=f"no image {ref} yet: run the notebook's build cell in section 5.")
    if isinstance(img, Verdict):
        return img
    if box.image.id != img.id:
        return failed(f"{wanted} does not run {ref}.", f"Run the access-log image, {ref}.")
    if box.status != "running":
        return failed(f"{wanted} is {box.status}: a server keeps running.", "Start it with -d, without --rm.")
    kind, options = logfiles.driver(wanted)
    if kind == "none":
        return failed(
            f"{wanted} logs nothing at all (--log-driver none): the day it fails, docker logs has nothing to show.",
            "Keep the logs, bounded: rotate them.",
        )
    bound = log_bound(kind, options)
    if bound is None:
        return failed(
            f"{wanted}'s {kind} log has no size limit ({json.dumps(options) if options else 'no options'}): it grows "
            "until the disk is full.",
            "--log-opt max-size bounds each file (max-file alone does not rotate anything).",
        )
    if isinstance(bound, int) and bound > LOG_BOUND_MB * 1024**2:
        return failed(
            f"{wanted}'s {kind} log may keep {bound // 1024**2} MiB, more than {LOG_BOUND_MB} MiB for one container.",
            "A smaller max-size, or fewer files.",
        )
    kept = logfiles.kept_bytes(wanted)
    if kept == 0:
        return failed(f"docker logs {wanted} returns nothing: its logs cannot be read.", "Keep a driver it reads.")
    if isinstance(bound, int) and kept > bound:
        return failed(f"docker logs {wanted} returns {kept} bytes, more than its limit of {bound}.")
    where = f"at most {bound / 1024**2:g} MiB kept ({kind})" if isinstance(bound, int) else f"each line goes to {kind}"
    return passed(f"{wanted}'s log is bounded: {where}, and docker logs still reads it.")


# ------------------------------------------------------------------ 16.3: a patched image

PATCHED = ("ex-patched", "1")

STARTER = """FROM debian:bookworm-slim
# The data server's tools. "upgrade" here looks like patching, but which suites does apt know of?
RUN apt-get update \\
 && apt-get upgrade -y \\
 && apt-get install -y --no-install-recommends curl \\
 && rm -rf /var/lib/apt/lists/*
"""


def starter() -> Path:
    """16.3's Dockerfile, in ``build/<ns>/ops/ex-patched/``, unless the learner already has one there."""
    return course.starter(course.workdir("ops", "ex-patched") / "Dockerfile", STARTER)


def reset() -> None:
    """Remove the image an earlier attempt at 16.3 built, so the check looks at this run's work only."""
    reset_images([PATCHED])


@exercise(
    "16.3",
    "an image with no security update waiting",
    hint="apt upgrades only from the suites its sources list; section 6 showed which one holds the fixes.",
    solution="""
    dockerfile = nb16.starter()
    dockerfile.write_text(dockerfile.read_text().replace(
        "RUN apt-get update",
        'RUN echo "deb http://deb.debian.org/debian-security bookworm-security main" '
        "> /etc/apt/sources.list.d/security.list \\\\\\n && apt-get update"))
    docker("build", "-t", image("ex-patched", "1"), os.path.relpath(dockerfile.parent))
    """,
)
def patched() -> Verdict:
    ref = course.image(*PATCHED)
    img = learner_image("16.3", ref)
    if isinstance(img, Verdict):
        return img
    try:
        release = oneshot.output(ref, ["cat", "/etc/debian_version"]).decode().strip()
        curl = oneshot.output(ref, ["sh", "-c", "dpkg-query -W -f '${Status}' curl 2>/dev/null || true"]).decode()
    except Exception as exc:  # an image without a shell or dpkg-query: said in words
        return failed(f"{ref} cannot run the checks (cat, sh, dpkg-query): {str(exc)[:100]}")
    if not release.startswith("12"):
        return failed(
            f"{ref} is Debian {release}, not bookworm (12): keep the starter's FROM debian:bookworm-slim.",
            "Patch the image you have; a move to another release is an upgrade, with its own tests.",
        )
    if "installed" not in curl:
        return failed(f"{ref} has no curl any more: the server's tools must stay.", "Keep the starter's install line.")
    try:
        waiting = patching.pending(ref)
    except CommandFailed as exc:
        return failed(f"Debian's security archive does not answer here, so {ref} cannot be judged: {str(exc)[-100:]}")
    if waiting:
        names = ", ".join(p.package for p in waiting[:4]) + (" …" if len(waiting) > 4 else "")
        return failed(
            f"{ref} still has {len(waiting)} package(s) with a security fix waiting in bookworm-security: {names}.",
            "apt upgrades only from the suites its sources list.",
        )
    shown = docker_out("image", "inspect", "--format", "{{.Id}}", ref)[:19]
    return passed(f"{ref} ({shown}) has curl and no package with a security fix waiting in bookworm-security.")


# ------------------------------------------------------------------ 16.4: HTTPS in front

PROXY_STARTER_NOTE = "# The catalog's site behind HTTPS. Pages served here link to http://… : why?\n"


def proxy_folder() -> Path:
    """16.4's nginx configuration folder on the host, mounted at /etc/nginx/conf.d."""
    return proxy.conf_folder("ex-proxy")


def proxy_starter() -> Path:
    """Write 16.4's site configuration (a TLS proxy that passes no header on) unless the learner has one there."""
    backend = course.name("ops-tomcat")
    return course.starter(proxy_folder() / "site.conf", PROXY_STARTER_NOTE + proxy.site_conf(backend, headers=False))


@exercise(
    "16.4",
    "a TLS proxy whose server's links say https",
    hint="The server builds its links from the request it receives from nginx: proxy_set_header passes on the "
    "client's Host and scheme (the RemoteIpValve reads X-Forwarded-Proto). docker exec NAME nginx -t checks a file.",
    solution="""
    conf = nb16.proxy_starter()
    conf.write_text(conf.read_text().replace(
        "proxy_pass http://", "proxy_set_header Host $host;\\n        proxy_set_header X-Forwarded-Proto $scheme;"
        "\\n        proxy_pass http://"))
    docker("run", "-d", "--name", name("ex-proxy"), "--network", name("ops-net"),
           "-v", f"{name('ops-certs')}:/certs:ro", "-v", f"{conf.parent}:/etc/nginx/conf.d:ro",
           image("proxy", "1"))
    """,
)
def proxied() -> Verdict:
    wanted = course.name("ex-proxy")
    box = course_container("ex-proxy", missing=f"there is no container called {wanted} yet.")
    if isinstance(box, Verdict):
        return box
    records.note("16.4", "container", wanted, box)
    img = course_image(proxy.proxy_ref(), missing=f"no image {proxy.proxy_ref()} yet: run section 7's build cell.")
    if isinstance(img, Verdict):
        return img
    if box.image.id != img.id:
        ref = proxy.proxy_ref()
        return failed(f"{wanted} does not run {ref}.", f"Run the course's nginx image, {ref}.")
    if box.status != "running":
        return failed(f"{wanted} is {box.status}.", "docker logs NAME shows nginx's complaint.")
    networks = box.attrs["NetworkSettings"]["Networks"] or {}
    if course.name("ops-net") not in networks:
        return failed(
            f"{wanted} is not on the network {course.name('ops-net')}, where the server is.",
            f"--network {course.name('ops-net')}",
        )
    link = proxy.answered_link(wanted)
    if link.startswith("curl failed"):
        return failed(f"https://{proxy.SITE}/ through {wanted} does not answer: {link}",
                      "Mount the certificates (/certs) and the folder with site.conf (/etc/nginx/conf.d).")
    wanted_link = f"https://{proxy.SITE}/dmac/links.jsp"
    if link != wanted_link:
        return failed(
            f"served over HTTPS, the page links to {link}: a browser that follows it leaves HTTPS, or asks a name "
            "only the proxy knows.",
            "The server builds its links from the request it receives from nginx.",
        )
    moved = proxy.redirect(wanted)
    if moved != f"301 {wanted_link}":
        return failed(f"plain HTTP to {wanted} answers {moved!r}, not a redirect to HTTPS.", "Keep the port 80 server.")
    return passed(f"through {wanted}, the page links to {link} and plain HTTP is sent there (301).")


# ------------------------------------------------------------------ 16.5: an upgrade that keeps every row

OLD_DB, OLD_DATA, NEW_DB = "ex-db15", "ex-db15-data", "ex-db17"
DATA_DIR = "/var/lib/postgresql/data"


def _dealt_file() -> Path:
    return backups.folder() / ".ex-db15.fingerprint"


def deal_old_db() -> str:
    """16.5's starting point, unless it is there (its volume and its rows' fingerprint): a PostgreSQL 15 server
    ``ex-db15`` with its data in the volume ``ex-db15-data`` and 300 to 500 random observations (their fingerprint
    kept for the check)."""
    box, volume = course.name(OLD_DB), course.name(OLD_DATA)
    if course_volume(volume) is not None and _dealt() is not None:
        return f"{volume} is there already: kept, with {box} as it is (remove the volume for a new start)"
    docker("rm", "-f", box, show=False, echo=False, check=False)
    docker("volume", "create", volume, show=False, echo=False)
    docker("run", "-d", "--name", box, "-v", f"{volume}:{DATA_DIR}", backups.db_image(15), show=False, echo=False)
    backups.wait_ready(box)
    backups.psql(box, RANDOM_SQL)
    dealt = backups.fingerprint(box)
    if dealt is None:  # the table was just made: only a broken database has none
        raise RuntimeError(f"{box} has no table {backups.TABLE} after it was filled: docker logs {box} says why")
    _dealt_file().write_text(json.dumps(dealt.__dict__))
    print(f"  {dealt}", file=sys.stderr)
    return f"{box}: PostgreSQL {backups.major(box)}, data in the volume {volume}, 300 to 500 random observations"


def _dealt() -> backups.Fingerprint | None:
    try:
        return backups.Fingerprint(**json.loads(_dealt_file().read_text()))
    except (OSError, ValueError, TypeError):
        return None


def _data_mount(box: Any) -> dict[str, Any] | None:
    return next((m for m in box.attrs.get("Mounts", []) if m.get("Destination") == DATA_DIR), None)


@exercise(
    "16.5",
    "upgrade a catalog database from PostgreSQL 15 to 17 without losing a row",
    hint="PostgreSQL 17 cannot read 15's files: dump the old server (docker exec OLD pg_dump -U postgres -Fc > "
    "FILE), start the new one on a new volume, and restore into it (docker exec -i NEW pg_restore -U postgres "
    "--clean --if-exists -d postgres < FILE).",
    solution="""
    with open(backups.folder() / "ex-db15.dump", "wb") as dump:
        docker_stream("exec", name("ex-db15"), "pg_dump", "-U", "postgres", "-Fc", stdout=dump, echo=True)
    docker("stop", name("ex-db15"))
    docker("volume", "create", name("ex-db17-data"))
    docker("run", "-d", "--name", name("ex-db17"), "-v", f"{name('ex-db17-data')}:/var/lib/postgresql/data",
           image("catalog-db", "17"))
    backups.wait_ready(name("ex-db17"))
    with open(backups.folder() / "ex-db15.dump", "rb") as dump:
        docker_stream("exec", "-i", name("ex-db17"), "pg_restore", "-U", "postgres", "--clean", "--if-exists",
                      "-d", "postgres", stdin=dump, echo=True)
    """,
)
def upgraded() -> Verdict:
    wanted, old_volume = course.name(NEW_DB), course.name(OLD_DATA)
    dealt = _dealt()
    if dealt is None:
        return failed(f"the old server was not dealt yet: run the cell above that starts {course.name(OLD_DB)}.")
    box = course_container(NEW_DB, missing=f"there is no container called {wanted} yet.")
    if isinstance(box, Verdict):
        return box
    records.note("16.5", "container", wanted, box)
    ref = backups.db_image(backups.UPGRADE_TO)
    img = course_image(ref, missing=f"no image {ref} yet: run section 4's build cell.")
    if isinstance(img, Verdict):
        return img
    if box.image.id != img.id:
        return failed(f"{wanted} does not run {ref}.", f"The upgrade's server runs {ref}.")
    data = _data_mount(box)
    if data is not None and data.get("Name") == old_volume:
        return failed(
            f"{wanted} has its data in {old_volume}, the PostgreSQL 15 files: 17 refuses to start on them (docker "
            f"logs {wanted}), and the rollback would be gone.",
            "A new volume, filled from a dump of the old server.",
        )
    if data is None or data.get("Type") != "volume":
        where = f"a {data.get('Type')} mount" if data else "its writable layer"
        return failed(
            f"{wanted} keeps its data in {where}, not in a volume: the upgraded rows would go with the container.",
            f"-v NEW_VOLUME:{DATA_DIR}",
        )
    if (new_volume := course_volume(data["Name"])) is not None:
        records.note("16.5", "volume", data["Name"], new_volume)  # an ex- name only: clean-up removes it
    if box.status != "running":
        return failed(f"{wanted} is {box.status}.", f"docker logs {wanted} says why; start it with -d.")
    try:
        backups.wait_ready(wanted, timeout=20)
        version, found = backups.major(wanted), backups.fingerprint(wanted)
    except (CommandFailed, OSError) as exc:
        return failed(f"{wanted}'s database does not answer: {str(exc)[:100]}", f"docker logs {wanted} says why.")
    if found is None:
        return failed(
            f"{wanted}'s database postgres has no table {backups.TABLE}: the rows are not restored there yet.",
            "The catalog reads database postgres: restore into it (pg_restore -d postgres, or psql -d postgres).",
        )
    if found != dealt:
        return failed(
            f"{wanted}'s {backups.TABLE} holds {found}, the old server {dealt}: rows were lost or added on the way.",
            "Restore one dump of the old server, once, into the new server's database.",
        )
    old = course_volume(old_volume)
    if old is None:
        return failed(
            f"every row is there, but the volume {old_volume} is gone: nothing to roll back to.",
            "Keep the old volume until the new server has proven itself.",
        )
    version_file = "cat /old/PG_VERSION 2>/dev/null || true"
    kept = oneshot.output("busybox", ["sh", "-c", version_file], volumes=[f"{old_volume}:/old:ro"]).decode().strip()
    if kept != "15":
        return failed(
            f"the volume {old_volume} holds PostgreSQL {kept or 'no'} files now, not the old 15 ones.",
            "Leave the old volume as it was: it is the rollback.",
        )
    return passed(
        f"{wanted} runs PostgreSQL {version} and holds the old server's {dealt.rows} rows, identical (same MD5 "
        f"over every row); {old_volume} still holds the 15 files for a rollback."
    )
