"""helpers.core.oneshot on the daemon the suite runs on (Podman's side: tests/test_podman.py)."""

from __future__ import annotations

import docker as sdk
import pytest

from helpers.core import course, oneshot
from helpers.core.daemon import client


def test_output_returns_stdout_and_removes_the_container() -> None:
    before = {c.id for c in client().containers.list(all=True, filters={"label": course.label_filter()})}
    assert oneshot.output("busybox", ["sh", "-c", "echo out; echo err >&2"], labels=course.labels()) == b"out\n"
    both = oneshot.output("busybox", ["sh", "-c", "echo out; echo err >&2"], labels=course.labels(), stderr=True)
    assert sorted(both.split()) == [b"err", b"out"]
    after = {c.id for c in client().containers.list(all=True, filters={"label": course.label_filter()})}
    assert after == before


def test_a_failing_command_raises_container_error_with_its_stderr_as_the_sdk_does() -> None:
    with pytest.raises(sdk.errors.ContainerError) as caught:
        oneshot.output("busybox", ["sh", "-c", "echo nope >&2; exit 4"], labels=course.labels())
    assert caught.value.exit_status == 4 and caught.value.stderr == b"nope\n"
