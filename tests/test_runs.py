"""The one verdict on a run with every solution applied (helpers.infra.runs), on hand-made outputs: no daemon."""

from __future__ import annotations

from helpers.infra import runs

SKIP = "Rootless Docker on cgroup v1 cannot enforce memory limits, so this exercise is skipped."


def _code(source: str = "", *stdout: str, error: tuple[str, str] | None = None, injected: bool = False) -> dict:
    outputs: list[dict] = [{"output_type": "stream", "name": "stdout", "text": list(stdout)}]
    if error:
        outputs.append({"output_type": "error", "ename": error[0], "evalue": error[1], "traceback": []})
    tags = ["injected-parameters"] if injected else []
    return {"cell_type": "code", "metadata": {"tags": tags}, "outputs": outputs, "source": source}


def _ok(ex: str) -> dict:
    return _code(f'check("{ex}", answer)', f"Exercise {ex} — the task\n", "✅ Correct: well done\n")


def _nb(*cells: dict) -> dict:
    return {"cells": list(cells)}


def test_every_exercise_accepted_is_a_pass() -> None:
    result = runs.solutions_verdict(_nb(_ok("02.1"), _ok("02.2")))
    assert (result.status, result.accepted, result.skipped) == ("pass", ["02.1", "02.2"], {})


def test_an_exercise_skipped_with_its_reason_in_its_own_cell_is_limited() -> None:
    skipped = _code('if engine.require("memory-limit"):\n    check("02.2")', f"⚠ {SKIP}\n")
    result = runs.solutions_verdict(_nb(_ok("02.1"), skipped))
    assert result.status == "limited"
    assert result.skipped == {"02.2": SKIP}
    assert result.to_json() == {"status": "limited", "cells": [], "why": SKIP}


def test_an_exercise_skipped_silently_fails_even_where_a_later_cell_said_something() -> None:
    # the old rootless rule ("one ✅ and any ⚠") passed this: 02.2 never checked, a note only after it
    silent = _code('check("02.2")')
    note = _code("", f"⚠ {SKIP}\n")
    result = runs.solutions_verdict(_nb(_ok("02.1"), silent, note))
    assert result.status == "fail"
    assert "02.2 neither accepted nor skipped with a reason" in result.why


def test_the_reason_may_come_from_the_cell_that_set_the_exercise_up() -> None:
    # notebook 15: `LIMITS = engine.require(…)` says why in one cell, `if LIMITS: check("15.1")` skips in a later one
    setup = _code('LIMITS = engine.require("memory-limit")', f"⚠ {SKIP}\n")
    result = runs.solutions_verdict(_nb(setup, _ok("15.2"), _code('if LIMITS:\n    check("15.1")')))
    assert (result.status, result.skipped) == ("limited", {"15.1": SKIP})


def test_the_reason_is_the_one_its_guard_said_not_the_last_one_said() -> None:
    # notebook 07 on Podman: REGISTRY_RUNS said why early, the inline-cache note came between, 07.3 is guarded
    registry, inline = "No course registry here.", "No inline cache here."
    cells = (_code('REGISTRY_RUNS = engine.require("course-registry")', f"⚠ {registry}\n"),
             _code('INLINE = engine.require("inline-cache")', f"⚠ {inline}\n"), _ok("07.1"),
             _code('if REGISTRY_RUNS:\n    check("07.3", answer)'))  # fmt: skip
    assert runs.solutions_verdict(_nb(*cells)).skipped == {"07.3": registry}


def test_a_check_that_ran_and_refused_is_no_skip_whatever_was_said() -> None:
    refused = _code('check("02.2")', "Exercise 02.2 — the task\n", "nothing accepted here\n")
    result = runs.solutions_verdict(_nb(_code("", f"⚠ {SKIP}\n"), _ok("02.1"), refused))
    assert result.status == "fail"


def test_a_refused_solution_and_an_error_fail_with_where() -> None:
    refused = _code('check("02.2")', "Exercise 02.2 — the task\n", "❌ Not yet: the container is gone\n")
    result = runs.solutions_verdict(_nb(_ok("02.1"), refused))
    assert result.status == "fail" and "❌ Not yet: the container is gone" in result.why
    broken = _nb(_code(injected=True), {"cell_type": "markdown", "source": ""}, _ok("02.1"),
                 _code(error=("CommandFailed", "boom\nmore")))  # fmt: skip
    assert runs.solutions_verdict(broken).to_json() == {"status": "fail", "cells": [1], "why": "CommandFailed: boom"}


def test_a_note_about_the_engine_without_a_skipped_exercise_is_limited_too() -> None:
    podman = "Podman gives containers no NET_RAW capability by default (Docker does)."
    result = runs.solutions_verdict(_nb(_ok("07.1"), _code("ping", f"⚠ {podman}\n", f"⚠ {podman}\n")))
    assert (result.status, result.why, result.skipped) == ("limited", podman, {})


def test_a_notebook_that_checks_nothing_is_no_pass() -> None:
    assert runs.solutions_verdict(_nb(_code("print(1)", "1\n"))).status == "fail"
