"""The course on rootless Docker, for the engine matrix: every notebook as the course user, into docs/compat.json.

Root side (:func:`matrix`): start the user's daemon (:mod:`helpers.infra.rootless`), sync their checkout and
``make setup`` there, then run this module's ``notebooks`` command *as that user* on *their* daemon, and
record its results under engine ``rootless`` in ``docs/compat.json`` (the format of :mod:`helpers.infra.compat`:
papermill with ``SOLUTIONS=True`` per notebook; nbval is for the rootful engines). A notebook that runs
but skips an exercise saying why (``⚠ …``, from :func:`helpers.core.engine.require`) is ``limited``: the one verdict
of :mod:`helpers.infra.runs`.

User side (``python -m helpers.infra.rootless_matrix notebooks``): papermill every notebook in namespace
``dmac`` (its own daemon), and write ``build/rootless/results.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from ..core import course, engine, limits
from ..core.cli import cli
from . import compat, rootless, runs

OUT = course.ROOT / "build" / "rootless"


def verdict(nb: dict[str, Any]) -> dict[str, Any]:
    """``pass``, ``limited`` or ``fail`` with why: the course's one rule
    (:func:`helpers.infra.runs.solutions_verdict`)."""
    return runs.solutions_verdict(nb).to_json()


def run_notebooks(only: list[str], out: Path = OUT) -> dict[str, Any]:
    """Papermill each notebook with every solution applied (as the current user); results by stem."""
    notebooks = sorted((course.ROOT / "notebooks").glob("[0-9][0-9]-*.ipynb"))
    results: dict[str, Any] = {}
    out.mkdir(parents=True, exist_ok=True)
    for notebook in notebooks:
        if only and notebook.stem[:2] not in only:
            continue
        target = out / notebook.name
        print(f"[rootless] papermill {notebook.name}", file=sys.stderr, flush=True)
        begin = time.monotonic()
        try:
            runs.execute(notebook, target, runs.solutions_parameters(notebook, "dmac"))
        except Exception as exc:  # papermill's error: the output notebook has the failing cell
            if not target.exists():
                results[notebook.stem] = {"status": "fail", "cells": [], "why": str(exc).splitlines()[0][:200]}
                continue
        entry = verdict(json.loads(target.read_text()))
        entry["seconds"] = round(time.monotonic() - begin, 1)
        results[notebook.stem] = entry
        print(f"[rootless] {notebook.stem}: {entry['status']} {entry['why']}", file=sys.stderr, flush=True)
    (out / "results.json").write_text(json.dumps(results, indent=1, ensure_ascii=False) + "\n")
    return results


# ---------------------------------------------------------------- root side


def _versions(user_env: dict[str, str]) -> dict[str, str]:

    def out(*args: str) -> str:
        proc = subprocess.run([cli().path, *args], capture_output=True, text=True, timeout=30, env=user_env)
        return proc.stdout.strip() if proc.returncode == 0 else "none"

    return {
        "server": out("version", "--format", "{{.Server.Version}}"),
        "cli": out("version", "--format", "{{.Client.Version}}"),
        "compose": out("compose", "version", "--short"),
        "cli_path": cli().path,
        "python": _python_version(),
    }


def _python_version() -> str:
    """The version of the Python the course user's venv is made with."""

    probe = [rootless.python_for_user(), "-c", "import platform; print(platform.python_version())"]
    return subprocess.run(probe, capture_output=True, text=True, timeout=30).stdout.strip()


def _git_commit() -> str:
    proc = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, cwd=course.ROOT)
    return proc.stdout.strip()


COMPAT_JSON = course.ROOT / "docs" / "compat.json"


def record(results: dict[str, Any], about: dict[str, Any], seconds: dict[str, float], path: Path = COMPAT_JSON) -> Path:
    """Put the rootless results into docs/compat.json under ``rootless`` (other engines' entries stay)."""
    stems = sorted(p.stem for p in (course.ROOT / "notebooks").glob("[0-9][0-9]-*.ipynb"))
    entry = {
        **about,
        "recorded": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "commit": _git_commit(),
        "seconds": {key: round(value, 1) for key, value in seconds.items()},
        "notebooks": {
            stem: {"nbval": {"status": "not run"}, "solutions": results.get(stem, {"status": "not run"})}
            for stem in stems
        },
    }
    compat.put_entry("rootless", entry, path)  # under compat's lock: other lanes record their engines at the same time
    return path


def matrix(name: str, *, keep: bool = False, only: list[str] | None = None) -> int:
    """Rootless end to end (root): daemon, checkout, notebooks as the user, docs/compat.json; exit code."""
    rootless.need_root()
    seconds: dict[str, float] = {}
    begin = time.monotonic()
    user = rootless.start(name)
    seconds["start"] = time.monotonic() - begin
    step = time.monotonic()
    rootless.sync_checkout(user)
    rootless.setup_course(user)
    seconds["checkout+setup"] = time.monotonic() - step
    step = time.monotonic()
    argv = [".venv/bin/python", "-m", "helpers.infra.rootless_matrix", "notebooks"]
    if only:
        argv += ["--only", ",".join(only)]
    bound = {limits.OVERRIDE: str(limits.cell_timeout())}  # the user's environment is made anew: CI's bound given
    rootless.run_as(user, argv, cwd=user.checkout, timeout=4 * 3600, stdout=sys.stderr, env=bound)
    seconds["notebooks"] = time.monotonic() - step
    results_file = user.checkout / "build" / "rootless" / "results.json"
    results = json.loads(results_file.read_text()) if results_file.is_file() else {}
    env = rootless.user_env(user)
    import docker as sdk  # deferred: the Docker SDK is slow to import, and only this command needs it

    theirs = sdk.DockerClient(base_url=user.host, timeout=60)
    caps = engine.from_api(theirs.info(), theirs.version(), cli_buildkit=cli().buildkit)
    about = {
        **_versions(env),
        "mode": f"rootless (user {user.name}), cgroup v{caps.cgroup_version}, {engine.limits_summary(caps)}",
    }
    if not keep:
        rootless.stop_daemon(user)
    seconds["total"] = time.monotonic() - begin
    if only:
        previous = (
            json.loads(COMPAT_JSON.read_text()).get("engines", {}).get("rootless") if COMPAT_JSON.is_file() else None
        )
        for stem, runs in (previous or {}).get("notebooks", {}).items():
            if stem not in results and runs.get("solutions", {}).get("status") != "not run":
                results[stem] = runs["solutions"]
    path = record(results, about, seconds)
    compat.write_tables()
    failed = [stem for stem, entry in results.items() if entry.get("status") == "fail"]
    print(f"rootless: {len(results)} notebook(s) run, {len(failed)} failed; recorded in {path}")
    for stem, entry in results.items():
        print(f"  {stem:34} {entry['status']:8} {entry.get('seconds', '')!s:>6} s  {entry.get('why', '')}")
    print("timings: " + ", ".join(f"{key} {value:.0f} s" for key, value in seconds.items()))
    return 1 if failed or not results else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m helpers.infra.rootless_matrix", description=__doc__.splitlines()[0]
    )
    sub = parser.add_subparsers(dest="command", required=True)
    whole = sub.add_parser("matrix", help="(root) start, checkout, run every notebook as the user, docs/compat.json")
    whole.add_argument("--user", default=rootless.USER, help=f"the course user (default {rootless.USER})")
    whole.add_argument("--keep", action="store_true", help="leave the daemon running afterwards")
    whole.add_argument(
        "--notebooks", default=",".join(os.environ.get(runs.ONLY, "").split()),
        help=f"only these, e.g. 02,03 (default: {runs.ONLY}, as CI's sampled lanes set it, else all)",
    )  # fmt: skip
    one = sub.add_parser("notebooks", help="(as the course user) papermill every notebook with SOLUTIONS=True")
    one.add_argument("--only", default="", help="notebook numbers, e.g. 02,03")
    opts = parser.parse_args(argv)
    if opts.command == "matrix":
        try:
            return matrix(opts.user, keep=opts.keep, only=[n.strip() for n in opts.notebooks.split(",") if n.strip()])
        except rootless.RootlessError as exc:
            print(f"✗ {exc}", file=sys.stderr)
            return 1
    only = [n.strip() for n in opts.only.split(",") if n.strip()]
    results = run_notebooks(only)
    return 1 if any(entry["status"] == "fail" for entry in results.values()) else 0


if __name__ == "__main__":
    raise SystemExit(main())
