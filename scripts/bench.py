"""`make bench`: how long the course takes, measured on this machine (a benchmark, not a test).

    scripts/bench.py notebooks   every notebook cold, then warm, in namespace dmac-bench (~15 min)
    scripts/bench.py suite       `make setup` + `make test` in a fresh clone on a fresh daemon (cold),
                                 then `make test` again (warm) (~50 min; `make bench-suite`)
    scripts/bench.py ci [FILE]   copy a CI run's split (build/ci/split.json, from .ci/run) into docs/benchmark.*
    scripts/bench.py render      rewrite docs/benchmark.md and .csv from docs/benchmark.json

Each measuring step stores its figures in docs/benchmark.json (with the machine and the date) and
re-renders the Markdown and CSV, so the two halves can be measured at different times.

Cold means what a new machine sees. Where the course started the daemon itself, both steps stop it,
start a throwaway one on an empty data root (base images bootstrapped offline, nothing cached), measure,
then remove it and start the original again: the learner's cache is neither used nor changed. On a
daemon the course did not start, `notebooks` approximates cold with builds without cache
(DMAC_NO_CACHE=1; the base images stay) and `suite` refuses.
"""

from __future__ import annotations

import csv
import json
import os
import platform
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
NS = "dmac-bench"
OUT = ROOT / "build" / "bench"
DOCS = ROOT / "docs"
STORE = DOCS / "benchmark.json"
SLOW_CELL_S = 20.0  # a cell slower than this must show progress
PHASE = re.compile(r"^=+ (?P<summary>.*?) in (?P<seconds>[0-9.]+)s(?: \([0-9:]+\))? =+$", re.M)


def machine() -> dict[str, str]:
    mem = ""
    try:
        kb = int(Path("/proc/meminfo").read_text().split()[1])
        mem = f"{kb / 1e6:.1f} GB RAM"
    except (OSError, ValueError, IndexError):
        pass
    return {
        "when": f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC",
        "machine": f"{os.cpu_count()} CPUs · {mem} · {platform.machine()} · {platform.platform()}",
    }


# ---- notebooks --------------------------------------------------------------------------------------


def _first_line(cell: dict) -> str:
    src = cell["source"] if isinstance(cell["source"], str) else "".join(cell["source"])
    lines = [x for x in src.strip().splitlines() if not x.startswith("#")] or [""]
    return lines[0][:60]


def run_all(kind: str, env: dict[str, str], disk: dict[str, float]) -> tuple[dict[str, float], list[dict]]:
    """Run every notebook with papermill; returns seconds per notebook and every cell's duration."""
    from tests.notebook_runs import NOTEBOOKS, execute

    times: dict[str, float] = {}
    cells: list[dict] = []
    for nb in NOTEBOOKS:
        if nb.stem.startswith("14-"):  # notebook 14 removes it all: measure just before
            disk.update(course_disk())
        params: dict[str, object] = {"NAMESPACE": NS}
        if nb.stem.startswith("04-"):
            params["ALLOW_DAEMON_RESTART"] = False
        out, seconds = execute(nb, f"bench-{kind}", params, env, timeout=1200)
        times[nb.stem] = round(seconds, 1)
        print(f"{kind:5} {nb.stem:40} {times[nb.stem]:6.1f} s", flush=True)
        for i, cell in enumerate(json.loads(out.read_text())["cells"]):
            duration = cell.get("metadata", {}).get("papermill", {}).get("duration")
            if duration is not None and cell["cell_type"] == "code":
                cells.append(
                    {
                        "kind": kind,
                        "notebook": nb.stem,
                        "cell": i,
                        "seconds": round(duration, 1),
                        "first_line": _first_line(cell),
                        "outputs": len(cell.get("outputs", [])),
                    }
                )
    return times, cells


def course_disk() -> dict[str, float]:
    """MB of course-labelled images and volumes, and of the BuildKit cache (shared by namespaces)."""
    from helpers.core import course
    from helpers.core.daemon import client

    df = client().df()

    def labelled(items: list[dict], size) -> float:
        return sum(size(x) for x in items or [] if course.LABEL in (x.get("Labels") or {})) / 1e6

    return {
        "images_mb": round(labelled(df.get("Images", []), lambda i: i.get("Size", 0)), 1),
        "images_own_mb": round(labelled(df.get("Images", []), lambda i: i.get("Size", 0) - i.get("SharedSize", 0)), 1),
        "all_layers_mb": round(df.get("LayersSize", 0) / 1e6, 1),
        "volumes_mb": round(labelled(df.get("Volumes", []), lambda v: v.get("UsageData", {}).get("Size", 0)), 1),
        "build_cache_mb": round(sum(b.get("Size", 0) for b in df.get("BuildCache", []) or []) / 1e6, 1),
    }


def first_output_from_fresh_clone() -> float:
    """Seconds from `make setup` in a fresh clone (new venv) to notebook 00's first container output."""
    with tempfile.TemporaryDirectory(prefix="dmac-clone-") as tmp:
        clone = Path(tmp) / "course"
        subprocess.run(["git", "clone", "-q", str(ROOT), str(clone)], check=True)
        start = time.monotonic()
        subprocess.run(["make", "-s", "setup"], cwd=clone, check=True, stdout=subprocess.DEVNULL)
        code = (
            f"import os; os.environ['DMAC_NAMESPACE']={NS!r}\n"
            "from helpers import start, docker\nstart('00')\n"
            "docker('run', '--rm', 'busybox', 'echo', 'Hello from a container')\n"
        )
        subprocess.run(
            [str(clone / ".venv/bin/python"), "-c", code],
            cwd=clone / "notebooks",
            check=True,
            stdout=subprocess.DEVNULL,
        )
        seconds = round(time.monotonic() - start, 1)
    from helpers.infra import setup

    setup.ensure_compose_plugin()  # the clone's `make setup` pointed the plugin into its own environment
    return seconds


def bench_notebooks(skip_clone: bool) -> dict:
    from helpers.core import cleanup, managed
    from helpers.core.daemon import reset_client
    from helpers.core.images import ensure_base_images
    from helpers.infra import setup

    os.environ["DMAC_NAMESPACE"] = NS
    disk: dict[str, float] = {}
    result: dict = machine()
    if managed.managed() and _course_daemon_running():
        with fresh_daemon() as data_root:
            setup.start_dockerd(str(data_root))
            reset_client()
            if not skip_clone:  # a new machine: new Python environment, base images bootstrapped offline
                result["fresh_clone_to_first_output_s"] = first_output_from_fresh_clone()
                result["fresh_clone_means"] = "daemon running, no image at all: base images bootstrapped"
            ensure_base_images()
            result["cold_means"] = "a fresh daemon on an empty data root (nothing cached)"
            result["cold"], cold_cells = run_all("cold", {}, disk)
            result["warm"], warm_cells = run_all("warm", {}, disk)
        reset_client()
    else:
        print("[bench] not the course's own daemon: cold = builds without cache (DMAC_NO_CACHE=1)", flush=True)
        cleanup.remove(NS, verbose=False)
        try:
            result["cold_means"] = "builds without cache (DMAC_NO_CACHE=1) on the current daemon"
            result["cold"], cold_cells = run_all("cold", {"DMAC_NO_CACHE": "1"}, disk)
            result["warm"], warm_cells = run_all("warm", {}, disk)
        finally:
            cleanup.remove(NS, verbose=False)
        if not skip_clone:
            result["fresh_clone_to_first_output_s"] = first_output_from_fresh_clone()
            result["fresh_clone_means"] = "daemon running, base images present"
    result["cells"] = sorted(cold_cells + warm_cells, key=lambda c: -c["seconds"])
    result["disk"] = disk
    return result


# ---- the whole suite --------------------------------------------------------------------------------


def _course_daemon_running() -> bool:
    from helpers.core import managed
    from helpers.core.procs import alive

    state = managed.managed()
    return state is not None and alive(state["pid"])


def _stop(pid: int) -> None:
    """SIGTERM, then wait (bounded) until it is gone; a daemon this process started is reaped, not waited out."""
    from helpers.core.procs import alive

    os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + 60
    while alive(pid) and time.monotonic() < deadline:
        time.sleep(0.5)


@contextmanager
def fresh_daemon() -> Iterator[Path]:
    """Stop the course's daemon, yield an empty data root for a new one, then put the original back.

    Refuses when a daemon the course did not start answers (it is not ours to stop).
    """
    from helpers.core import daemon, managed
    from helpers.infra import setup

    before = managed.managed() if _course_daemon_running() else None
    if daemon.available() and not before:
        raise SystemExit(
            "a cold measurement stops the daemon and starts a fresh one, but the daemon answering here was "
            "not started by the course. Run it where CI runs (a machine with no daemon of yours)."
        )
    if before:
        _stop(before["pid"])
    work = Path(tempfile.mkdtemp(prefix="dmac-bench-", dir="/var/tmp"))
    work.chmod(0o755)  # like a checkout anywhere: readable by every user
    try:
        yield work / "docker"
    finally:
        if (state := managed.managed()) and _course_daemon_running():
            _stop(state["pid"])
        subprocess.run(["umount", "-l", str(work / "docker")], stderr=subprocess.DEVNULL, check=False)
        shutil.rmtree(work, ignore_errors=True)
        if before:  # the original daemon again, and the compose plugin pointing at this checkout
            setup.start_dockerd(before["data_root"])
            setup.ensure_compose_plugin()


def _timed_make(clone: Path, target: str, env: dict[str, str], log: Path) -> tuple[float, list[str]]:
    print(f"[bench] make {target} in {clone} (log {log})", flush=True)
    start = time.monotonic()
    with open(log, "w") as fh:
        proc = subprocess.run(["make", target], cwd=clone, env=env, stdout=fh, stderr=subprocess.STDOUT)
    seconds = round(time.monotonic() - start, 1)
    if proc.returncode:
        raise SystemExit(f"make {target} failed after {seconds:.0f} s; see {log}")
    phases = [f"{m['summary']} in {float(m['seconds']):.0f} s" for m in PHASE.finditer(log.read_text(errors="replace"))]
    print(f"[bench] make {target}: {seconds:.0f} s", flush=True)
    return seconds, phases


def bench_suite() -> dict:
    OUT.mkdir(parents=True, exist_ok=True)
    result: dict = machine()
    with fresh_daemon() as data_root:
        clone = data_root.parent / "course"
        subprocess.run(["git", "clone", "-q", str(ROOT), str(clone)], check=True)
        env = {**os.environ, "DMAC_DOCKER_DATA_ROOT": str(data_root)}
        for var in ("DMAC_NAMESPACE", "MAKEFLAGS", "MFLAGS", "MAKELEVEL"):
            env.pop(var, None)
        result["commit"] = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=clone, capture_output=True, text=True
        ).stdout.strip()
        result["cold_setup_s"], _ = _timed_make(clone, "setup", env, OUT / "suite-cold-setup.log")
        result["cold_test_s"], result["cold_phases"] = _timed_make(clone, "test", env, OUT / "suite-cold-test.log")
        result["warm_test_s"], result["warm_phases"] = _timed_make(clone, "test", env, OUT / "suite-warm-test.log")
    return result


# ---- the report -------------------------------------------------------------------------------------


def _mins(seconds: float) -> str:
    return f"{int(seconds // 60)} min {int(seconds % 60):02d} s"


CI_TARGET_S = 45 * 60
STAGE_WHAT = {
    "setup": "`make setup test-deps`: make test's own first steps (Python environment, daemon, base images, browser)",
    "make-test": "`make test`: the README's test command, on CI's own daemon with an empty data root",
    "matrix": "Engines 26 and 28 (classic store): the solutions on 26, nbval on 28",
    "test-room": "the room registry serving Engine 28, and the live engine checks",
    "engines-stop": "the matrix's engines stopped",
    "matrix-rootless": "the solutions on rootless Docker, as a course user",
    "test-hub": "the workshop hub: three learners at once, isolation, limits, culling, the review's probes",
    "matrix-podman": "the solutions on Podman 5 (two learners), then the Podman checks",
    "matrix-containerd": "Engine 28.5 with the containerd image store (the stored outputs'): the solutions, then nbval",
    "containerd-stop": "that engine stopped",
    "test-cgroup2": "the cgroup v2 VM (Debian trixie, QEMU): limits, OOM, update, stats, I/O, hub cgroup, rootless",
    "lint": "ruff, mypy and the import contracts",
}


def render_ci(ci: dict) -> list[str]:
    """The CI section: each stage's lane, start, seconds and the machine's load meanwhile."""
    busy = []
    if core_s := ci.get("busy_core_s"):
        cores = int(str(ci.get("machine", "2")).split()[0])
        busy = [f"The CPUs were busy for {core_s / 60:.0f} CPU-minutes in all: on {cores} cores no order of the same "
                f"work ends before {core_s / 60 / cores:.0f} min.", ""]  # fmt: skip
    stages = ci["stages"]
    wall = max(s["start"] + s["seconds"] for s in stages.values())
    rows = []
    for name, s in sorted(stages.items(), key=lambda item: item[1]["start"]):
        lane = "foreground" if s["lane"] == 0 else f"lane {s['lane']}"
        load = f"{s['cpu_busy_pct']} %" if "cpu_busy_pct" in s else "?"
        free = f"{s['min_free_mb'] / 1024:.1f} GB" if "min_free_mb" in s else "?"
        phases = " (pytest phases " + " + ".join(f"{p:.0f}" for p in s["phases"]) + " s)" if s.get("phases") else ""
        mark = "" if s["code"] == 0 else " **failed**"
        half = f" — notebooks {s['notebooks']} only" if s.get("notebooks") else ""
        rows.append(
            f"| {name}{mark} | {STAGE_WHAT.get(name, '')}{phases}{half} | {lane} | {s['start'] / 60:.1f} | "
            f"{_mins(s['seconds'])} | {load} | {free} |"
        )
    return [
        "## CI (`.ci/run`)",
        "",
        f"A fresh clone's `.ci/run` on {ci['machine']}, {ci['when']}, commit {ci['commit']}: "
        f"**{_mins(wall)} wall clock** (CI allows 90 min; the target is under 45). "
        + (f"{ci['note'][0].upper()}{ci['note'][1:]}. " if ci.get("note") else "")
        + "Written by "
        "`scripts/bench.py ci build/ci/split.json` from the run's own record. Beside `make test` (the foreground) two "
        "lanes run the other stages, each when its gate opens (scripts/ci.py GATES): the load "
        "columns are the mean CPU use of the machine (both cores, from `vmstat 10`) and the least free memory "
        "while the stage ran. A stage marked with notebooks ran on that half of the course (scripts/ci.py HALVES: "
        "the halves swap with every commit).",
        "",
        "| stage | what | where | starts (min) | time | CPU busy | least free memory |",
        "|---|---|---|---:|---:|---:|---:|",
        *rows,
        "",
        *busy,
    ]


def render(data: dict) -> str:
    lines = ["# Benchmark", "", "Made by `make bench` (notebooks) and `make bench-suite` (the whole suite).", ""]
    nbs, suite = data.get("notebooks"), data.get("suite")
    targets: list[tuple[str, str, str]] = []
    if ci := data.get("ci"):
        lines += render_ci(ci)
        wall = max(s["start"] + s["seconds"] for s in ci["stages"].values())
        targets.append(("`.ci/run` under 45 min, every lane", _mins(wall), _met(wall < CI_TARGET_S)))
        if test := ci["stages"].get("make-test"):
            targets.append(("cold `make test` ≤ 15 min", _mins(test["seconds"]), _met(test["seconds"] <= 900)))
    if suite:
        cold_total = suite["cold_setup_s"] + suite["cold_test_s"]
        lines += [
            "## The whole suite",
            "",
            f"Measured {suite['when']} on {suite['machine']}, commit {suite.get('commit', '?')}.",
            "",
            "Cold = a fresh clone on a machine with no daemon running, as in CI: `make setup` (new Python "
            "environment, dockerd started on an empty data root, base images bootstrapped offline), then "
            "`make test`. Warm = `make test` again straight after.",
            "",
            "| run | time | pytest phases (their own timers) |",
            "|---|---:|---|",
            f"| cold `make setup` | {_mins(suite['cold_setup_s'])} | |",
            f"| cold `make test` | {_mins(suite['cold_test_s'])} | " + "; ".join(suite["cold_phases"]) + " |",
            f"| **cold total** | **{_mins(cold_total)}** | |",
            f"| warm `make test` | {_mins(suite['warm_test_s'])} | " + "; ".join(suite["warm_phases"]) + " |",
            "",
        ]
        targets += [
            ("cold `make test` ≤ 15 min (`make bench-suite`)", _mins(suite["cold_test_s"]),
             _met(suite["cold_test_s"] <= 900)),
        ]  # fmt: skip
    if nbs:
        cold, warm = nbs["cold"], nbs["warm"]
        rows = [(nb, cold[nb], warm[nb], warm[nb] / cold[nb]) for nb in cold]
        over = [nb[:2] for nb, _, _, r in rows if r > 0.5]
        slow = [c for c in nbs["cells"] if c["seconds"] > SLOW_CELL_S]
        silent = [c for c in slow if c["outputs"] == 0]
        lines += [
            "## Per notebook",
            "",
            f"Measured {nbs['when']} on {nbs['machine']}. Namespace `{NS}`, one notebook after another.",
            "",
            f"Cold: {nbs.get('cold_means', 'builds without cache')}. Warm: the same notebooks again right after "
            "(notebook 14 removed the course's images, so warm rebuilds them from the build cache).",
            "",
            "| notebook | cold (s) | warm (s) | warm/cold |",
            "|---|---:|---:|---:|",
            *[f"| {nb} | {c:.1f} | {w:.1f} | {r:.2f} |" for nb, c, w, r in rows],
            f"| **total** | **{sum(cold.values()):.1f}** | **{sum(warm.values()):.1f}** | "
            f"**{sum(warm.values()) / sum(cold.values()):.2f}** |",
            "",
            "### Slowest cells",
            "",
            "| seconds | run | notebook | cell | first line | outputs |",
            "|---:|---|---|---:|---|---:|",
            *[
                f"| {c['seconds']:.1f} | {c['kind']} | {c['notebook'][:2]} | {c['cell']} | `{c['first_line']}` | "
                f"{c['outputs']} |"
                for c in nbs["cells"][:12]
            ],
            "",
            "### Other figures",
            "",
        ]
        if nbs.get("fresh_clone_to_first_output_s") is not None:
            lines.append(
                "- Fresh clone to notebook 00's first container output (`make setup` with a new Python "
                f"environment; {nbs.get('fresh_clone_means', '')}): {nbs['fresh_clone_to_first_output_s']:.0f} s."
            )
        d = nbs["disk"]
        own = f" ({d['images_own_mb']:.0f} MB not shared with another image)" if "images_own_mb" in d else ""
        every = f"; every image layer on the daemon {d['all_layers_mb']:.0f} MB" if "all_layers_mb" in d else ""
        lines += [
            f"- Disk after a full run, before notebook 14 cleans up: course-labelled images "
            f"{d['images_mb']:.0f} MB adding up each image's size (a shared layer counts in every image that "
            f"uses it){own}{every}; volumes "
            f"{d['volumes_mb']:.0f} MB (each notebook removes its own); BuildKit cache {d['build_cache_mb']:.0f} MB.",
            "",
        ]
        targets += [
            (
                "warm/cold ≤ 0.5 per notebook",
                f"{len(rows) - len(over)} of {len(rows)} notebooks",
                _met(not over) + (f": not {', '.join(over)}" if over else ""),
            ),
            (
                f"no cell over {SLOW_CELL_S:.0f} s without visible progress",
                f"{len(slow)} cells over {SLOW_CELL_S:.0f} s, {len(silent)} of them with no output",
                _met(not silent),
            ),
            ("one cold pass of every notebook ≤ 4 min", _mins(sum(cold.values())), _met(sum(cold.values()) <= 240)),
            ("one warm pass of every notebook ≤ 2.5 min", _mins(sum(warm.values())), _met(sum(warm.values()) <= 150)),
        ]
        if (first := nbs.get("fresh_clone_to_first_output_s")) is not None:
            targets.append(("fresh clone → first container output ≤ 60 s", f"{first:.0f} s", _met(first <= 60)))
    if targets:
        lines += [
            "## Targets",
            "",
            "| target | measured | met |",
            "|---|---|---|",
            *[f"| {t} | {m} | {ok} |" for t, m, ok in targets],
            "",
            "Reading them: a cache can only skip builds and pulls. Most notebooks spend their time running "
            "containers and measuring on purpose (stop timeouts, I/O comparisons, restart loops, database "
            "start-ups, `docker stats` samples), so their second run takes about as long as the first; only "
            "the build-heavy ones (01, 10) drop below half. `make test` runs the course about four and a half "
            "times (nbval; every solution applied; a kernel restart halfway plus two full runs without "
            "clean-up; notebooks 00 and 04 again alone) and adds the helpers', Binder, bundle and browser "
            "tests, so its time is several times one pass over the notebooks.",
            "",
        ]
    return "\n".join(lines)


def _met(ok: bool) -> str:
    return "yes" if ok else "**no**"


def write(data: dict) -> None:
    DOCS.mkdir(exist_ok=True)
    STORE.write_text(json.dumps(data, indent=1) + "\n")
    (DOCS / "benchmark.md").write_text(render(data))
    with open(DOCS / "benchmark.csv", "w", newline="") as fh:
        out = csv.writer(fh)
        out.writerow(["item", "cold_s", "warm_s", "warm_over_cold"])
        nbs, suite = data.get("notebooks"), data.get("suite")
        if nbs:
            for nb, c in nbs["cold"].items():
                w = nbs["warm"][nb]
                out.writerow([nb, f"{c:.1f}", f"{w:.1f}", f"{w / c:.2f}"])
            c, w = sum(nbs["cold"].values()), sum(nbs["warm"].values())
            out.writerow(["notebooks total", f"{c:.1f}", f"{w:.1f}", f"{w / c:.2f}"])
        if suite:
            c, w = suite["cold_setup_s"] + suite["cold_test_s"], suite["warm_test_s"]
            out.writerow(["make setup + make test", f"{c:.1f}", f"{w:.1f}", f"{w / c:.2f}"])


def main(argv: list[str]) -> int:
    what = argv[0] if argv else "notebooks"
    data = json.loads(STORE.read_text()) if STORE.exists() else {}
    if what == "notebooks":
        data["notebooks"] = bench_notebooks(skip_clone="--skip-clone" in argv)
    elif what == "suite":
        data["suite"] = bench_suite()
    elif what == "ci":
        data["ci"] = json.loads(Path(argv[1] if len(argv) > 1 else ROOT / "build" / "ci" / "split.json").read_text())
    elif what != "render":
        print(__doc__)
        return 2
    write(data)
    print((DOCS / "benchmark.md").read_text())
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
