"""Run the real ``docker`` CLI from a cell, shown the way a terminal would show it.

``docker("run", "--rm", "busybox", "echo", "hi")`` prints ``$ docker run ...`` (copyable into a
terminal), streams the output, applies a timeout and raises a short error on failure, unless the
cell demonstrates a failure (``expect_error=True``).
"""

from __future__ import annotations

import datetime
import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from . import audit, course, offline, progress
from .cli import cli
from .daemon import DaemonUnavailable, cli_env, find
from .engine import capabilities
from .errors import CommandFailed, CommandTimeout

# Subcommands that create a resource; the course labels are added right after them.
_LABELLED = [
    ("run",),
    ("create",),
    ("container", "run"),
    ("container", "create"),
    ("build",),
    ("image", "build"),
    ("volume", "create"),
    ("network", "create"),
    ("commit",),
]


@dataclass
class Result:
    """What a command did: exit code and its combined output."""

    args: list[str]
    returncode: int
    output: str
    seconds: float

    @property
    def ok(self) -> bool:
        return self.returncode == 0

    def _ipython_display_(self) -> None:
        """Show nothing as a cell's last value: the output was already streamed."""

    @property
    def lines(self) -> list[str]:
        return self.output.splitlines()


def buildkit() -> bool:
    """Whether ``docker build`` uses BuildKit: the CLI offers it *and* the engine speaks it.

    Podman's Docker-compatible API has no BuildKit session (the CLI's BuildKit build fails with "unable
    to upgrade to h2c", and buildx falls back to a builder container from Docker Hub), so against Podman
    the CLI uses the classic builder API (``DOCKER_BUILDKIT=0``). With no daemon to ask: the CLI's choice.
    """
    if not cli().buildkit:
        return False

    try:
        return capabilities().buildkit
    except DaemonUnavailable:
        return True


def _env() -> dict[str, str]:

    env = dict(os.environ) | cli_env()  # the daemon the SDK found, also for the CLI
    env["DOCKER_BUILDKIT"] = "1" if buildkit() else "0"
    env.setdefault("BUILDKIT_PROGRESS", "plain")
    env["DOCKER_CLI_HINTS"] = "false"  # no "What's next" adverts in outputs
    return env


COURSE_BIN = course.ROOT / "build" / "bin"
"""Where ``make lab`` links the course's ``docker`` for JupyterLab's terminals."""


def course_cli_link() -> Path:
    """Make ``build/bin/docker``, a link to the course's CLI, and return its folder: ``make lab`` makes it
    before JupyterLab starts, for :func:`terminal_env` to put first on the terminals' PATH."""
    links = COURSE_BIN
    links.mkdir(parents=True, exist_ok=True)
    link, chosen = links / "docker", cli().path
    if not link.is_symlink() or os.readlink(link) != chosen:
        link.unlink(missing_ok=True)
        link.symlink_to(chosen)
    return links


def terminal_env(environ: dict[str, str] | None = None) -> dict[str, str]:
    """The environment for a learner's terminal (JupyterLab's, opened by ``make lab``): ``docker`` there is the
    CLI the notebooks use, on the same daemon, building with BuildKit where the notebooks do.

    When another ``docker`` comes first on PATH (say one without the buildx plugin, which builds with the
    legacy builder: no ``$BUILDPLATFORM``, no ``RUN --mount``), ``build/bin`` goes first, where
    :func:`course_cli_link` links the course's CLI. ``DOCKER_BUILDKIT`` is what :func:`buildkit` decides
    (0 against Podman's API). Nothing is written: a pure reading of PATH and the daemon's settings.
    """

    env = dict(os.environ if environ is None else environ) | cli_env()
    first = shutil.which("docker", path=env.get("PATH", ""))
    if first is None or os.path.realpath(first) != os.path.realpath(cli().path):
        env["PATH"] = os.pathsep.join([str(COURSE_BIN), env.get("PATH", "")])
    env["DOCKER_BUILDKIT"] = "1" if buildkit() else "0"
    return env


def label_args(args: list[str]) -> list[str]:
    """The label options for ``args`` if it creates something (``--label k=v`` ...), else []."""
    for prefix in _LABELLED:
        if tuple(args[: len(prefix)]) == prefix:
            if prefix == ("commit",):
                return [x for k, v in course.labels().items() for x in ("--change", f'LABEL {k}="{v}"')]
            return [x for k, v in course.labels().items() for x in ("--label", f"{k}={v}")]
    return []


def with_label(args: list[str]) -> list[str]:
    """``args`` with the course labels inserted after a subcommand that creates something."""
    extra = label_args(args)
    if not extra:
        return list(args)
    n = 1 if args[0] in ("run", "create", "build", "commit") else 2
    return [*args[:n], *extra, *args[n:]]


def run(
    argv: list[str],
    *,
    check: bool = True,
    expect_error: bool | str = False,
    timeout: float = 300,
    echo: bool = True,
    show: bool | str = True,
    sort: bool = False,
    input: str | None = None,
    shown_as: str | None = None,
    env: dict[str, str] | None = None,
    on_stop: Callable[[], str | None] | None = None,
) -> Result:
    """Run ``argv``; echo it as ``$ ...``, stream output (when ``show``), bounded by ``timeout``.

    ``sort=True`` prints the output sorted once the command ends (shown as ``| sort``), for
    listings whose order the daemon does not fix (``docker diff``).
    ``show="stderr"`` streams the output to stderr, in full: a figure that changes from run to run (sizes, times,
    ids), shown to the learner (grey) but not compared; the cell prints its stable reading itself.
    ``show="progress"`` streams to stderr instead, condensed (:mod:`helpers.core.progress`: one line per
    build step, the full log in a file): live progress that the stored outputs do not compare (build
    logs with timings); the cell then prints a stable summary itself.

    ``expect_error``: the cell demonstrates a failure; a non-zero exit prints one stable line (the last one, or
    the last one holding ``expect_error`` when it is a string), and success raises. ``check``: a non-zero exit
    raises :class:`CommandFailed`.

    Past ``timeout`` (or on an interrupt) the command and every process it started are killed, and
    ``on_stop`` removes what it made outside them (a ``docker run``'s container): nothing keeps running.
    The output is read to its end in every case.
    """
    if shown_as is not None or Path(argv[0]).name.startswith(("docker", "podman")):
        audit.note(shown=echo)  # a docker command (or a terminal line with one), shown or not
    if echo:
        print("$ " + (shown_as or shlex.join(argv)) + (" | sort" if sort else ""), flush=True)
    start = time.monotonic()
    try:
        proc = subprocess.Popen(
            argv,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            stdin=subprocess.PIPE if input is not None else subprocess.DEVNULL,
            env=env or _env(),
            errors="replace",
            start_new_session=True,  # its own process group: a timeout stops the CLI and all it started
        )
    except FileNotFoundError:
        raise CommandFailed(f"`{argv[0]}` is not installed or not on PATH.") from None
    lines: list[str] = []
    condensed = progress.Condenser(argv) if show == "progress" and not expect_error else None

    def pump() -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            lines.append(line)
            if condensed is not None:
                if condensed.keep(line):
                    sys.stderr.write(line)
                    sys.stderr.flush()
            elif show and not expect_error and not sort:
                out = sys.stderr if show == "stderr" else sys.stdout
                out.write(line)
                out.flush()

    def log_closed() -> None:
        if condensed is not None:
            sys.stderr.write(condensed.close())
            sys.stderr.flush()

    reader = threading.Thread(target=pump, daemon=True)
    reader.start()
    if input is not None:
        assert proc.stdin is not None
        proc.stdin.write(input)
        proc.stdin.close()
    try:
        proc.wait(timeout=timeout)
        # the output ends when the last process holding it exits: bounded by what is left of the timeout
        reader.join(timeout=max(timeout - (time.monotonic() - start), 1.0))
        if reader.is_alive():
            raise subprocess.TimeoutExpired(argv, timeout)
    except (subprocess.TimeoutExpired, KeyboardInterrupt) as stop:
        removed = _stop(proc, reader, on_stop)
        log_closed()
        if isinstance(stop, KeyboardInterrupt):
            raise
        what = f"; its container {removed} was removed" if removed else ""
        raise CommandTimeout(
            f"`{shlex.join(argv[:3])} ...` did not finish within {timeout:.0f} s and was stopped{what}.",
            "".join(lines),
        ) from None
    log_closed()
    result = Result(list(argv), proc.returncode, "".join(lines), time.monotonic() - start)
    if sort and show and not expect_error:
        print("".join(sorted(lines)), end="", flush=True)
    if expect_error:
        if result.ok:
            raise CommandFailed("This command was expected to fail, but it succeeded.", result)
        if show:
            said = expect_error if isinstance(expect_error, str) else ""  # the line that says why, not a help text
            last = next(
                (
                    ln.strip()
                    for ln in reversed(result.lines)
                    if ln.strip() and not ln.startswith("See 'docker") and said in ln
                ),
                "",
            )
            print(f"✗ failed as expected (exit code {result.returncode}): {last}")
    elif check and not result.ok:
        if "Cannot connect to the Docker daemon" in result.output or "docker daemon is not running" in result.output:

            find()  # raises DaemonUnavailable with the actionable message
        tail = "\n".join(result.lines[-5:])
        raise CommandFailed(f"`{shlex.join(argv[:4])} ...` failed with exit code {result.returncode}:\n{tail}", result)
    return result


def _stop(proc: subprocess.Popen, reader: threading.Thread, on_stop: Callable[[], str | None] | None) -> str | None:
    """Kill the command's process group, read its output to the end, then ``on_stop()`` (what it removed)."""
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    proc.wait()
    reader.join()  # every writer is gone: the pipe ends
    return on_stop() if on_stop is not None else None


def _utc(stamp: str) -> str:
    """Docker's RFC 3339 UTC time (``…:01.123456789Z``, fraction trimmed or absent) as ``…:01.123456``."""
    whole, _, fraction = stamp.rstrip("Z").partition(".")
    return f"{whole}.{fraction[:6]:0<6}"


def _started_since(argv: list[str], since: str) -> Callable[[], str | None]:
    """For a ``docker run`` stopped early: remove the container it created (created at or after ``since``).

    Found by its ``--name`` or, unnamed, by the course labels it carries: never a container made before
    the command started, nor one without the course's label or name.
    """

    def remove() -> str | None:
        query = ["ps", "-a", "--no-trunc", "--format", "{{.ID}}"]
        name = next((argv[i + 1] for i, a in enumerate(argv[:-1]) if a == "--name"), None)
        name = name or next((a.split("=", 1)[1] for a in argv if a.startswith("--name=")), None)
        if name:
            query += ["--filter", f"name=^{name}$"]
        elif course.LABEL in " ".join(argv):
            query += ["--filter", f"label={course.label_filter()}"]
        else:
            return None
        env = _env()
        ids = subprocess.run([cli().path, *query], capture_output=True, text=True, timeout=60, env=env).stdout.split()
        removed = []
        for cid in ids:
            created = subprocess.run(
                [cli().path, "inspect", "--format", "{{.Created}}", cid],
                capture_output=True, text=True, timeout=60, env=env,
            ).stdout.strip()  # fmt: skip
            if _utc(created) >= since:
                subprocess.run([cli().path, "rm", "-f", cid], capture_output=True, timeout=60, env=env)
                removed.append(cid[:12])
        return ", ".join(removed) or None

    return remove


def _run_position(args: list[str]) -> int:
    """Where options start in a ``docker run`` / ``docker container run`` command, else 0."""
    if args[:1] == ["run"]:
        return 1
    if args[:2] == ["container", "run"]:
        return 2
    return 0


def _said_without_daemon(shown: str, *, echo: bool) -> None:
    """With no daemon (Binder), a command is shown and DaemonUnavailable raised at once, instead of the CLI's
    error: the kernel prints what to do."""
    if offline.active():
        try:
            find()
        except DaemonUnavailable:
            if echo:
                print("$ " + shown)
            raise


def docker(*args: str, label: bool = True, **kwargs) -> Result:
    """Run ``docker <args>``; commands that create something get the course labels.

    The echo is exactly the command that ran, labels included (``--label org.dmac-course.namespace=…``) and
    variables set for it alone (``env``) in front: copied into a terminal, it makes the same labelled
    resource, which clean-up finds.
    """
    plain = [str(a) for a in args]
    argv = with_label(plain) if label else plain
    shown = shlex.join(["docker", *argv])
    if kwargs.get("env") is not None:  # variables set for this command only, as a terminal prefixes them
        changed = {k: v for k, v in kwargs["env"].items() if os.environ.get(k) != v}
        shown = " ".join([*(f"{k}={shlex.quote(v)}" for k, v in sorted(changed.items())), shown])
    if not _daemonless(plain):
        _said_without_daemon(shown, echo=kwargs.get("echo", True))
    late = asked_again(plain)
    if late and not kwargs.get("expect_error"):
        return _snapshot([cli().path, *argv], shown, late, **kwargs)
    if not _run_position(argv):
        return run([cli().path, *argv], shown_as=shown, **kwargs)
    # a run stopped by its timeout or an interrupt: its container is removed too, not only the CLI
    since = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")
    return run([cli().path, *argv], shown_as=shown, on_stop=_started_since(argv, since), **kwargs)


STATS_LATE = re.compile("timeout waiting for stats")
"""What the docker CLI says when a container's first statistics take over 2 s (Podman on a busy machine)."""
SNAPSHOT_GONE = re.compile(r"snapshot \S+ does not exist: not found")
"""What the containerd image store says when a snapshot it was sizing was removed meanwhile by a build or a
container beside it (``docker system df``, ``docker image ls``: see daemon.past_lost_snapshots)."""


def asked_again(args: list[str]) -> re.Pattern[str] | None:
    """The passing failure for which a read-only command is asked again, or None: ``docker stats --no-stream``
    (a late first reading) and the listings that size every snapshot (a snapshot removed under them)."""
    if args[:1] == ["stats"] and "--no-stream" in args:
        return STATS_LATE
    if args[:2] in (["system", "df"], ["image", "ls"]) or args[:1] == ["images"]:
        return SNAPSHOT_GONE
    return None


def _snapshot(
    argv: list[str],
    shown: str,
    late: re.Pattern[str],
    *,
    show: bool | str = True,
    echo: bool = True,
    check: bool = True,
    **kwargs,
) -> Result:
    """A read-only command shown once, asked again (three tries in all) while it fails only with ``late``: the CLI
    waits 2 s for each container's first statistics and fails past that; the containerd store fails a listing
    whose snapshot went away meanwhile. Any other failure is an error at once."""
    audit.note(shown=echo)
    sort = kwargs.pop("sort", False)
    if echo:
        print("$ " + shown + (" | sort" if sort else ""), flush=True)
    for attempt in range(3):
        result = run(argv, echo=False, show=False, check=False, **kwargs)
        if result.ok or not late.search(result.output) or attempt == 2:
            break
        time.sleep(1)
    if show:
        out = sys.stderr if show == "stderr" else sys.stdout
        out.write("".join(sorted(result.output.splitlines(keepends=True))) if sort else result.output)
        out.flush()
    if check and not result.ok:
        if "Cannot connect to the Docker daemon" in result.output or "docker daemon is not running" in result.output:
            find()  # raises DaemonUnavailable with the actionable message
        tail = "\n".join(result.lines[-5:])
        raise CommandFailed(f"`{shown}` failed with exit code {result.returncode}:\n{tail}", result)
    return result


def docker_stream(
    *args: str,
    stdin: IO[bytes] | None = None,
    stdout: IO[bytes] | None = None,
    timeout: float = 1800,
    echo: bool = False,
) -> None:
    """``docker ARGS`` with binary data through a pipe (a tar in or out), labelled as :func:`docker` labels.

    ``echo``: print the command as a terminal takes it, the file redirected in (``< FILE``) or out (``> FILE``).
    """
    argv = with_label([str(a) for a in args])
    audit.note(shown=echo)
    if echo:
        redirects = [f"{sign} {shlex.quote(os.path.relpath(f.name))}" for sign, f in (("<", stdin), (">", stdout)) if f]
        print("$ " + " ".join([shlex.join(["docker", *argv]), *redirects]), flush=True)
    done = subprocess.run(
        [cli().path, *argv], stdin=stdin, stdout=stdout, stderr=subprocess.PIPE, env=_env(), timeout=timeout
    )
    if done.returncode != 0:
        error = done.stderr.decode(errors="replace").strip()
        if "Cannot connect to the Docker daemon" in error or "docker daemon is not running" in error:
            find()  # raises DaemonUnavailable with the actionable message (as docker() does)
        raise CommandFailed(f"`{shlex.join(['docker', *args[:3]])} ...` failed: {error[-300:]}")


def sh(line: str, **kwargs) -> Result:
    """A terminal line with a pipe, ``docker logs NAME | wc -c``, run by bash as a JupyterLab terminal would run it
    (:func:`terminal_env`: the course's ``docker`` first on PATH) and shown exactly as it ran. ``pipefail``: a
    ``docker`` that fails fails the line, as a cell must notice; the options of :func:`run` apply. A line that starts
    with a listing is asked again as :func:`docker` asks it (:func:`asked_again`)."""
    _said_without_daemon(line, echo=kwargs.get("echo", True))
    course_cli_link()
    argv, env = ["bash", "-o", "pipefail", "-c", line], _env() | terminal_env()
    words = shlex.split(line.split("|")[0])
    late = asked_again(words[1:]) if words[:1] == ["docker"] else None
    if late and not kwargs.get("expect_error"):
        return _snapshot(argv, line, late, env=env, **kwargs)
    return run(argv, shown_as=line, env=env, **kwargs)


def _daemonless(args: list[str]) -> bool:
    """Commands that work without a daemon (compose file validation, help, client version)."""
    return args[:2] == ["compose", "config"] or "--help" in args or args[:1] == ["--version"]


def docker_out(*args: str, **kwargs) -> str:
    """Run ``docker <args>`` quietly and return its output, stripped (for values a cell needs)."""
    return docker(*args, echo=False, show=False, **kwargs).output.strip()


def which(binary: str) -> str | None:
    """Path of ``binary`` on PATH, including the course environment's own ``bin`` folder."""
    return shutil.which(binary) or shutil.which(binary, path=os.path.dirname(sys.executable))
