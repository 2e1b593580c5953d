"""``make matrix``: the course's tests on every matrix engine, two runs at a time.

nbval runs alone on its engine (its outputs are compared strictly, and another learner's builds would
change what the build cache shows), but one engine's nbval and another engine's solutions run side by
side: different daemons, different namespaces (``dmac``, ``dmac-b``) and so different ``build/``
folders. Engines A and B take two rounds: nbval A with solutions B, then nbval B with solutions A.
Each run's output goes to ``build/engines/<name>/reports/<kind>.log``; the results to docs/compat.json.
"""

from __future__ import annotations

import shlex
import subprocess
import sys
import time
from pathlib import Path

from . import compat, course, engines

KINDS = ("nbval", "solutions")


def schedule(names: list[str]) -> list[list[tuple[str, str]]]:
    """Rounds of (engine, kind): each engine's nbval once, never beside anything else on that engine."""
    if len(names) == 1:
        return [[(names[0], "nbval")], [(names[0], "solutions")]]
    n = len(names)
    return [[(names[r], "nbval"), (names[(r + 1) % n], "solutions")] for r in range(n)]


def command(engine: engines.Engine, kind: str, nbval_flags: list[str], notebooks: list[str]) -> list[str]:
    """The pytest command of one run (namespace dmac for nbval, tests/test_solutions.py's dmac-b)."""
    pytest = str(course.ROOT / ".venv" / "bin" / "pytest")
    report = compat.reports(engine.name)
    if kind == "nbval":
        argv = [pytest, *nbval_flags, *notebooks, f"--junitxml={report / 'nbval.xml'}"]
        return ["env", "DMAC_NAMESPACE=dmac", *argv]
    argv = [pytest, "tests/test_solutions.py", f"--junitxml={report / 'solutions.xml'}"]
    return ["env", f"DMAC_TEST_RUNS={report / 'runs'}", *argv]


def _start(engine: engines.Engine, kind: str, argv: list[str]) -> tuple[subprocess.Popen, Path]:
    log = compat.reports(engine.name) / f"{kind}.log"
    _, env = engines._inner(engine)
    out = open(log, "w")  # closed when the process has ended (see run_round)
    proc = subprocess.Popen(engines.sandbox_argv(engine, argv), env=env, stdout=out, stderr=subprocess.STDOUT)
    return proc, log


def _summary(log: Path) -> str:
    lines = [ln for ln in log.read_text(errors="replace").splitlines() if ln.strip()]
    return lines[-1].strip("= ") if lines else "no output"


def run_round(jobs: list[tuple[str, str]], nbval_flags: list[str], notebooks: list[str]) -> dict[str, int]:
    """Run one round's jobs at once; their exit codes by ``engine/kind``."""
    running = []
    for name, kind in jobs:
        engine = engines.get(name)
        argv = command(engine, kind, nbval_flags, notebooks)
        print(f"▶ {name} {kind}: {shlex.join(argv[2:4])} … (log: {compat.reports(name) / f'{kind}.log'})", flush=True)
        running.append((engine, kind, time.monotonic(), *_start(engine, kind, argv)))
    codes = {}
    for engine, kind, begin, proc, log in running:
        codes[f"{engine.name}/{kind}"] = proc.wait()
        seconds = time.monotonic() - begin
        engines.record_time(engine, kind, seconds)
        print(f"{'✔' if proc.returncode == 0 else '✗'} {engine.name} {kind} in {seconds:.0f} s: {_summary(log)}")
    return codes


def main(argv: list[str] | None = None) -> int:
    import argparse

    parser = argparse.ArgumentParser(prog="python -m helpers.matrix", description=__doc__.splitlines()[0])
    parser.add_argument("engines", nargs="+", choices=sorted(engines.ENGINES))
    parser.add_argument("--nbval", required=True, help="nbval's pytest flags, as one string (the Makefile's NBVAL)")
    parser.add_argument("--notebooks", required=True, help="the notebooks nbval runs, as one string")
    opts = parser.parse_args(argv)
    flags, notebooks = shlex.split(opts.nbval), shlex.split(opts.notebooks)
    for name in opts.engines:
        folder = compat.reports(name)
        subprocess.run(["rm", "-rf", str(folder)], check=True)
        folder.mkdir(parents=True)
    for jobs in schedule(opts.engines):
        run_round(jobs, flags, notebooks)
    failed = 0
    for name in opts.engines:
        entry = compat.record(name, engines.describe(engines.get(name)))
        failed += compat.failures(entry)
        print(f"{name}: {compat.failures(entry)} failing notebook run(s)")
    compat.write_tables()
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
