"""Sizing figures for a workshop hub: memory per learner and notebook 05's time with 1, 2, 3... learners at once.

Run as root against a hub started with ``make hub LEARNERS=N`` (N >= the largest count)::

    .venv/bin/python scripts/hub_scale.py --counts 1,2,3

For each count k, k learners run notebook 05 (every solution applied) at the same moment, each in their own
cgroup on their own daemon, as their server's kernel would; it prints the slowest run against the solo
run, and each learner's memory (resident and page cache, from their cgroup) idle and after the notebook.
Results go to build/hub/scale.json.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from helpers.core import course, wait
from helpers.infra import cgroups, hub, rootless

NOTEBOOK = "05-layers-and-copy-on-write"


def memory_mib(settings: hub.Settings, name: str) -> dict[str, int]:
    """Resident and page-cache MiB of the learner's whole tree (cgroup v1 memory.stat)."""
    folder = cgroups.folders(settings.instance, name)[0]
    stat = dict(line.split() for line in (folder / "memory.stat").read_text().splitlines())
    return {"rss": int(stat["total_rss"]) >> 20, "cache": int(stat["total_cache"]) >> 20}


def ready(settings: hub.Settings, name: str) -> None:
    server = hub.api(settings, "GET", f"/users/{name}").get("servers", {}).get("", {})
    if not server.get("ready"):
        hub.api(settings, "POST", f"/users/{name}/server")
        wait.until(
            lambda: hub.api(settings, "GET", f"/users/{name}").get("servers", {}).get("", {}).get("ready"),
            f"{name}'s server",
            timeout=300,
        )


def run(settings: hub.Settings, name: str) -> float:
    user = rootless.learner(name)
    source = user.checkout / "notebooks" / f"{NOTEBOOK}.ipynb"
    argv = [str(hub.VENV / "bin" / "papermill"), "--log-level", "WARNING", str(source), str(user.home / "scale.ipynb")]
    argv += ["-p", "SOLUTIONS", "True", "--cwd", str(source.parent)]
    began = time.monotonic()
    proc = hub.run_confined(settings, name, argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, err = proc.communicate(timeout=600)
    if proc.returncode != 0:
        raise RuntimeError(f"{name}: {err.decode(errors='replace')[-400:]}")
    return round(time.monotonic() - began, 1)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--instance", default="dmac-hub")
    parser.add_argument("--counts", default="1,2,3")
    opts = parser.parse_args()
    settings = hub.load(opts.instance)
    counts = [int(c) for c in opts.counts.split(",")]
    learners = settings.learners[: max(counts)]
    for name in learners:
        ready(settings, name)
    result: dict[str, object] = {"idle_mib": {n: memory_mib(settings, n) for n in learners}, "runs": {}}
    with ThreadPoolExecutor(len(learners)) as pool:  # first run, all at once: each daemon builds 05's images
        result["cold_all_at_once_s"] = list(pool.map(lambda n: run(settings, n), learners))
    for k in counts:
        with ThreadPoolExecutor(k) as pool:
            seconds = list(pool.map(lambda n: run(settings, n), learners[:k]))
        result["runs"][k] = {"seconds": seconds, "slowest": max(seconds)}  # type: ignore[index]
        print(f"{k} learner(s) at once: notebook 05 took {seconds} s", flush=True)
    result["after_mib"] = {n: memory_mib(settings, n) for n in learners}
    out = course.ROOT / "build" / "hub" / "scale.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2))
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
