"""helpers.lessons.casestudy against the real daemon: writable layer, logs, restarts, zombies, docker stop."""

from __future__ import annotations

import pytest

from helpers import docker
from helpers.core import course, wait
from helpers.lessons import casestudy


def _rm(*names: str) -> None:
    docker("rm", "-f", *names, show=False, echo=False, check=False)


def test_writable_layer_and_log_sizes(unique: str) -> None:
    box = course.name("t-cs-writer", unique)
    try:
        docker(
            "run",
            "-d",
            "--name",
            box,
            "--log-opt",
            "max-size=50k",
            "--log-opt",
            "max-file=2",
            "busybox",
            "sh",
            "-c",
            "head -c 3000000 /dev/zero > /big; i=0; while [ $i -lt 3000 ]; do i=$((i+1));"
            " echo line $i of the harvester log padded to be long enough; done; echo done; sleep 60",
            show=False,
            echo=False,
        )
        assert casestudy.wait_for(
            lambda: "done" in docker("logs", "--tail", "1", box, echo=False, show=False).output, timeout=30
        )
        assert 2.9 < casestudy.writable_mb(box) < 4
        path = casestudy.log_paths(box, show=False)[box]
        assert path.endswith("-json.log") and casestudy.log_paths(box, show=False) == {box: path}
        assert 0 < casestudy.log_mb(path) <= 0.11  # rotated: at most two files of 50 kB
        assert casestudy.log_files(path) == 2
        assert casestudy.log_mb("") == 0 and casestudy.log_files("/nonexistent/x-json.log") == 0
        assert casestudy.status(box) == "running" and casestudy.restart_count(box) == 0
    finally:
        _rm(box)


def test_restart_count_and_health_status(unique: str) -> None:
    crash, sick = course.name("t-cs-crash", unique), course.name("t-cs-sick", unique)
    try:
        docker(
            "run",
            "-d",
            "--name",
            crash,
            "--restart",
            "on-failure:1",
            "busybox",
            "sh",
            "-c",
            "exit 3",
            show=False,
            echo=False,
        )
        docker(
            "run",
            "-d",
            "--name",
            sick,
            "--health-cmd",
            "false",
            "--health-interval",
            "1s",
            "--health-retries",
            "1",
            "busybox",
            "sleep",
            "60",
            show=False,
            echo=False,
        )
        assert casestudy.wait_for(
            lambda: casestudy.restart_count(crash) == 1 and casestudy.status(crash) == "exited", timeout=20
        )
        assert casestudy.wait_for(lambda: casestudy.status(sick) == "running (unhealthy)", timeout=20)
    finally:
        _rm(crash, sick)


def test_zombies_and_timed_stop(unique: str) -> None:
    naive, init = course.name("t-cs-naive", unique), course.name("t-cs-init", unique)
    orphans = "for i in 1 2 3; do (sleep 0.1 &); done; exec sleep 60"
    try:
        docker("run", "-d", "--name", naive, "busybox", "sh", "-c", orphans, show=False, echo=False)
        docker("run", "-d", "--name", init, "--init", "busybox", "sh", "-c", orphans, show=False, echo=False)
        assert casestudy.wait_for(lambda: casestudy.zombies(naive) >= 3, timeout=10)
        assert casestudy.zombies(init) == 0
        assert casestudy.timed_stop(naive, 2) >= 1.9  # sleep as PID 1 ignores SIGTERM: killed after 2 s
        assert casestudy.timed_stop(init, 2) < 1.5  # tini forwards SIGTERM
    finally:
        _rm(naive, init)


def test_wait_for_is_bounded_and_says_what_did_not_happen() -> None:
    with pytest.raises(wait.WaitTimeout, match=r"the harvest did not happen within 0\.3 s"):
        casestudy.wait_for(lambda: False, timeout=0.3, interval=0.1, what="the harvest")
    assert casestudy.wait_for(lambda: True, timeout=0.3) is True
