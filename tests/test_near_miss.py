"""Near misses: every exercise's checker rejects a plausible wrong answer with the hint a learner needs.

The answer is made for real on the daemon (a container run with nearly the right options, an image built
from nearly the right Dockerfile), or, for an exercise answered with a value, a plausible wrong value (read
from the daemon where it can be). A near-miss test is named ``test_NN_M_...`` (or ``test_exercise_NN_M_...``) after
its exercise, here or in the test file of the exercise's subject: 03.3 in test_signing.py, 07.3 and 07.4
in test_registry.py (they need the course registry); test_terminal_answers.py adds near misses typed in a
terminal. ``test_every_exercise_has_a_near_miss_test`` fails when an exercise of the registry has none.

Each test builds or runs only what it names in this namespace and removes it again (``made``).
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from helpers import exercises
from helpers.core import cleanup, course, engine, images
from helpers.core.daemon import client
from helpers.core.shell import docker, docker_out
from helpers.exercises import nb03
from helpers.lessons import compose, dockerfiles, volumes
from tests.support import CATALOG_DB_IMAGE, QC_MULTI_STAGE, Made, start_catalog_db


@pytest.fixture(autouse=True)
def _no_solutions() -> None:
    exercises.configure(solutions=False)


def _run(made: Made, suffix: str, *args: str) -> str:
    """``docker run --name name(suffix) ARGS`` (labelled), recorded for clean-up; returns the name."""
    box = course.name(suffix)
    docker("rm", "-f", box, show=False, echo=False)
    made["containers"].append(box)
    docker("run", "--name", box, *args, show=False, echo=False)
    return box


def _build(made: Made, ref: str, dockerfile: str, files: dict[str, str] | None = None) -> str:
    made["images"].append(ref)
    images.build(ref, images.context(ref.split("/")[-1].replace(":", "-"), {"Dockerfile": dockerfile, **(files or {})}))
    return ref


def _rejected(verdict: exercises.Verdict, message: str, hint: str = "") -> None:
    assert not verdict.ok, verdict.message
    assert message in verdict.message, verdict.message
    assert hint in verdict.hint, verdict.hint


PYTHON_DOCKERFILE = f"FROM debian:bookworm-slim\n{dockerfiles.PYTHON_LINE}\n"


# ------------------------------------------------------------------------------------------------ 00


def test_00_1_run_with_rm_or_the_right_words_from_another_image(made) -> None:
    box = course.name("ex-hello")
    docker("rm", "-f", box, show=False, echo=False)
    docker("run", "--rm", "--name", box, "busybox", "echo", "Hello, ocean!", show=False, echo=False)
    _rejected(exercises.evaluate("00.1"), f"there is no container called {box}")  # the exercise says: without --rm
    _run(made, "ex-hello", "debian:bookworm-slim", "echo", "Hello, ocean!")
    _rejected(exercises.evaluate("00.1"), "not busybox")


def test_00_2_the_folder_above_or_the_storage_driver() -> None:
    root = client().info()["DockerRootDir"]
    _rejected(exercises.evaluate("00.2", str(Path(root).parent)), "holds the daemon's folder", "DockerRootDir")
    _rejected(exercises.evaluate("00.2", client().info()["Driver"]), "is not what the daemon reports", "{{json .}}")
    assert exercises.evaluate("00.2", root + "/").ok  # a trailing slash names the same folder


# ------------------------------------------------------------------------------------------------ 01


def test_01_1_the_plain_image_instead_of_the_pinned_one_or_run_with_rm(made) -> None:
    plain = _build(made, course.image("ocean-plain", "1"), "FROM busybox\nLABEL image=plain\n")
    _build(made, course.image("ocean-numpy", "1"), "FROM busybox\nLABEL image=pinned\n")
    docker("rm", "-f", course.name("ex-summary"), show=False, echo=False)
    docker("run", "--rm", "--name", course.name("ex-summary"), plain, "true", show=False, echo=False)
    _rejected(exercises.evaluate("01.1"), "there is no container called")  # the exercise says: without --rm
    _run(made, "ex-summary", plain, "echo", "hourly observations")
    _rejected(exercises.evaluate("01.1"), f"runs ['{plain}'], not {course.image('ocean-numpy', '1')}")


def test_01_2_pythons_own_version_or_another_package(made) -> None:
    _build(made, course.image("ocean-plain", "1"), PYTHON_DOCKERFILE)
    _rejected(exercises.evaluate("01.2", "3.11.2"), "is the start of it", "dpkg-query -W python3")  # --version's
    _rejected(exercises.evaluate("01.2", "1.24.2"), "is not the python3 package of the plain image")  # numpy's
    assert exercises.evaluate("01.2", "python3\t3.11.2-1+b1").ok  # Debian 12's, as dpkg-query -W prints it
    assert exercises.evaluate("01.2", "python3=3.11.2-1+b1").ok  # as apt spells a version (notebook 03 prints it)


# ------------------------------------------------------------------------------------------------ 02


def test_02_1_the_quota_instead_of_the_cpus_a_container_sees() -> None:
    _rejected(exercises.evaluate("02.1", "0.5"), "is what the limit allows in CPU time", "does not hide processors")
    _rejected(exercises.evaluate("02.1", "half"), "answer with a number of CPUs")
    seen = docker_out("run", "--rm", "--cpus", "0.5", "busybox", "nproc")
    assert exercises.evaluate("02.1", seen).ok and exercises.evaluate("02.1", int(seen)).ok  # text or number


def test_02_2_a_memory_reservation_instead_of_a_limit(made) -> None:
    _run(made, "ex-small", "-d", "--memory-reservation", "64m", "busybox", "sleep", "60")
    _rejected(exercises.evaluate("02.2"), "has no memory limit", "-m 64m")


def test_02_2_64_mb_in_decimal_megabytes(made) -> None:
    _run(made, "ex-small", "-d", "-m", "64000000b", "busybox", "sleep", "60")
    _rejected(exercises.evaluate("02.2"), "is limited to 61 MiB, not 64", "-m 64m")


def test_02_2_another_image_or_another_command(made) -> None:
    box = _run(made, "ex-small", "-d", "-m", "64m", "debian:bookworm-slim", "sleep", "60")
    _rejected(exercises.evaluate("02.2"), "not busybox", "Start it from busybox")
    docker("rm", "-f", box, show=False, echo=False)
    _run(made, "ex-small", "-d", "-m", "64m", "busybox", "sleep", "600")
    _rejected(exercises.evaluate("02.2"), "runs 'sleep 600', not 'sleep 60'", "the command sleep 60")
    docker("rm", "-f", box, show=False, echo=False)
    _run(made, "ex-small", "-d", "-m", "64m", "busybox", "sh", "-c", "sleep 60")
    assert exercises.evaluate("02.2").ok  # the same command, inside a shell
    for spelled in ("60s", "1m"):  # the same minute, as sleep also takes it
        docker("rm", "-f", box, show=False, echo=False)
        _run(made, "ex-small", "-d", "-m", "64m", "busybox", "sleep", spelled)
        verdict = exercises.evaluate("02.2")
        assert verdict.ok, verdict.message


# ------------------------------------------------------------------------------------------------ 03


def test_03_1_a_read_only_mount_instead_of_a_read_only_root(made, tmp_path) -> None:
    _run(made, "ex-readonly", "-v", f"{tmp_path}:/data:ro", "busybox", "true")
    _rejected(exercises.evaluate("03.1"), "can write to its root filesystem", "--read-only")


def test_03_2_a_user_created_but_never_switched_to(made) -> None:
    made["images"].append(course.image("ex-user", "1"))
    answer = "FROM debian:bookworm-slim\nRUN useradd --uid 10001 ocean\n"
    _rejected(exercises.evaluate("03.2", answer), "still run as root (id -u prints 0)", "Add a USER line")
    _rejected(exercises.evaluate("03.2", "USER 10001\nFROM busybox\n"), "does not build", "busybox and debian")
    _rejected(exercises.evaluate("03.2", "FROM busybox\nUSER 0\n"), "still run as root", "USER")


def test_03_2_any_spelling_of_a_base_this_machine_has_is_right_work(made) -> None:
    # the review: FROM docker.io/library/busybox and ARG + FROM $BASE were refused by a check of the FROM line
    made["images"].append(course.image("ex-user", "1"))
    for answer in ("FROM docker.io/library/busybox\nUSER 10001\n", "ARG BASE=busybox\nFROM $BASE\nUSER 10001:10001\n"):
        verdict = exercises.evaluate("03.2", answer)
        assert verdict.ok and "uid 10001" in verdict.message, (answer, verdict)
    nb03.reset()
    first = exercises.evaluate("03.2")  # nothing done yet: it says what to do, and gives no hint away
    assert not first.ok and "no answer and no image" in first.message and first.hint == "", first


# ------------------------------------------------------------------------------------------------ 04


def _services() -> dict[str, tuple[str, bool]]:
    """Notebook 04's five services as dealt: name -> (restart policy, running)."""
    from helpers.exercises import nb04

    nb04.make_services()
    out = {}
    for box in nb04.services():
        policy, running = docker_out(
            "inspect", "--format", "{{.HostConfig.RestartPolicy.Name}} {{.State.Running}}", box
        ).split()
        out[box] = (policy, running == "true")
    return out


@pytest.fixture
def services() -> Iterator[dict[str, tuple[str, bool]]]:
    if sentence := engine.limitation("live-restore"):
        pytest.skip(sentence)
    from helpers.exercises import nb04

    yield _services()
    for box in nb04.services():
        cleanup.remove_named(container=box)


def test_04_1_every_running_one_the_stopped_always_or_a_string(services) -> None:
    from helpers.exercises import nb04

    back = [box for box, (policy, running) in services.items() if nb04.comes_back(policy, running)]
    no_policy = next(box for box, (policy, _) in services.items() if policy == "no")
    _rejected(exercises.evaluate("04.1", [*back, no_policy]), f"{no_policy} stays down", "restart policy")
    stopped_always = next(box for box, (p, up) in services.items() if p == "always" and not up)
    _rejected(
        exercises.evaluate("04.1", [b for b in back if b != stopped_always]),
        f"{stopped_always} comes back too",
        "restart policy",
    )
    _rejected(exercises.evaluate("04.1", ", ".join(back)), "answer with a list of container names")
    assert exercises.evaluate("04.1", back).ok


def test_04_2_a_recreated_service_on_failure_or_one_left_stopped(services) -> None:
    from helpers.exercises import nb04

    first = nb04.services()[0]
    untouched = exercises.evaluate("04.2")  # nothing tried yet: the count, and no hint before a first attempt
    assert not untouched.ok and "would stay down" in untouched.message and not untouched.hint, untouched
    for box in nb04.services():
        docker("update", "--restart", "unless-stopped", box, show=False, echo=False)
    held = sum(1 for _, up in services.values() if not up)  # stopped by hand: a policy alone does not start them
    _rejected(exercises.evaluate("04.2"), f"{held} of the 5 services would stay down", "docker update")
    for box in nb04.services():
        docker("start", box, show=False, echo=False)
    docker("update", "--restart", "on-failure", first, show=False, echo=False)
    _rejected(exercises.evaluate("04.2"), "has --restart on-failure", "unless-stopped or always")
    docker("rm", "-f", first, show=False, echo=False)  # recreated, as from a terminal: no label
    docker("run", "-d", "--name", first, "--restart", "always", "busybox", "sleep", "600", label=False,
           show=False, echo=False)
    _rejected(exercises.evaluate("04.2"), f"{first} is a new container", "docker update")
    docker("rm", "-f", first, show=False, echo=False)


# ------------------------------------------------------------------------------------------------ 05


def test_05_1_the_folder_or_the_deleted_file(made) -> None:
    from helpers.exercises import nb05

    made["containers"].append(nb05.make_mystery())
    _rejected(exercises.evaluate("05.1", "/var/lib/ocean/qc/"), "is a directory that holds the file", "deeper")
    _rejected(exercises.evaluate("05.1", "/etc/debian_version"), "was deleted (D), not added")


def test_05_2_the_starter_as_it_is_a_retag_and_the_one_layer_answer(made) -> None:
    from helpers.exercises import nb05

    slim = course.image("ex-slim", "1")
    _build(made, slim, nb05.SLIM_STARTER)  # unchanged: three layers, the 8 MB under a whiteout
    _rejected(exercises.evaluate("05.2"), "adds 3 filesystem layer(s) and 8.0 MB", "One RUN")
    same_run = "FROM debian:bookworm-slim\nRUN mkdir -p /srv/obs && echo 8000000 > /srv/obs/size.txt\n"
    docker("tag", _build(made, course.image("slim-debian", "1"), same_run), slim, show=False, echo=False)
    _rejected(exercises.evaluate("05.2"), "is not built FROM busybox")  # a re-tag of another image
    _build(made, slim, "FROM busybox\nRUN mkdir -p /srv/obs && echo 8 > /srv/obs/size.txt\n")
    _rejected(exercises.evaluate("05.2"), "says '8', not 8000000")
    one = nb05.SLIM_STARTER.replace("\nRUN wc", " \\\n && wc").replace("\nRUN rm", " \\\n && rm")
    _build(made, slim, one)
    verdict = exercises.evaluate("05.2")
    assert verdict.ok and "adds 1 layer" in verdict.message, verdict


# ------------------------------------------------------------------------------------------------ 06


def test_06_1_a_bind_mount_instead_of_a_volume(tmp_path) -> None:
    docker("volume", "rm", "-f", course.name("ex-survey"), show=False, echo=False)
    write = "echo 'CTD cast 17' > /data/survey.txt"
    docker("run", "--rm", "-v", f"{tmp_path}:/data", "busybox", "sh", "-c", write, show=False, echo=False)
    _rejected(exercises.evaluate("06.1"), f"there is no volume called {course.name('ex-survey')}")


def test_06_2_the_current_folder_instead_of_the_exercise_folder(made, tmp_path) -> None:
    from helpers.exercises import nb06

    nb06.exercise_folder()
    tmp_path.chmod(0o777)  # a folder the container may write to, only not the exercise's
    _run(made, "ex-owner", *volumes.as_you(), "-v", f"{tmp_path}:/out", "busybox", "touch", "/out/result.txt")
    _rejected(exercises.evaluate("06.2"), f"does not bind-mount {course.workdir('06', 'ex-owner')}")


def test_06_2_a_root_container_that_chowns_the_file(made) -> None:
    from helpers.exercises import nb06

    if not volumes.as_you():
        pytest.skip("rootless Docker: the container's root is the learner; a chown to another uid is not theirs")
    folder = nb06.exercise_folder()
    (folder / "result.txt").unlink(missing_ok=True)
    owner = f"{volumes.demo_uid()}:{volumes.demo_gid()}"
    write = f"touch /out/result.txt && chown {owner} /out/result.txt"
    _run(made, "ex-owner", "-v", f"{folder}:/out", "busybox", "sh", "-c", write)
    _rejected(exercises.evaluate("06.2"), "ran as root", "--user UID:GID")
    docker("run", "--rm", "-v", f"{folder}:/out", "busybox", "rm", "-f", "/out/result.txt", show=False, echo=False)


# ------------------------------------------------------------------------------------------------ 07


def _fast(made: Made, dockerfile: str | None, *, build: bool = True) -> None:
    """07.1 as a learner does it: the starter's folder, its Dockerfile edited (None: as dealt), then built."""
    from helpers.exercises import nb07

    made["images"] += [course.image("ex-fast", "1"), course.image("ex-fast", "check")]
    path = nb07.fast_starter()
    path.write_text(dockerfile if dockerfile is not None else dockerfiles.text("07-slow"))
    if build:
        docker("build", "-q", "-t", course.image("ex-fast", "1"), str(path.parent), show=False, echo=False)


def test_07_1_nothing_built_yet_or_edited_but_not_built(made) -> None:
    _fast(made, None, build=False)
    untouched = exercises.evaluate("07.1")
    _rejected(untouched, "no image", "")
    assert not untouched.hint  # nothing tried yet: no hint
    _fast(made, dockerfiles.text("07-slow-fixed"), build=False)
    _rejected(exercises.evaluate("07.1"), "no image")


def test_07_1_the_starter_built_as_it_is(made) -> None:
    _fast(made, None)
    _rejected(exercises.evaluate("07.1"), "the install ran again", "Which step copies report.sh?")


def test_07_1_copied_apart_but_in_the_wrong_order(made) -> None:
    answer = dockerfiles.SLOW_GOOD.replace("COPY report.sh /app/\n", "").replace(
        "COPY requirements.txt /app/\n", "COPY report.sh /app/\nCOPY requirements.txt /app/\n"
    )
    assert answer.index("report.sh /app/") < answer.index("RUN sleep 3")
    _fast(made, answer)
    _rejected(exercises.evaluate("07.1"), "the install ran again", "Which step copies report.sh?")


def test_07_1_a_fake_slow_step_before_the_copy(made) -> None:
    # the review's loophole: a cached `RUN echo sleep 3` early, the real install (no sleep) after `COPY .`
    answer = (
        "FROM busybox\nWORKDIR /app\nRUN echo sleep 3\nCOPY . /app/\n"
        "RUN sort requirements.txt > installed.txt\nCMD [\"sh\", \"report.sh\"]\n"
    )
    _fast(made, answer)
    _rejected(exercises.evaluate("07.1"), "keep the slow install step")
    # the same words in one step that does not sleep: built from nothing it takes no 3 s
    echoed = answer.replace("RUN sort requirements.txt", "RUN echo sleep 3 && sort requirements.txt")
    _fast(made, echoed)
    _rejected(exercises.evaluate("07.1"), "the install step no longer sleeps its 3 s", "move it")


def test_07_1_an_image_that_does_not_run_the_app(made) -> None:
    _fast(made, dockerfiles.text("07-slow-fixed").replace('CMD ["sh", "report.sh"]', 'CMD ["true"]'))
    _rejected(exercises.evaluate("07.1"), "does not run report.sh", "Keep CMD")


def test_07_2_restart_always_or_a_memory_reservation(made) -> None:
    box = _run(made, "ex-worker", "-d", "--restart", "always", "-m", "32m", "busybox", "sleep", "3600")
    _rejected(exercises.evaluate("07.2"), "restart policy is 'always', not 'unless-stopped'", "unless-stopped")
    docker("rm", "-f", box, show=False, echo=False)
    _run(
        made,
        "ex-worker",
        "-d",
        "--restart",
        "unless-stopped",
        "--memory-reservation",
        "32m",
        "busybox",
        "sleep",
        "3600",
    )
    _rejected(exercises.evaluate("07.2"), "memory limit is 0 bytes, not 32 MB", "-m 32m")


def test_07_2_another_image_or_the_default_command(made) -> None:
    limits = ("-d", "--restart", "unless-stopped", "-m", "32m")
    box = _run(made, "ex-worker", *limits, "debian:bookworm-slim", "sleep", "3600")
    _rejected(exercises.evaluate("07.2"), "not busybox", "Start it from busybox")
    docker("rm", "-f", box, show=False, echo=False)
    _run(made, "ex-worker", *limits, "-t", "busybox")  # a shell kept open by a terminal, not the worker
    _rejected(exercises.evaluate("07.2"), "runs 'sh', not 'sleep 3600'", "the command sleep 3600")
    docker("rm", "-f", box, show=False, echo=False)
    _run(made, "ex-worker", *limits, "busybox", "sleep", "1h")  # the same hour, spelled as sleep takes it
    verdict = exercises.evaluate("07.2")
    assert verdict.ok, verdict.message


def test_07_5_the_default_network_where_names_mean_nothing(made) -> None:
    net, api = course.name("stations"), course.name("obs-api")
    docker("network", "create", net, check=False, show=False, echo=False)
    made["networks"].append(net)
    serve = "mkdir -p /srv && echo station-46042-ok > /srv/index.html && httpd -f -p 8080 -h /srv"
    _run(made, "obs-api", "-d", "--network", net, "busybox", "sh", "-c", serve)
    get = f'exec 3<>/dev/tcp/{api}/8080 && printf "GET / HTTP/1.0\\r\\n\\r\\n" >&3 && tail -1 <&3'
    fetch = ["debian:bookworm-slim", "bash", "-c", get]
    docker("run", "--name", course.name("ex-fetch"), *fetch, check=False, show=False, echo=False)
    made["containers"].append(course.name("ex-fetch"))
    _rejected(exercises.evaluate("07.5"), "where the API's name means nothing", f"--network {net}")
    fake = ["busybox", "echo", "station-46042-ok"]  # the review's loophole: the words without a fetch
    docker("rm", "-f", course.name("ex-fetch"), show=False, echo=False)
    docker("run", "--name", course.name("ex-fetch"), "--network", net, *fake, show=False, echo=False)
    _rejected(exercises.evaluate("07.5"), "which never names the API")
    address = docker_out("inspect", "--format", f"{{{{(index .NetworkSettings.Networks \"{net}\").IPAddress}}}}", api)
    by_ip = ["debian:bookworm-slim", "bash", "-c", get.replace(f"/{api}/", f"/{address}/")]
    docker("rm", "-f", course.name("ex-fetch"), show=False, echo=False)
    docker("run", "--name", course.name("ex-fetch"), "--network", net, *by_ip, show=False, echo=False)
    _rejected(exercises.evaluate("07.5"), "asks an IP address", f"by its name, {api}")
    docker("rm", "-f", course.name("ex-fetch"), show=False, echo=False)
    docker("run", "--name", course.name("ex-fetch"), "--network", net, *fetch, show=False, echo=False)
    assert exercises.evaluate("07.5").ok


# ------------------------------------------------------------------------------------------------ 08


def test_08_1_exec_form_does_not_expand_and_a_fixed_text(made) -> None:
    ref = course.image("ex-env", "1")
    _build(made, ref, 'FROM busybox\nENV UNITS=degC\nCMD ["echo", "$UNITS"]\n')
    _rejected(exercises.evaluate("08.1"), "printed '$UNITS', not 'degC'", '"sh", "-c"')
    _build(made, ref, 'FROM busybox\nENV UNITS=degC\nCMD ["echo", "degC"]\n')
    _rejected(exercises.evaluate("08.1"), "print the variable, not a fixed text", "echo $UNITS")


def test_08_2_the_starter_a_kill_signal_or_a_logger_that_exits(made) -> None:
    from helpers.exercises import nb08

    ref = course.image("ex-stop", "1")
    made["containers"].append(course.name("ex-stop-check"))
    _build(made, ref, nb08.LOGGER)  # as written: process 1 is a shell with no handler
    _rejected(exercises.evaluate("08.2"), "process 1 ignored SIGTERM", "trap 'exit 0' TERM")
    _build(made, ref, nb08.LOGGER + "STOPSIGNAL SIGKILL\n")
    _rejected(exercises.evaluate("08.2"), "it stops at once because it is killed", "handler")
    _build(made, ref, 'FROM busybox\nCMD ["sh", "-c", "trap \'exit 0\' TERM; date >> /tmp/readings.log"]\n')
    _rejected(exercises.evaluate("08.2"), "exited at once")
    _build(made, ref, nb08.LOGGER.replace("while true;", "trap 'exit 0' TERM; while true;"))
    verdict = exercises.evaluate("08.2")
    assert verdict.ok and "handled SIGTERM" in verdict.message, verdict


# ------------------------------------------------------------------------------------------------ 09


def test_09_1_every_wheel_or_one_missing(made) -> None:
    from helpers.exercises import nb09

    ref = course.image("base-python", "1")
    made["images"].append(ref)
    images.build(ref, dockerfiles.context("09-python", show=False))
    everything = exercises.evaluate("09.1", nb09.WHEELS)
    _rejected(everything, "would not install", "sys_tags()")
    assert "numpy" in everything.message and "shapely" in everything.message  # musllinux; cp312
    _rejected(exercises.evaluate("09.1", ["netCDF4"]), "xarray would install too")
    _rejected(exercises.evaluate("09.1", "netCDF4, xarray"), "answer with a list of wheel file names")
    # Debian 12's CPython 3.11 and glibc 2.36: cp311 manylinux up to 2_36 on this CPU, and pure-Python wheels
    x86 = docker_out("info", "--format", "{{.Architecture}}") == "x86_64"
    expected = ["netCDF4", "xarray"] if x86 else ["xarray"]
    verdict = exercises.evaluate("09.1", expected)
    assert verdict.ok, verdict
    assert exercises.evaluate("09.1", [w for w in nb09.WHEELS if w.split("-")[0] in expected]).ok


def test_09_2_a_base_image_or_a_dynamic_binary(made) -> None:
    slim = course.image("ex-scratch", "1")
    _build(made, slim, 'FROM busybox\nCMD ["echo", "hi"]\n')
    _rejected(exercises.evaluate("09.2"), "is built on a base image", "FROM scratch")
    _build(made, slim, 'FROM scratch\nCOPY --from=debian:bookworm-slim /bin/ls /ls\nENTRYPOINT ["/ls"]\n')
    _rejected(exercises.evaluate("09.2"), "needs its loader and C library", "statically linked")
    one = 'FROM scratch\nCOPY --from=busybox /bin/busybox /busybox\nENTRYPOINT ["/busybox"]\nCMD ["echo", "hi"]\n'
    _build(made, slim, one)
    verdict = exercises.evaluate("09.2")
    assert verdict.ok and "one file in one layer" in verdict.message and "'hi'" in verdict.message, verdict


def test_09_3_the_other_platform_a_mislabelled_program_or_a_base_image(made) -> None:
    from helpers.exercises import nb09
    from helpers.lessons import arch

    ref, here = course.image("ex-tide", "1"), arch.native()
    there = arch.foreign(here)
    partner = nb09.tide(there)
    made["images"].append(ref)
    ctx = images.context("ex-tide-near", {"Dockerfile": partner})
    images.build(ref, ctx, "--platform", f"linux/{there}", show=False)  # the partner's build, as it was
    _rejected(exercises.evaluate("09.3"), f"is built for linux/{there}", f"--platform linux/{here}")
    images.build(ref, ctx, show=False)  # this machine's platform, still the partner's package
    _rejected(exercises.evaluate("09.3"), f"is compiled for {there}", "ARG TARGETARCH")
    _build(made, ref, 'FROM busybox\nCMD ["echo", "tide table ready"]\n')
    _rejected(exercises.evaluate("09.3"), "is built on a base image", "starter")
    fixed = partner.replace(f"ARG ARCH={there}", "ARG TARGETARCH\nARG ARCH=$TARGETARCH")
    images.build(ref, images.context("ex-tide-near", {"Dockerfile": fixed}), show=False)
    verdict = exercises.evaluate("09.3")
    assert verdict.ok and f"an {here} program" in verdict.message, verdict


# 08.3: the Dockerfile and script written as with an editor, built and run by the checker
WAIT_FOR = "until [ -e /tmp/db.ready ]; do sleep 1; done\n"
PROBE = "python3 -c \"import urllib.request; urllib.request.urlopen('http://127.0.0.1:8080/')\""


def _health_context(script: str, healthcheck: str | None = f"--interval=1s CMD {PROBE}") -> None:
    from helpers.exercises import nb08

    folder = nb08.health_folder()
    (folder / "wait-for.sh").write_text(f"#!/bin/sh\n{script}")
    lines = [f"FROM {course.image('anatomy-web', '1')}", "COPY --chmod=755 wait-for.sh /usr/local/bin/wait-for.sh"]
    lines += [f"HEALTHCHECK {healthcheck}"] if healthcheck else []
    lines += ['ENTRYPOINT ["wait-for.sh"]', 'CMD ["python3", "/srv/serve.py"]']
    (folder / "Dockerfile").write_text("\n".join(lines) + "\n")


@pytest.fixture  # per test, inside the test namespace (a module fixture is set up before it)
def web_image() -> Iterator[None]:
    from helpers.exercises import nb08

    images.build(course.image("anatomy-web", "1"), dockerfiles.context("08-web", show=False), show=False)
    yield
    for left in nb08.health_folder().iterdir():  # a notebook run here starts from the starter
        left.unlink()


NEAR_MISSES_08_3: dict[str, tuple[tuple[str] | tuple[str, str | None], str, str]] = {
    "no-exec": ((WAIT_FOR + '"$@"\n',), "PID 1 is", 'exec "$@"'),
    "always-true": ((WAIT_FOR + 'exec "$@"\n', "--interval=1s CMD true"), "never asks the server", "8080"),
    "echo-only": ((WAIT_FOR + 'exec "$@"\n', "--interval=1s CMD echo 8080"), "never asks the server", "8080"),
    "ignores-the-server": (
        (WAIT_FOR + 'exec "$@"\n', "--interval=1s CMD test 8080 -gt 0"),
        "HEALTHCHECK checks nothing",
        "8080",
    ),
    "no-healthcheck": ((WAIT_FOR + 'exec "$@"\n', None), "no HEALTHCHECK", ""),  # the starter's state: no hint yet
    "no-wait": (('exec "$@"\n',), "did not wait", "until"),
}


@pytest.mark.parametrize("case", NEAR_MISSES_08_3, ids=list(NEAR_MISSES_08_3))
def test_08_3_near_misses(web_image, case: str) -> None:
    args, message, hint = NEAR_MISSES_08_3[case]
    _health_context(*args)
    _rejected(exercises.evaluate("08.3"), message, hint)


def test_08_3_a_bounded_wait_then_exec(web_image) -> None:
    _health_context(
        'tries=0\nwhile [ ! -e /tmp/db.ready ] && [ $tries -lt 30 ]; do tries=$((tries+1)); sleep 1; done\nexec "$@"\n'
    )
    verdict = exercises.evaluate("08.3")
    assert verdict.ok, verdict
    assert docker_out("ps", "-aq", "--filter", f"name=^{course.name('ex-health')}$") == "", "the checker left it"
    # the image the checker built is recorded, so the notebook's clean-up removes exactly it
    removed = {(r.kind, r.name) for r in cleanup.tidy("08", verbose=False)}
    assert ("image", course.image("ex-health", "1")) in removed, removed


# ------------------------------------------------------------------------------------------------ 10


def _qc(made: Made, tag: str, dockerfile: str, *args: str) -> str:
    from helpers.exercises import nb10

    ref = course.image("ex-qc", tag)
    made["images"].append(ref)
    folder = nb10.qc_starter()
    (folder / "Dockerfile").write_text(dockerfile)
    images.build(ref, folder, *args, show=False)
    return ref


def test_10_1_the_starter_the_notebooks_tool_or_no_data(made) -> None:
    from helpers.exercises import nb10

    _qc(made, "1", nb10.QC_SINGLE)  # as given: right report, compiler included
    _rejected(exercises.evaluate("10.1"), "not below 10 MB yet", "COPY --from")
    _qc(made, "1", 'FROM busybox\nCMD ["echo", "/data/salinity.csv: 12 readings"]\n')
    _rejected(exercises.evaluate("10.1"), "not the QC report", "salinity.csv")
    _qc(made, "1", QC_MULTI_STAGE.replace("COPY salinity.csv /data/salinity.csv\n", ""))
    _rejected(exercises.evaluate("10.1"), "does not run", "ENTRYPOINT")
    _qc(made, "1", QC_MULTI_STAGE)
    verdict = exercises.evaluate("10.1")
    assert verdict.ok and "3 flagged" in verdict.message, verdict


def test_10_2_the_final_stage_without_target(made) -> None:
    from helpers.exercises import nb10

    _qc(made, "builder", QC_MULTI_STAGE)
    _rejected(exercises.evaluate("10.2"), "has no gcc or no shell", "--target builder")
    _qc(made, "builder", nb10.QC_SINGLE)  # the unchanged single-stage starter, only tagged builder
    _rejected(exercises.evaluate("10.2"), "has no stage named builder", "FROM … AS builder")
    (nb10.qc_starter() / "Dockerfile").write_text(QC_MULTI_STAGE)  # a builder stage now, but the image is the old one
    _rejected(exercises.evaluate("10.2"), "it is the whole image", "--target builder")
    _qc(made, "builder", QC_MULTI_STAGE, "--target", "builder")
    assert exercises.evaluate("10.2").ok


# ------------------------------------------------------------------------------------------------ 11


def test_11_1_a_limit_of_64_instead_of_50(made) -> None:
    _run(made, "ex-limited", "-d", "-m", "64m", "busybox", "sleep", "600")
    _rejected(exercises.evaluate("11.1"), "64 MiB, not 50 MiB", "-m 50m")


def test_11_1_a_container_that_already_exited(made) -> None:
    _run(made, "ex-limited", "-m", "50m", "busybox", "true")
    _rejected(exercises.evaluate("11.1"), "is exited: docker stats reports a limit only for a running container")


def test_11_2_an_idle_suspect_or_a_name_that_is_no_suspect(made) -> None:
    from helpers.exercises import nb11

    made["containers"].extend(nb11.make_suspects())
    time.sleep(1)  # let the burner's CPU time show in one stats sample
    burner = max(nb11.process_cpu(nb11.suspects()).items(), key=lambda item: item[1])[0]  # measured, as /proc says
    idle = next(box for box in nb11.suspects() if box != burner)
    started = {box: client().containers.get(box).id for box in nb11.suspects()}
    _rejected(exercises.evaluate("11.2", idle), "is one of the suspects, but not the one using CPU", "docker stats")
    again = {box: client().containers.get(box).id for box in nb11.suspects()}
    assert not set(started.values()) & set(again.values()), "a wrong guess starts every suspect again"
    time.sleep(1)
    burner = max(nb11.process_cpu(nb11.suspects()).items(), key=lambda item: item[1])[0]
    assert exercises.evaluate("11.2", burner).ok
    assert exercises.evaluate("11.2", burner.removeprefix(course.namespace() + "-")).ok  # without the prefix too
    _rejected(exercises.evaluate("11.2", course.name("busy")), "is not one of the suspects")


def test_11_2_two_wrong_names_then_only_the_docker_stats_line_counts(made) -> None:
    from helpers.exercises import nb11

    made["containers"].extend(nb11.make_suspects())
    if not engine.capabilities().cgroups:
        pytest.skip("without cgroups docker stats has no per-container figures: 11.2 takes names only")

    def burner() -> str:
        time.sleep(1)
        return max(nb11.process_cpu(nb11.suspects()).items(), key=lambda item: item[1])[0]

    for n in range(nb11.GUESSES):
        idle = next(box for box in nb11.suspects() if box != burner())
        said = "one of the suspects, but not the one using CPU"
        _rejected(exercises.evaluate("11.2", idle), said, "docker stats" if n == 0 else "the whole line")
    top = burner()
    _rejected(exercises.evaluate("11.2", top), "a name alone is not enough", "the whole line")
    _rejected(exercises.evaluate("11.2", f"{top}   50.00%   236KiB / 23GiB"), "no " + top + "'s container ID")
    line = next(ln for ln in docker_out("stats", "--no-stream", *nb11.suspects()).splitlines() if top in ln)
    assert exercises.evaluate("11.2", line).ok, line  # as docker stats printed it: ID, name, CPU % …
    assert exercises.evaluate("11.2", top).ok  # passed: the count starts again


# ------------------------------------------------------------------------------------------------ 12


def test_12_1_a_bind_mount_instead_of_a_volume(made, tmp_path) -> None:
    _run(made, "ex-harvester", "-d", "-v", f"{tmp_path}:/data", "--log-opt", "max-size=100k", "busybox", "sleep", "600")
    _rejected(exercises.evaluate("12.1"), "a bind mount, not a volume", "-v NAME:/data")


def test_12_1_a_volume_but_no_log_limit(made) -> None:
    made["volumes"].append(course.name("ex-data"))
    _run(
        made,
        "ex-harvester",
        "-d",
        "-v",
        f"{course.name('ex-data')}:/data",
        "--log-opt",
        "max-file=2",
        "busybox",
        "sleep",
        "600",
    )
    _rejected(exercises.evaluate("12.1"), "log is not limited", "--log-opt max-size")


def test_12_1_the_local_log_driver_is_a_right_answer(made) -> None:
    # the driver notebook 12 recommends rotates by itself: no --log-opt needed
    if engine.capabilities().product == engine.PODMAN:
        pytest.skip("Podman has no local log driver")
    made["volumes"].append(course.name("ex-data"))
    volume = f"{course.name('ex-data')}:/data"
    _run(made, "ex-harvester", "-d", "-v", volume, "--log-driver", "local", "busybox", "sleep", "600")
    verdict = exercises.evaluate("12.1")
    assert verdict.ok, verdict.message
    assert "rotates by itself" in verdict.message


def test_12_2_restart_always(made) -> None:
    box = _run(made, "ex-service", "-d", "busybox", "sleep", "600")
    docker("update", "--restart", "always", box, show=False, echo=False)
    _rejected(
        exercises.evaluate("12.2"), "restart policy is 'always', not 'unless-stopped'", "--restart unless-stopped"
    )


@pytest.fixture
def harvester(made) -> tuple[str, str]:
    """Exercise 12.3's image and a fresh data folder of the learner's (skipped where rootless: ``needs``)."""
    from helpers.core import engine
    from helpers.lessons import casestudy

    if sentence := engine.limitation(exercises.get("12.3").needs):
        pytest.skip(sentence)
    ref = course.image("harvester", "2")
    made["images"].append(ref)
    images.build(ref, casestudy.harvester_context(), show=False, echo=False)
    return ref, f"{casestudy.harvest_folder()}:/data"


def test_12_3_the_harvester_run_as_root(made, harvester) -> None:
    ref, data = harvester
    _run(made, "ex-harvest-fixed", "-d", "--user", "0", "-v", data, ref)
    _rejected(exercises.evaluate("12.3"), "runs as root (--user 0)", "--user UID:GID")


def test_12_3_the_folder_made_writable_for_everyone(made, harvester) -> None:
    from helpers.lessons import casestudy

    ref, data = harvester
    casestudy.harvest_folder(fresh=False).chmod(0o777)
    _run(made, "ex-harvest-fixed", "-d", "-v", data, ref)
    _rejected(exercises.evaluate("12.3"), "is writable by every user on the host (mode 777)", "chmod 755")


def test_12_3_a_volume_instead_of_the_folder(made, harvester) -> None:
    ref, _ = harvester
    made["volumes"].append(course.name("ex-harvest-data"))
    _run(made, "ex-harvest-fixed", "-d", "-v", f"{course.name('ex-harvest-data')}:/data", ref)
    _rejected(exercises.evaluate("12.3"), "does not bind-mount", "Keep -v FOLDER:/data")


def test_12_3_the_broken_command_again(made, harvester) -> None:
    ref, data = harvester
    _run(made, "ex-harvest-fixed", "-d", "--restart", "on-failure", "-v", data, ref)
    _rejected(exercises.evaluate("12.3"), "Permission denied", "docker logs NAME")


@pytest.fixture
def gridder(made) -> str:
    """Exercise 12.4's image (skipped where -m is not enforced: ``needs``)."""
    from helpers.core import engine
    from helpers.lessons import casestudy

    if sentence := engine.limitation(exercises.get("12.4").needs):
        pytest.skip(sentence)
    ref = course.image("gridder", "1")
    made["images"].append(ref)
    images.build(ref, casestudy.gridder_context(), show=False, echo=False)
    return ref


def test_12_4_a_limit_still_too_small(made, gridder) -> None:
    _run(made, "ex-gridder", "-d", "-m", "80m", "--memory-swap", "80m", gridder)
    _rejected(exercises.evaluate("12.4"), "was killed for memory again (OOMKilled true", "how much the job loads")


def test_12_4_no_limit_or_a_limit_far_above_the_need(made, gridder) -> None:
    _run(made, "ex-gridder", "-d", gridder)
    _rejected(exercises.evaluate("12.4"), "has no memory limit", "Keep a limit (-m)")
    _run(made, "ex-gridder", "-d", "-m", "2g", gridder)
    _rejected(exercises.evaluate("12.4"), "is 2048 MiB, more than 512 MiB", "at most -m 512m")


# ------------------------------------------------------------------------------------------------ 13


@pytest.fixture
def catalog_db(made) -> str:
    made["images"].append(course.image(*CATALOG_DB_IMAGE))
    made["containers"].append(compose.container("db"))
    return start_catalog_db()


def test_13_1_a_query_or_a_schema_instead_of_a_dump(catalog_db) -> None:
    from helpers.exercises import nb13

    backup = nb13.backup_file()
    backup.unlink(missing_ok=True)
    try:
        _rejected(exercises.evaluate("13.1"), "there is no")
        ask = ["exec", catalog_db, "psql", "-U", "postgres", "-c", "SELECT * FROM catalog"]
        backup.write_text(docker(*ask, show=False, echo=False).output)
        _rejected(exercises.evaluate("13.1"), "is not a pg_dump file", "SELECT output is not a backup")
        schema = ["exec", catalog_db, "pg_dump", "-U", "postgres", "-s"]
        backup.write_text(docker(*schema, show=False, echo=False).output)
        _rejected(exercises.evaluate("13.1"), "has the table but no rows")
        plain = docker("exec", catalog_db, "pg_dump", "-U", "postgres", show=False, echo=False).output
        backup.write_text(plain.replace("\n", "\r\n"))  # what `docker exec -t … > FILE` writes (a terminal's)
        _rejected(exercises.evaluate("13.1"), "went through a terminal", "exec -T")
        backup.write_text(plain)
        verdict = exercises.evaluate("13.1")
        assert verdict.ok and "its 3 datasets;" in verdict.message, verdict
        # pg_dump -Fc, the custom format production backups use: a right answer too
        code, custom = client().containers.get(catalog_db).exec_run(
            ["pg_dump", "-U", "postgres", "-Fc"], stdout=True, stderr=False
        )
        assert code == 0 and custom.startswith(b"PGDMP")
        backup.write_bytes(custom)
        verdict = exercises.evaluate("13.1")
        assert verdict.ok and "its 3 datasets;" in verdict.message, verdict
    finally:
        backup.unlink(missing_ok=True)


def test_13_2_a_title_with_a_space(catalog_db) -> None:
    sql = "INSERT INTO catalog (title, variable) VALUES ('learner dataset', 'sea_water_temperature')"
    docker("exec", catalog_db, "psql", "-U", "postgres", "-tAc", sql, show=False, echo=False)
    _rejected(
        exercises.evaluate("13.2"),
        "has 'learner dataset', but no dataset titled exactly 'learner-dataset'",
        "the title exactly so",
    )


# ------------------------------------------------------------------------------------------------ 14


def test_14_1_running_containers_only_or_a_name_filter() -> None:
    from helpers.exercises import nb14

    nb14.make_containers()  # two running and one exited with the label, one without it (the learner's own)
    try:
        running = len(docker_out("ps", "-q", "--filter", f"label={course.label_filter()}").split())
        _rejected(exercises.evaluate("14.1", running), "stopped ones count too", "docker ps -a")
        named = len(docker_out("ps", "-aq", "--filter", f"name=^{course.namespace()}-").split())
        _rejected(exercises.evaluate("14.1", named), "not all carry the course label", "by label, not by name")
        assert exercises.evaluate("14.1", 3).ok
    finally:
        nb14.remove_containers()


def test_14_2_the_container_removed_but_not_the_rest(made) -> None:
    made["volumes"].append(course.name("decoy-vol"))
    made["networks"].append(course.name("decoy-net"))
    docker("volume", "create", course.name("decoy-vol"), show=False, echo=False)
    docker("network", "create", course.name("decoy-net"), show=False, echo=False)
    _build(made, f"{course.namespace()}/decoy:1", "FROM busybox\nLABEL decoy=1\n")
    box = _run(made, "decoy", "-d", "busybox", "sleep", "600")
    docker("rm", "-f", box, show=False, echo=False)
    _rejected(exercises.evaluate("14.2"), "still there: volume, network, image.", "docker volume rm")


# ------------------------------------------------------------------------------------------------ all


NEAR_MISS_TEST = re.compile(r"^def test_(?:exercise_)?(\d\d)_(\d+)_", re.MULTILINE)


def test_every_exercise_has_a_near_miss_test() -> None:
    exercises.load_all()
    defined = {id for id in exercises.REGISTRY if re.fullmatch(r"\d\d\.\d+", id)}
    assert {id[:2] for id in defined} == {f"{n:02d}" for n in range(17)}, sorted(defined)  # all 17 notebooks
    tested = {
        f"{nn}.{m}"
        for path in Path(__file__).parent.glob("test_*.py")
        for nn, m in NEAR_MISS_TEST.findall(path.read_text())
    }
    assert not defined - tested, f"exercises without a near-miss test: {sorted(defined - tested)}"


# 13.3: the learner's compose file, written as with an editor; near misses are rejected before anything starts
CHECK = "    healthcheck:\n      test: {}\n"
HEALTHY_DB = CHECK.format('["CMD", "pg_isready", "-h", "127.0.0.1", "-U", "postgres"]')
GATED = "    depends_on:\n      db:\n        condition: {}\n"
LISTED = "    depends_on:\n      - db\n"


def _stack(db_extra: str = HEALTHY_DB, app_depends: str = GATED.format("service_healthy"), app_extra: str = "") -> str:
    return (
        f"services:\n  db:\n    image: {compose.db_image()}\n    environment:\n      DB_INIT_DELAY: '3'\n{db_extra}"
        f"  app:\n    image: {compose.app_image()}\n{app_depends}{app_extra}    init: true\n"
    )


@pytest.fixture  # per test, inside the test namespace (a module fixture is set up before it)
def catalog_images() -> Iterator[None]:
    ctx = compose.contexts()
    images.build(compose.db_image(), ctx["db"], show=False)
    images.build(compose.app_image(), ctx["app"], show=False)
    yield
    for left in compose.exercise_file().parent.iterdir():  # a notebook run here starts from the starter
        left.unlink()


NEAR_MISSES_13_3 = {
    "short-list-depends-on": (_stack(app_depends=LISTED), "service_started", "service_healthy"),
    "service-started": (_stack(app_depends=GATED.format("service_started")), "service_started", "service_healthy"),
    "always-true": (_stack(db_extra=CHECK.format('["CMD", "true"]')), "never asks PostgreSQL", "pg_isready"),
    "exit-0": (_stack(db_extra=CHECK.format("exit 0")), "never asks PostgreSQL", "pg_isready"),
    "or-true": (_stack(db_extra=CHECK.format("pg_isready -h db || true")), "never asks PostgreSQL", "pg_isready"),
    "no-h": (_stack(db_extra=CHECK.format('["CMD", "pg_isready", "-U", "postgres"]')), "Unix socket", "-h 127.0.0.1"),
    "on-the-app": (
        _stack(db_extra="", app_extra=HEALTHY_DB.replace("pg_isready", "true")),
        "the healthcheck is on app",
        "under the db service",
    ),
    "no-healthcheck": (_stack(db_extra=""), "db has no healthcheck", ""),  # the starter's state: no hint yet
    "broken-yaml": ("services:\n  db:\n  image: x\n   app: {}\n", "docker compose config rejects", "indentation"),
}


@pytest.mark.parametrize(
    "test",
    [
        ["CMD", "pg_isready", "-h", "127.0.0.1", "-U", "postgres"],
        ["CMD", "pg_isready", "-d", "postgresql://postgres@127.0.0.1/postgres"],
        ["CMD-SHELL", "psql -h 127.0.0.1 -U postgres -c 'select 1'"],
        ["CMD", "pg_isready", "--host=127.0.0.1"],
    ],
    ids=["pg_isready-h", "pg_isready-uri", "psql-select-1", "pg_isready-host="],
)
def test_13_3_healthchecks_a_postgres_user_would_write_are_accepted(test: list[str]) -> None:
    from helpers.exercises import nb13

    assert nb13.health_problem({"db": {"healthcheck": {"test": test}}, "app": {}}) is None


@pytest.mark.parametrize("case", NEAR_MISSES_13_3, ids=list(NEAR_MISSES_13_3))
def test_13_3_near_misses(catalog_images, case: str) -> None:
    text, message, hint = NEAR_MISSES_13_3[case]
    compose.exercise_file().write_text(text)
    _rejected(exercises.evaluate("13.3"), message, hint)


def test_13_3_the_file_as_written_in_an_editor_runs_labelled_and_goes(catalog_images) -> None:
    path = compose.exercise_file()
    path.write_text(_stack())
    # the checker's override gives everything the stack creates the course labels, so clean-up finds it
    files = [path, compose.labelled(yaml.safe_load(path.read_text()) | {"volumes": {"pgdata": None}}, path.parent)]
    out = path.parent / "merged.json"
    compose.project_compose(compose.exercise_project(), files, "config", "--format", "json", "-o", str(out), show=False)
    merged = json.loads(out.read_text())
    for what in ("services", "networks"):
        for key, spec in merged[what].items():
            assert spec["labels"][course.LABEL] == course.namespace(), f"{what} {key} unlabelled"
    verdict = exercises.evaluate("13.3")
    assert verdict.ok, verdict
    assert "answered with 3 catalog entries" in verdict.message
    project = f"label=com.docker.compose.project={compose.exercise_project()}"
    assert docker_out("ps", "-aq", "--filter", project) == "", "the checker left the stack running"
    assert docker_out("volume", "ls", "-q", "--filter", project) == ""


# ------------------------------------------------------------------------------------------------ 15


@pytest.fixture
def tomcat(made) -> str:
    """Notebook 15's Tomcat image (kept: the notebook's own build reuses it)."""
    from helpers.lessons import javaserver

    ref = javaserver.image_ref()
    images.build(ref, javaserver.context(), show=False, echo=False)
    return ref


def _limited(*options: str) -> tuple[str, ...]:
    if sentence := engine.limitation(exercises.get("15.1").needs):
        pytest.skip(sentence)
    return options


def test_15_1_xmx_above_the_limit(made, tomcat) -> None:
    options = _limited("-m", "256m", "--memory-swap", "256m", "-e", "CATALINA_OPTS=-Xmx1g")
    _run(made, "ex-erddap", "-d", *options, tomcat)
    _rejected(exercises.evaluate("15.1"), "the kernel kills it", "Take -Xmx out of CATALINA_OPTS")


def test_15_1_no_memory_limit(made, tomcat) -> None:
    _run(made, "ex-erddap", "-d", *_limited(), tomcat)
    _rejected(exercises.evaluate("15.1"), "has no memory limit", "-m")


def test_15_1_a_limit_far_above_the_need(made, tomcat) -> None:
    _run(made, "ex-erddap", "-d", *_limited("-m", "2g"), tomcat)
    _rejected(exercises.evaluate("15.1"), "more than 512 MiB", "at most -m 512m")


def test_15_1_a_heap_too_small_for_the_request(made, tomcat) -> None:
    _run(made, "ex-erddap", "-d", *_limited("-m", "256m", "-e", "CATALINA_OPTS=-Xmx48m"), tomcat)
    _rejected(exercises.evaluate("15.1"), "too small for one request", "MaxRAMPercentage")


def test_15_1_a_heap_just_below_the_limit_leaves_no_room(made, tomcat) -> None:
    options = _limited("-m", "256m", "--memory-swap", "256m", "-e", "CATALINA_OPTS=-Xmx240m")
    _run(made, "ex-erddap", "-d", *options, tomcat)
    _rejected(exercises.evaluate("15.1"), "was killed for memory", "Leave room between the heap and the limit")


def _catalog(made: Made, tomcat: str, mount: str, *, titled: bool = True) -> None:
    """Exercise 15.2's server with ``-v MOUNT`` (and the title, unless ``titled`` is false)."""
    from helpers.exercises import nb15

    title = ("-e", f"DATASET_TITLE={nb15.TITLE}") if titled else ()
    _run(made, "ex-catalog", "-d", *title, "-v", mount, tomcat)


def test_15_2_a_single_file_mount(made, tomcat) -> None:
    from helpers.exercises import nb15

    _catalog(made, tomcat, f"{nb15.config_starter()}:/etc/dmac/datasets.xml:ro")
    _rejected(exercises.evaluate("15.2"), "mounts one file", "Mount the folder instead")


def test_15_2_the_title_not_set(made, tomcat) -> None:
    from helpers.exercises import nb15

    _catalog(made, tomcat, f"{nb15.config_starter().parent}:/etc/dmac:ro", titled=False)
    _rejected(exercises.evaluate("15.2"), "shows the title '(not set)'", "-e DATASET_TITLE=")


def test_15_2_a_volume_instead_of_the_folder(made, tomcat) -> None:
    made["volumes"].append(course.name("ex-config"))
    _catalog(made, tomcat, f"{course.name('ex-config')}:/etc/dmac")
    _rejected(exercises.evaluate("15.2"), "does not bind-mount", "(the folder, not the file)")
