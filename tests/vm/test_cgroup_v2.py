"""The cgroup v2 lane (``make test-cgroup2``, root): Debian trixie as a VM under QEMU (TCG), a real cgroup v2 host.

One boot for the whole module (:func:`helpers.infra.cgroupvm.lane`: host tools installed when missing, the disk built
once and cached under ``build/vm/``). The VM only measures; every value is asserted here, exactly, and a value
that was not measured fails its test with the VM's errors. The figures go to ``build/vm/results.json``.
"""

from __future__ import annotations

import os
import re

import pytest

from helpers.infra import cgroupvm, compat

pytestmark = pytest.mark.skipif(
    os.environ.get("DMAC_VM_TESTS") != "1" or os.geteuid() != 0,
    reason="the cgroup v2 VM is built with debootstrap and boots under QEMU for minutes: "
    "root and `make test-cgroup2` (DMAC_VM_TESTS=1) only",
)

MiB = 1 << 20


@pytest.fixture(scope="module")
def vm(request: pytest.FixtureRequest) -> dict[str, str]:
    """The values the VM measured (one boot), saved to build/vm/results.json."""
    capture = request.config.pluginmanager.getplugin("capturemanager")
    with capture.global_and_fixture_disabled():  # a cold build and a boot take minutes: show their progress
        values = cgroupvm.lane()
        print(f"\n[cgroup-vm] results: {cgroupvm.save(values)}", flush=True)
        compat.put_cgroup2(values)  # docs/compat.json, rendered into docs/compat.md's cgroup v2 section
        compat.write_tables()
    return values


def measured(vm: dict[str, str], key: str) -> str:
    """One measured value; a missing one fails with every error the VM reported."""
    errors = {k: v for k, v in vm.items() if k.startswith("error.")}
    assert key in vm, f"{key} was not measured; the VM's errors: {errors}"
    return vm[key]


def no_errors(vm: dict[str, str], *checks: str) -> None:
    """None of ``checks`` reported an error (``error.<check>``, ``error.<check>_…``)."""
    found = {k: v for k, v in vm.items() if any(k == f"error.{c}" or k.startswith(f"error.{c}_") for c in checks)}
    assert not found, found


def test_docker_reports_cgroup_v2_with_the_systemd_driver(vm: dict[str, str]) -> None:
    no_errors(vm, "engine", "busybox")
    assert measured(vm, "vm.cgroup_fs") == "cgroup2fs"
    assert measured(vm, "vm.kernel").startswith("6.12.")
    assert measured(vm, "engine.version").startswith("26.1.")
    assert measured(vm, "engine.cgroup_version") == "2"
    assert measured(vm, "engine.cgroup_driver") == "systemd"


def test_run_limits_are_the_containers_cgroup_files(vm: dict[str, str]) -> None:
    no_errors(vm, "limits")
    assert measured(vm, "limits.memory_max") == "67108864"
    assert measured(vm, "limits.cpu_max") == "50000 100000"
    assert measured(vm, "limits.pids_max") == "100"


def test_an_allocation_above_the_memory_limit_is_oom_killed(vm: dict[str, str]) -> None:
    no_errors(vm, "oom")
    assert measured(vm, "oom.logs") == "dd exit 137"  # dd was SIGKILLed; the container's shell outlived it
    assert measured(vm, "oom.exit_code") == "137"
    assert measured(vm, "oom.inspect_exit_code") == "137"
    assert measured(vm, "oom.oom_killed") == "true"


def test_docker_update_changes_a_running_containers_memory_max(vm: dict[str, str]) -> None:
    no_errors(vm, "live", "update")
    assert measured(vm, "update.memory_max_before") == "67108864"
    assert measured(vm, "update.memory_max") == "134217728"  # read inside the container
    assert measured(vm, "update.memory_max_host") == "134217728"  # its scope, on the VM's side


def test_docker_stats_reports_usage_and_the_limit(vm: dict[str, str]) -> None:
    no_errors(vm, "live", "stats")
    line = measured(vm, "stats.mem_usage")
    found = re.fullmatch(r"(\d+(?:\.\d+)?)(B|KiB|MiB|GiB) / 64MiB", line)
    assert found, line
    assert float(found.group(1)) > 0, line


def test_io_stat_counts_a_containers_direct_writes(vm: dict[str, str]) -> None:
    no_errors(vm, "live", "io")
    assert re.fullmatch(r"/sys/fs/cgroup/system\.slice/docker-[0-9a-f]{64}\.scope", measured(vm, "io.scope"))
    assert measured(vm, "io.dd").endswith("32+0 records out\ndd exit 0")
    assert int(measured(vm, "io.wbytes")) >= 32 * MiB, measured(vm, "io.stat")


def test_the_courses_exporter_reads_a_live_containers_cgroup_v2_files(vm: dict[str, str]) -> None:
    no_errors(vm, "live", "exporter")
    assert measured(vm, "exporter.memory_limit") == str(64 * MiB), measured(vm, "exporter.metrics")
    assert 0 < float(measured(vm, "exporter.cpu_seconds")) < 600, measured(vm, "exporter.metrics")
    assert "NaN" not in measured(vm, "exporter.metrics")


def test_the_hubs_learner_cgroup_on_cgroup_v2(vm: dict[str, str]) -> None:
    no_errors(vm, "hub")
    assert measured(vm, "hub.cgroup_version") == "2"
    assert measured(vm, "hub.folder") == "/sys/fs/cgroup/dmac-hub/dmac-l01"
    assert measured(vm, "hub.memory.max") == "67108864"
    assert measured(vm, "hub.memory.swap.max") == "0"
    assert measured(vm, "hub.pids.max") == "64"
    assert measured(vm, "hub.cpu.max") == "50000 100000"
    assert measured(vm, "hub.child_returncode") == "-9"  # SIGKILL: the OOM killer (next line) ended it
    assert measured(vm, "hub.oom_kill") == "1"
    assert measured(vm, "hub.removed") == "true"


def test_rootless_docker_enforces_limits_through_systemd_delegation(vm: dict[str, str]) -> None:
    no_errors(vm, "rootless")
    assert measured(vm, "rootless.subuid") == "dmac-rl:100000:65536"
    assert measured(vm, "rootless.delegate") == "cpu memory pids"  # trixie's user@.service, no drop-in
    assert measured(vm, "rootless.controllers") == "cpu memory pids"
    assert measured(vm, "rootless.cgroup_driver") == "systemd"
    assert measured(vm, "rootless.cgroup_version") == "2"
    assert "name=rootless" in measured(vm, "rootless.security")
    assert measured(vm, "rootless.memory_max") == "67108864"


def test_the_vm_reported_no_error_at_all(vm: dict[str, str]) -> None:
    assert {k: v for k, v in vm.items() if k.startswith("error.")} == {}
