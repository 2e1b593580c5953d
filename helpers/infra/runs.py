"""The one verdict on a notebook run with every solution applied (``SOLUTIONS=True``), from its output alone.

Used by ``tests/learners/test_solutions.py`` (make test, the engine matrix, Podman), the rootless matrix, the hub's
test and the compatibility table, so that "the solutions passed" means the same everywhere:

- ``fail``: a cell raised (the first error, at the code cell nbval would name), a checker said "❌ Not yet",
  or an exercise the notebook checks was neither accepted nor skipped with a reason;
- ``limited``: as ``pass``, but the notebook said what this engine does differently or cannot do (``⚠``
  lines, from :func:`helpers.core.engine.require`), with those sentences; an exercise may be skipped only so: its
  check did not run, and a ``⚠`` line said why: in its cell, in the cell that set the ``if NAME:`` guarding it
  (``NAME = engine.require(...)``), or else the last one said before it;
- ``pass``: every exercise the notebook checks was accepted, and nothing was said to be different here.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

from ..core.limits import cell_timeout

Status = Literal["pass", "limited", "fail", "not run"]
CHECK = re.compile(r"\bcheck(?:_widget)?\(\s*[\"'](\d\d\.\d+)[\"']")
WARN = "⚠ "
REQUIRE = re.compile(r"^(\w+) = (?:engine|patching)\.require\(", re.M)  # a cell that says why a later part is skipped
GUARD = re.compile(r"^\s*if (\w+):", re.M)  # a check under such a name: that sentence is its reason
_ANSI = re.compile(r"\x1b\[[0-9;]*m")


ONLY = "DMAC_NOTEBOOKS"
"""The notebooks a run of the suite takes (their numbers, ``"01 03 15"``); unset: every one. CI's sampled lanes
(scripts/ci.py) set it; a notebook left out is "not run" in docs/compat.json, never a pass."""


def only(paths: list[Path], value: str | None = None) -> list[Path]:
    """``paths`` (notebooks) filtered by :data:`ONLY` (or ``value``), in their order."""

    wanted = (os.environ.get(ONLY, "") if value is None else value).split()
    return [p for p in paths if not wanted or Path(p).name[:2] in wanted]


def solutions_parameters(notebook: Path, namespace: str) -> dict[str, Any]:
    """The parameters of a run with every solution applied, in ``namespace``; notebook 04 does not restart a daemon
    others share (that is tested alone)."""
    params: dict[str, Any] = {"NAMESPACE": namespace, "SOLUTIONS": True}
    if Path(notebook).name.startswith("04-"):
        params["ALLOW_DAEMON_RESTART"] = False
    return params


def execute(notebook: Path, out: Path, parameters: dict[str, Any], timeout: int | None = None) -> float:
    """The course's one way to run a whole notebook: papermill, in the notebook's folder, every cell bounded
    (:func:`helpers.core.limits.cell_timeout`), its output notebook written to ``out`` (kept when a cell fails: the
    failing cell is in it); the seconds it took. Used by make test's learners, the matrices and rootless Docker;
    :func:`verdict_of` reads what it wrote. Raises papermill's error when a cell fails."""
    import papermill  # deferred: heavy; only the notebook runs need it

    out.parent.mkdir(parents=True, exist_ok=True)
    start = time.monotonic()
    papermill.execute_notebook(
        str(notebook), str(out), parameters=parameters, cwd=str(Path(notebook).parent),
        execution_timeout=timeout or cell_timeout(), progress_bar=False, log_output=False, kernel_name="python3",
    )  # fmt: skip
    return time.monotonic() - start


@dataclass(frozen=True)
class RunResult:
    """One notebook run's verdict (``docs/compat.json`` stores it as a dict)."""

    status: Status
    cells: list[int] = field(default_factory=list)  # code cells as nbval counts them (the first failing one)
    why: str = ""
    accepted: list[str] = field(default_factory=list)  # exercise ids whose solution was accepted
    skipped: dict[str, str] = field(default_factory=dict)  # exercise id -> the sentence that said why

    def to_json(self) -> dict[str, Any]:
        """What docs/compat.json keeps: status, cells, why."""
        return {key: value for key, value in asdict(self).items() if key in ("status", "cells", "why")}


def _text(out: dict[str, Any]) -> str:
    value = out.get("text", "")
    return "".join(value) if isinstance(value, list) else str(value)


def _stdout(cell: dict[str, Any]) -> str:
    outputs = cell.get("outputs", [])
    return "".join(_text(o) for o in outputs if o.get("output_type") == "stream" and o.get("name") == "stdout")


def _code_cells(nb: dict[str, Any]) -> list[dict[str, Any]]:
    """The notebook's code cells as nbval counts them (papermill's injected parameters cell left out)."""
    return [
        c
        for c in nb["cells"]
        if c["cell_type"] == "code" and "injected-parameters" not in c.get("metadata", {}).get("tags", [])
    ]


def exercises(nb: dict[str, Any]) -> set[str]:
    """The exercise ids a notebook checks (``check("05.1", …)``, ``check_widget("00.2", …)``)."""
    return {ex for cell in _code_cells(nb) for ex in CHECK.findall("".join(cell["source"]))}


def accepted(text: str) -> set[str]:
    """The exercise ids whose verdict in a notebook's output is "Correct"."""
    return set(re.findall(r"Exercise (\d\d\.\d+)\b[^\n]*\n✅ Correct", text))


def first_error(nb: dict[str, Any]) -> tuple[int, str] | None:
    """(code cell index as nbval counts it, 'Ename: value') of the first error output. A value whose first line
    ends in a colon (a CommandFailed: "`docker volume rm …` failed with exit code 1:") gets its last line too,
    the command's own words."""
    for index, cell in enumerate(_code_cells(nb)):
        for out in cell.get("outputs", []):
            if out.get("output_type") == "error":
                text = f"{out['ename']}: {_ANSI.sub('', str(out['evalue']))}"
                lines = [line.strip() for line in text.splitlines() if line.strip()]
                said = f"{lines[0]} {lines[-1]}" if len(lines) > 1 and lines[0].endswith(":") else lines[0]
                return index, said[:300]
    return None


def limits_said(nb: dict[str, Any]) -> list[str]:
    """The limitation sentences the run printed (``⚠ …``), once each."""
    lines = [line for cell in nb["cells"] for line in _stdout(cell).splitlines()]
    return list(dict.fromkeys(line[len(WARN) :].strip() for line in lines if line.startswith(WARN)))


def solutions_verdict(nb: dict[str, Any]) -> RunResult:
    """The verdict on one executed notebook (papermill's output, which holds the source and the outputs)."""
    error = first_error(nb)
    if error:
        return RunResult("fail", [error[0]], error[1])
    text = "".join(_stdout(cell) for cell in nb["cells"])
    if "❌ Not yet" in text:
        line = next(ln for ln in text.splitlines() if "❌ Not yet" in ln)
        return RunResult("fail", [], f"a solution was not accepted: {line.strip()[:200]}")
    expected = exercises(nb)
    if not expected:
        return RunResult("fail", [], "the notebook checks no exercise")
    ok = accepted(text) & expected
    skipped: dict[str, str] = {}
    earlier = ""  # the last limitation the notebook said before this cell (a cell that sets up the exercise)
    guards: dict[str, str] = {}  # NAME -> the sentence its cell printed for `NAME = engine.require(...)`
    for cell in _code_cells(nb):
        source = "".join(cell["source"])
        said = [ln[len(WARN) :].strip() for ln in _stdout(cell).splitlines() if ln.startswith(WARN)]
        for ex in set(CHECK.findall(source)) - ok:
            printed = f"Exercise {ex}" in _stdout(cell)  # the check ran: not accepted means refused
            guarded = [guards[name] for name in GUARD.findall(source) if name in guards]
            if not printed and (said or guarded or earlier):
                skipped[ex] = said[0] if said else guarded[0] if guarded else earlier
        for name in REQUIRE.findall(source):
            if said:
                guards[name] = said[0]
        earlier = said[-1] if said else earlier
    missing = sorted(expected - ok - set(skipped))
    if missing:
        return RunResult("fail", [], f"exercise(s) {', '.join(missing)} neither accepted nor skipped with a reason")
    if notes := limits_said(nb):
        return RunResult("limited", [], " ".join(notes), sorted(ok), skipped)
    return RunResult("pass", [], "", sorted(ok))


def verdict_of(path: Path) -> RunResult:
    """:func:`solutions_verdict` of an output file (``not run`` when there is none)."""
    if not path.is_file():
        return RunResult("not run", [], f"no output at {path}")
    return solutions_verdict(json.loads(path.read_text()))


def main(argv: list[str] | None = None) -> int:
    """``python -m helpers.infra.runs NOTEBOOK OUT [--namespace NS]``: :func:`execute` with every solution applied, then
    :func:`verdict_of` as one JSON line on stdout; exit 0 for ``pass`` or ``limited``. For a run as another user
    (the hub's learners run it in their own environment, cgroup and network namespace)."""
    parser = argparse.ArgumentParser(prog="python -m helpers.infra.runs", description=main.__doc__)
    parser.add_argument("notebook", type=Path)
    parser.add_argument("out", type=Path)
    parser.add_argument("--namespace", default=os.environ.get("DMAC_NAMESPACE", "dmac"))
    parser.add_argument("--cell-timeout", type=int, default=None, help="seconds per cell (default: the course's)")
    opts = parser.parse_args(argv)
    try:
        execute(opts.notebook, opts.out, solutions_parameters(opts.notebook, opts.namespace), opts.cell_timeout)
    except Exception as exc:  # papermill's error: the output notebook holds the failing cell, the verdict names it
        print(f"{type(exc).__name__}: {str(exc)[-400:]}", file=sys.stderr)
    result = verdict_of(opts.out)
    print(json.dumps(asdict(result)))
    return 0 if result.status in ("pass", "limited") else 1


if __name__ == "__main__":
    raise SystemExit(main())
