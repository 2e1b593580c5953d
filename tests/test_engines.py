"""The engine matrix's engines (helpers/infra/engines.py): what runs them, and a live engine when one is up.

Building and starting an engine takes a minute or two, so that is `make matrix`'s job; here the pieces
that decide how an engine runs are checked, and a running engine (if any) is checked for real.
"""

from __future__ import annotations

import json
import subprocess
import time
from pathlib import Path

import pytest

from helpers.core import course
from helpers.infra import engines, matrix


def test_engines_are_debian_suites_with_their_own_cli_buildx_and_compose() -> None:
    suites = {name: e.suite for name, e in engines.ENGINES.items()}
    assert suites == {"docker-26": "trixie", "docker-28": "sid", "docker-28c": "sid", "podman-5": "trixie"}
    for engine in engines.ENGINES.values():
        dockerfile = engines.dockerfile(engine)
        assert dockerfile.startswith(f"FROM {engines.NAMESPACE}/debian:{engine.suite}\n")
        server = ("podman", "runc", "netavark") if engine.podman else ("docker.io", "iptables")
        for package in (*server, "docker-cli", "docker-buildx", "docker-compose"):
            assert f" {package}" in dockerfile
        assert "Acquire::Check-Valid-Until=false" in dockerfile  # sid's snapshot is past its date
        assert f"VOLUME {engine.data_root}\n" in dockerfile


def test_podman_serves_the_docker_api_on_the_engine_socket_without_raising_ulimits() -> None:
    engine = engines.get("podman-5")
    script = dict(engine.files)[engines.engine_command(engine)[1]]
    assert script.endswith('exec podman system service --time=0 "$1"\n')
    assert engines.engine_command(engine)[2] == f"unix://{engines.INNER_RUN}/docker.sock"
    assert "default_ulimits" in script  # pinned to the engine's own hard limits: builds need no raise
    assert engine.data_root == "/var/lib/containers"  # on the volume: native overlay, not overlay on overlay
    conf = dict(engine.files)["/etc/containers/containers.conf"]
    assert "default_ulimits = []" in conf  # root here lacks CAP_SYS_RESOURCE (issue 12)
    assert 'cgroup_manager = "cgroupfs"' in conf and 'runtime = "runc"' in conf  # no systemd; hybrid cgroups
    assert engines.engine_command(engines.get("docker-28"))[0] == "dockerd"


def test_the_containerd_store_engine_is_engine_28_with_the_snapshotter_and_no_graph_driver() -> None:
    classic, containerd = engines.get("docker-28"), engines.get("docker-28c")
    assert (classic.store, containerd.store) == ("classic", "containerd")
    assert containerd.packages == classic.packages  # the same Engine 28.5: only its image store differs
    assert "--storage-driver=overlay2" in engines.dockerd_command(classic)
    # with the flag every create fails "snapshotter not loaded: overlay2" (DESIGN.md)
    assert not any(flag.startswith("--storage-driver") for flag in engines.dockerd_command(containerd))
    assert json.loads(dict(containerd.files)["/etc/docker/daemon.json"]) == {
        "features": {"containerd-snapshotter": True}
    }
    assert '"--storage-driver=overlay2"' not in engines.dockerfile(containerd)


def test_engines_run_without_privileged_as_this_machine_requires() -> None:
    flags = " ".join(engines.DIND_FLAGS)
    assert "--privileged" not in flags
    assert "--cap-add ALL --cap-drop SYS_RESOURCE" in flags  # no CAP_SYS_RESOURCE in the bounding set
    assert "systempaths=unconfined" in flags and "--cgroupns host" in flags


def test_engine_resources_carry_a_namespace_that_is_no_learners() -> None:
    engine = engines.get("docker-28")
    assert engine.labels == {course.LABEL: "dmac-engines", engines.ENGINE_LABEL: "docker-28"}
    assert engines.NAMESPACE != course.DEFAULT_NAMESPACE
    assert len(str(engine.socket)) < 104, "unix socket paths are limited to 108 bytes"
    with pytest.raises(engines.EngineError, match="unknown engine"):
        engines.get("docker-99")


def test_host_env_talks_to_the_host_even_inside_an_engines_exported_env(monkeypatch: pytest.MonkeyPatch) -> None:
    engine = engines.get("docker-26")
    for key, value in engines.inner_env(engine).items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("DOCKER_HOST", engine.host)
    env = engines.host_env()
    assert not {"DOCKER_HOST", "DMAC_DOCKER_CLI", "DOCKER_CONFIG", "DMAC_COMPOSE_PLUGIN"} & set(env)
    assert str(engine.folder / "bin") not in env["PATH"].split(":")
    monkeypatch.setenv("DOCKER_HOST", "tcp://elsewhere:2375")  # a host of the learner's own stays
    assert engines.host_env()["DOCKER_HOST"] == "tcp://elsewhere:2375"


def test_env_lines_prepend_the_engines_cli_folder_to_path() -> None:
    engine = engines.get("docker-28")
    lines = engines.env_lines(engine).splitlines()
    assert f"export DOCKER_HOST=unix://{engine.socket}" in lines
    assert any(line.startswith("export DMAC_DOCKER_CLI=") for line in lines)
    path = [line for line in lines if line.startswith("export PATH=")]
    assert path in ([], [f'export PATH={engine.folder / "bin"}:"$PATH"'])


def _ready(engine: engines.Engine) -> bool:
    """Running, answering, and its base images loaded (``start`` has finished)."""
    if engines.state(engine) != "running" or not engines.answers(engine):
        return False
    cli, env = engines.inner(engine)
    return all(engines.image_id(ref, env, cli) for ref in engines.BASE_IMAGES)


RUNNING = [e for e in engines.ENGINES.values() if not e.podman and _ready(e)]


@pytest.mark.skipif(not RUNNING, reason="no matrix engine is running (make matrix-engine starts one)")
def test_a_running_engine_is_a_newer_docker_whose_ports_pids_and_files_are_where_its_host_has_them() -> None:
    engine = RUNNING[0]
    about = engines.describe(engine)
    assert int(about["server"].split(".")[0]) >= 26
    assert about["buildx"] != "none"
    script = (
        f"set -e; id=$(docker run -d --label {course.LABEL}={engines.NAMESPACE} -p 127.0.0.1:0:80 busybox"
        ' httpd -f -p 80 -h /etc); trap "docker rm -f $id >/dev/null" EXIT;'
        ' port=$(docker port $id 80/tcp | cut -d: -f2); pid=$(docker inspect -f "{{.State.Pid}}" $id);'
        ' upper=$(docker inspect -f "{{with .GraphDriver.Data}}{{.UpperDir}}{{end}}" $id);'
        # the containerd image store reports no UpperDir: the container's own mounts name it
        " [ -n \"$upper\" ] || upper=$(sed -n 's/.*upperdir=\\([^,]*\\).*/\\1/p' /proc/$pid/mountinfo | head -n 1);"
        " sleep 0.5; wget -qO- http://127.0.0.1:$port/passwd | head -n 1; test -d /proc/$pid && echo pid-ok;"
        ' test -d "$upper" && echo upper-ok'
    )
    _, env = engines.inner(engine)
    out = subprocess.run(engines.sandbox_argv(engine, ["sh", "-c", script]), env=env, capture_output=True, text=True)
    assert out.stdout.splitlines() == ["root:x:0:0:root:/root:/bin/sh", "pid-ok", "upper-ok"], out.stderr


def test_matrix_runs_nbval_alone_on_its_engine_and_each_run_once(tmp_path: Path, monkeypatch) -> None:
    from helpers.infra import matrix

    # a lock file of the test's own: CI's engine lanes hold the real one for minutes (this test once waited 735 s)
    monkeypatch.setattr(matrix, "NBVAL_LOCK", tmp_path / "nbval.lock")

    queues = matrix.schedule(["docker-26", "docker-28"])
    assert queues == {"docker-26": ["solutions", "nbval"], "docker-28": ["nbval", "solutions"]}
    queues = matrix.schedule(["docker-26", "docker-28", "docker-28c"], frozenset({"docker-28c"}))
    assert queues["docker-28c"] == ["solutions"]
    names = ["docker-26", "docker-28", "docker-28c"]
    queues = matrix.schedule(names, frozenset({"docker-26"}), frozenset({"docker-28"}))
    assert queues == {"docker-26": ["solutions"], "docker-28": ["nbval"], "docker-28c": ["solutions", "nbval"]}
    both = {n for n, e in matrix.engines.ENGINES.items() if e.nbval and e.solutions and not e.podman}
    assert both == {"docker-28c"}  # nbval on 28 (classic) and 28c, every solution on 26 and 28c
    for names in (["docker-28"], ["a", "b", "c"]):
        queues = matrix.schedule(names)
        assert set(queues) == set(names)  # one queue per engine: never two runs on one engine at once
        for kinds in queues.values():
            assert sorted(kinds) == sorted(matrix.KINDS)  # each run once
    running: list[str] = []
    overlaps: list[tuple[str, ...]] = []

    def job(name: str, kind: str, *_: object) -> int:  # stands in for a pytest run on an engine
        running.append(f"{name}/{kind}")
        if sum(r.endswith("/nbval") for r in running) > 1 or len({r.split("/")[0] for r in running}) < len(running):
            overlaps.append(tuple(running))
        time.sleep(0.05 if kind == "nbval" else 0.02)
        running.remove(f"{name}/{kind}")
        return 0 if name != "c" else 1

    codes = matrix.run_queues(matrix.schedule(["a", "b", "c"]), [], [], job=job)
    assert overlaps == []  # never two nbval runs at once, never two runs on one engine
    assert codes == {f"{n}/{k}": int(n == "c") for n in "abc" for k in matrix.KINDS}
    namespaces = {matrix.solutions_namespace(matrix.engines.get(n)) for n in ("docker-26", "docker-28")}
    assert namespaces == {"dmac-b-26", "dmac-b-28"}


def test_nbval_runs_alone_across_matrix_processes_too(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """CI's containerd engine runs its matrix on another lane: its nbval waits for the other's (build/dmac/). On a
    lock file of the test's own: CI's lanes hold the real one for minutes while this test runs."""
    import sys

    from helpers.core import course
    from helpers.infra import matrix

    lock = tmp_path / "nbval.lock"
    monkeypatch.setattr(matrix, "NBVAL_LOCK", lock)
    code = f"import time\nimport pathlib\nfrom helpers import matrix\nmatrix.NBVAL_LOCK = pathlib.Path({str(lock)!r})\n"
    code += "with matrix.nbval_alone():\n    print('held', flush=True)\n    time.sleep(1.5)\n"
    holder = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True, cwd=course.ROOT)
    assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
    start = time.monotonic()
    with matrix.nbval_alone():
        waited = time.monotonic() - start
    assert holder.wait(timeout=30) == 0
    assert waited > 1.0, waited


def test_a_sampled_lane_runs_its_notebooks_only(monkeypatch) -> None:
    """CI's sampled lanes (DMAC_NOTEBOOKS): nbval gets those notebooks, the solutions' pytest the variable."""
    from helpers.infra import matrix, runs

    notebooks = ["notebooks/00-setup.ipynb", "notebooks/01-why.ipynb", "notebooks/03-security.ipynb"]
    monkeypatch.setenv(runs.ONLY, "01 03")
    nbval = matrix.command(matrix.engines.get("docker-28"), "nbval", ["--nbval"], notebooks)
    assert [a for a in nbval if a.endswith(".ipynb")] == notebooks[1:]
    solutions = matrix.command(matrix.engines.get("docker-26"), "solutions", [], notebooks)
    assert f"{runs.ONLY}=01 03" in solutions  # docker-26 runs pytest inside its container: given explicitly
    monkeypatch.delenv(runs.ONLY)
    every = matrix.command(matrix.engines.get("docker-28"), "nbval", [], notebooks)
    assert [a for a in every if a.endswith(".ipynb")] == notebooks


def test_a_failed_run_says_which_cell_and_how_in_the_matrixs_own_output() -> None:
    log = "\n".join([
        "notebooks/11-monitoring.ipynb ....F....",
        "=================================== FAILURES ===================================",
        "______________________ notebooks/11-monitoring.ipynb::Cell 8 ______________________",
        "Notebook cell execution failed",
        "Cell 8: Cell outputs differ",
        "",
        "Input:",
        "fig = monitor.plot(df)",
        "Traceback:",
        " mismatch 'stdout'",
        " assert reference_output == test_output failed:",
        "  'most CPU:   ...25 and 150 %' == 'most CPU:   ...less than 25 %'",
        "=========================== short test summary info ============================",
        "FAILED notebooks/11-monitoring.ipynb::Cell 8",
        "================== 1 failed, 190 passed in 934.01s (0:15:34) ===================",
    ])  # fmt: skip
    said = matrix.failures(log)
    assert said[0].strip("_ ") == "notebooks/11-monitoring.ipynb::Cell 8"
    assert any("less than 25 %" in line for line in said)
    assert said[-1] == "FAILED notebooks/11-monitoring.ipynb::Cell 8"
    assert not any(line.startswith("=") for line in said)
    assert matrix.failures("=== 3 passed in 1.0s ===") == []


def test_a_long_failure_report_keeps_the_errors_message_at_its_end() -> None:
    traceback = [f"\x1b[32m    {n}\x1b[39m frame line {n}" for n in range(60)]
    log = "\n".join([
        "______________________ notebooks/07-pull-build-run-exec.ipynb::Cell 16 ______________________",
        "Notebook cell execution failed",
        *traceback,
        "\x1b[31mCommandFailed\x1b[39m: `docker build --label ...` failed with exit code 1:",
        "ERROR: failed to solve: no active session",
        "FAILED notebooks/07-pull-build-run-exec.ipynb::Cell 16",
    ])  # fmt: skip
    said = matrix.failures(log)
    assert said[1] == "Notebook cell execution failed"
    assert "ERROR: failed to solve: no active session" in said
    assert "CommandFailed: `docker build --label ...` failed with exit code 1:" in said
    assert any(line.startswith("[… ") for line in said)
    assert len(said) < 30 and not any("\x1b" in line for line in said)
