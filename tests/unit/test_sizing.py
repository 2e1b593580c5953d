"""The room check's arithmetic (pure: figures in, verdict out) and its command line on this host."""

from __future__ import annotations

import subprocess
import sys

from helpers.core import course
from helpers.infra import sizing

GIB = sizing.GIB


def test_memory_and_cpus_each_bound_the_room() -> None:
    small = sizing.room(cpus=2, memory=24 * GIB)
    assert (small.by_memory, small.in_step, small.self_paced, small.holds) == (44, 2, 6, 2)
    big = sizing.room(cpus=64, memory=8 * GIB)  # many CPUs, little memory: memory decides
    assert (big.by_memory, big.holds, big.self_paced) == (12, 12, 12)
    assert sizing.room(cpus=4, memory=1 * GIB).holds == 0  # less than the host's own share


def test_the_verdict_says_what_a_room_that_does_not_fit_needs() -> None:
    host = sizing.room(cpus=2, memory=24 * GIB)
    assert "✔ 2 learners working in step fit" in sizing.verdict(host, 2)
    refused = sizing.verdict(host, 30)
    assert "✗ 30 learners in step need about 30 CPUs and 17 GiB" in refused
    assert "holds 2 (neither in step nor self-paced)" in refused
    assert "self-paced only" in sizing.verdict(host, 5)


def test_make_preflight_with_learners_fails_when_the_room_does_not_fit() -> None:
    host = sizing.this_host()
    too_many = host.holds + 1
    ran = subprocess.run(
        [sys.executable, "-m", "helpers.infra.sizing", "--learners", str(too_many)],
        capture_output=True, text=True, timeout=120, cwd=course.ROOT,
    )  # fmt: skip
    assert ran.returncode == 1 and f"✗ {too_many} learners in step need" in ran.stdout
    fits = subprocess.run(
        [sys.executable, "-m", "helpers.infra.sizing", "--learners", "1"],
        capture_output=True, text=True, timeout=120, cwd=course.ROOT,
    )  # fmt: skip
    assert "✔ 1 learner working in step fit" in fits.stdout
