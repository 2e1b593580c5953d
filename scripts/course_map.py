"""The course's plan from one place: each notebook's learner time lives in its metadata (``dmac.minutes``).

    scripts/course_map.py write    the "Time to learn" sentence of each notebook and INSTRUCTORS.md's course map
                                   and cuts, from the notebooks' metadata and docs/benchmark.json's run times
    scripts/course_map.py check    exit 1 (saying what) when any of those is not what `write` would make

`tests/test_course_map.py` runs `check`, so a changed time or a new notebook cannot leave the guide behind.
"""

from __future__ import annotations

import json
import re
import sys
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = ROOT / "notebooks"
GUIDE = ROOT / "INSTRUCTORS.md"
BENCH = ROOT / "docs" / "benchmark.json"
START, END = "<!-- course map: made by scripts/course_map.py write -->", "<!-- end of course map -->"
TIME = re.compile(r"\*\*Time to learn:\*\* (\d+) minutes\.")
# The cuts an instructor chooses from: which notebooks each takes (the minutes are added up here)
CUTS = {
    "A 3-hour cut": ["00", "02", "05", "06", "08", "13"],
    "A full day": ["00", "01", "02", "03", "05", "06", "07", "08", "10", "13", "14"],
    "Two days": [f"{n:02d}" for n in range(17) if n != 14] + ["14"],  # the clean-up notebook ends the course
}


@dataclass(frozen=True)
class Notebook:
    path: Path
    number: str
    title: str
    minutes: int


def notebooks() -> list[Notebook]:
    found = []
    for path in sorted(NOTEBOOKS.glob("[0-9][0-9]-*.ipynb")):
        nb = json.loads(path.read_text())
        minutes = nb["metadata"].get("dmac", {}).get("minutes")
        if not isinstance(minutes, int):
            raise SystemExit(f"{path.name}: no metadata dmac.minutes (the learner's time, in minutes)")
        heading = "".join(nb["cells"][0]["source"]).splitlines()[0]
        title = heading.lstrip("# ").split("·", 1)[-1].strip()
        found.append(Notebook(path, path.name[:2], title, minutes))
    return found


def hours(minutes: int) -> str:
    return f"{minutes // 60} h {minutes % 60:02d} min" if minutes >= 60 else f"{minutes} min"


def run_times() -> tuple[dict[str, float], dict[str, float], str]:
    """Cold and warm seconds per notebook stem from docs/benchmark.json (``make bench``), and when measured."""
    data = json.loads(BENCH.read_text()).get("notebooks", {}) if BENCH.is_file() else {}
    return data.get("cold", {}), data.get("warm", {}), data.get("when", "never")


def course_map(nbs: list[Notebook]) -> str:
    cold, warm, when = run_times()

    def secs(table: dict[str, float], stem: str) -> str:
        return f"{table[stem]:.0f} s" if stem in table else "not measured yet"

    rows = [
        f"| {nb.number} | {nb.title} | {nb.minutes} min | {secs(cold, nb.path.stem)} | {secs(warm, nb.path.stem)} |"
        for nb in nbs
    ]
    total = sum(nb.minutes for nb in nbs)
    measured = [nb.path.stem for nb in nbs if nb.path.stem in cold and nb.path.stem in warm]
    cold_total = sum(cold[s] for s in measured)
    warm_total = sum(warm[s] for s in measured)
    by_number = {nb.number: nb for nb in nbs}
    cuts = [
        f"- **{name}**: {' → '.join(numbers)}, {hours(sum(by_number[n].minutes for n in numbers))} of learner time."
        for name, numbers in CUTS.items()
    ]
    return "\n".join(
        [
            START,
            "| # | notebook | learner time | run time, first (cold) | run time, again (warm) |",
            "|---|---|---:|---:|---:|",
            *rows,
            f"| | **all {len(nbs)}** | **{hours(total)}** | **{cold_total / 60:.1f} min** ({len(measured)} measured) "
            f"| **{warm_total / 60:.1f} min** |",
            "",
            f"Learner time is each notebook's own (its metadata `dmac.minutes`, also its \"Time to learn\"); run times "
            f"come from `make bench` ({when}, `docs/benchmark.md`).",
            "",
            *cuts,
            END,
        ]
    )


def with_time_sentence(nb_json: dict, minutes: int) -> bool:
    """Set the first cell's "Time to learn" sentence to ``minutes``; whether it changed."""
    for i, cell in enumerate(nb_json["cells"][:3]):
        text = "".join(cell["source"])
        if TIME.search(text):
            new = TIME.sub(f"**Time to learn:** {minutes} minutes.", text)
            if new != text:
                nb_json["cells"][i]["source"] = new.splitlines(keepends=True)
                return True
            return False
    raise SystemExit("a notebook without a **Time to learn:** sentence in its first cells")


def write(check: bool) -> list[str]:
    """Make the sentences and the guide's map agree with the metadata; what was (or would be) changed."""
    nbs = notebooks()
    changed = []
    for nb in nbs:
        data = json.loads(nb.path.read_text())
        if with_time_sentence(data, nb.minutes):
            changed.append(nb.path.name)
            if not check:
                nb.path.write_text(json.dumps(data, indent=1, ensure_ascii=False) + "\n")
    guide = GUIDE.read_text()
    if START not in guide or END not in guide:
        raise SystemExit(f"INSTRUCTORS.md has no {START} … {END} markers")
    head, rest = guide.split(START, 1)
    new = head + course_map(nbs) + rest.split(END, 1)[1]
    if new != guide:
        changed.append(GUIDE.name)
        if not check:
            GUIDE.write_text(new)
    return changed


def main(argv: list[str]) -> int:
    what = argv[0] if argv else ""
    if what not in ("write", "check"):
        print(__doc__)
        return 2
    changed = write(check=what == "check")
    if what == "check" and changed:
        print(f"not up to date: {', '.join(changed)} (run: python scripts/course_map.py write)")
        return 1
    print(f"{'wrote' if changed else 'up to date:'} {', '.join(changed) or 'everything'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
