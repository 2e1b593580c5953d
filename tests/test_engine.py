"""Engine capabilities: read from recorded API answers of five engines, and checked on the real daemon.

The recorded answers (tests/fixtures/engine/*.json, each says whether it was recorded or built from
the engine's source) exercise the pure reading; the live tests compare what ``capabilities()``
claims about the daemon in use with what a container actually experiences there.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from helpers.core import engine
from helpers.core.shell import docker_out
from tests.support import recorded

FIXTURES = Path(__file__).parent / "fixtures" / "engine"
KINDS = ("memory-limit", "cpu-limit", "pids-limit", "update-limits", "stats", "top", "host-root", "bind-user",
         "buildkit", "inline-cache", "live-restore", "eol", "recursive-ro", "api-pin", "net-raw",
         "stats-no-stream", "course-registry")  # fmt: skip
PODMAN_ONLY = {"buildkit", "inline-cache", "live-restore", "recursive-ro", "api-pin", "net-raw", "stats-no-stream",
               "course-registry"}  # fmt: skip




def limited(caps: engine.Capabilities) -> set[str]:
    return {kind for kind in KINDS if engine.limitation(kind, caps)}


def said(kind: str, caps: engine.Capabilities) -> str:
    """The sentence ``limitation`` says about ``kind`` where the engine has that limitation."""
    reason = engine.limitation(kind, caps)
    assert reason is not None, f"{caps.product} {caps.version}: no {kind} limitation to read"
    return reason


# ---------------------------------------------------------------- recorded answers (pure)


def test_root_docker_20_10_enforces_limits_and_is_end_of_life() -> None:
    caps = recorded("docker-20.10-root")
    assert (caps.product, caps.release[:2], caps.rootless, caps.cgroup_version) == (
        "Docker Engine",
        (20, 10),
        False,
        "1",
    )
    assert caps.limits_enforced and caps.eol and caps.buildkit and caps.storage_driver == "overlay2"
    assert limited(caps) == {"eol"}
    assert "end of life" in said("eol", caps)


def test_rootless_on_cgroup_v1_enforces_no_limit_and_says_so() -> None:
    caps = recorded("rootless-v1")
    assert caps.rootless and caps.cgroup_driver == "none" and caps.cgroup_version == "1"
    assert not (caps.memory_limit or caps.cpu_limit or caps.pids_limit)
    assert limited(caps) == {"memory-limit", "cpu-limit", "pids-limit", "update-limits", "stats", "top", "host-root",
                             "bind-user", "eol"}  # fmt: skip
    assert engine.limitation("memory-limit", caps) == (
        "Rootless Docker on cgroup v1 cannot enforce memory limits: this demonstration would use the host's "
        "memory without bound, so it is skipped."
    )


def test_rootless_on_cgroup_v2_enforces_what_systemd_delegates() -> None:
    caps = recorded("rootless-v2")
    assert caps.rootless and caps.cgroup_version == "2" and not caps.eol
    assert caps.memory_limit and caps.pids_limit and not caps.cpu_limit  # only memory and pids delegated
    assert limited(caps) == {"cpu-limit", "host-root", "bind-user"}
    assert "delegation" in said("cpu-limit", caps)


def test_podman_is_recognised_and_has_no_buildkit_nor_live_restore() -> None:
    caps = recorded("podman-5")
    assert (caps.product, caps.version, caps.rootless, caps.storage_driver) == ("Podman", "5.4.2", True, "overlay")
    assert caps.limits_enforced and not caps.eol  # end of life is about Docker Engine releases
    assert not caps.buildkit  # whatever the CLI offers: Podman's API has no BuildKit session
    assert limited(caps) == {"host-root", "bind-user"} | PODMAN_ONLY


def test_rootful_podman_recorded_here_differs_from_docker_only_where_podman_does() -> None:
    caps = recorded("podman-5-root")
    assert (caps.product, caps.version, caps.rootless, caps.cgroup_driver) == ("Podman", "5.4.2", False, "cgroupfs")
    assert caps.limits_enforced and caps.cgroups and not caps.buildkit
    assert limited(caps) == PODMAN_ONLY
    assert "--cap-add NET_RAW" in said("net-raw", caps)
    assert "registry repository" in said("inline-cache", caps)
    assert "insecure = true" in said("course-registry", caps)


def test_engine_28_as_root_has_no_limitation() -> None:
    caps = recorded("docker-28")
    assert (caps.release[0], caps.cgroup_version, caps.cgroup_driver) == (28, "2", "systemd")
    assert caps.limits_enforced and not caps.eol and not caps.rootless
    assert limited(caps) == set()
    assert limited(recorded("docker-28", cli_buildkit=False)) == {"buildkit", "inline-cache"}
    assert "Podman" not in said("inline-cache", recorded("docker-28", cli_buildkit=False))


def test_engine_28_recorded_here_enforces_limits_on_cgroup_v1() -> None:
    caps = recorded("docker-28-dind")
    assert caps.version.startswith("28.5.") and caps.cgroup_version == "1" and not caps.rootless
    assert caps.limits_enforced and caps.cgroups and limited(caps) == set()


def test_a_daemon_warning_overrides_a_capability_flag() -> None:
    data = json.loads((FIXTURES / "docker-28.json").read_text())
    data["info"]["Warnings"] = ["WARNING: No memory limit support"]
    caps = engine.from_api(data["info"], data["version"])
    assert not caps.memory_limit and caps.cpu_limit
    assert engine.limitation("memory-limit", caps) == (
        "This Docker daemon reports no cgroup memory controller: this demonstration would use the host's memory "
        "without bound, so it is skipped."
    )


@pytest.mark.parametrize(
    "version,eol", [("20.10.24+dfsg1", True), ("24.0.9", True), ("25.0.0", False), ("28.5.2", False)]
)
def test_end_of_life_is_docker_older_than_25(version: str, eol: bool) -> None:
    data = json.loads((FIXTURES / "docker-28.json").read_text())
    data["info"]["ServerVersion"] = version
    assert engine.from_api(data["info"], data["version"]).eol is eol


def test_require_prints_one_sentence_and_returns_false(capsys: pytest.CaptureFixture[str]) -> None:
    assert engine.require("memory-limit", recorded("rootless-v1")) is False
    out = capsys.readouterr().out
    assert out.startswith("⚠ Rootless Docker on cgroup v1") and out.count("\n") == 1
    assert engine.require("memory-limit", recorded("docker-28")) is True
    assert capsys.readouterr().out == ""


def test_a_rootless_learner_is_not_told_to_sudo_make_images_alone() -> None:
    from helpers.core.images import root_advice

    assert root_advice(recorded("docker-20.10-root")).startswith("Run `sudo make images` once")
    advice = root_advice(recorded("rootless-v1"))
    assert "sudo drops DOCKER_HOST" in advice
    assert "sudo make images && sudo docker save debian:bookworm-slim busybox:latest | docker load" in advice


# ---------------------------------------------------------------- the real daemon


def test_live_capabilities_match_the_server_version() -> None:
    caps = engine.capabilities()
    server = docker_out("version", "--format", "{{.Server.Version}}")
    assert caps.version == server
    major = int(server.split(".")[0])
    assert caps.eol == (caps.product == "Docker Engine" and major < 25)
    assert engine.capabilities() is caps  # asked once per daemon


def test_live_rootless_flag_matches_the_uid_map_a_container_lives_in() -> None:
    uid_map = " ".join(docker_out("run", "--rm", "busybox", "cat", "/proc/self/uid_map").split())
    assert engine.capabilities().rootless == (uid_map != "0 0 4294967295")


def test_live_memory_limit_claim_matches_the_container_cgroup() -> None:
    """A container started with -m 64m sees a 64 MiB cgroup limit exactly when the limit is claimed enforced."""
    script = (
        "cat /sys/fs/cgroup/memory/memory.limit_in_bytes 2>/dev/null || cat /sys/fs/cgroup/memory.max 2>/dev/null "
        "|| echo none"
    )
    seen = docker_out("run", "--rm", "-m", "64m", "--memory-swap", "64m", "busybox", "sh", "-c", script).split()[0]
    assert engine.capabilities().memory_limit == (seen == str(64 * 2**20))


def test_live_host_daemon_is_the_one_this_machine_documents() -> None:
    """On the course's primary host (root, Engine 20.10, cgroup v1) limits are enforced and the engine is EOL."""
    caps = engine.capabilities()
    if caps.rootless or caps.product != "Docker Engine" or caps.release[:2] != (20, 10):
        pytest.skip(f"not the primary host daemon: {caps.name}")
    assert caps.limits_enforced and caps.eol and caps.cgroup_version == "1"
    assert engine.require("memory-limit") and engine.require("cpu-limit")


def test_the_image_store_is_read_from_the_driver_status() -> None:
    data = json.loads((FIXTURES / "docker-28.json").read_text())
    assert engine.from_api(data["info"], data["version"]).image_store == "classic"
    # Engine 28 with the containerd snapshotter, as docker info reports it (Docker Desktop, fresh Engine 29)
    info = {**data["info"], "Driver": "overlayfs", "DriverStatus": [["driver-type", "io.containerd.snapshotter.v1"]]}
    caps = engine.from_api(info, data["version"])
    assert (caps.image_store, caps.storage_driver) == ("containerd", "overlayfs")
    assert recorded("podman-5").image_store == "classic"


def test_the_containerd_image_store_recorded_on_engine_28() -> None:
    caps = recorded("docker-28c-containerd")
    assert (caps.image_store, caps.storage_driver, caps.release[:2]) == ("containerd", "overlayfs", (28, 5))
    assert not caps.rootless and caps.limits_enforced  # the store changes images, not what containers may use


def test_a_misspelt_limitation_kind_is_an_error_not_no_limitation() -> None:
    caps = recorded("docker-20.10-root")
    with pytest.raises(ValueError):
        engine.limitation("memory_limit", caps)  # "memory-limit"
    assert {k.value for k in engine.Limitation} >= set(KINDS)
