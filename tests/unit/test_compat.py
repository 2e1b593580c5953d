"""The engine matrix's records and tables (helpers/infra/compat.py), on reports recorded from a real run.

The fixtures are trimmed from the first `make matrix-engine ENGINE=docker-28` (nbval's and the solutions'
JUnit reports); no daemon is needed to read them.
"""

from __future__ import annotations

import json
from pathlib import Path

from helpers.infra import compat, runs

FIXTURES = Path(__file__).parent.parent / "fixtures" / "compat"


def test_nbval_report_gives_each_notebook_its_failing_code_cells_and_why() -> None:
    found = compat.nbval_results(FIXTURES / "nbval-docker-28.xml")
    assert found["13-compose-multi-service"] == {"status": "pass", "cells": [], "why": ""}
    assert found["00-setup-and-preflight"]["status"] == "fail"
    assert found["00-setup-and-preflight"]["cells"] == [2]
    assert found["02-containers-vs-vms"]["cells"] == [4, 8]
    why = found["02-containers-vs-vms"]["why"]
    assert why.startswith("Cell outputs differ: ") and "forky/sid (containerized)" in why
    assert "\x1b" not in why and "#x1B" not in why


def _notebook(tmp_path: Path, cells: list[dict]) -> Path:
    path = tmp_path / "out.ipynb"
    path.write_text(json.dumps({"cells": cells, "metadata": {}, "nbformat": 4, "nbformat_minor": 5}))
    return path


def test_first_error_counts_code_cells_as_nbval_does_without_papermills_cell(tmp_path: Path) -> None:
    code = {"cell_type": "code", "metadata": {}, "source": "", "outputs": []}
    error = {"output_type": "error", "ename": "NameError", "evalue": "name 'engine' is not defined", "traceback": []}
    cells: list[dict] = [
        {"cell_type": "markdown", "metadata": {}, "source": "# title"},
        {**code, "metadata": {"tags": ["injected-parameters"]}},
        code,
        {"cell_type": "markdown", "metadata": {}, "source": "text"},
        code,
        {**code, "outputs": [error]},
    ]
    assert runs.first_error({"cells": cells}) == (2, "NameError: name 'engine' is not defined")
    assert runs.first_error({"cells": cells[:5]}) is None


def test_first_error_of_a_failed_command_keeps_the_commands_own_words() -> None:
    value = "`docker volume rm dmac-decoy-vol ...` failed with exit code 1:\nError: No such volume: dmac-decoy-vol"
    error = {"output_type": "error", "ename": "CommandFailed", "evalue": value, "traceback": []}
    cell = {"cell_type": "code", "metadata": {}, "source": "", "outputs": [error]}
    assert runs.first_error({"cells": [cell]}) == (
        0,
        "CommandFailed: `docker volume rm dmac-decoy-vol ...` failed with exit code 1: "
        "Error: No such volume: dmac-decoy-vol",
    )


def test_solutions_report_falls_back_to_the_failure_message_without_an_output_notebook(tmp_path: Path) -> None:
    found = compat.solutions_results(FIXTURES / "solutions-docker-28.xml", tmp_path)
    assert found["01-why-containers"]["status"] == "pass"
    assert found["11-monitoring"]["status"] == "fail" and found["11-monitoring"]["cells"] == []
    assert found["11-monitoring"]["why"]


def _data() -> dict:
    runs: dict[str, dict[str, dict]] = {
        stem: {"nbval": {"status": "pass"}, "solutions": {"status": "pass"}} for stem in compat.NOTEBOOKS
    }
    runs[compat.NOTEBOOKS[2]]["nbval"] = {"status": "fail", "cells": [4, 8], "why": "Cell outputs differ"}
    runs[compat.NOTEBOOKS[4]]["nbval"] = {"status": "not run"}
    return {"engines": {"docker-28": {"server": "28.5.2", "notebooks": runs}}}


def test_tables_mark_passes_failures_with_cells_and_runs_that_did_not_happen() -> None:
    table = compat.compact_table(_data())
    lines = table.splitlines()
    assert lines[0] == "| notebook | docker-28 (28.5.2) |"
    assert len(lines) == 2 + len(compat.NOTEBOOKS)
    assert f"| {compat.NOTEBOOKS[2]} | ❌ cell 4, 8 · ✅ |" in lines
    assert f"| {compat.NOTEBOOKS[4]} | — · ✅ |" in lines
    assert f"| {compat.NOTEBOOKS[0]} | ✅ · ✅ |" in lines
    assert compat.failures(_data()["engines"]["docker-28"]) == 1
    failure = f"docker-28 · {compat.NOTEBOOKS[2]} · nbval · cell 4, 8: Cell outputs differ"
    assert failure in compat.markdown(_data())


def test_readme_section_is_replaced_between_the_markers_only(tmp_path: Path) -> None:
    readme = tmp_path / "README.md"
    readme.write_text(f"# Title\nbefore\n{compat.START}\nold table\n{compat.END}\nafter\n")
    assert compat.update_readme(_data(), readme)
    text = readme.read_text()
    assert text.startswith("# Title\nbefore\n") and text.endswith(f"{compat.END}\nafter\n")
    assert "old table" not in text and "❌ cell 4, 8" in text
    assert text.count(compat.START) == 1
    readme.write_text("no markers\n")
    assert not compat.update_readme(_data(), readme)
    assert readme.read_text() == "no markers\n"


def test_a_passing_run_that_said_what_its_engine_cannot_do_is_limited_with_those_sentences(tmp_path: Path) -> None:
    sentence = "Podman gives containers no NET_RAW capability by default (Docker does), so `ping` needs it here."
    exercise = {"output_type": "stream", "name": "stdout", "text": "Exercise 01.1 — run it\n✅ Correct: it ran\n"}
    said = {"cells": [
        {"cell_type": "code", "source": "check('01.1')", "outputs": [exercise]},
        {"cell_type": "code", "source": "", "outputs": [
            {"output_type": "stream", "name": "stdout", "text": ["$ docker run …\n", f"⚠ {sentence}\n"]},
            {"output_type": "stream", "name": "stdout", "text": f"⚠ {sentence}\nok\n"},
            {"output_type": "stream", "name": "stderr", "text": "⚠ not for the learner's eyes\n"}]}]}  # fmt: skip
    (tmp_path / "solutions").mkdir()
    (tmp_path / "solutions" / "01-why-containers.ipynb").write_text(json.dumps(said))
    found = compat.solutions_results(FIXTURES / "solutions-docker-28.xml", tmp_path)
    assert found["01-why-containers"] == {"status": "limited", "cells": [], "why": sentence}
    assert compat.mark(found["01-why-containers"]) == "⚠"
    assert runs.limits_said(said) == [sentence]


def test_a_sampled_run_updates_only_its_own_cells_and_says_so() -> None:
    def engine(commit: str, runs: dict[str, tuple[str, str]]) -> dict:
        return {
            "commit": commit,
            "recorded": f"day of {commit}",
            "notebooks": {stem: {"nbval": {"status": n}, "solutions": {"status": s}} for stem, (n, s) in runs.items()},
        }

    old = {"engines": {"e": engine("old", {"01-a": ("pass", "pass"), "02-b": ("pass", "pass")})}}
    half = {"engines": {"e": engine("new", {"01-a": ("not run", "not run"), "02-b": ("fail", "not run")})}}
    merged = compat.merge(old, half)
    cells = merged["engines"]["e"]["notebooks"]
    assert cells["01-a"]["nbval"]["status"] == "pass" and cells["02-b"]["nbval"]["status"] == "fail"
    assert cells["02-b"]["solutions"]["status"] == "pass"  # not run in the new one: the earlier cell stays
    assert merged["engines"]["e"]["commit"] == "old"
    assert merged["engines"]["e"]["partial"] == [{"commit": "new", "recorded": "day of new", "runs": ["nbval of 02"]}]
    assert "then nbval of 02 again at commit new" in compat.markdown(merged)
    whole = {"engines": {"e": engine("all", {"01-a": ("not run", "pass"), "02-b": ("not run", "pass")})}}
    assert compat.merge(old, whole)["engines"]["e"]["commit"] == "all"  # every solution and no nbval: taken whole
    assert old["engines"]["e"]["notebooks"]["02-b"]["nbval"]["status"] == "pass"  # the old record is left alone
