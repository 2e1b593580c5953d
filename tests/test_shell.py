"""Running the real docker CLI the way a cell shows it."""

from __future__ import annotations

import shlex

import pytest

from helpers.core import course
from helpers.core.shell import CommandFailed, CommandTimeout, docker, docker_out, run, with_label


def test_command_is_echoed_as_typed_and_output_streams(capsys: pytest.CaptureFixture[str]) -> None:
    result = docker("run", "--rm", "busybox", "echo", "hello ocean")
    out = capsys.readouterr().out
    # exactly what ran, the course label included: typed in a terminal it makes the same labelled container
    labels = " ".join(f"--label {k}={v}" for k, v in course.labels().items())
    assert out.splitlines()[0] == f"$ docker run {labels} --rm busybox echo 'hello ocean'"
    assert shlex.split(out.splitlines()[0])[2:] == result.args[1:]
    assert "hello ocean" in out
    assert result.ok and result.output.strip() == "hello ocean"


def test_labels_are_added_to_commands_that_create_things() -> None:
    args = with_label(["run", "--rm", "busybox", "true"])
    assert args[:3] == ["run", "--label", f"{course.LABEL}={course.namespace()}"]
    assert with_label(["volume", "create", "v"])[:4] == ["volume", "create", "--label", course.label_filter()]
    assert with_label(["ps", "-a"]) == ["ps", "-a"]
    commit = with_label(["commit", "c", "i"])
    assert commit[1] == "--change" and commit[2].startswith(f"LABEL {course.LABEL}=")


def test_a_created_container_really_carries_the_label(unique: str) -> None:
    name = course.name("shell", unique)
    docker("create", "--name", name, "busybox", "true", show=False)
    try:
        assert (
            docker_out("inspect", "--format", f'{{{{index .Config.Labels "{course.LABEL}"}}}}', name)
            == course.namespace()
        )
    finally:
        docker("rm", name, show=False)


def test_failure_raises_a_short_message() -> None:
    with pytest.raises(CommandFailed, match="exit code 3"):
        docker("run", "--rm", "busybox", "sh", "-c", "exit 3", show=False)


def test_expected_failure_prints_one_stable_line(capsys: pytest.CaptureFixture[str]) -> None:
    docker("run", "--rm", "busybox", "sh", "-c", "echo nope >&2; exit 2", expect_error=True)
    lines = capsys.readouterr().out.splitlines()
    assert lines[-1] == "✗ failed as expected (exit code 2): nope"
    with pytest.raises(CommandFailed, match="expected to fail"):
        docker("run", "--rm", "busybox", "true", expect_error=True)


def _containers_named(name: str) -> list[str]:
    return docker_out("ps", "-a", "--filter", f"name=^{name}$", "--format", "{{.Names}} {{.Status}}").splitlines()


@pytest.mark.parametrize("options", [["--rm"], [], ["-t"]], ids=["rm", "kept", "tty"])
def test_timeout_stops_the_attached_container_too(unique: str, options: list[str]) -> None:
    name = course.name("timeout", unique)
    try:
        with pytest.raises(CommandTimeout, match=r"within 2 s and was stopped; its container [0-9a-f]{12} was removed"):
            docker("run", *options, "--name", name, "busybox", "sleep", "30", timeout=2, show=False)
        assert _containers_named(name) == []  # not still running (or left exited) behind the message
    finally:
        docker("rm", "-f", name, show=False, check=False)


def test_an_unnamed_run_is_found_by_its_label_and_an_older_container_survives(unique: str) -> None:
    older = course.name("timeout-older", unique)
    docker("run", "-d", "--name", older, "busybox", "sleep", "60", show=False)
    try:
        with pytest.raises(CommandTimeout, match=r"its container [0-9a-f]{12} was removed"):
            docker("run", "--rm", "busybox", "sleep", "31", timeout=2, show=False)
        sleepers = docker_out("ps", "-a", "--filter", f"label={course.label_filter()}", "--format", "{{.Command}}")
        assert "sleep 31" not in sleepers
        assert _containers_named(older)[0].split()[1] == "Up"  # made before the command: left alone
    finally:
        docker("rm", "-f", older, show=False, check=False)


def test_timeout_keeps_the_output_printed_so_far(unique: str, capsys: pytest.CaptureFixture[str]) -> None:
    script = "for i in 1 2 3; do echo line $i; done; sleep 30"
    name = course.name("timeout", unique)
    try:
        with pytest.raises(CommandTimeout) as raised:
            docker("run", "--rm", "--name", name, "busybox", "sh", "-c", script, timeout=3)
    finally:
        docker("rm", "-f", name, show=False, check=False)
    assert raised.value.output.splitlines() == ["line 1", "line 2", "line 3"]
    assert "line 3" in capsys.readouterr().out


def test_output_written_after_the_cli_exits_is_not_lost(tmp_path) -> None:
    """A process the command leaves behind still writing: read to the end, not cut after a few seconds."""
    script = "(sleep 6; echo late line) & echo early line"
    result = run(["sh", "-c", script], timeout=20, echo=False, show=False)
    assert result.lines == ["early line", "late line"]


def test_a_timeout_before_the_container_exists_says_so_plainly() -> None:
    with pytest.raises(CommandTimeout) as raised:
        run(["sh", "-c", "sleep 30"], timeout=1, echo=False, show=False)
    assert str(raised.value).endswith("did not finish within 1 s and was stopped.")


def test_sorted_output_for_listings_in_no_fixed_order(capsys: pytest.CaptureFixture[str]) -> None:
    docker("run", "--rm", "busybox", "sh", "-c", "echo b; echo c; echo a", sort=True)
    out = capsys.readouterr().out.splitlines()
    labels = " ".join(f"--label {k}={v}" for k, v in course.labels().items())
    shown = f"$ docker run {labels} --rm busybox sh -c 'echo b; echo c; echo a' | sort"
    assert out == [shown, "a", "b", "c"]


def test_the_terminal_gets_the_course_cli_first_and_its_builder(tmp_path) -> None:
    import os
    import shutil

    from helpers.core.shell import buildkit, cli, course_cli_link, terminal_env

    course_cli_link()  # make lab's step before JupyterLab starts
    other = tmp_path / "docker"  # another docker earlier on PATH, as on machines with two CLIs
    other.write_text("#!/bin/sh\nexit 1\n")
    other.chmod(0o755)
    env = terminal_env({"PATH": f"{tmp_path}{os.pathsep}/usr/bin{os.pathsep}/bin"})
    typed = shutil.which("docker", path=env["PATH"])
    assert typed is not None and os.path.realpath(typed) == os.path.realpath(cli().path)
    assert env["DOCKER_BUILDKIT"] == ("1" if buildkit() else "0")
    already = os.path.dirname(cli().path)  # the course's CLI already first: PATH stays as it was
    assert terminal_env({"PATH": already})["PATH"] == already


def test_a_variable_set_for_one_command_is_echoed_in_front_of_it(capsys) -> None:
    import os

    from helpers.core.shell import docker

    docker("version", "--format", "{{.Client.APIVersion}}", env={**os.environ, "DOCKER_API_VERSION": "1.40"})
    echo = capsys.readouterr().out.splitlines()[0]
    assert echo == "$ DOCKER_API_VERSION=1.40 docker version --format '{{.Client.APIVersion}}'", echo


def test_the_daemon_builds_with_buildkit_when_the_cli_can() -> None:
    # the Docker Engine the suite runs on: BuildKit whenever the CLI offers it (outputs show BuildKit logs);
    # (moved from test_podman.py, whose module-level skip kept it from running where no Podman runs)
    from helpers.core import shell

    assert shell.buildkit() == shell.cli().buildkit


def test_a_terminal_line_with_a_pipe_runs_as_shown(capsys: pytest.CaptureFixture[str]) -> None:
    from helpers.core.shell import sh

    line = "docker version --format '{{.Server.Version}}' | wc -l"
    result = sh(line)
    out = capsys.readouterr().out
    assert out.splitlines() == [f"$ {line}", "1"] and result.ok


def test_a_terminal_line_fails_when_its_docker_fails() -> None:
    from helpers.core.shell import sh

    with pytest.raises(CommandFailed, match="No such"):  # pipefail: `wc` succeeding does not hide it
        sh("docker inspect dmac-no-such-container-anywhere | wc -c", show=False)
