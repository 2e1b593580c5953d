"""Finding the daemon, and the messages a learner gets when it cannot be used."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from helpers.core import daemon
from helpers.lessons import preflight


def test_the_daemon_answers_and_preflight_is_ready() -> None:
    assert daemon.available()
    rows = preflight.checks()
    assert preflight.verdict(rows).startswith("READY"), preflight.report(rows)
    items = {r.item for r in rows}
    assert {"Engine version", "Image store", "Daemon mode", "Live restore", "Free disk (daemon data)"} <= items


def test_dead_docker_host_gives_a_clear_message_fast(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("DOCKER_HOST", f"unix://{tmp_path}/nothing.sock")
    start = time.monotonic()
    with pytest.raises(daemon.DaemonUnavailable) as err:
        daemon.find()
    assert time.monotonic() - start < 5
    assert err.value.reason == "not-running"
    assert "DOCKER_HOST" in str(err.value)


def test_unreachable_tcp_host_is_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    # 127.0.0.1:9 (discard) is closed here: refused at once, never a hang.
    monkeypatch.setenv("DOCKER_HOST", "tcp://127.0.0.1:9")
    start = time.monotonic()
    with pytest.raises(daemon.DaemonUnavailable) as err:
        daemon.find(timeout=3)
    assert time.monotonic() - start < 5
    assert err.value.reason == "unreachable"


def test_silent_socket_times_out_with_words(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    path = tmp_path / "silent.sock"
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.bind(str(path))
    server.listen(1)  # accepts, never answers
    try:
        monkeypatch.setenv("DOCKER_HOST", f"unix://{path}")
        start = time.monotonic()
        with pytest.raises(daemon.DaemonUnavailable):
            daemon.find(timeout=1)
        assert time.monotonic() - start < 5
    finally:
        server.close()


def test_permission_denied_names_the_docker_group(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """A socket the user may not open (0600, owned by someone else).

    As root, the check runs without the capabilities that bypass file permissions (CAP_DAC_*), so the
    socket of another owner refuses it exactly as it refuses a user outside the docker group, while the
    course's files (root's own) stay readable wherever the checkout lives.
    """
    path = tmp_path / "private.sock"
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.bind(str(path))
    server.listen(1)
    os.chmod(path, 0o600)
    tmp_path.chmod(0o755)
    if os.geteuid() == 0:
        os.chown(path, 65534, 65534)
    else:  # a user cannot give a file away: no permission at all has the same effect
        os.chmod(path, 0)
    code = (
        "import os, sys; os.environ['DOCKER_HOST']=sys.argv[1]\n"
        "from helpers import daemon\n"
        "try:\n    daemon.find()\nexcept daemon.DaemonUnavailable as e:\n    print(e.reason); print(e)\n"
    )
    try:
        if os.geteuid() == 0:
            drop = "-dac_override,-dac_read_search"
            cmd = ["setpriv", f"--bounding-set={drop}", f"--inh-caps={drop}", sys.executable, "-c", code]
        else:
            cmd = [sys.executable, "-c", code]
        env = dict(os.environ, PYTHONPATH=str(Path(daemon.__file__).parent.parent))
        run = subprocess.run([*cmd, f"unix://{path}"], capture_output=True, text=True, timeout=30, env=env)
    finally:
        server.close()
    out = run.stdout
    assert out.splitlines() and out.splitlines()[0] == "permission", f"stdout: {out!r}; stderr: {run.stderr[-500:]}"
    assert "docker group" in out


def test_no_daemon_message_in_the_notebook_start(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import helpers
    from helpers.core import offline

    monkeypatch.setitem(offline.state, "active", False)  # restored after the test: no leak into others
    monkeypatch.setenv("DOCKER_HOST", f"unix://{tmp_path}/none.sock")
    helpers.start("00")
    out = capsys.readouterr().out
    assert "no Docker daemon (not-running)" in out
    assert not helpers.available()


def test_import_needs_no_daemon(tmp_path: Path) -> None:
    env = dict(os.environ, DOCKER_HOST=f"unix://{tmp_path}/none.sock")
    result = subprocess.run(
        [sys.executable, "-c", "import helpers"], env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr


def _cli(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    from helpers.core.shell import cli

    return subprocess.run([cli().path, *args], env=env, capture_output=True, text=True, timeout=30)


def test_the_current_docker_context_is_followed(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """A context made with the real CLI (`docker context create` + `use`) is where the course connects,
    and the course's `docker` commands reach the same daemon without DOCKER_HOST."""
    from helpers.core import shell

    real = daemon.find().host
    monkeypatch.delenv("DOCKER_HOST", raising=False)
    monkeypatch.delenv("DOCKER_CONTEXT", raising=False)
    monkeypatch.setenv("DOCKER_CONFIG", str(tmp_path))  # the learner's own ~/.docker is not touched
    monkeypatch.setattr(daemon, "DEFAULT_SOCKET", str(tmp_path / "no-default.sock"))
    env = dict(os.environ)
    made = _cli("context", "create", "dmac-test-ctx", "--docker", f"host={real}", env=env)
    assert made.returncode == 0, made.stderr
    assert _cli("context", "use", "dmac-test-ctx", env=env).returncode == 0
    found = daemon.find()
    assert (found.host, found.source) == (real, "context dmac-test-ctx")
    assert daemon.cli_env() == {}  # the CLI follows its context by itself
    assert shell.docker("version", "--format", "{{.Server.Os}}", echo=False, show=False).output.strip() == "linux"


def test_a_well_known_socket_is_found_and_handed_to_the_cli(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No DOCKER_HOST, no context, no default socket, but a rootless-style socket under XDG_RUNTIME_DIR:
    the SDK finds it and the CLI is told (DOCKER_HOST), so both talk to the same daemon."""
    from helpers.core import shell

    real = daemon.find().host.removeprefix("unix://")
    monkeypatch.delenv("DOCKER_HOST", raising=False)
    monkeypatch.setenv("DOCKER_CONFIG", str(tmp_path / "cfg"))
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(tmp_path))
    monkeypatch.setattr(daemon, "DEFAULT_SOCKET", str(tmp_path / "no-default.sock"))
    (tmp_path / "docker.sock").symlink_to(real)
    found = daemon.find()
    assert (found.host, found.source) == (f"unix://{tmp_path}/docker.sock", "found socket")
    assert daemon.cli_env() == {"DOCKER_HOST": found.host}
    assert (
        shell.docker("info", "--format", "{{.ID}}", echo=False, show=False).output.strip()
        == daemon.client().info()["ID"]
    )


def test_tls_variables_are_used(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """DOCKER_TLS_VERIFY and DOCKER_CERT_PATH reach the client's TLS settings (pure: no TLS daemon here)."""
    for name in ("ca.pem", "cert.pem", "key.pem"):
        (tmp_path / name).write_text("not a real certificate\n")
    monkeypatch.setenv("DOCKER_HOST", "tcp://127.0.0.1:2376")
    monkeypatch.setenv("DOCKER_TLS_VERIFY", "1")
    monkeypatch.setenv("DOCKER_CERT_PATH", str(tmp_path))
    (found,) = daemon.candidates()
    assert found.source == "DOCKER_HOST"
    assert found.tls is not None and found.tls.verify is True and found.tls.ca_cert == str(tmp_path / "ca.pem")
    assert found.tls.cert == (str(tmp_path / "cert.pem"), str(tmp_path / "key.pem"))
    monkeypatch.delenv("DOCKER_TLS_VERIFY")
    monkeypatch.delenv("DOCKER_CERT_PATH")
    assert daemon.candidates()[0].tls is None
