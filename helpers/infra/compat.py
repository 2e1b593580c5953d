"""The engine matrix's results: ``docs/compat.json`` from a run's reports, rendered as tables.

``python -m helpers.infra.compat record ENGINE`` reads what ``make matrix-engine`` left in
``build/engines/<engine>/`` (nbval's and the solutions' JUnit reports, the papermill output
notebooks, step timings) into ``docs/compat.json``; ``python -m helpers.infra.compat table`` writes
``docs/compat.md`` and the README section between the markers. Nothing here is edited by hand.
"""

from __future__ import annotations

import argparse
import fcntl
import json
import re
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from ..core import course
from . import engines, runs
from .cgroupvm import CHECKS

DOCS = course.ROOT / "docs"
COMPAT_JSON = DOCS / "compat.json"
COMPAT_MD = DOCS / "compat.md"
README = course.ROOT / "README.md"
START, END = "<!-- compat:start -->", "<!-- compat:end -->"
NOTEBOOKS = sorted(p.stem for p in (course.ROOT / "notebooks").glob("[0-9][0-9]-*.ipynb"))
_STEM = re.compile(r"\d\d-[a-z0-9-]+")
_ANSI = re.compile(r"\x1b\[[0-9;]*m|#x1B\[[0-9;]*m")


def reports(engine: str) -> Path:
    """Where one engine's reports go: ``build/engines/<engine>/reports/``."""
    return course.ROOT / "build" / "engines" / engine / "reports"


def _stem(text: str) -> str | None:
    found = _STEM.search(text)
    return found.group(0) if found else None


def _summary(message: str) -> str:
    """One line saying why a cell failed: nbval's reason and the first differing line."""
    text = _ANSI.sub("", message)
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    reason = next((ln.split(": ", 1)[1] for ln in lines if re.match(r"Cell \d+: ", ln)), lines[0] if lines else "")
    diff = next((ln for ln in lines if ln.startswith(("- ", "+ ")) and len(ln) > 3), "")
    return f"{reason}: {diff}"[:160] if diff else reason[:160]


def nbval_results(xml: Path) -> dict[str, dict[str, Any]]:
    """Per notebook from nbval's JUnit report: pass/fail, failing code cells (nbval's ``Cell N``), why."""
    results: dict[str, dict[str, Any]] = {}
    for case in ET.parse(xml).getroot().iter("testcase"):
        stem = _stem(case.get("classname", ""))
        if stem is None:
            continue
        entry = results.setdefault(stem, {"status": "pass", "cells": [], "why": ""})
        problem = case.find("failure")
        if problem is None:
            problem = case.find("error")
        if problem is None:
            continue
        cell = int(re.sub(r"\D", "", case.get("name", "")) or -1)
        entry["status"] = "fail"
        entry["cells"].append(cell)
        if len(entry["cells"]) == 1:
            entry["why"] = _summary(problem.get("message", "") + "\n" + (problem.text or ""))
    return results


def solutions_results(xml: Path, runs_folder: Path) -> dict[str, dict[str, Any]]:
    """Per notebook from tests/learners/test_solutions.py's JUnit report and its papermill outputs.

    The verdict on each output is :func:`helpers.infra.runs.solutions_verdict` (the course's one rule: ``limited`` when
    an exercise was skipped with its reason); a test that failed with no error in its output is a ``fail``.
    """
    results: dict[str, dict[str, Any]] = {}
    for case in ET.parse(xml).getroot().iter("testcase"):
        stem = _stem(case.get("name", ""))
        if stem is None:
            continue
        problem = case.find("failure")
        if problem is None:
            problem = case.find("error")
        result = runs.verdict_of(runs_folder / "solutions" / f"{stem}.ipynb").to_json()
        if problem is not None and result["status"] != "fail":
            result = {"status": "fail", "cells": [], "why": _summary(problem.get("message", ""))}
        elif problem is None and result["status"] == "not run":
            result = {"status": "pass", "cells": [], "why": ""}  # no output kept: the test's own verdict stands
        results[stem] = result
    return results


def _git_commit() -> str:
    proc = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, cwd=course.ROOT)
    return proc.stdout.strip()


def load() -> dict[str, Any]:
    return json.loads(COMPAT_JSON.read_text()) if COMPAT_JSON.is_file() else {"engines": {}}


@contextmanager
def locked(path: Path = COMPAT_JSON) -> Iterator[None]:
    """One writer at a time: CI's lanes record their engines into the same docs/compat.json (and README) at once."""
    lock = course.ROOT / "build" / "compat.lock"
    lock.parent.mkdir(parents=True, exist_ok=True)
    with open(lock, "w") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def put_entry(engine: str, entry: dict[str, Any], path: Path = COMPAT_JSON) -> None:
    """Replace one engine's entry in ``path`` (the others stay), under :func:`locked`."""
    with locked(path):
        data = json.loads(path.read_text()) if path.is_file() else {"engines": {}}
        data.setdefault("engines", {})[engine] = entry
        data["engines"] = dict(sorted(data["engines"].items()))
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(data, indent=1, ensure_ascii=False) + "\n")


def record(engine: str, about: dict[str, str]) -> dict[str, Any]:
    """Put one engine's latest results into docs/compat.json (other engines' entries stay)."""
    folder = reports(engine)
    nbval = nbval_results(folder / "nbval.xml") if (folder / "nbval.xml").is_file() else {}
    solutions = (
        solutions_results(folder / "solutions.xml", folder / "runs") if (folder / "solutions.xml").is_file() else {}
    )
    timings_file = folder.parent / "timings.json"
    timings = json.loads(timings_file.read_text()) if timings_file.is_file() else {}
    notebooks = {
        stem: {"nbval": nbval.get(stem, {"status": "not run"}), "solutions": solutions.get(stem, {"status": "not run"})}
        for stem in NOTEBOOKS
    }
    entry = {
        **about,
        "recorded": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "commit": _git_commit(),
        "seconds": timings,
        "notebooks": notebooks,
    }
    put_entry(engine, entry)
    return entry


def failures(entry: dict[str, Any]) -> int:
    """How many notebook runs (nbval or solutions) failed in one engine's entry."""
    return sum(run.get("status") == "fail" for nb in entry["notebooks"].values() for run in nb.values())


# ---------------------------------------------------------------- rendering


def mark(run: dict[str, Any]) -> str:
    status = run.get("status")
    if status == "pass":
        return "✅"
    if status == "limited":  # ran; the notebook said what this engine cannot do (rootless matrix)
        return "⚠"
    if status == "fail":
        cells = run.get("cells") or []
        return "❌ cell " + ", ".join(map(str, cells[:3])) + (" …" if len(cells) > 3 else "") if cells else "❌"
    return "—"


def _header(engines: dict[str, Any]) -> list[str]:
    cols = " | ".join(f"{name} ({entry.get('server', '?')})" for name, entry in engines.items())
    return [f"| notebook | {cols} |", "|---|" + "---|" * len(engines)]


def compact_table(data: dict[str, Any]) -> str:
    """The README's table: one cell per engine × notebook, 'nbval · solutions'."""
    engines = data["engines"]
    rows = _header(engines)
    for stem in NOTEBOOKS:
        cells = []
        for entry in engines.values():
            runs = entry["notebooks"].get(stem, {})
            cells.append(f"{mark(runs.get('nbval', {}))} · {mark(runs.get('solutions', {}))}")
        rows.append(f"| {stem} | " + " | ".join(cells) + " |")
    return "\n".join(rows)


def _about(name: str, entry: dict[str, Any]) -> str:
    secs = entry.get("seconds", {})
    timing = ", ".join(f"{step} {seconds:.0f} s" for step, seconds in secs.items())
    later = "".join(
        f"; then {', '.join(part['runs'])} again at commit {part['commit']} ({part['recorded']})"
        for part in entry.get("partial", [])
    )
    return (
        f"- **{name}**: Engine {entry.get('server', '?')}, CLI {entry.get('cli', '?')}, "
        f"buildx {entry.get('buildx', '?')}, Compose {entry.get('compose', '?')}, "
        f"the course's Python {entry.get('python', '?')}; "
        f"recorded {entry.get('recorded', '?')} at commit {entry.get('commit', '?')}"
        + (f"; {timing}" if timing else "")
        + later
    )


def _ran(entry: dict[str, Any], kind: str) -> list[str]:
    """The notebooks (their numbers) whose ``kind`` run (nbval or solutions) is recorded in ``entry``."""
    return [
        stem[:2]
        for stem, by_kind in entry.get("notebooks", {}).items()
        if by_kind.get(kind, {}).get("status", "not run") != "not run"
    ]


def merge(old: dict[str, Any], new: dict[str, Any]) -> dict[str, Any]:
    """``old`` updated with what ``new`` ran. An engine whose every mode ran on every notebook or on none (nbval
    never runs notebook 04, nor on Podman and rootless) is taken whole; one that ran part of them (CI samples half
    of the notebooks on some engines) keeps its earlier cells and takes the new ones, listed under ``partial``
    with their commit and time, so the table says where each cell came from."""
    merged = json.loads(json.dumps(old))
    merged.setdefault("engines", {})
    for name, entry in new.get("engines", {}).items():
        stems = [stem for stem in entry.get("notebooks", {}) if not stem.startswith("04-")]
        counts = {kind: len([n for n in _ran(entry, kind) if n != "04"]) for kind in ("nbval", "solutions")}
        whole = all(count in (0, len(stems)) for count in counts.values())
        base = merged["engines"].get(name)
        if base is None or whole:
            merged["engines"][name] = entry
            continue
        for stem, by_kind in entry["notebooks"].items():
            for kind, run in by_kind.items():
                if run.get("status") != "not run":
                    base["notebooks"].setdefault(stem, {})[kind] = run
        ran = [f"{kind} of {' '.join(_ran(entry, kind))}" for kind in ("nbval", "solutions") if _ran(entry, kind)]
        base.setdefault("partial", []).append(
            {"commit": entry.get("commit", "?"), "recorded": entry.get("recorded", "?"), "runs": ran}
        )
    if new.get("cgroup2"):
        merged["cgroup2"] = new["cgroup2"]
    return merged


def markdown(data: dict[str, Any]) -> str:
    """docs/compat.md: the table, each failure's first cell and reason, and the engines' details."""
    out = [
        "# Compatibility: the course on newer Docker Engines",
        "",
        "Written by `python -m helpers.infra.compat table` from `docs/compat.json`, which `make matrix` records;",
        "never edited by hand. Each engine is Debian's `docker.io` running as a daemon in a container on the",
        "host daemon (`helpers/infra/engines.py`); `podman-5` is Debian's Podman serving its Docker-compatible API",
        "there, driven by the docker CLI and Compose (`make matrix-podman`; no nbval: Podman's outputs differ",
        "from Docker's by design, e.g. its build logs). In each cell: **nbval** (every output equals the stored one,",
        "after `tests/sanitize.cfg`) · **solutions** (papermill with `SOLUTIONS=True`: no error, every checker",
        "accepts). ❌ names the failing code cells, counted as nbval does (code cells only, from 0).",
        "Notebook 04 restarts the daemon and is run by papermill only (with `ALLOW_DAEMON_RESTART=False`).",
        "",
        compact_table(data),
        "",
        "## Engines",
        "",
        *(_about(name, entry) for name, entry in data["engines"].items()),
        "",
        "## Failures",
        "",
    ]
    found = False
    for name, entry in data["engines"].items():
        for stem, by_kind in entry["notebooks"].items():
            for kind, run in by_kind.items():
                if run.get("status") == "fail":
                    found = True
                    cells = ", ".join(map(str, run.get("cells", []))) or "?"
                    out.append(f"- {name} · {stem} · {kind} · cell {cells}: {run.get('why', '')}")
    if not found:
        out.append("None.")
    limits = [
        f"- {name} · {stem}: {run.get('why', '')}"
        for name, entry in data["engines"].items()
        for stem, runs in entry["notebooks"].items()
        for run in runs.values()
        if run.get("status") == "limited"
    ]
    if limits:
        out += [
            "",
            "## Limits (⚠: the notebook ran and said, in its own words, what this engine cannot do)",
            "",
            *limits,
        ]
    if data.get("cgroup2"):
        out += ["", cgroup2_section(data["cgroup2"]).rstrip("\n")]
    return "\n".join(out) + "\n"


def put_cgroup2(results: dict[str, Any], path: Path = COMPAT_JSON) -> None:
    """Record the cgroup v2 lane's measured values (``build/vm/results.json``) in ``path``, with the commit."""
    with locked(path):
        data = json.loads(path.read_text()) if path.is_file() else {"engines": {}}
        stamp = {"recorded": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), "commit": _git_commit()}
        data["cgroup2"] = {**results, **stamp}
        path.write_text(json.dumps(data, indent=1, ensure_ascii=False) + "\n")


def readme_section(data: dict[str, Any]) -> str:
    return "\n".join(
        [
            START,
            "<!-- written by `python -m helpers.infra.compat table` from docs/compat.json: do not edit by hand -->",
            compact_table(data),
            "",
            "nbval · solutions per engine; details and each failure's reason in `docs/compat.md`.",
            END,
        ]
    )


def update_readme(data: dict[str, Any], readme: Path = README) -> bool:
    """Replace the README's section between the markers; False if the markers are missing."""
    text = readme.read_text()
    if START not in text or END not in text:
        return False
    head, rest = text.split(START, 1)
    _, tail = rest.split(END, 1)
    readme.write_text(head + readme_section(data) + tail)
    return True


def write_tables() -> None:
    with locked():
        data = load()
        COMPAT_MD.write_text(markdown(data))
        written = update_readme(data)
    if not written:
        print(f"README.md has no {START} … {END} markers: only docs/compat.md was written", file=sys.stderr)


def main(argv: list[str] | None = None) -> int:

    parser = argparse.ArgumentParser(prog="python -m helpers.infra.compat", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    one = sub.add_parser("record", help="read build/engines/ENGINE/reports into docs/compat.json")
    one.add_argument("engine")
    sub.add_parser("table", help="write docs/compat.md and the README section from docs/compat.json")
    take = sub.add_parser("merge", help="merge another run's compat.json (a CI clone's) into docs/compat.json")
    take.add_argument("other", type=Path)
    opts = parser.parse_args(argv)
    if opts.command == "table":
        write_tables()
        return 0
    if opts.command == "merge":
        with locked():
            COMPAT_JSON.write_text(json.dumps(merge(load(), json.loads(opts.other.read_text())), indent=1,
                                              ensure_ascii=False) + "\n")
        write_tables()
        return 0

    entry = record(opts.engine, engines.describe(engines.get(opts.engine)))
    count = failures(entry)
    print(f"{opts.engine}: {count} failing notebook run(s) recorded in {COMPAT_JSON.relative_to(course.ROOT)}")
    return 1 if count else 0


def cgroup2_section(results: dict) -> str:
    """Markdown for the cgroup v2 lane (``make test-cgroup2``): each check, the value the VM measured, the expected
    one. ``results`` is ``build/vm/results.json`` (:func:`helpers.infra.cgroupvm.save`); a value not measured shows
    so."""

    def cell(value: object) -> str:
        return str(value).replace("|", "\\|").replace("\n", " ")

    def got(key: str) -> str:
        return str(results.get(key, "?"))

    about = (
        f"Debian trixie in a VM under QEMU (TCG): kernel {got('vm.kernel')}, Docker Engine {got('engine.version')}, "
        f"cgroup file system {got('vm.cgroup_fs')}; disk made or cached in {got('host.build_seconds')} s, "
        f"boot and checks {got('host.run_seconds')} s; recorded {got('recorded')} at commit {got('commit')}."
    )
    rows = [f"| {c.what} | {cell(results.get(c.key, 'not measured'))} | {cell(c.expected)} |" for c in CHECKS]
    table = ["| check | value measured | expected |", "|---|---|---|", *rows]
    return "\n".join(["## cgroup v2 (`make test-cgroup2`)", "", about, "", *table, ""])


if __name__ == "__main__":
    raise SystemExit(main())
