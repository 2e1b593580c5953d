"""`make bench`: how long the course takes, measured on the current daemon.

Writes docs/benchmark.md and docs/benchmark.csv: per notebook a cold run (no course images, builds
without cache: DMAC_NO_CACHE=1) and a warm run (images and cache there), their ratio, the slowest
cells, the totals, the disk the course uses after a full run, and the time from a fresh clone's
`make setup` to the first container output of notebook 00. Runs in namespace dmac-bench.
"""

from __future__ import annotations

import csv
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
NS = "dmac-bench"
OUT = ROOT / "build" / "bench"
DOCS = ROOT / "docs"


DISK: dict[str, float] = {}


def run_all(kind: str, env: dict[str, str]) -> tuple[dict[str, float], list[tuple[float, str, int, str]]]:
    import papermill

    times: dict[str, float] = {}
    cells: list[tuple[float, str, int, str]] = []
    saved = dict(os.environ)
    os.environ.update(env)
    try:
        for nb in sorted((ROOT / "notebooks").glob("[0-9][0-9]-*.ipynb")):
            out = OUT / kind / nb.name
            out.parent.mkdir(parents=True, exist_ok=True)
            if nb.stem.startswith("14-"):  # notebook 14 removes it all: measure just before
                DISK.update(course_disk())
            params = {"NAMESPACE": NS}
            if nb.stem.startswith("04-"):
                params["ALLOW_DAEMON_RESTART"] = False
            start = time.monotonic()
            papermill.execute_notebook(
                str(nb),
                str(out),
                parameters=params,
                cwd=str(nb.parent),
                progress_bar=False,
                kernel_name="python3",
                execution_timeout=1200,
            )
            times[nb.stem] = time.monotonic() - start
            print(f"{kind:5} {nb.stem:40} {times[nb.stem]:6.1f} s", flush=True)
            for i, cell in enumerate(json.loads(out.read_text())["cells"]):
                meta = cell.get("metadata", {}).get("papermill", {})
                if meta.get("duration") is not None:
                    first = cell["source"] if isinstance(cell["source"], str) else "".join(cell["source"])
                    cells.append(
                        (meta["duration"], nb.stem, i, first.strip().splitlines()[0][:60] if first.strip() else "")
                    )
    finally:
        os.environ.clear()
        os.environ.update(saved)
    return times, cells


def course_disk() -> dict[str, float]:
    from helpers import course
    from helpers.daemon import client

    dc = client()
    df = dc.df()
    flt = course.LABEL
    images = sum(i.get("Size", 0) for i in df.get("Images", []) if flt in (i.get("Labels") or {}))
    volumes = sum(
        v.get("UsageData", {}).get("Size", 0) for v in df.get("Volumes", []) if flt in (v.get("Labels") or {})
    )
    cache = sum(b.get("Size", 0) for b in df.get("BuildCache", []) or [])
    return {"images_mb": images / 1e6, "volumes_mb": volumes / 1e6, "build_cache_mb": cache / 1e6}


def first_output_from_fresh_clone() -> float:
    """Seconds from `make setup` in a fresh clone (new venv) to notebook 00's first container output."""
    with tempfile.TemporaryDirectory(prefix="dmac-clone-") as tmp:
        clone = Path(tmp) / "course"
        subprocess.run(["git", "clone", "-q", str(ROOT), str(clone)], check=True)
        start = time.monotonic()
        subprocess.run(["make", "-s", "setup"], cwd=clone, check=True, stdout=subprocess.DEVNULL)
        code = (
            "import os; os.environ['DMAC_NAMESPACE']='dmac-bench'\n"
            "from helpers import start, docker\nstart('00')\n"
            "docker('run', '--rm', 'busybox', 'echo', 'Hello from a container')\n"
        )
        subprocess.run(
            [str(clone / ".venv/bin/python"), "-c", code],
            cwd=clone / "notebooks",
            check=True,
            stdout=subprocess.DEVNULL,
        )
        return time.monotonic() - start


def main() -> int:
    from helpers import cleanup

    os.environ["DMAC_NAMESPACE"] = NS
    if OUT.exists():
        shutil.rmtree(OUT)
    cleanup.remove(NS, verbose=False)
    cold, cold_cells = run_all("cold", {"DMAC_NO_CACHE": "1"})
    warm, warm_cells = run_all("warm", {})
    disk = DISK or course_disk()
    clone_s = first_output_from_fresh_clone() if "--skip-clone" not in sys.argv else float("nan")
    DOCS.mkdir(exist_ok=True)
    rows = [(nb, cold[nb], warm[nb], warm[nb] / cold[nb] if cold[nb] else float("nan")) for nb in cold]
    with open(DOCS / "benchmark.csv", "w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["notebook", "cold_s", "warm_s", "warm_over_cold"])
        for nb, c, w, r in rows:
            writer.writerow([nb, f"{c:.1f}", f"{w:.1f}", f"{r:.2f}"])
        writer.writerow(
            [
                "TOTAL",
                f"{sum(cold.values()):.1f}",
                f"{sum(warm.values()):.1f}",
                f"{sum(warm.values()) / sum(cold.values()):.2f}",
            ]
        )
    slow = sorted(cold_cells + [(d, nb, i, s) for d, nb, i, s in warm_cells], reverse=True)[:10]
    machine = f"{platform.node()} · {os.cpu_count()} CPUs · {platform.machine()} · {platform.platform()}"
    lines = [
        "# Benchmark",
        "",
        f"Measured {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC by `make bench` on: {machine}.",
        "",
        "Cold: no course images, every build without cache (`DMAC_NO_CACHE=1`); base images present. "
        "Warm: the same notebooks again right after, images and build cache in place.",
        "",
        "| notebook | cold (s) | warm (s) | warm/cold |",
        "|---|---:|---:|---:|",
        *[f"| {nb} | {c:.1f} | {w:.1f} | {r:.2f} |" for nb, c, w, r in rows],
        f"| **total** | **{sum(cold.values()):.1f}** | **{sum(warm.values()):.1f}** | "
        f"**{sum(warm.values()) / sum(cold.values()):.2f}** |",
        "",
        "## Slowest cells",
        "",
        "| seconds | notebook | cell | first line |",
        "|---:|---|---:|---|",
        *[f"| {d:.1f} | {nb} | {i} | `{s}` |" for d, nb, i, s in slow],
        "",
        "## Other figures",
        "",
        "- Fresh clone: `make setup` (new Python environment) to notebook 00's first container output: "
        f"{clone_s:.0f} s.",
        f"- Disk after a full run (course-labelled images {disk['images_mb']:.0f} MB, "
        f"volumes {disk['volumes_mb']:.0f} MB; BuildKit cache, shared by all namespaces, "
        f"{disk['build_cache_mb']:.0f} MB).",
        "",
    ]
    (DOCS / "benchmark.md").write_text("\n".join(lines))
    print("\n".join(lines))
    cleanup.remove(NS, verbose=False)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
