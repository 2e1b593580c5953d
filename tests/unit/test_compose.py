"""The compose helpers against the real daemon: labelled files, a validating config, a failing one."""

from __future__ import annotations

import yaml

from helpers.core import course
from helpers.lessons import compose


def test_every_resource_in_a_stack_carries_the_course_labels() -> None:
    course.set_notebook("13")
    doc = compose.stack("healthy")
    for section in ("services", "volumes", "networks"):
        for item in doc[section].values():
            assert item["labels"][course.LABEL] == course.namespace()
    assert doc["services"]["db"]["healthcheck"]["test"][2:4] == ["-h", "127.0.0.1"]


def test_config_validates_and_rejects_with_a_real_exit_code() -> None:
    good = compose.write("t-good", compose.stack("healthy"))
    assert compose.compose(good, "config", "--quiet", show=False).ok
    assert "&id" not in good.read_text() and yaml.safe_load(good.read_text())["services"]
    doc = compose.stack("healthy")
    doc["services"]["app"]["depends_on"]["db"]["condition"] = "nope"
    bad = compose.write("t-bad", doc)
    assert compose.compose(bad, "config", "--quiet", check=False, show=False).returncode != 0
