"""The scan that finds an exercise's answer in an output shown before it (pure: a made-up notebook)."""

from __future__ import annotations

import json
from pathlib import Path

from tests.notebook_runs import answers, given_away


def _notebook(tmp_path: Path, shown: str) -> Path:
    cells = [
        {"cell_type": "code", "source": ["docker('info')"], "outputs": [{"name": "stdout", "text": [shown]}]},
        {"cell_type": "code", "source": ["print(progress)"], "outputs": [{"name": "stderr", "text": ["/srv/data\n"]}]},
        {"cell_type": "code", "source": ['check("00.2", answer)'], "outputs": []},
    ]
    path = tmp_path / "00-made-up.ipynb"
    path.write_text(json.dumps({"cells": cells}))
    return path


SOLVED = "Solution 00.2:\n    answer = docker_out(...)\nanswer = '/srv/data'\nExercise 00.2 — ask\n✅ Correct: yes\n"


def test_the_answer_printed_before_the_exercise_is_found(tmp_path: Path) -> None:
    found = answers(SOLVED)
    assert found == {"00.2": "/srv/data"}
    problems = given_away(_notebook(tmp_path, "Docker Root Dir: /srv/data\n"), found)
    assert problems == ["00-made-up.ipynb: the answer of 00.2 ('/srv/data') is in the output of cell 0"]


def test_a_longer_word_or_stderr_is_not_the_answer(tmp_path: Path) -> None:
    found = answers(SOLVED)
    assert given_away(_notebook(tmp_path, "/srv/data-old holds nothing\n"), found) == []  # only in stderr


def test_no_hint_holds_a_line_of_its_solution() -> None:
    """A hint points the way; it never prints the solution (a hint shows in the stored output of every exercise)."""
    from helpers import exercises

    exercises.get("00.1")  # loads every exercise
    leaks = []
    for id, ex in sorted(exercises.REGISTRY.items()):
        hint = " ".join(ex.hint.split())
        for line in ex.solution.splitlines():
            code = " ".join(line.strip().rstrip(",").split())
            if len(code) >= 25 and code in hint:
                leaks.append(f"{id}: {code[:70]}")
    assert not leaks, leaks


def test_an_exercise_not_answered_yet_shows_no_hint() -> None:
    from helpers import exercises

    verdict = exercises.evaluate("00.2", None)
    assert not verdict.ok and "no answer yet" in verdict.message and verdict.hint == ""
    assert "Hint" not in str(verdict)


def test_nothing_made_yet_shows_no_hint_either(monkeypatch) -> None:
    """A daemon-state exercise whose container, volume or file is not there yet: what to make, no hint (the stored
    outputs show this first check; 11.1's hint was nearly its command line)."""
    from helpers import exercises

    monkeypatch.setenv("DMAC_NAMESPACE", "dmac-nothing-yet")  # a learner who has made nothing

    for id in ("06.1", "07.2", "11.1", "12.3", "12.4", "13.1", "15.1", "15.2"):
        verdict = exercises.evaluate(id)
        assert not verdict.ok and verdict.hint == "", (id, verdict)
