"""Exercises answered as a learner would: with the real ``docker`` CLI in a subprocess (a terminal, so no
course label) and with the ``docker()`` helper. Both are accepted, a near-miss gets a hint, and clean-up
removes what the checker recorded, never a learner's own resources (the decoys, one re-made under the
exercise's name, one named like it)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from helpers import exercises
from helpers.core import cleanup, course, engine, images, records
from helpers.core.shell import docker, docker_out
from helpers.exercises import nb04, nb05, nb06, nb07, nb08, nb09, nb10, nb13, nb14, nb16
from helpers.lessons import arch, casestudy, compose, dockerfiles, volumes
from tests import isolation
from tests.support import start_proxy_backend, terminal

WAYS = ("terminal", "helper")


def run(way: str, *args: str) -> None:
    if way == "terminal":
        terminal(*args)
    else:
        docker(*args, show=False, echo=False)


def build(way: str, ref: str, dockerfile: str) -> None:
    if way == "terminal":
        terminal("build", "-q", "-t", ref, "-", stdin=dockerfile)
    else:
        images.build(ref, images.context("ex-env-test", {"Dockerfile": dockerfile}), show=False)


@dataclass(frozen=True)
class Case:
    id: str
    answer: Callable[[str], object]  # answers the exercise rightly, one way (what it returns is not used)
    near_miss: Callable[[str], object]  # nearly
    says: str  # in the near-miss verdict's message
    hint: str  # in its hint
    made: tuple[tuple[str, str], ...]  # (kind, name) the checker records
    setup: Callable[[], object] | None = None  # what the notebook makes before the exercise (a broken job's image)


def _name(suffix: str) -> str:
    return course.name(suffix)


ENV_DOCKERFILE = 'FROM busybox\nENV UNITS={}\nCMD ["sh", "-c", "echo $UNITS"]\n'
SCRATCH = 'FROM {}\nCOPY --from=busybox /bin/busybox /busybox\nENTRYPOINT ["/busybox"]\nCMD ["echo", "hi"]\n'
TRAPPED_LOGGER = nb08.LOGGER.replace("while true;", "trap 'exit 0' TERM; while true;")
ONE_LAYER = nb05.SLIM_STARTER.replace("\nRUN wc", " \\\n && wc").replace("\nRUN rm", " \\\n && rm")


def _fetch(*network: str) -> tuple[str, ...]:
    """Section 6's request for the station page by the API's name (``FETCH`` in the notebook)."""
    get = f'exec 3<>/dev/tcp/{_name("obs-api")}/8080 && printf "GET / HTTP/1.0\\r\\n\\r\\n" >&3 && tail -1 <&3'
    return ("--name", _name("ex-fetch"), *network, "debian:bookworm-slim", "bash", "-c", get + " || true")


def _station_api() -> None:
    """Notebook 07's section 6: the station API on its own network (made once, by the course's helper)."""
    net, api = _name("stations"), _name("obs-api")
    _SERVICES.add(api)
    _NETWORKS.add(net)
    docker("network", "create", net, check=False, show=False, echo=False)
    if not docker_out("ps", "-q", "--filter", f"name=^{api}$", check=False):
        docker("rm", "-f", api, check=False, show=False, echo=False)
        serve = "mkdir -p /srv && echo station-46042-ok > /srv/index.html && httpd -f -p 8080 -h /srv"
        docker("run", "-d", "--name", api, "--network", net, "busybox", "sh", "-c", serve, show=False, echo=False)


def _tide(*, fixed: bool) -> str:
    """Exercise 09.3: the partner's Dockerfile (its program for the other CPU), or with ARCH from TARGETARCH."""
    there = arch.foreign(arch.native())
    partner = nb09.tide(there)
    return partner.replace(f"ARG ARCH={there}", "ARG TARGETARCH\nARG ARCH=$TARGETARCH") if fixed else partner


def _services_back(way: str, *, start: bool) -> None:
    """Exercise 04.2: every service's policy changed in place; started too, or (nearly) not."""
    for box in nb04.services():
        run(way, "update", "--restart", "unless-stopped", box)
        if start:
            run(way, "start", box)


_SERVICES: set[str] = set()  # containers the cases' setups made, as the notebooks do (04.2, 07.5, 12.2, 13.x)
_NETWORKS: set[str] = set()
_IMAGES: set[str] = set()  # stand-ins the setups built under a notebook's image name (01.1, 13.x)
_VOLUMES: set[str] = set()  # 16.4's certificates, 16.5's old database


def _no_services() -> None:
    _SERVICES.update(nb04.services())
    for box in sorted(_SERVICES):
        cleanup.remove_named(container=box)


def _services_afresh() -> None:
    """Exercise 04.2's setup: the five services made anew, as the notebook's cell makes them."""
    _no_services()
    nb04.make_services()


@pytest.fixture(scope="module", autouse=True)
def _services_removed() -> Iterator[None]:
    """What the cases' setups made (not recorded by the checkers: the notebooks make it) goes at the end."""
    yield
    for box in sorted(_SERVICES):
        cleanup.remove_named(container=box)
    for net in sorted(_NETWORKS):
        cleanup.remove_named(network=net)
    for volume in sorted(_VOLUMES):
        cleanup.remove_named(volume=volume)
    for ref in sorted(_IMAGES):
        docker("rmi", "-f", ref, check=False, show=False, echo=False)


_WORKER = ("-m", "32m", "busybox", "sleep", "3600")


def _user_image(way: str, user_line: str) -> None:
    """Exercise 03.2 done in a terminal (or with the helper): a Dockerfile in a folder, built as ex-user:1."""
    folder = course.workdir("contexts", "ex-user-terminal")
    (folder / "Dockerfile").write_text(f"ARG BASE=busybox\nFROM $BASE\n{user_line}\n")  # the review's ARG + FROM
    ref = course.image("ex-user", "1")
    if way == "terminal":
        terminal("build", "-q", "-t", ref, str(folder))
    else:
        images.build(ref, folder, show=False)


def _qc_build(way: str, tag: str, *, multi: bool, target: str = "") -> None:
    """Exercises 10.1/10.2: the learner's folder with a multi-stage Dockerfile (or the single-stage starter)."""
    from tests.support import QC_MULTI_STAGE

    folder = nb10.qc_starter()
    (folder / "Dockerfile").write_text(QC_MULTI_STAGE if multi else nb10.QC_SINGLE)
    ref, targets = course.image("ex-qc", tag), (("--target", target) if target else ())
    if way == "terminal":
        terminal("build", "-q", "-t", ref, *targets, str(folder))
    else:
        images.build(ref, folder, *targets, show=False)


def _service() -> None:
    """Exercise 12.2's running container, made by the notebook (so by the course's helper)."""
    box = _name("ex-service")
    _SERVICES.add(box)
    cleanup.remove_named(container=box)
    docker("run", "-d", "--name", box, "busybox", "sleep", "600", show=False, echo=False)


def _harvester(way: str, *user: str) -> None:
    folder = casestudy.harvest_folder(fresh=False)
    box = _name("ex-harvest-fixed")
    run(
        way,
        "run",
        "-d",
        "--name",
        box,
        "--restart",
        "on-failure",
        *user,
        "-v",
        f"{folder}:/data",
        course.image("harvester", "2"),
    )


def _gridder(way: str, *limit: str) -> None:
    run(way, "run", "-d", "--name", _name("ex-gridder"), *limit, course.image("gridder", "1"))


def _tomcat() -> None:
    from helpers.lessons import javaserver

    images.build(javaserver.image_ref(), javaserver.context(), show=False, echo=False)


def _erddap(way: str, *options: str) -> None:
    from helpers.lessons import javaserver

    run(way, "run", "-d", "--name", _name("ex-erddap"), *options, javaserver.image_ref())


def _catalog(way: str, target: str) -> None:
    from helpers.exercises import nb15
    from helpers.lessons import javaserver

    folder = nb15.config_starter().parent
    source = folder if target == javaserver.CONFIG_DIR else folder / "datasets.xml"
    run(
        way,
        "run",
        "-d",
        "--name",
        _name("ex-catalog"),
        "-e",
        f"DATASET_TITLE={nb15.TITLE}",
        "-v",
        f"{source}:{target}:ro",
        javaserver.image_ref(),
    )


def _survey(way: str, path: str) -> None:
    """Exercise 06.1: a volume, and the cast's note written at ``path`` in a container that mounts it on /data."""
    run(way, "volume", "create", _name("ex-survey"))
    run(way, "run", "--rm", "-v", f"{_name('ex-survey')}:/data", "busybox", "sh", "-c", f"echo 'CTD cast 17' > {path}")


def _owner(way: str, *user: str) -> None:
    folder = nb06.exercise_folder()
    run(way, "run", "--name", _name("ex-owner"), *user, "-v", f"{folder}:/out", "busybox", "touch", "/out/result.txt")


def _summary_image() -> None:
    """Exercise 01.1's pinned image, as a stand-in that prints the summary (the real one is notebook 01's)."""
    ref = course.image("ocean-numpy", "1")
    _IMAGES.add(ref)
    summary = 'FROM busybox\nCMD ["echo", "24 hourly observations: mean 12.3 degC"]\n'
    images.build(ref, images.context("ex-summary-test", {"Dockerfile": summary}), show=False, echo=False)


def _catalog_db() -> None:
    """Notebook 13's database with its three datasets (the stack's db alone, under its compose name)."""
    from tests.support import CATALOG_DB_IMAGE, start_catalog_db

    _IMAGES.add(course.image(*CATALOG_DB_IMAGE))
    _SERVICES.add(start_catalog_db())



def _db_image() -> None:
    from helpers.lessons import backups

    images.build(backups.db_image(), compose.contexts()["db"], show=False, echo=False)
    nb16.make_backup()


def _restore(way: str, *, volume: bool = True) -> None:
    """Exercise 16.1: a server (with its volume, or not), the backup copied in and restored with pg_restore."""
    from helpers.lessons import backups

    box, data = _name("ex-restored"), _name("ex-restored-data")
    mount = ("-v", f"{data}:/var/lib/postgresql/data") if volume else ()
    if volume:
        run(way, "volume", "create", data)
    run(way, "run", "-d", "--name", box, *mount, backups.db_image())
    backups.wait_ready(box)
    run(way, "cp", str(nb16.backup_file()), f"{box}:/tmp/catalog.dump")
    run(way, "exec", box, "pg_restore", "-U", "postgres", "-d", "postgres", "/tmp/catalog.dump")


def _access_log() -> None:
    from helpers.lessons import logfiles

    files = {"Dockerfile": logfiles.CHATTY_DOCKERFILE, "access-log.sh": logfiles.ACCESS_LOG}
    images.build(course.image("access-log", "1"), images.context("access-log", files), show=False, echo=False)


def _quiet(way: str, *options: str) -> None:
    from helpers.lessons import logfiles

    run(way, "run", "-d", "--name", _name("ex-quiet"), *options, course.image("access-log", "1"))
    logfiles.wait_written(_name("ex-quiet"))


def _proxy_backend() -> None:
    """Notebook 16's section 7: the proxied server on its network, the course CA's certificates in a volume."""
    start_proxy_backend()
    _SERVICES.add(_name("ops-tomcat"))
    _NETWORKS.add(_name("ops-net"))
    _VOLUMES.add(_name("ops-certs"))


def _tls_proxy(way: str, *, fixed: bool) -> None:
    """Exercise 16.4: the starter's site configuration (or with the two headers), run as asked."""
    from helpers.lessons import proxy

    conf = nb16.proxy_starter()
    text = proxy.site_conf(_name("ops-tomcat"), headers=fixed)
    conf.write_text(text)
    certs, folder = f"{_name('ops-certs')}:/certs:ro", f"{conf.parent}:/etc/nginx/conf.d:ro"
    run(way, "run", "-d", "--name", _name("ex-proxy"), "--network", _name("ops-net"), "-v", certs, "-v", folder,
        proxy.proxy_ref())


def _old_db() -> None:
    """Exercise 16.5's start: both database images, and the PostgreSQL 15 server with its random rows."""
    from helpers.lessons import backups

    backups.build_db(15)
    backups.build_db(17)
    nb16.deal_old_db()
    _SERVICES.add(_name(nb16.OLD_DB))
    _VOLUMES.add(_name(nb16.OLD_DATA))


def _upgrade(way: str, *, new_volume: str = "ex-db17-data") -> None:
    """Exercise 16.5: a dump of the old server, a 17 server on ``new_volume``, the dump restored into it."""
    from helpers.lessons import backups

    old, new, dump = _name(nb16.OLD_DB), _name(nb16.NEW_DB), backups.folder() / "terminal.dump"
    run(way, "exec", old, "pg_dump", "-U", "postgres", "-Fc", "-f", "/tmp/terminal.dump")
    run(way, "cp", f"{old}:/tmp/terminal.dump", str(dump))
    if new_volume != nb16.OLD_DATA:
        run(way, "volume", "create", _name(new_volume))
    run(way, "run", "-d", "--name", new, "-v", f"{_name(new_volume)}:{nb16.DATA_DIR}", backups.db_image(17))
    if new_volume == nb16.OLD_DATA:
        return  # PostgreSQL 17 stops at once on 15's files
    backups.wait_ready(new)
    run(way, "cp", str(dump), f"{new}:/tmp/terminal.dump")
    run(way, "exec", new, "pg_restore", "-U", "postgres", "--clean", "--if-exists", "-d", "postgres",
        "/tmp/terminal.dump")  # fmt: skip


def _fast(way: str, dockerfile: str) -> None:
    """Exercise 07.1: the starter's Dockerfile edited in its folder, then built from that folder."""
    path = nb07.fast_starter()
    path.write_text(dockerfile)
    ref = course.image("ex-fast", "1")
    if way == "terminal":
        terminal("build", "-q", "-t", ref, str(path.parent))
    else:
        docker("build", "-q", "-t", ref, str(path.parent), show=False, echo=False)


PATCHED_16_3 = nb16.STARTER.replace(
    "RUN apt-get update",
    'RUN echo "deb http://deb.debian.org/debian-security bookworm-security main" > /etc/apt/sources.list.d/s.list \\\n'
    " && apt-get update",
)

def _db(way: str, *command: str, into: Path | None = None) -> None:
    """``docker exec DB COMMAND`` (``> into``), DB being the compose-named database of notebook 13."""
    args = ("exec", compose.container("db"), *command)
    if way == "terminal":
        terminal(*args, into=into)
    else:
        out = docker(*args, show=False, echo=False).output
        if into is not None:
            into.write_text(out)


def _dataset(way: str, title: str) -> None:
    """Exercise 13.2: a row added with psql (the app's API is the notebook's way; the checker reads the table)."""
    row = f"INSERT INTO catalog (title, variable) VALUES ('{title}', 'sea_water_temperature')"
    _db(way, "psql", "-U", "postgres", "-tAc", row)


DECOY_NAMES = {"container": "decoy", "volume": "decoy-vol", "network": "decoy-net"}


def _decoys_removed(way: str, kinds: tuple[str, ...]) -> None:
    """Exercise 14.2: notebook 14's four unlabelled decoys made afresh, then those of ``kinds`` removed."""
    names = {kind: course.name(suffix) for kind, suffix in DECOY_NAMES.items()}
    names["image"] = f"{course.namespace()}/decoy:1"
    cleanup.remove_named(**names)
    for made in (
        ("create", "--name", names["container"], "busybox", "true"),
        ("volume", "create", names["volume"]),
        ("network", "create", names["network"]),
        ("tag", "busybox:latest", names["image"]),
    ):
        terminal(*made)
    remove = {"container": ("rm", "-f"), "volume": ("volume", "rm"), "network": ("network", "rm")}
    remove["image"] = ("image", "rm")
    for kind in kinds:
        run(way, *remove[kind], names[kind])


CASES = [
    Case(
        "03.2",
        lambda w: _user_image(w, "USER 10001"),
        lambda w: _user_image(w, "LABEL user=root"),
        "still run as root",
        "USER",
        (("image", "ex-user"),),
    ),
    Case(
        "00.1",
        lambda w: run(w, "run", "--name", _name("ex-hello"), "busybox", "echo", "Hello, ocean!"),
        lambda w: run(w, "run", "--name", _name("ex-hello"), "busybox", "echo", "Hello, sea!"),
        "not 'Hello, ocean!'",
        "exact words",
        (("container", "ex-hello"),),
    ),
    Case(
        "01.1",
        lambda w: run(w, "run", "--name", _name("ex-summary"), course.image("ocean-numpy", "1")),
        lambda w: run(w, "run", "--name", _name("ex-summary"), "busybox", "echo", "hourly observations"),
        "/ocean-numpy:1.",
        "",
        (("container", "ex-summary"),),
        _summary_image,
    ),
    Case(
        "02.2",
        lambda w: run(w, "run", "-d", "--name", _name("ex-small"), "-m", "64m", "busybox", "sleep", "60"),
        lambda w: run(w, "run", "-d", "--name", _name("ex-small"), "-m", "32m", "busybox", "sleep", "60"),
        "not 64",
        "-m 64m",
        (("container", "ex-small"),),
    ),
    Case(
        "06.1",
        lambda w: _survey(w, "/data/survey.txt"),
        lambda w: _survey(w, "/survey.txt"),  # written into the container, not into the volume
        "from /data/survey.txt",
        "-v NAME:/data",
        (("volume", "ex-survey"),),
    ),
    Case(
        "06.2",
        lambda w: _owner(w, *volumes.as_you()),
        lambda w: _owner(w),
        "belongs to root",
        "--user UID:GID",
        (("container", "ex-owner"),),
    ),
    Case(
        "03.1",
        lambda w: run(w, "run", "--name", _name("ex-readonly"), "--read-only", "busybox", "true"),
        lambda w: run(w, "run", "--name", _name("ex-readonly"), "busybox", "true"),
        "can write to its root filesystem",
        "--read-only",
        (("container", "ex-readonly"),),
    ),
    Case(
        "04.2",
        lambda w: _services_back(w, start=True),
        lambda w: _services_back(w, start=False),
        "2 of the 5 services would stay down",
        "docker update",
        (),
        _services_afresh,
    ),
    Case(
        "05.2",
        lambda w: build(w, course.image("ex-slim", "1"), ONE_LAYER),
        lambda w: build(w, course.image("ex-slim", "1"), nb05.SLIM_STARTER),
        "adds 3 filesystem layer(s)",
        "One RUN",
        (("image", "ex-slim"),),
    ),
    Case(
        "07.2",
        lambda w: run(w, "run", "-d", "--name", _name("ex-worker"), "--restart", "unless-stopped", *_WORKER),
        lambda w: run(w, "run", "-d", "--name", _name("ex-worker"), "--restart", "always", *_WORKER),
        "not 'unless-stopped'",
        "unless-stopped",
        (("container", "ex-worker"),),
    ),
    Case(
        "07.5",
        lambda w: run(w, "run", *_fetch("--network", _name("stations"))),
        lambda w: run(w, "run", *_fetch()),
        "where the API's name means nothing",
        "--network",
        (("container", "ex-fetch"),),
        lambda: _station_api(),
    ),
    Case(
        "08.1",
        lambda w: build(w, course.image("ex-env", "1"), ENV_DOCKERFILE.format("degC")),
        lambda w: build(w, course.image("ex-env", "1"), ENV_DOCKERFILE.format("K")),
        "UNITS='K', not 'degC'",
        "ENV UNITS=degC",
        (("image", "ex-env"),),
    ),
    Case(
        "08.2",
        lambda w: build(w, course.image("ex-stop", "1"), TRAPPED_LOGGER),
        lambda w: build(w, course.image("ex-stop", "1"), nb08.LOGGER),
        "process 1 ignored SIGTERM",
        "trap 'exit 0' TERM",
        (("image", "ex-stop"),),
    ),
    Case(
        "09.2",
        lambda w: build(w, course.image("ex-scratch", "1"), SCRATCH.format("scratch")),
        lambda w: build(w, course.image("ex-scratch", "1"), SCRATCH.format("busybox")),
        "is built on a base image",
        "FROM scratch",
        (("image", "ex-scratch"),),
    ),
    Case(
        "09.3",
        lambda w: build(w, course.image("ex-tide", "1"), _tide(fixed=True)),
        lambda w: build(w, course.image("ex-tide", "1"), _tide(fixed=False)),
        "is compiled for",
        "ARG TARGETARCH",
        (("image", "ex-tide"),),
    ),
    Case(
        "10.1",
        lambda w: _qc_build(w, "1", multi=True),
        lambda w: _qc_build(w, "1", multi=False),
        "not below 10 MB yet",
        "COPY --from",
        (("image", "ex-qc"),),
    ),
    Case(
        "10.2",
        lambda w: _qc_build(w, "builder", multi=True, target="builder"),
        lambda w: _qc_build(w, "builder", multi=True),
        "has no gcc or no shell",
        "--target builder",
        (("image", "ex-qc:builder"),),
    ),
    Case(
        "11.1",
        lambda w: run(w, "run", "-d", "--name", _name("ex-limited"), "-m", "50m", "busybox", "sleep", "600"),
        lambda w: run(w, "run", "-d", "--name", _name("ex-limited"), "-m", "40m", "busybox", "sleep", "600"),
        "not 50 MiB",
        "-m 50m",
        (("container", "ex-limited"),),
    ),
    Case(
        "12.1",
        lambda w: run(
            w,
            "run",
            "-d",
            "--name",
            _name("ex-harvester"),
            "-v",
            f"{_name('ex-data')}:/data",
            "--log-opt",
            "max-size=100k",
            "busybox",
            "sleep",
            "600",
        ),
        lambda w: run(
            w,
            "run",
            "-d",
            "--name",
            _name("ex-harvester"),
            "-v",
            f"{_name('ex-data')}:/data",
            "busybox",
            "sleep",
            "600",
        ),
        "not limited",
        "--log-opt max-size",
        (("container", "ex-harvester"), ("volume", "ex-data")),
    ),
    Case(
        "12.2",
        lambda w: run(w, "update", "--restart", "unless-stopped", _name("ex-service")),
        lambda w: run(w, "update", "--restart", "always", _name("ex-service")),
        "not 'unless-stopped'",
        "docker update --restart unless-stopped",
        (),
        lambda: _service(),
    ),
    Case(
        "12.3",
        lambda w: _harvester(w, *volumes.as_you()),
        lambda w: _harvester(w, "--user", "0"),
        "runs as root",
        "--user UID:GID",
        (("container", "ex-harvest-fixed"),),
        lambda: images.build(course.image("harvester", "2"), casestudy.harvester_context(), show=False, echo=False),
    ),
    Case(
        "12.4",
        lambda w: _gridder(w, "-m", "128m"),
        lambda w: _gridder(w, "-m", "80m", "--memory-swap", "80m"),
        "killed for memory again",
        "how much the job loads",
        (("container", "ex-gridder"),),
        lambda: images.build(course.image("gridder", "1"), casestudy.gridder_context(), show=False, echo=False),
    ),
    Case(
        "13.1",
        lambda w: _db(w, "pg_dump", "-U", "postgres", into=nb13.backup_file()),
        lambda w: _db(w, "psql", "-U", "postgres", "-c", "SELECT * FROM catalog", into=nb13.backup_file()),
        "is not a pg_dump file",
        "SELECT output is not a backup",
        (),
        _catalog_db,
    ),
    Case(
        "13.2",
        lambda w: _dataset(w, "learner-dataset"),
        lambda w: _dataset(w, "learner dataset"),
        "no dataset titled exactly 'learner-dataset'",
        "the title exactly so",
        (),
        _catalog_db,
    ),
    Case(
        "14.2",
        lambda w: _decoys_removed(w, ("container", "volume", "network", "image")),
        lambda w: _decoys_removed(w, ("container",)),
        "still there: volume, network, image.",
        "docker volume rm",
        (),
    ),
    Case(
        "15.1",
        lambda w: _erddap(w, "-m", "256m", "--memory-swap", "256m"),
        lambda w: _erddap(w, "-m", "256m", "--memory-swap", "256m", "-e", "CATALINA_OPTS=-Xmx1g"),
        "the kernel kills it",
        "Take -Xmx out",
        (("container", "ex-erddap"),),
        _tomcat,
    ),
    Case(
        "15.2",
        lambda w: _catalog(w, "/etc/dmac"),
        lambda w: _catalog(w, "/etc/dmac/datasets.xml"),
        "mounts one file",
        "Mount the folder instead",
        (("container", "ex-catalog"),),
        _tomcat,
    ),
    Case(
        "07.1",
        lambda w: _fast(w, dockerfiles.text("07-slow-fixed")),
        lambda w: _fast(w, dockerfiles.text("07-slow")),
        "the install ran again",
        "Which step copies report.sh?",
        (("image", "ex-fast"),),
    ),
    Case(
        "16.1",
        lambda w: _restore(w),
        lambda w: _restore(w, volume=False),
        "keeps its data in its writable layer",
        "-v ",
        (("container", "ex-restored"), ("volume", "ex-restored-data")),
        _db_image,
    ),
    Case(
        "16.2",
        lambda w: _quiet(w, "--log-opt", "max-size=10m", "--log-opt", "max-file=3"),
        lambda w: _quiet(w, "--log-opt", "max-file=3"),
        "has no size limit",
        "max-file alone",
        (("container", "ex-quiet"),),
        _access_log,
    ),
    Case(
        "16.3",
        lambda w: build(w, course.image(*nb16.PATCHED), PATCHED_16_3),
        lambda w: build(w, course.image(*nb16.PATCHED), nb16.STARTER),
        "with a security fix waiting",
        "suites its sources list",
        (("image", "ex-patched"),),
    ),
    Case(
        "16.4",
        lambda w: _tls_proxy(w, fixed=True),
        lambda w: _tls_proxy(w, fixed=False),
        "the page links to http://",
        "from the request it receives",
        (("container", "ex-proxy"),),
        _proxy_backend,
    ),
    Case(
        "16.5",
        lambda w: _upgrade(w),
        lambda w: _upgrade(w, new_volume=nb16.OLD_DATA),
        "the PostgreSQL 15 files",
        "A new volume",
        (("container", "ex-db17"), ("volume", "ex-db17-data")),
        _old_db,
    ),
]


def _ref(kind: str, suffix: str) -> str:
    """A made resource's name: ``ex-qc:builder`` is that image, a bare image name has tag 1."""
    if kind == "image":
        repo, _, tag = suffix.partition(":")
        return course.image(repo, tag or "1")
    return course.name(suffix)


def _exists(dc, kind: str, ref: str) -> bool:
    import docker as sdk

    get = {"container": dc.containers.get, "volume": dc.volumes.get, "image": dc.images.get}[kind]
    try:
        get(ref)
        return True
    except sdk.errors.NotFound:
        return False


def _forget(case: Case) -> None:
    """Remove whatever an earlier step left under the exercise's names (labelled or not)."""
    for kind, suffix in case.made:
        ref = _ref(kind, suffix)
        if kind == "image":
            docker("rmi", "-f", ref, check=False, show=False, echo=False)
        else:
            cleanup.remove_named(**{kind: ref})
    if case.id == "06.2":
        (nb06.exercise_folder() / "result.txt").unlink(missing_ok=True)
    if case.id == "12.3":
        casestudy.harvest_folder()  # emptied: no records of an earlier attempt
    if case.id == "13.1":
        nb13.backup_file().unlink(missing_ok=True)
    if case.id == "13.2":
        _db("helper", "psql", "-U", "postgres", "-tAc", "DELETE FROM catalog WHERE title ILIKE '%learner%'")
    if case.id == "14.2":
        _decoys_removed("helper", ("container", "volume", "network", "image"))  # made afresh, then removed


@pytest.fixture(scope="module")
def decoys(request):
    made = isolation.create()
    yield made
    isolation.remove(made)


@pytest.fixture(autouse=True)
def _learner_mode() -> None:
    exercises.configure(solutions=False)


@pytest.mark.parametrize("way", WAYS)
@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_answered_either_way_then_cleaned_up(dc, decoys, case: Case, way: str) -> None:
    if (kind := exercises.get(case.id).needs) and (sentence := engine.limitation(kind)):
        pytest.skip(sentence)  # the notebook skips it here too, saying this
    if case.setup:
        case.setup()
    _forget(case)
    # a learner's own volume, named like the exercise's: never recorded, never removed
    own = dc.volumes.create(course.name("ex-survey-mine"))
    try:
        case.near_miss(way)
        near = exercises.evaluate(case.id)
        assert not near.ok and case.says in near.message and case.hint in near.hint, near
        _forget(case)
        case.answer(way)
        verdict = exercises.evaluate(case.id)
        assert verdict.ok, verdict
        nb = case.id.split(".")[0]
        removed = {(r.kind, r.name) for r in cleanup.tidy(nb, verbose=False)}
        for kind, suffix in case.made:
            ref = _ref(kind, suffix)
            assert (kind, ref) in removed and not _exists(dc, kind, ref), f"{kind} {ref} was left behind"
        own.reload()
        assert isolation.problems(decoys) == []
    finally:
        _forget(case)
        own.remove(force=True)


def test_a_resource_remade_after_the_check_is_not_removed(dc) -> None:
    box = course.name("ex-hello")
    cleanup.remove_named(container=box)
    terminal("run", "--name", box, "busybox", "echo", "Hello, ocean!")
    assert exercises.evaluate("00.1").ok
    terminal("rm", box)
    terminal("create", "--name", box, "busybox", "true")  # the learner's own now, same name, new id
    try:
        assert records.sweep(notebook="00") == []
        assert dc.containers.get(box)
    finally:
        cleanup.remove_named(container=box)


def test_a_record_outside_the_exercise_names_is_ignored(dc, decoys) -> None:
    """A hand-edited record naming a learner's container (its true id) removes nothing."""
    name = decoys.names["stopped"]
    made = records.read()
    records.write([*made, records.Made("00.1", "container", name, decoys.ids["stopped"])])
    assert not records.note("00.1", "container", name, dc.containers.get(name))
    assert records.sweep(notebook="00") == []
    assert isolation.problems(decoys) == []


def _deepest_added(diff: str) -> str:
    """The added path a learner picks from ``docker diff``: the deepest ``A`` line (folders come first)."""
    return max((line[2:] for line in diff.splitlines() if line.startswith("A ")), key=lambda p: p.count("/"))


# Exercises answered with a value: the terminal command a learner types, and what they copy
READ_OFF: dict[str, tuple[tuple[str, ...], Callable[[str], str]]] = {
    "00.2": (("info", "--format", "{{.DockerRootDir}}"), str.strip),
    "02.1": (("run", "--rm", "--cpus", "0.5", "busybox", "nproc"), str.strip),
    "05.1": (("diff", "{mystery}"), _deepest_added),
    "14.1": (("ps", "-aq", "--filter", "label={label}"), lambda out: str(len(out.split()))),
}


@pytest.mark.parametrize("id", READ_OFF)
def test_an_answer_read_off_a_terminal_is_accepted(dc, id: str) -> None:
    """The value exercises take is what the learner's terminal prints, copied as it is (or counted)."""
    command, copied = READ_OFF[id]
    mystery = nb05.make_mystery() if id == "05.1" else ""
    if id == "14.1":  # something to count: labelled containers running and exited, and one without the label
        nb14.make_containers()
    try:
        args = [a.replace("{mystery}", mystery).replace("{label}", course.label_filter()) for a in command]
        verdict = exercises.evaluate(id, copied(terminal(*args)))
        assert verdict.ok, verdict
    finally:
        if mystery:
            cleanup.remove_named(container=mystery)
        if id == "14.1":
            nb14.remove_containers()


# Every exercise either has a terminal case above (CASES, READ_OFF) or is listed here with why not: each is done to
# the daemon (or to a file, or to Prometheus) too, and tested so in the file named or the notebooks' solutions runs.
ELSEWHERE = {
    "03.3": "a gate script the learner edits (any editor), run by the checker on three images: test_signing.py",
    "11.3": "a query asked of Prometheus (its page, curl), read from its query log: test_monitor.py (curl)",
    "01.2": "a value read off a container (its Python's version): tested in test_near_miss.py",
    "04.1": "a value read off `docker version`: tested by notebook 04's runs (it restarts the daemon)",
    "07.3": "a digest read off `docker push`: needs the course registry (test_registry.py)",
    "07.4": "a container by digest on the course registry: test_registry.py",
    "08.3": "a healthcheck's verdict on the daemon: test_near_miss.py",
    "09.1": "a value read off `docker image inspect`: test_near_miss.py",
    "11.2": "a container's name read off `docker stats`: test_near_miss.py",
    "13.3": "a Compose stack's healthcheck on the daemon: test_near_miss.py",
}


def test_every_exercise_is_answered_from_a_terminal_here_or_says_why_not() -> None:
    exercises.load_all()
    tried = {c.id for c in CASES} | set(READ_OFF)
    assert not tried & set(ELSEWHERE)
    assert set(exercises.REGISTRY) == tried | set(ELSEWHERE)
