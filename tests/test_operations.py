"""Notebook 16 (operating a data server): the pure parts of its helpers, and its exercises' near misses on the
real daemon (a restore by the wrong tool, rows typed instead of restored, a log with no bound or too big a bound,
an image whose apt never saw the security suite, or lost its tools)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from helpers import exercises
from helpers.core import course, engine, images
from helpers.core.shell import docker
from helpers.exercises import nb16
from helpers.lessons import backups, compose, logfiles, patching, proxy
from tests.support import Made, start_proxy_backend, stop_proxy_backend

CHANGELOG = """zlib (1:1.2.13.dfsg-1+deb12u1) bookworm-security; urgency=medium

  * Fix CVE-2026-27171: a heap overflow.
  * Fix CVE-2026-85091 and CVE-2026-27171 again.

 -- Someone <someone@debian.org>  Mon, 02 Nov 2026 10:00:00 +0100

zlib (1:1.2.13.dfsg-1) unstable; urgency=medium

  * CVE-2022-37434 (already fixed in the release).

 -- Someone <someone@debian.org>  Mon, 02 Jan 2023 10:00:00 +0100
"""


def test_the_cves_of_the_entries_newer_than_the_installed_version_once_each() -> None:
    assert patching.cves(CHANGELOG, "1:1.2.13.dfsg-1") == ["CVE-2026-27171", "CVE-2026-85091"]
    assert patching.cves(CHANGELOG, "1:1.2.13.dfsg-1+deb12u1") == []
    assert patching.cves("", "1.0") == []  # no changelog in the image


def test_apt_lists_upgradable_packages_with_both_versions() -> None:
    out = "Listing...\nzlib1g/oldstable-security 1:1.2.13.dfsg-1+deb12u1 amd64 [upgradable from: 1:1.2.13.dfsg-1]\n"
    assert patching.parse(out) == [patching.Pending("zlib1g", "1:1.2.13.dfsg-1", "1:1.2.13.dfsg-1+deb12u1")]
    assert patching.parse("Listing...\n") == []


@pytest.mark.parametrize(
    ("kind", "options", "bound"),
    [
        ("json-file", {}, None),
        ("json-file", {"max-file": "3"}, None),  # max-file alone rotates nothing
        ("json-file", {"max-size": "10m", "max-file": "3"}, 30 * 1024**2),
        ("json-file", {"max-size": "512k"}, 512 * 1024),
        ("local", {}, 100 * 1024**2),  # 5 files of 20 MB by default
        ("local", {"max-size": "1m", "max-file": "2"}, 2 * 1024**2),
        ("journald", {}, "shipped"),
        ("none", {}, None),
    ],
)
def test_how_much_a_log_may_keep(kind: str, options: dict[str, str], bound: object) -> None:
    assert nb16.log_bound(kind, options) == bound


def test_a_burst_is_counted_to_the_byte() -> None:
    line = '127.0.0.1 - - [07/Dec/2026:10:00:00 +0000] "GET /erddap/griddap/sst.nc?sst[0] HTTP/1.1" 200 4096\n'
    assert logfiles.burst_bytes(2) == 2 * len(line) + len("access-log: 2 lines written\n")


# ------------------------------------------------------------------------------------------------ near misses


@pytest.fixture(autouse=True)
def _no_solutions() -> None:
    exercises.configure(solutions=False)


def _rejected(id: str, message: str, hint: str = "") -> None:
    verdict = exercises.evaluate(id)
    assert not verdict.ok, verdict.message
    assert message in verdict.message, verdict.message
    assert hint in verdict.hint, verdict.hint


def _restored_server(made: Made) -> str:
    """16.1's server as asked (its volume), started from the course's database image, nothing restored yet."""
    images.build(backups.db_image(), compose.contexts()["db"], show=False, echo=False)
    nb16.make_backup()
    box, volume = course.name("ex-restored"), course.name("ex-restored-data")
    made.add("container", box).add("volume", volume)
    docker("rm", "-f", box, check=False, show=False, echo=False)
    docker("volume", "rm", "-f", volume, check=False, show=False, echo=False)
    docker("run", "-d", "--name", box, "-v", f"{volume}:/var/lib/postgresql/data", backups.db_image(),
           show=False, echo=False)
    backups.wait_ready(box)
    docker("cp", str(nb16.backup_file()), f"{box}:/tmp/catalog.dump", show=False, echo=False)
    return box


def test_16_1_a_custom_dump_given_to_psql_restores_nothing(made) -> None:
    box = _restored_server(made)
    docker("exec", box, "psql", "-U", "postgres", "-f", "/tmp/catalog.dump", check=False, show=False, echo=False)
    _rejected("16.1", "has no table observations", "pg_restore")


def test_16_1_rows_made_by_hand_are_not_the_backups(made) -> None:
    box = _restored_server(made)
    backups.fill(box, 400)
    _rejected("16.1", "not the backup's rows", "Restore the backup file itself")


def test_16_1_restored_into_another_database(made) -> None:
    box = _restored_server(made)
    docker("exec", box, "createdb", "-U", "postgres", "catalog", show=False, echo=False)
    docker("exec", box, "pg_restore", "-U", "postgres", "-d", "catalog", "/tmp/catalog.dump", show=False, echo=False)
    _rejected("16.1", "has no table observations")


@pytest.fixture
def access_log() -> str:
    ref = course.image("access-log", "1")
    ctx = images.context("access-log", {"Dockerfile": logfiles.CHATTY_DOCKERFILE, "access-log.sh": logfiles.ACCESS_LOG})
    images.build(ref, ctx, show=False, echo=False)
    return ref


def _quiet(made: Made, ref: str, *options: str) -> None:
    box = course.name("ex-quiet")
    made.add("container", box)
    docker("rm", "-f", box, check=False, show=False, echo=False)
    docker("run", "-d", "--name", box, *options, ref, show=False, echo=False)
    if "none" not in options:  # docker logs reads nothing there
        logfiles.wait_written(box)


def test_16_2_no_logs_at_all(made, access_log) -> None:
    _quiet(made, access_log, "--log-driver", "none")
    _rejected("16.2", "logs nothing at all", "rotate them")


def test_16_2_a_bound_too_big_to_protect_the_disk(made, access_log) -> None:
    _quiet(made, access_log, "--log-opt", "max-size=200m", "--log-opt", "max-file=3")
    _rejected("16.2", "more than 100 MiB", "smaller max-size")


def test_16_2_the_local_driver_as_it_comes_is_bounded(made, access_log) -> None:
    if engine.limitation("log-rotation"):
        pytest.skip("Podman has no local driver")
    _quiet(made, access_log, "--log-driver", "local")
    verdict = exercises.evaluate("16.2")
    assert verdict.ok, verdict


SECURITY_LIST = f'RUN echo "{patching.SECURITY_LIST}" > /etc/apt/sources.list.d/security.list'


def _patched(made: Made, dockerfile: str) -> None:
    ref = course.image(*nb16.PATCHED)
    made.add("image", ref)
    images.build(ref, images.context("ex-patched-test", {"Dockerfile": dockerfile}), show=False, echo=False)


def test_16_3_the_security_suite_listed_but_nothing_upgraded(made) -> None:
    if sentence := patching.archive_answers():
        pytest.skip(sentence)
    _patched(made, "FROM debian:bookworm-slim\n" + SECURITY_LIST + " \\\n && apt-get update"
             " && apt-get install -y --no-install-recommends curl\n")
    _rejected("16.3", "with a security fix waiting", "suites its sources list")


def test_16_3_patched_but_the_tools_are_gone(made) -> None:
    if sentence := patching.archive_answers():
        pytest.skip(sentence)
    _patched(made, "FROM debian:bookworm-slim\n" + SECURITY_LIST + " && apt-get update && apt-get upgrade -y\n")
    _rejected("16.3", "has no curl any more", "install line")


@pytest.fixture  # per test, inside the test namespace (a module fixture is set up before it)
def backend() -> Iterator[None]:
    start_proxy_backend()
    yield
    stop_proxy_backend()


def _proxy(made: Made, conf: str) -> None:
    """16.4's proxy as asked (network, certificates, the folder), with the site configuration ``conf``."""
    box = course.name("ex-proxy")
    made.add("container", box)
    folder = nb16.proxy_folder()
    (folder / "site.conf").write_text(conf)
    docker("rm", "-f", box, check=False, show=False, echo=False)
    certs = f"{course.name('ops-certs')}:/certs:ro"
    docker("run", "-d", "--name", box, "--network", course.name("ops-net"), "-v", certs,
           "-v", f"{folder}:/etc/nginx/conf.d:ro", proxy.proxy_ref(), show=False, echo=False)


def _site(headers: str) -> str:
    """Section 6's configuration with ``headers`` before its proxy_pass line."""
    conf = proxy.site_conf(course.name("ops-tomcat"), headers=False)
    return conf.replace("        proxy_pass", headers + "        proxy_pass")


def test_16_4_the_starter_as_it_is(made, backend) -> None:
    _proxy(made, _site(""))
    _rejected("16.4", "the page links to http://", "from the request it receives")


def test_16_4_the_scheme_but_not_the_host(made, backend) -> None:
    _proxy(made, _site("        proxy_set_header X-Forwarded-Proto $scheme;\n"))
    _rejected("16.4", f"links to https://{course.name('ops-tomcat')}/", "from the request it receives")


def test_16_4_no_redirect_from_plain_http(made, backend) -> None:
    fixed = _site("        proxy_set_header Host $host;\n        proxy_set_header X-Forwarded-Proto $scheme;\n")
    _proxy(made, fixed.replace(proxy.REDIRECT, ""))
    _rejected("16.4", "not a redirect to HTTPS", "port 80")


def test_16_4_headers_spelled_otherwise_are_accepted(made, backend) -> None:
    headers = "        proxy_set_header X-Forwarded-Proto https;\n        proxy_set_header Host $http_host;\n"
    _proxy(made, _site(headers))
    verdict = exercises.evaluate("16.4")
    assert verdict.ok, verdict


# ------------------------------------------------------------------------------------------------ 16.5


def _old_and_new(made: Made, *, new_volume: str = "ex-db17-data", image: int = 17) -> str:
    """16.5 dealt (a 15 server with random rows), and a server ``ex-db17`` started from ``image`` on the volume
    ``new_volume``, nothing restored yet; the old server's ``-Fc`` dump copied into it as /tmp/old.dump."""
    backups.build_db(15)
    backups.build_db(17)
    old, new = course.name(nb16.OLD_DB), course.name(nb16.NEW_DB)
    made.add("container", old, new).add("volume", course.name(nb16.OLD_DATA), course.name("ex-db17-data"))
    docker("rm", "-f", new, check=False, show=False, echo=False)
    docker("volume", "rm", "-f", course.name("ex-db17-data"), check=False, show=False, echo=False)
    nb16.deal_old_db()
    docker("exec", old, "pg_dump", "-U", "postgres", "-Fc", "-f", "/tmp/old.dump", show=False, echo=False)
    dump = backups.folder() / "old.dump"
    docker("cp", f"{old}:/tmp/old.dump", str(dump), show=False, echo=False)
    docker("run", "-d", "--name", new, "-v", f"{course.name(new_volume)}:{nb16.DATA_DIR}", backups.db_image(image),
           show=False, echo=False)  # fmt: skip
    if new_volume != nb16.OLD_DATA:
        backups.wait_ready(new)
        docker("cp", str(dump), f"{new}:/tmp/old.dump", show=False, echo=False)
    return new


def _restore_into(box: str, database: str = "postgres") -> None:
    docker("exec", box, "pg_restore", "-U", "postgres", "--clean", "--if-exists", "-d", database, "/tmp/old.dump",
           show=False, echo=False)  # fmt: skip


def test_16_5_the_new_server_on_the_old_files(made) -> None:
    _old_and_new(made, new_volume=nb16.OLD_DATA)
    _rejected("16.5", "the PostgreSQL 15 files", "A new volume")


def test_16_5_the_old_version_under_the_new_name(made) -> None:
    box = _old_and_new(made, image=15)
    _restore_into(box)
    _rejected("16.5", "does not run", "catalog-db:17")


def test_16_5_restored_into_another_database(made) -> None:
    box = _old_and_new(made)
    docker("exec", box, "createdb", "-U", "postgres", "upgraded", show=False, echo=False)
    _restore_into(box, "upgraded")
    _rejected("16.5", "has no table observations", "restore into it")


def test_16_5_rows_lost_on_the_way(made) -> None:
    box = _old_and_new(made)
    _restore_into(box)
    backups.psql(box, f"DELETE FROM {backups.TABLE} WHERE id % 50 = 0")
    _rejected("16.5", "rows were lost or added", "once")


def test_16_5_no_old_volume_left_to_roll_back_to(made) -> None:
    box = _old_and_new(made)
    _restore_into(box)
    docker("rm", "-f", course.name(nb16.OLD_DB), show=False, echo=False)
    docker("volume", "rm", course.name(nb16.OLD_DATA), show=False, echo=False)
    _rejected("16.5", "nothing to roll back to", "Keep the old volume")


def test_16_5_an_upgrade_by_the_book_passes(made) -> None:
    box = _old_and_new(made)
    _restore_into(box)
    verdict = exercises.evaluate("16.5")
    assert verdict.ok and "runs PostgreSQL 17" in verdict.message, verdict
