"""``make matrix``: the course's tests on every matrix engine, each engine a queue of its own.

Each engine runs its two jobs one after the other (never two at once on one engine): nbval, then every
solution, or the other way round, so that while one engine runs nbval the other runs solutions and no
engine waits for the other. nbval runs in namespace ``dmac`` on whichever engine (its stored outputs name
it), so two nbval runs would share ``build/dmac/``: a lock lets one at a time. Solutions run in a namespace
per engine (``dmac-b-26``, ``dmac-b-28``). Each run's output goes to
``build/engines/<name>/reports/<kind>.log``; the results to docs/compat.json.

An engine with its own ``python`` (docker-26: Debian trixie's Python 3.13) runs the tests inside its
container, in a venv of the course made with that Python, so the course is tried on a newer Python
than the host's too; the others run the host's ``.venv`` in the engine's namespaces.
"""

from __future__ import annotations

import argparse
import fcntl
import hashlib
import os
import re
import shlex
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, nullcontext
from pathlib import Path

from ..core import course, limits
from . import compat, engines, runs

KINDS = ("nbval", "solutions")


def schedule(
    names: list[str], solutions_only: frozenset[str] = frozenset(), nbval_only: frozenset[str] = frozenset()
) -> dict[str, list[str]]:
    """Each engine's queue of jobs: every other engine starts with solutions, the rest with nbval (an engine alone
    starts with solutions, which CI may run beside make test's own nbval); the engines in ``solutions_only`` run
    every solution and no nbval, those in ``nbval_only`` nbval alone."""
    queues = {name: list(reversed(KINDS)) if i % 2 == 0 else list(KINDS) for i, name in enumerate(names)}
    only = {**{name: ["solutions"] for name in solutions_only}, **{name: ["nbval"] for name in nbval_only}}
    return {name: only.get(name, kinds) for name, kinds in queues.items()}


CA_BUNDLE = Path("/etc/ssl/certs/ca-certificates.crt")
"""The host's CA bundle (a TLS-intercepting proxy's CA included), given to pip and builds inside the engine."""


def venv(engine: engines.Engine) -> Path:
    """The course's venv made with the engine's own Python (under the checkout, which the engine mounts)."""
    return engine.folder / "venv"


def _exec(engine: engines.Engine, argv: list[str], env: dict[str, str] | None = None) -> list[str]:
    """``docker exec`` argv running ``argv`` in the engine container, against its inner daemon."""
    pairs = {"DOCKER_HOST": f"unix://{engines.INNER_RUN}/docker.sock", **(env or {})}
    flags = [arg for key, value in pairs.items() for arg in ("-e", f"{key}={value}")]
    return [engines.host_cli(), "exec", "-w", str(course.ROOT), *flags, engine.container, *argv]


def _align_docker_group(engine: engines.Engine) -> None:
    """Give the engine's ``docker`` group the host's gid, which owns the inner socket (notebook 01 names it)."""
    gid = engines.dockerd_command()[-1].removeprefix("--group=")
    argv = ["sh", "-c", f"groupmod -o -g {gid} docker 2>/dev/null || groupadd -o -g {gid} docker"]
    subprocess.run(_exec(engine, argv), check=True, env=engines.host_env())


def prepare_python(engine: engines.Engine) -> str:
    """Make (or reuse) the engine Python's venv of the course; that Python's version."""
    _align_docker_group(engine)
    folder = venv(engine)
    wanted = hashlib.sha256(b"".join(f.read_bytes() for f in _env_files())).hexdigest()
    stamp = folder / ".installed"
    if CA_BUNDLE.is_file():  # every time: the tests in the engine hand it to builds too (DMAC_CA_BUNDLE)
        shutil.copyfile(CA_BUNDLE, engine.folder / "ca.crt")
    if not (stamp.is_file() and stamp.read_text() == wanted):
        env = {}
        if CA_BUNDLE.is_file():
            env = {"PIP_CERT": str(engine.folder / "ca.crt"), "PIP_DISABLE_PIP_VERSION_CHECK": "1"}
        print(f"▶ {engine.name}: the course's environment with the engine's own Python …", flush=True)
        begin = time.monotonic()
        for step in (["python3", "-m", "venv", "--clear", str(folder)], [*_install(folder)]):
            subprocess.run(_exec(engine, step, env), check=True, stdout=subprocess.DEVNULL, env=engines.host_env())
        stamp.write_text(wanted)
        engines.record_time(engine, "python-env", time.monotonic() - begin)
    return subprocess.run(
        _exec(engine, [str(folder / "bin" / "python"), "-c", "import platform; print(platform.python_version())"]),
        capture_output=True, text=True, check=True, env=engines.host_env(),
    ).stdout.strip()  # fmt: skip


def _env_files() -> list[Path]:
    """What defines the course's environment (its lock when there is one)."""
    return [f for f in (course.ROOT / "pyproject.toml", course.ROOT / "uv.lock") if f.is_file()]


def _install(folder: Path) -> list[str]:
    return [str(folder / "bin" / "pip"), "install", "--quiet", "-e", f"{course.ROOT}[test]"]


def solutions_namespace(engine: engines.Engine) -> str:
    """The second learner's namespace on ``engine`` (``dmac-b-28``): engines run solutions side by side."""
    return f"dmac-b-{engine.name.rpartition('-')[2]}"


def command(engine: engines.Engine, kind: str, nbval_flags: list[str], notebooks: list[str]) -> list[str]:
    """The pytest command of one run (namespace dmac for nbval, :func:`solutions_namespace` for solutions)."""
    bin_dir = venv(engine) / "bin" if engine.python else course.ROOT / ".venv" / "bin"
    pytest = str(bin_dir / "pytest")
    report = compat.reports(engine.name)
    chosen = os.environ.get(runs.ONLY, "")  # CI's sampled lanes: these notebooks only (the tests read it too)
    if kind == "nbval":
        argv = [pytest, *nbval_flags, *[str(p) for p in runs.only([Path(n) for n in notebooks])]]
        return ["env", "DMAC_NAMESPACE=dmac", f"{LOCK_HELD}=1", *argv, f"--junitxml={report / 'nbval.xml'}"]
    argv = [pytest, "tests/learners/test_solutions.py", f"--junitxml={report / 'solutions.xml'}"]
    namespace = f"DMAC_SOLUTIONS_NAMESPACE={solutions_namespace(engine)}"
    bound = f"{limits.OVERRIDE}={limits.cell_timeout()}"  # docker-26 runs it in its container: given explicitly
    return ["env", f"DMAC_TEST_RUNS={report / 'runs'}", namespace, f"{runs.ONLY}={chosen}", bound, *argv]


def _start(engine: engines.Engine, kind: str, argv: list[str]) -> tuple[subprocess.Popen, Path]:
    log = compat.reports(engine.name) / f"{kind}.log"
    _, env = engines.inner(engine)
    out = open(log, "w")  # closed when the process has ended (see run_round)
    if engine.python:  # `env NAME=value … pytest …` inside the engine container
        # the engine container's own CA bundle lacks the host's (a TLS-intercepting proxy's CA): builds that
        # reach PyPI (notebook 09) get the host's, copied by prepare_python
        bundle = engine.folder / "ca.crt"
        argv = _exec(engine, argv, {"DMAC_CA_BUNDLE": str(bundle)} if bundle.is_file() else None)
        env = engines.host_env()
    else:
        argv = engines.sandbox_argv(engine, argv)
    proc = subprocess.Popen(argv, env=env, stdout=out, stderr=subprocess.STDOUT)
    return proc, log


def _summary(log: Path) -> str:
    lines = [ln for ln in log.read_text(errors="replace").splitlines() if ln.strip()]
    return lines[-1].strip("= ") if lines else "no output"


FAILURE_HEADER = re.compile(r"^_{3,} (?P<test>.+?) _{3,}$")
ANSI = re.compile(r"\x1b\[[0-9;]*m")


def failures(log_text: str, *, head: int = 12, tail: int = 14, most: int = 3) -> list[str]:
    """What a failed pytest run says of its failures, short enough for CI's own log: each failure's report cut to
    its first lines (nbval's cell, its expected and actual output) and its last (where a traceback ends with the
    error's message), without colours, then the ``FAILED``/``ERROR`` lines."""
    lines = ANSI.sub("", log_text).splitlines()
    shown: list[str] = []
    reports = [i for i, line in enumerate(lines) if FAILURE_HEADER.match(line)]
    for start in reports[:most]:
        end = next((i for i in range(start + 1, len(lines)) if FAILURE_HEADER.match(lines[i])
                    or lines[i].startswith("=")), len(lines))  # fmt: skip
        report = lines[start:end]
        if len(report) > head + tail:
            report = [*report[:head], f"[… {len(report) - head - tail} lines …]", *report[-tail:]]
        shown += report
    return shown + [line for line in lines if line.startswith(("FAILED ", "ERROR "))]


NBVAL_ALONE = threading.Lock()
"""nbval runs in namespace ``dmac`` on every engine: one at a time (they would share ``build/dmac/``)."""
NBVAL_LOCK = course.ROOT / "build" / "nbval.lock"
LOCK_HELD = "DMAC_NBVAL_LOCK_HELD"
"""Set for an engine's nbval run, whose matrix holds the lock already (its conftest must not wait for it)."""


@contextmanager
def nbval_file_lock(say: Callable[[str], None] | None = None) -> Iterator[None]:
    """One nbval in namespace ``dmac`` at a time on this machine, across processes: an engine's (the matrix) and
    make test's own (tests/conftest.py), which CI runs on different lanes. ``say`` is told when it must wait."""
    NBVAL_LOCK.parent.mkdir(parents=True, exist_ok=True)
    with open(NBVAL_LOCK, "w") as fh:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            if say:
                say(f"waiting for another nbval run to end ({NBVAL_LOCK.relative_to(course.ROOT)}) …")
            fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


@contextmanager
def nbval_alone() -> Iterator[None]:
    """One nbval at a time: this matrix's threads (:data:`NBVAL_ALONE`) and other processes (the file lock)."""
    with NBVAL_ALONE, nbval_file_lock():
        yield


def run_job(name: str, kind: str, nbval_flags: list[str], notebooks: list[str]) -> int:
    """Run one job on its engine and wait for it; its exit code (the time goes to docs/compat.json)."""
    engine = engines.get(name)
    argv = command(engine, kind, nbval_flags, notebooks)
    print(f"▶ {name} {kind} … (log: {compat.reports(name) / f'{kind}.log'})", flush=True)
    begin = time.monotonic()
    proc, log = _start(engine, kind, argv)
    code = proc.wait()
    seconds = time.monotonic() - begin
    engines.record_time(engine, kind, seconds)
    print(f"{'✔' if code == 0 else '✗'} {name} {kind} in {seconds:.0f} s: {_summary(log)}", flush=True)
    if code:  # CI keeps this output, not the engine's reports: say there which cell failed and how
        print("\n".join(f"  {name} {kind}: {line}" for line in failures(log.read_text(errors="replace"))), flush=True)
    return code


def run_queues(
    queues: dict[str, list[str]], nbval_flags: list[str], notebooks: list[str], job: Callable[..., int] = run_job
) -> dict[str, int]:
    """Every engine's queue at once, each in a thread, nbval one at a time; exit codes by ``engine/kind``."""
    codes: dict[str, int] = {}

    def work(name: str, kinds: list[str]) -> None:
        for kind in kinds:
            try:
                with nbval_alone() if kind == "nbval" else nullcontext():
                    codes[f"{name}/{kind}"] = job(name, kind, nbval_flags, notebooks)
            except Exception as exc:  # a job that could not start is a failed job, and the queue goes on
                print(f"✗ {name} {kind} could not run: {exc}", flush=True)
                codes[f"{name}/{kind}"] = 1

    threads = [threading.Thread(target=work, args=item, name=item[0]) for item in queues.items()]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return codes


def main(argv: list[str] | None = None) -> int:

    parser = argparse.ArgumentParser(prog="python -m helpers.infra.matrix", description=__doc__.splitlines()[0])
    parser.add_argument("engines", nargs="+", choices=sorted(engines.ENGINES))
    parser.add_argument("--nbval", required=True, help="nbval's pytest flags, as one string (the Makefile's NBVAL)")
    parser.add_argument("--notebooks", required=True, help="the notebooks nbval runs, as one string")
    opts = parser.parse_args(argv)
    flags, notebooks = shlex.split(opts.nbval), shlex.split(opts.notebooks)
    for name in opts.engines:
        folder = compat.reports(name)
        subprocess.run(["rm", "-rf", str(folder)], check=True)
        folder.mkdir(parents=True)
    pythons = {name: prepare_python(engines.get(name)) for name in opts.engines if engines.get(name).python}
    solutions_only = frozenset(name for name in opts.engines if not engines.get(name).nbval)
    nbval_only = frozenset(name for name in opts.engines if not engines.get(name).solutions)
    run_queues(schedule(opts.engines, solutions_only, nbval_only), flags, notebooks)
    failed = 0
    for name in opts.engines:
        python = pythons.get(name, ".".join(map(str, sys.version_info[:3])))
        entry = compat.record(name, {**engines.describe(engines.get(name)), "python": python})
        failed += compat.failures(entry)
        print(f"{name}: {compat.failures(entry)} failing notebook run(s)")
    compat.write_tables()
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
