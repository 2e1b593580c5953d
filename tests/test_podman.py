"""The course on Podman 5: where the helpers must do differently from Docker, checked on a real Podman.

The matrix's ``podman-5`` engine (Debian trixie's Podman serving its Docker-compatible API, started by
``python -m helpers.infra.engines start podman-5``) is asked exactly as a learner with Podman and the docker CLI
would ask it: each check runs in the engine's namespaces with its environment (:func:`helpers.infra.engines.
sandbox_argv`). Without a running engine (or without root) these tests are skipped; the pure parts
(engine kinds, build logs) are tested in test_engine.py and test_dockerfiles.py on recorded answers.
"""

from __future__ import annotations

import json
import os
import subprocess
import textwrap

import pytest

from helpers.core import course
from helpers.infra import engines

ENGINE = engines.get("podman-5")
UP = os.geteuid() == 0 and engines.state(ENGINE) == "running" and engines.answers(ENGINE)
pytestmark = pytest.mark.skipif(not UP, reason="the podman-5 engine is not running (make matrix-podman starts it)")


def on_podman(code: str, timeout: float = 300) -> dict:
    """Run Python ``code`` against the Podman engine (its env, its namespaces); the JSON it prints last."""
    _, env = engines.inner(ENGINE)
    env["DMAC_NAMESPACE"] = course.namespace()
    script = f"import json, sys\nsys.path.insert(0, {str(course.ROOT)!r})\n" + textwrap.dedent(code)
    argv = engines.sandbox_argv(ENGINE, [str(course.ROOT / ".venv" / "bin" / "python"), "-c", script])
    proc = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=timeout, cwd=course.ROOT)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


def test_podman_builds_with_the_classic_builder_and_its_steps_are_read() -> None:
    out = on_podman(
        """
        from helpers import course, dockerfiles, images, shell
        ctx = images.context("podman-build", {"Dockerfile": "FROM busybox\\nRUN echo built > /built.txt\\n"})
        tag = course.image("podman-build", "1")
        first = images.build(tag, ctx, show=False)
        again = images.build(tag, ctx, show=False)
        ran = [(s.instruction, s.cached) for s in dockerfiles.steps(first.output) + dockerfiles.steps(again.output)]
        inside = shell.docker_out("run", "--rm", tag, "cat", "/built.txt")
        shell.docker_out("rmi", tag)
        print(json.dumps({"cli": shell.cli().buildkit, "env": shell._env()["DOCKER_BUILDKIT"], "steps": ran,
                          "inside": inside}))
        """
    )
    assert out["cli"] is True  # the engine's CLI has buildx ...
    assert out["env"] == "0"  # ... but Podman's API has no BuildKit session: the classic builder API
    run = "RUN echo built > /built.txt"
    assert out["steps"] == [["FROM busybox", False], [run, False], ["FROM busybox", False], [run, True]]
    assert out["inside"] == "built"


def test_podman_404s_are_not_found_for_the_helpers() -> None:
    # Podman's 404 says "image not known", which the SDK does not map to ImageNotFound
    out = on_podman(
        """
        from helpers import course, images
        from helpers.exercises import reset_images
        reset_images([("never-built", "1")])  # raised NotFound before
        print(json.dumps({"exists": images.exists(course.image("never-built", "1"))}))
        """
    )
    assert out == {"exists": False}


def test_podman_image_sizes_are_found_in_system_df() -> None:
    # Podman's /system/df lists image ids without the "sha256:" prefix
    out = on_podman(
        """
        from helpers import layers
        size, shared = layers.df_sizes("busybox")
        print(json.dumps({"size": size, "shared": shared}))
        """
    )
    assert 1_000_000 < out["size"] < 10_000_000 and 0 <= out["shared"] <= out["size"]


def test_podman_keeps_a_log_limit_where_the_checker_finds_it() -> None:
    # Podman applies --log-opt max-size but its Docker-compatible inspect leaves LogConfig.Config empty
    out = on_podman(
        """
        from helpers import course
        from helpers.core.daemon import client
        from helpers.exercises.nb12 import log_max_size
        dc = client()
        found = []
        for config in ({"max-size": "100k"}, {}):
            box = dc.containers.run("busybox", ["sleep", "30"], detach=True, labels=course.labels(),
                                    log_config={"type": "json-file", "config": config})
            found.append(log_max_size(dc.containers.get(box.id)))
            box.remove(force=True)
        print(json.dumps(found))
        """
    )
    assert out == ["100kB", None]


def test_podman_health_checks_run_and_exit_codes_come_through() -> None:
    # health checks: systemd's timers on a Podman host, the engine's stand-in here; `run --rm`'s exit code
    # (always 0 before Podman 4.6); `docker commit` through the CLI (failed to decode with Podman 4.3)
    out = on_podman(
        """
        import os, subprocess, time
        from helpers import course
        from helpers.core.daemon import client
        from helpers.core.shell import docker
        name = course.name("podman-health")
        docker("run", "-d", "--name", name, "--health-cmd", "true", "--health-interval", "1s", "busybox",
               "sleep", "60", echo=False, show=False)
        status, deadline = "", time.monotonic() + 20
        while status != "healthy" and time.monotonic() < deadline:
            time.sleep(0.5)
            status = client().containers.get(name).attrs["State"]["Health"]["Status"]
        committed = docker("commit", name, course.image("podman-commit", "1"), echo=False, show=False).ok
        newer = "/usr/local/bin/docker"  # this machine's CLI 28, if there: Podman 4.3's commit answer failed it
        if os.access(newer, os.X_OK):
            committed &= subprocess.run([newer, "commit", name, course.image("podman-commit", "2")]).returncode == 0
            docker("rmi", course.image("podman-commit", "2"), echo=False, show=False)
        docker("rm", "-f", name, echo=False, show=False)
        docker("rmi", course.image("podman-commit", "1"), echo=False, show=False)
        code = docker("run", "--rm", "busybox", "sh", "-c", "exit 3", check=False, echo=False, show=False).returncode
        print(json.dumps({"health": status, "commit": committed, "exit": code}))
        """
    )
    assert out == {"health": "healthy", "commit": True, "exit": 3}


def test_podman_says_what_it_does_differently_in_one_sentence_each() -> None:
    out = on_podman(
        """
        from helpers import engine
        caps = engine.capabilities()
        kinds = ("buildkit", "inline-cache", "recursive-ro", "api-pin", "net-raw", "live-restore", "memory-limit")
        print(json.dumps({"product": caps.product, "rootless": caps.rootless,
                          "limits": {k: engine.limitation(k) for k in kinds}}))
        """
    )
    assert (out["product"], out["rootless"]) == ("Podman", False)
    assert out["limits"].pop("memory-limit") is None  # rootful Podman enforces limits here (cgroup v1)
    for kind, sentence in out["limits"].items():
        assert sentence and sentence.count(". ") == 0 and sentence.endswith("."), (kind, sentence)


def test_podman_cpu_percent_comes_from_two_readings() -> None:
    # Podman's one-shot stats have no earlier reading: the CLI's formula over it gives ~0 % for a busy loop
    out = on_podman(
        """
        from helpers import course, monitor
        from helpers.core.daemon import client
        box = client().containers.run("busybox", ["sh", "-c", "while :; do :; done"], detach=True,
                                      labels=course.labels(), name=course.name("podman-busy"))
        try:
            one_shot = monitor.cpu_percent(box.stats(stream=False))
            row = monitor.snapshot(box.name)
        finally:
            box.remove(force=True)
        print(json.dumps({"one_shot": one_shot, "snapshot": row["cpu_percent"]}))
        """
    )
    assert out["one_shot"] < 1 < 10 < out["snapshot"], out  # a loop on a busy 2-CPU host gets 10-100 %


def test_a_throwaway_containers_output_is_never_lost() -> None:
    # the SDK's containers.run(remove=True) removes the container before reading its log stream: on Podman
    # about half of these runs returned b"" (11 of 20 measured); oneshot.output reads first, then removes
    out = on_podman(
        """
        import docker
        from helpers import course, oneshot
        outs = [oneshot.output("busybox", ["sh", "-c", "sleep 0.3; echo hi"], labels=course.labels()) for _ in range(8)]
        try:
            oneshot.output("busybox", ["sh", "-c", "echo oops >&2; exit 3"], labels=course.labels())
            failed = None
        except docker.errors.ContainerError as exc:
            failed = [exc.exit_status, exc.stderr.decode().strip()]
        print(json.dumps({"outs": [o.decode() for o in outs], "failed": failed}))
        """
    )
    assert out == {"outs": ["hi\n"] * 8, "failed": [3, "oops"]}
