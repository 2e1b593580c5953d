"""Give every notebook slide metadata for RISE (JupyterLab's slideshow): `make slides`.

A Markdown cell that starts a section (`#` or `##`) opens a new slide; `###` a sub-slide; the
rest follow on the same slide. Exercise check cells are fragments (they appear one by one).
Only metadata changes: sources and outputs stay as they are.
"""

from __future__ import annotations

import sys
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parent.parent


def slide_type(cell: nbformat.NotebookNode) -> str:
    text = cell.source.lstrip()
    if cell.cell_type == "markdown" and (text.startswith("# ") or text.startswith("## ")):
        return "slide"
    if cell.cell_type == "markdown" and text.startswith("### "):
        return "subslide"
    if cell.cell_type == "code" and text.startswith("check("):
        return "fragment"
    return "-"


def apply(path: Path) -> bool:
    nb = nbformat.read(path, as_version=4)
    changed = False
    for cell in nb.cells:
        wanted = slide_type(cell)
        if cell.metadata.get("slideshow", {}).get("slide_type") != wanted:
            cell.metadata["slideshow"] = {"slide_type": wanted}
            changed = True
    if changed:
        nbformat.write(nb, path)
    return changed


def main() -> int:
    paths = [Path(p) for p in sys.argv[1:]] or sorted((ROOT / "notebooks").glob("[0-9][0-9]-*.ipynb"))
    for path in paths:
        print(f"{'updated' if apply(path) else 'unchanged'}: {path.name}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
