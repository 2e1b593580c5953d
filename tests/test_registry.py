"""The course registry on the real daemon: push, pull, digests, login, TLS trust, exercises 07.3/07.4, clean-up."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from helpers import exercises
from helpers.core import cleanup, course
from helpers.core.shell import docker, docker_out
from helpers.lessons import dockerfiles, registry

NOTEBOOK = "reg-test"  # the notebook label of everything made here, so tidy() removes exactly that


@pytest.fixture(scope="module")
def running() -> Iterator[None]:
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("DMAC_NAMESPACE", __import__("os").environ.get("DMAC_TEST_NAMESPACE", "dmac-test"))
        course.set_notebook(NOTEBOOK)
        registry.build()
        registry.make_credentials()
        registry.start(echo=False)
        registry.start(tls=True, echo=False)
        yield
        course.set_notebook("")


@pytest.fixture(autouse=True)
def _no_solutions() -> None:
    exercises.configure(solutions=False)
    course.set_notebook(NOTEBOOK)


def _build(tag: str, text: str) -> str:
    ctx = dockerfiles.context("reg-test", dockerfile=f'FROM busybox\nRUN echo "{text}" > /v.txt\n', show=False)
    from helpers.core import images

    images.build(tag, ctx, show=False)
    return tag


def test_the_registry_is_distribution_from_debian(running: None) -> None:
    version = docker_out("run", "--rm", registry.image_ref(), "docker-registry", "--version")
    assert "distribution" in version and " 2.8" in version
    for text in (registry.DOCKERFILE, registry.HARVESTER, registry.STATION_BASE, registry.app_dockerfile("busybox:1")):
        assert dockerfiles.errors(text.lstrip("\n")) == []


def test_push_remove_pull_and_a_digest_outlives_its_tag(running: None, unique: str) -> None:
    ref = f"{registry.address()}/{course.namespace()}/moving-{unique}:1"
    first = registry.push(_build(ref, f"first {unique}"))
    assert first.startswith("sha256:") and registry.digest_ref(ref).endswith(first)
    docker("rmi", ref, show=False)
    registry.pull(ref)
    second = registry.push(_build(ref, f"second {unique}"))
    assert second != first  # the tag moved
    old = f"{ref.rsplit(':', 1)[0]}@{first}"
    registry.pull(old)
    assert docker_out("run", "--rm", old, "cat", "/v.txt") == f"first {unique}"
    assert docker_out("run", "--rm", ref, "cat", "/v.txt") == f"second {unique}"


def test_tls_needs_the_course_ca(running: None) -> None:
    assert registry.verify(None).startswith("✗ certificate refused")
    assert registry.verify(registry.ca_pem()).startswith("✔ certificate verified")


def test_login_adds_and_logout_removes_only_the_course_entry(
    running: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, unique: str
) -> None:
    decoy = {"auths": {"registry.example.org": {"auth": "ZGVjb3k6ZGVjb3k="}}, "detachKeys": "ctrl-x"}
    (tmp_path / "config.json").write_text(json.dumps(decoy))
    monkeypatch.setenv("DOCKER_CONFIG", str(tmp_path))
    private = f"{registry.address(True)}/{course.namespace()}/private-{unique}:1"
    docker("tag", "busybox", private, show=False)
    refused = docker("push", private, check=False, show=False)
    assert not refused.ok
    assert not registry.login(registry.USER, "wrong-password", expect_error=True).ok
    assert registry.logged_in_registries() == ["registry.example.org"]
    registry.login(registry.USER, registry.PASSWORD)
    assert registry.logged_in_registries() == sorted([registry.address(True), "registry.example.org"])
    registry.push(private)
    registry.logout()
    after = json.loads((tmp_path / "config.json").read_text())
    assert after["auths"] == decoy["auths"] and after["detachKeys"] == "ctrl-x"
    registry.login(registry.USER, registry.PASSWORD)  # a run stopped before its logout: clean-up logs out
    cleanup.tidy("07", verbose=False)
    assert json.loads((tmp_path / "config.json").read_text())["auths"] == decoy["auths"]
    docker("rmi", private, show=False)


def test_exercise_07_3_rejects_near_misses_then_accepts(running: None) -> None:
    repo, target = f"{course.namespace()}/hello", f"{registry.address()}/{course.namespace()}/hello:1.0"
    hello = _build(course.image("hello", "1.0"), "hello")
    other = _build(course.image("other", "1"), "another image")
    docker("tag", hello, target.replace(":1.0", ":1.1"), show=False)
    wrong_tag = registry.push(target.replace(":1.0", ":1.1"))
    assert "has no" in exercises.evaluate("07.3", wrong_tag).message or registry.manifest(repo, "1.0")
    docker("tag", other, target, show=False)
    registry.push(target)  # the right tag, another image behind it
    assert "another image" in exercises.evaluate("07.3", wrong_tag).message
    docker("tag", hello, target, show=False)
    digest = registry.push(target)
    other_digest = registry.push(_tag_push(other, "other-pushed"))
    image_id = docker_out("image", "inspect", "--format", "{{.Id}}", hello)
    assert "image ID" in exercises.evaluate("07.3", image_id).message
    assert not exercises.evaluate("07.3", other_digest).ok
    assert exercises.evaluate("07.3", digest).ok
    assert exercises.evaluate("07.3", f"{target.rsplit(':', 1)[0]}@{digest}").ok


def _tag_push(source: str, repo: str) -> str:
    ref = f"{registry.address()}/{course.namespace()}/{repo}:1"
    docker("tag", source, ref, show=False)
    return ref


def test_exercise_07_4_wants_the_digest_not_the_tag(running: None) -> None:
    target = f"{registry.address()}/{course.namespace()}/hello:1.0"
    box = course.name("ex-digest")
    docker("tag", _build(course.image("hello", "1.0"), "hello"), target, show=False)
    digest = registry.push(target)
    docker("rm", "-f", box, show=False, check=False)
    docker("run", "--name", box, target, "true", show=False)
    assert "a tag, not a digest" in exercises.evaluate("07.4").message
    other = registry.push(_tag_push(_build(course.image("other", "1"), "another image"), "other-pushed"))
    docker("rm", "-f", box, show=False)
    docker("run", "--name", box, f"{target.rsplit(':', 1)[0].replace('/hello', '/other-pushed')}@{other}", "true",
           show=False)  # fmt: skip
    assert not exercises.evaluate("07.4").ok
    docker("rm", "-f", box, show=False)
    docker("run", "--name", box, f"{target.rsplit(':', 1)[0]}@{digest}", "true", show=False)
    assert exercises.evaluate("07.4").ok


def test_exercise_07_4_answered_in_a_terminal_then_cleaned_up(running: None) -> None:
    """Pulled and run by digest with the terminal's docker: accepted, then removed by notebook 07's clean-up."""
    from tests.support import terminal

    target = f"{registry.address()}/{course.namespace()}/hello:1.0"
    docker("tag", _build(course.image("hello", "1.0"), "hello"), target, show=False)
    by_digest = f"{target.rsplit(':', 1)[0]}@{registry.push(target)}"
    box = course.name("ex-digest")
    cleanup.remove_named(container=box)
    terminal("pull", by_digest)
    terminal("run", "--name", box, by_digest, "true")
    assert exercises.evaluate("07.4").ok
    removed = {(r.kind, r.name) for r in cleanup.tidy("07", verbose=False)}
    assert ("container", box) in removed
    assert docker_out("ps", "-aq", "--filter", f"name=^{box}$") == ""


def test_registry_stops_fast_and_tidy_removes_it_with_its_keys(running: None) -> None:
    start = time.monotonic()
    registry.stop()
    registry.stop(tls=True)
    assert time.monotonic() - start < 2 * (registry.STOP_SECONDS + 2)
    cleanup.tidy(NOTEBOOK, verbose=False)
    volumes = docker_out("volume", "ls", "-q", "--filter", f"label={course.label_filter()}").split()
    for gone in (registry.auth_volume(), registry.data_volume(), registry.data_volume(True)):
        assert gone not in volumes
    assert not docker_out("ps", "-aq", "--filter", f"name=^{registry.container()}$")


def test_the_private_registrys_password_is_each_namespaces_own_secret(monkeypatch) -> None:
    # F10: on a hub the registries' loopback ports are shared; a password the course printed would open yours
    seen = []
    for ns in ("dmac-pw-a", "dmac-pw-b"):
        monkeypatch.setenv("DMAC_NAMESPACE", ns)
        first = registry.PASSWORD
        assert first == registry.password() and len(first) >= 20  # made once, then read back
        assert (course.workdir("registry") / "password").stat().st_mode & 0o077 == 0  # the learner's alone
        seen.append(first)
    assert seen[0] != seen[1] and "course-demo" not in seen[0]
