"""The course's plan has one source: each notebook's metadata; INSTRUCTORS.md and the notebooks follow it."""

from __future__ import annotations

import json
from pathlib import Path

from tests.scripts_loader import load

ROOT = Path(__file__).resolve().parents[2]
course_map = load("course_map")


def test_every_notebook_has_its_time_and_the_guide_is_made_from_them() -> None:
    nbs = course_map.notebooks()
    assert len(nbs) == len(list((ROOT / "notebooks").glob("[0-9][0-9]-*.ipynb")))
    assert course_map.write(check=True) == [], "run: python scripts/course_map.py write"
    guide = (ROOT / "INSTRUCTORS.md").read_text()
    for nb in nbs:  # every notebook is in the map, with its own time
        assert f"| {nb.number} | {nb.title} | {nb.minutes} min |" in guide
    total = sum(nb.minutes for nb in nbs)
    assert f"**{course_map.hours(total)}**" in guide  # the total adds up


def test_a_changed_time_is_caught(tmp_path: Path) -> None:
    nb = json.loads((ROOT / "notebooks" / "00-setup-and-preflight.ipynb").read_text())
    assert course_map.with_time_sentence(nb, 99)
    text = "".join("".join(c["source"]) for c in nb["cells"][:3])
    assert "**Time to learn:** 99 minutes." in text
    assert not course_map.with_time_sentence(nb, 99)  # already so: nothing to change
