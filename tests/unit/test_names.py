"""Each notebook names its own containers, volumes and networks: a notebook stopped halfway leaves
resources that the next notebook (which tidies only its own) must not collide with."""

from __future__ import annotations

import json
import re
from collections import defaultdict

from tests.notebook_runs import NOTEBOOKS

NAME_CALL = re.compile(r"""\bname\(\s*["']([^"']+)["']""")


def names_by_notebook() -> dict[str, set[str]]:
    """``{first name() part: {notebook numbers}}`` over the code cells of every notebook."""
    found: dict[str, set[str]] = defaultdict(set)
    for notebook in NOTEBOOKS:
        for cell in json.loads(notebook.read_text())["cells"]:
            if cell["cell_type"] == "code":
                for match in NAME_CALL.finditer("".join(cell["source"])):
                    found[match.group(1)].add(notebook.name[:2])
    return found


def test_the_scan_finds_the_names_notebooks_use() -> None:
    found = names_by_notebook()
    assert len(found) > 20 and "anatomy-web" in found  # notebook 08's web server


def test_no_two_notebooks_use_the_same_name() -> None:
    shared = {name: sorted(where) for name, where in names_by_notebook().items() if len(where) > 1}
    assert shared == {}, f"names used by more than one notebook: {shared}"
