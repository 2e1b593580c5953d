"""CI around `make test`: the lanes beside it, every skip accounted for, the split written down.

    scripts/ci.py run NAME -- CMD …   one stage in the foreground (`make test`), its output shown and kept
    scripts/ci.py prepare  install what the lanes need on this host, before anything runs side by side
    scripts/ci.py lanes    the chains below on two lanes, each when its gate opens; a log per stage in build/ci/
    scripts/ci.py skips    every skip CI recorded (DMAC_SKIP_REPORT) against .ci/expected-skips.toml
    scripts/ci.py split    the seconds of every stage (and the load while it ran) into build/ci/split.json

.ci/run starts `lanes` in the background and runs `make test` (the README's command) in the foreground. A lane
never runs beside what it could disturb: the host daemon restarts in make test's first phase (notebook 04, the
offline bundle, a daemon stopping mid-notebook), so only the cgroup v2 VM (QEMU, no daemon of this host) runs
then; everything else follows once that phase is over: the rootless matrix and the hub (daemons of their own) and
the engines (containers on the host daemon, in a namespace of their own). The rootless matrix and the hub stay one
after the other: both add accounts to this host and the hub's test checks /etc/passwd around itself. Every stage
runs even when an earlier one failed; the exit code says whether all passed.
"""

from __future__ import annotations

import fcntl
import importlib
import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
import tomllib
from dataclasses import dataclass, field
from datetime import UTC, datetime
from fnmatch import fnmatch
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "build" / "ci"
EXPECTED = ROOT / ".ci" / "expected-skips.toml"

# Chains of stages, each with the moment it may start (its gate); two lanes take them in this order, each the
# first whose gate is open, and run its stages one after the other. A stage: a name and the `make` arguments it
# runs. Measured in CI (bbd358e, lanes after make test): make test 2388 s, the containerd engine 1944, Podman
# 1037, rootless 781, the hub 613: the lanes alone could not fit after make test, and the machine (2 cores) was
# half idle during make test's first phase. So the cgroup v2 VM (QEMU, no daemon of this host) runs at once, during
# make test's first phase (the one that restarts the host daemon); everything else once that phase is over and
# the next has collected its tests: the rootless matrix and the hub (their own daemons; their accounts are the
# course's, which make test's host check leaves out) and the engines (containers on the host daemon, in a label
# of their own). The engines once waited for make test's second phase, whose tests looked at them; those tests
# now run only in their own stages (test_podman in matrix-podman, test_room with DMAC_ROOM_TESTS in test-room),
# and the lanes sat idle 11 minutes waiting (the emulation of 174b698).
CLASSIC = "ENGINES=docker-26 docker-28"
GATES = {
    "start": "at once: it uses no daemon of this host and no account",
    "host-steady": "once make test's first phase (it restarts and stops the host daemon) is over and the next has "
    "collected its tests (which look at the engines running when they are imported)",
    "make-test": "once make test is over",
}


# Two halves of the course, about equal in time (the rootless lane's seconds per notebook in the emulation of
# 174b698: 691 s and 722 s). The machine (2 cores, busy 93-99 % through CI) cannot hold every mode of every engine
# on every notebook: CI of 19881d2 took 81 minutes and cells ran past their bound while five notebooks ran at once.
# So every engine and every mode runs on every commit, each on one half of the course, and the halves swap with
# every commit (the commit's parity): two commits in a row cover every notebook on every engine. Half 0: rootless
# Docker, Engine 26's solutions and Engine 28's nbval (the classic store); half 1: Podman, Engine 28.5 with the
# containerd store (the stored outputs': nbval and the solutions), and make test's third phase
# (tests/learners/test_rerun.py, DMAC_RERUN_SAMPLED). Every commit thus compares every notebook's stored outputs on a
# newer engine than this host's and runs every solution on some Docker engine. Whole every time: make test's nbval
# on this host's daemon, the hub and the cgroup v2 VM. A notebook left out is "not run" in docs/compat.json (python
# -m helpers.infra.compat merge keeps the other commit's result).
HALVES = ("00 01 02 04 13 14 16", "03 05 06 07 08 09 10 11 12 15")
NOTEBOOKS = "DMAC_NOTEBOOKS"  # helpers.infra.runs.ONLY: every run of the stage takes these notebooks


def half(commit: str, sample: int) -> str:
    """The notebooks a sampled stage takes at ``commit``: HALVES[sample], or the other one on an odd commit."""
    return HALVES[(int(commit[:7] or "0", 16) + sample) % 2]


@dataclass(frozen=True)
class Step:
    name: str
    make: tuple[str, ...] = ()  # the make arguments (the name alone when empty)
    samples: tuple[tuple[str, int], ...] = ()  # (NOTEBOOKS, which half on an even commit)


@dataclass(frozen=True)
class Chain:
    gate: str  # a key of GATES
    steps: tuple[Step, ...]


# Longest first: the lanes end together when each takes the next chain as it comes free (seconds in CI of 19881d2,
# before the solutions on 28.5c and rootless were sampled: containerd 2675, rootless 1444 + hub 875, Engines 26/28
# 1432, Podman 1376)
CHAINS: list[Chain] = [
    Chain("start", (Step("test-cgroup2"),)),
    Chain(
        "host-steady",
        (
            Step("matrix-containerd", ("matrix-engine", "ENGINE=docker-28c"), ((NOTEBOOKS, 1),)),
            Step("containerd-stop", ("engines-stop", "ENGINES=docker-28c")),
        ),
    ),
    Chain("host-steady", (Step("matrix-rootless", samples=((NOTEBOOKS, 0),)), Step("test-hub"))),
    Chain(
        "host-steady",
        (
            Step("matrix", ("matrix", CLASSIC), ((NOTEBOOKS, 0),)),
            Step("test-room"),
            Step("engines-stop", ("engines-stop", CLASSIC)),
        ),
    ),
    Chain("host-steady", (Step("matrix-podman", samples=((NOTEBOOKS, 1),)),)),
]
LANES = 2
# pytest's closing line, framed by = (the default) or bare (-q): `== 12 passed, 1 skipped in 3.10s (0:00:03) ==`
_OUTCOME = r"\d+ (?:passed|failed|skipped|deselected|xfailed|xpassed|warnings?|errors?|rerun)"
SUMMARY = re.compile(rf"^(?:=+ )?(?P<text>(?:{_OUTCOME}, )*{_OUTCOME}) in (?P<s>[0-9.]+)s(?: \([0-9:]+\))?(?: =+)?$")


@dataclass
class Stage:
    name: str
    make: list[str] = field(default_factory=list)  # the make arguments (the name alone when empty)
    lane: int = 0
    start: float = 0.0
    end: float = 0.0
    code: int | None = None
    counts: dict[str, int] = field(default_factory=dict)
    env: dict[str, str] = field(default_factory=dict)  # a sampled stage's notebooks (NOTEBOOKS)

    @property
    def seconds(self) -> float:
        return round(self.end - self.start, 1)


def counts(log_text: str) -> dict[str, int]:
    """pytest's closing lines in a log, added up (``12 passed, 1 skipped in 3.1s`` …)."""
    total: dict[str, int] = {}
    for line in log_text.splitlines():
        m = SUMMARY.match(line.strip())
        if not m:
            continue
        for part in m["text"].split(", "):
            number, _, word = part.partition(" ")
            word = {"error": "errors", "warning": "warnings", "deselected": "deselected"}.get(word, word)
            total[word] = total.get(word, 0) + int(number)
    return total


def _run_stage(stage: Stage, deadline: float, t0: float) -> None:
    log = OUT / f"{stage.name}.log"
    env = {**os.environ, "DMAC_CI_STAGE": stage.name}
    env.update(stage.env)
    sampled = "".join(f" with {key}={value!r}" for key, value in stage.env.items())
    stage.start = time.monotonic() - t0
    args = stage.make or [stage.name]
    print(f"[ci] lane {stage.lane}: ▶ make {' '.join(args)}{sampled} at {stage.start / 60:.1f} min (log {log})",
          flush=True)  # fmt: skip
    with open(log, "w") as out:
        proc = subprocess.Popen(
            ["make", "--no-print-directory", *args], cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
            start_new_session=True,
        )  # fmt: skip
        try:
            stage.code = proc.wait(timeout=max(1.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGTERM)
            time.sleep(10)
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
            stage.code = 124
            out.write("\n[ci] stopped: CI's time ran out\n")
    stage.end = time.monotonic() - t0
    text = log.read_text(errors="replace")
    stage.counts = counts(text)
    mark = "✔" if stage.code == 0 else "✗"
    said = ", ".join(f"{n} {w}" for w, n in stage.counts.items()) or "no pytest summary"
    print(f"[ci] lane {stage.lane}: {mark} {stage.name} in {stage.seconds:.0f} s ({said})", flush=True)
    if stage.code:
        tail = "\n".join(text.splitlines()[-60:])
        print(f"[ci] --- last lines of {log.name} ---\n{tail}\n[ci] ---", flush=True)


def phases(log_text: str) -> list[float]:
    """The seconds of each pytest run in a log, in order (``make test``'s three phases)."""
    return [float(m["s"]) for m in map(SUMMARY.match, map(str.strip, log_text.splitlines())) if m]


def run_foreground(name: str, argv: list[str], offset: float) -> Stage:
    """Run ``argv`` as stage ``name``, its output shown as it comes and kept in build/ci/NAME.log."""
    OUT.mkdir(parents=True, exist_ok=True)
    stage = Stage(name, lane=0, start=offset)
    begin = time.monotonic()
    env = {**os.environ, "DMAC_CI_STAGE": name, "PYTHONUNBUFFERED": "1"}  # pytest's lines as they come: gates read them
    with open(OUT / f"{name}.log", "w", buffering=1) as log:  # line by line: the lanes wait on what it says
        proc = subprocess.Popen(argv, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        assert proc.stdout is not None
        for line in proc.stdout:
            sys.stdout.write(line)
            log.write(line)
        stage.code = proc.wait()
    stage.end = offset + time.monotonic() - begin
    stage.counts = counts((OUT / f"{name}.log").read_text(errors="replace"))
    return stage


def remember(stage: Stage, extra: dict | None = None) -> None:
    """Add one stage to build/ci/stages.json (what `split` reads)."""
    path = OUT / "stages.json"
    with open(OUT / "stages.lock", "w") as held:  # the lanes and the foreground stages write it at once
        fcntl.flock(held, fcntl.LOCK_EX)
        stages = json.loads(path.read_text()) if path.is_file() else {}
        stages[stage.name] = {"lane": stage.lane, "start": round(stage.start, 1), "seconds": stage.seconds,
                              "code": stage.code, "counts": stage.counts, **(extra or {})}  # fmt: skip
        if NOTEBOOKS in stage.env:
            stages[stage.name]["notebooks"] = stage.env[NOTEBOOKS]
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(stages, indent=1) + "\n")
        tmp.replace(path)


def gate_open(gate: str, make_test_log: str, finished: set[str]) -> bool:
    """Whether a chain behind ``gate`` may start, from make test's log so far and the stages finished."""
    if gate == "start" or "make-test" in finished:
        return True
    if gate == "host-steady":  # the first phase's closing line, then the next phase's `collected N items`
        lines = [line.strip() for line in make_test_log.splitlines()]
        first = next((i for i, line in enumerate(lines) if SUMMARY.match(line)), None)
        return first is not None and any(line.startswith("collected ") for line in lines[first + 1 :])
    return False


def _finished() -> set[str]:
    path = OUT / "stages.json"
    return set(json.loads(path.read_text())) if path.is_file() else set()


def _commit() -> str:
    out = subprocess.run(["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True, text=True)
    return out.stdout.strip()


def lanes(deadline: float, chains: list[Chain] = CHAINS, poll: float = 5.0) -> list[Stage]:
    """Run ``chains`` on LANES lanes: each lane takes the first chain whose gate is open, runs its stages in order,
    and takes the next; a chain whose gate never opened before the deadline is reported, not run."""
    OUT.mkdir(parents=True, exist_ok=True)
    pending = list(chains)
    lock = threading.Lock()
    done: list[Stage] = []
    t0 = time.monotonic()
    log = OUT / "make-test.log"
    commit = _commit()

    def take() -> Chain | bool:
        """The next chain to run, True to wait for a gate, False when nothing is left."""
        text = log.read_text(errors="replace") if log.is_file() else ""
        finished = _finished()
        with lock:
            if not pending:
                return False
            chain = next((c for c in pending if gate_open(c.gate, text, finished)), None)
            if chain is None:
                return True
            pending.remove(chain)
            return chain

    def lane(number: int) -> None:
        while time.monotonic() < deadline:
            chain = take()
            if chain is False:
                return
            if chain is True:
                time.sleep(poll)
                continue
            assert isinstance(chain, Chain)
            for step in chain.steps:
                sampled = {key: half(commit, which) for key, which in step.samples}
                stage = Stage(step.name, list(step.make), lane=number, env=sampled)
                _run_stage(stage, deadline, t0)
                done.append(stage)

    threads = [threading.Thread(target=lane, args=(n + 1,)) for n in range(LANES)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for chain in pending:
        for step in chain.steps:
            name = step.name
            print(f"[ci] ✗ {name} did not start: CI's time ran out ({GATES[chain.gate]})", flush=True)
            stage = Stage(name, lane=0, start=time.monotonic() - t0, end=time.monotonic() - t0, code=125)
            done.append(stage)
    return done


def prepare() -> int:
    """What the lanes install on this host, installed before they run side by side: a package that adds a group
    or a user while another lane's test fingerprints /etc/group or /etc/passwd would fail that test."""
    sys.path.insert(0, str(ROOT))
    from helpers.infra import hub, rootless

    begin = time.monotonic()
    installed = rootless.install_packages()
    hub.ensure_host_tools()
    from tests.hub import packages  # the hub's test probes with the real cron, which adds a group

    if packages.ensure_cron():
        installed.append("cron")
    if (ROOT / "helpers" / "infra" / "cgroupvm.py").is_file():  # the cgroup v2 lane's QEMU, debootstrap and e2fsprogs
        importlib.import_module("helpers.infra.cgroupvm").ensure_host_tools()
    print(f"[ci] the lanes' packages are in place ({', '.join(installed) or 'none missing'}; "
          f"{time.monotonic() - begin:.0f} s)", flush=True)  # fmt: skip
    return 0


# ---- skips --------------------------------------------------------------------------------------------------


def expected(path: Path = EXPECTED) -> list[dict[str, str]]:
    """The skips CI expects, each with the stage, the test (a glob), words of its reason, and why."""
    return tomllib.loads(path.read_text())["skip"]


def unexpected(skips: list[dict[str, str]], allowed: list[dict[str, str]]) -> list[dict[str, str]]:
    """The recorded skips that no entry of ``allowed`` covers."""

    def covered(skip: dict[str, str]) -> bool:
        return any(
            fnmatch(skip["stage"], rule.get("stage", "*"))
            and fnmatch(skip["test"], rule["test"])
            and rule["reason"] in skip["reason"]
            for rule in allowed
        )

    return [s for s in skips if not covered(s)]


def recorded_skips(folder: Path = OUT) -> list[dict[str, str]]:
    path = folder / "skips.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines()] if path.is_file() else []


def check_skips(folder: Path = OUT) -> int:
    """0 when every skip recorded in ``folder`` is expected; else 1, each unexpected one printed."""
    skips, allowed = recorded_skips(folder), expected()
    wrong = unexpected(skips, allowed)
    print(f"[ci] {len(skips)} test(s) skipped, {len(skips) - len(wrong)} of them as .ci/expected-skips.toml expects")
    for skip in wrong:
        print(f"[ci] ✗ unexpected skip in {skip['stage']}: {skip['test']}: {skip['reason']}")
    if wrong:
        print(
            "[ci] a skip nobody expected hides a failure: fix the cause, or add it with its reason to "
            ".ci/expected-skips.toml"
        )
    return 1 if wrong else 0


# ---- split --------------------------------------------------------------------------------------------------


def load(vmstat: Path) -> list[tuple[float, int, int]]:
    """(epoch seconds, CPU busy %, free+cache MB) from ``vmstat -n -t 10`` output."""
    rows = []
    for line in vmstat.read_text(errors="replace").splitlines() if vmstat.is_file() else []:
        parts = line.split()
        if len(parts) < 19 or not parts[0].isdigit():
            continue
        try:
            when = datetime.strptime(f"{parts[-2]} {parts[-1]}", "%Y-%m-%d %H:%M:%S").replace(tzinfo=UTC)
        except ValueError:
            continue
        free_mb = (int(parts[3]) + int(parts[4]) + int(parts[5])) // 1024
        rows.append((when.timestamp(), 100 - int(parts[14]), free_mb))
    return rows


def busy(rows: list[tuple[float, int, int]], start: float, end: float) -> dict[str, float]:
    inside = [r for r in rows if start <= r[0] <= end]
    if not inside:
        return {}
    return {"cpu_busy_pct": round(sum(r[1] for r in inside) / len(inside)), "min_free_mb": min(r[2] for r in inside)}


def split(stages: dict, when_started: float) -> dict:
    """build/ci/split.json: each stage's seconds and the machine's load meanwhile."""
    rows = load(OUT / "vmstat.log")
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True)
    result: dict[str, Any] = {
        "when": f"{datetime.fromtimestamp(when_started, UTC):%Y-%m-%d %H:%M} UTC",
        "commit": commit.stdout.strip(),
        "machine": f"{os.cpu_count()} CPUs",
        "stages": stages,
    }
    for info in stages.values():
        info.update(busy(rows, when_started + info["start"], when_started + info["start"] + info["seconds"]))
    interval = 10  # vmstat -n -t 10 (.ci/run)
    result["busy_core_s"] = round(sum(pct / 100 * (os.cpu_count() or 1) * interval for _, pct, _ in rows))
    (OUT / "split.json").write_text(json.dumps(result, indent=1) + "\n")
    return result


def main(argv: list[str]) -> int:
    what = argv[0] if argv else ""
    started = float(os.environ.get("DMAC_CI_STARTED", time.time()))
    if what == "run" and len(argv) > 3 and argv[2] == "--":
        stage = run_foreground(argv[1], argv[3:], time.time() - started)
        log = (OUT / f"{stage.name}.log").read_text(errors="replace")
        remember(stage, {"phases": phases(log)})
        print(f"[ci] {stage.name}: {stage.seconds:.0f} s, exit {stage.code}", flush=True)
        return stage.code or 0
    if what == "lanes":
        deadline = time.monotonic() + float(os.environ.get("DMAC_CI_BUDGET_S", 85 * 60)) - (time.time() - started)
        offset = time.time() - started
        done = lanes(deadline)
        for s in done:
            s.start, s.end = s.start + offset, s.end + offset
            remember(s)
        return 1 if any(s.code for s in done) else 0
    if what == "prepare":
        return prepare()
    if what == "skips":
        return check_skips()
    if what == "split":
        stages = json.loads((OUT / "stages.json").read_text())
        result = split(stages, started)
        total = max(info["start"] + info["seconds"] for info in stages.values())
        parts = ", ".join(f"{name} {info['seconds']:.0f}" for name, info in stages.items())
        print(f"CI split (s): {parts}; wall clock {total:.0f} ({result['commit']})")
        summed: dict[str, int] = {}
        for info in stages.values():
            for word, n in info.get("counts", {}).items():
                summed[word] = summed.get(word, 0) + n
        failed = summed.get("failed", 0) + summed.get("errors", 0) + sum(bool(i["code"]) for i in stages.values())
        line = f"{summed.get('passed', 0)} passed, {failed} failed, {summed.get('skipped', 0)} skipped"
        print(f"ci: {line}")
        return 0
    print(__doc__)
    return 2


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
