"""How a cell shows a command whose figures change from run to run: the command on stdout (compared), its output in
grey on stderr (not compared); listings asked again when the containerd store loses a snapshot under them; bash's
``time`` read. A stand-in ``docker`` (a script replaying the CLI's own messages): no daemon needed."""

from __future__ import annotations

import os
import stat
from pathlib import Path
from types import SimpleNamespace

import pytest

from helpers.core import shell
from helpers.core.errors import CommandFailed
from helpers.lessons.layers import real_seconds


def test_show_stderr_echoes_the_command_and_streams_its_output_in_grey(capsys: pytest.CaptureFixture[str]) -> None:
    result = shell.run(["sh", "-c", "echo 200019968"], show="stderr")
    out, err = capsys.readouterr()
    assert out == "$ sh -c 'echo 200019968'\n" and err == "200019968\n"
    assert result.output == "200019968\n"


def test_only_read_only_listings_and_stats_areasked_again() -> None:
    assert shell.asked_again(["system", "df", "-v"]) is shell.SNAPSHOT_GONE
    assert shell.asked_again(["image", "ls", "--filter=reference=busybox"]) is shell.SNAPSHOT_GONE
    assert shell.asked_again(["images"]) is shell.SNAPSHOT_GONE
    assert shell.asked_again(["stats", "--no-stream", "web"]) is shell.STATS_LATE
    assert shell.asked_again(["stats", "web"]) is None  # a live stream is never replayed
    assert shell.asked_again(["build", "."]) is None and shell.asked_again(["run", "busybox"]) is None


def _stand_in(tmp_path: Path, failures: int, message: str) -> Path:
    """A ``docker`` that fails ``failures`` times with ``message`` (exit 1), then prints a df table."""
    script = tmp_path / "docker"
    count = tmp_path / "calls"
    script.write_text(
        "#!/bin/sh\n"
        f'n=$(cat {count} 2>/dev/null || echo 0); echo $((n + 1)) > {count}\n'
        f'if [ "$n" -lt {failures} ]; then echo "{message}" >&2; exit 1; fi\n'
        'echo "TYPE  TOTAL"; echo "Build Cache  57"\n'
    )
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    return script


@pytest.fixture
def stand_in_cli(monkeypatch: pytest.MonkeyPatch, tmp_path: Path):
    def use(failures: int, message: str) -> Path:
        script = _stand_in(tmp_path, failures, message)
        monkeypatch.setattr(shell, "cli", lambda: SimpleNamespace(path=str(script)))
        monkeypatch.setattr(shell, "_env", lambda: dict(os.environ))
        monkeypatch.setattr(shell.offline, "active", lambda: False)
        monkeypatch.setattr(shell.time, "sleep", lambda _: None)
        return tmp_path / "calls"

    return use


LOST = "Error response from daemon: snapshot u0vagw9v-view does not exist: not found"


def test_a_listing_isasked_again_and_shown_once(stand_in_cli, capsys: pytest.CaptureFixture[str]) -> None:
    calls = stand_in_cli(2, LOST)
    result = shell.docker("system", "df", show="stderr")
    out, err = capsys.readouterr()
    assert calls.read_text().strip() == "3" and result.ok
    assert out == "$ docker system df\n"  # one echo for three tries
    assert err == "TYPE  TOTAL\nBuild Cache  57\n" and LOST not in err


def test_a_lost_snapshot_three_times_is_an_error(stand_in_cli) -> None:
    calls = stand_in_cli(3, LOST)
    with pytest.raises(CommandFailed, match="does not exist"):
        shell.docker("system", "df", show=False)
    assert calls.read_text().strip() == "3"


def test_any_other_failure_is_an_error_at_once(stand_in_cli) -> None:
    calls = stand_in_cli(1, "Error response from daemon: permission denied")
    with pytest.raises(CommandFailed, match="permission denied"):
        shell.docker("image", "ls", show=False)
    assert calls.read_text().strip() == "1"


def test_bash_time_is_read_in_seconds() -> None:
    assert real_seconds("\nreal\t0m0.434s\nuser\t0m0.001s\nsys\t0m0.000s\n") == pytest.approx(0.434)
    assert real_seconds("real\t1m2.500s\n") == pytest.approx(62.5)
    with pytest.raises(RuntimeError, match="no `real` line"):
        real_seconds("dd: /data/big.bin: Read-only file system\n")


def test_a_sorted_listing_asked_again_is_shown_sorted(stand_in_cli, capsys: pytest.CaptureFixture[str]) -> None:
    stand_in_cli(1, LOST)
    shell.docker("image", "ls", sort=True)
    out = capsys.readouterr().out
    assert out == "$ docker image ls | sort\nBuild Cache  57\nTYPE  TOTAL\n"
