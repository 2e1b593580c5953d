"""The layout of the code holds: every helper module sits in a layer of make lint's import contracts, test modules
import support modules and never each other, and an import inside a function says why it is deferred."""

from __future__ import annotations

import ast
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _contracts() -> list[dict]:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]["contracts"]


def test_every_helper_module_is_in_one_layer_and_the_layers_are_enforced() -> None:
    import helpers

    top = sorted(p.name for p in (ROOT / "helpers").iterdir() if p.suffix == ".py" or (p / "__init__.py").is_file())
    assert top == ["__init__.py", "core", "exercises", "infra", "lessons"], "a module belongs in a layer's package"
    tree = {layer: sorted(p.stem for p in (ROOT / "helpers" / layer).glob("*.py") if p.stem != "__init__")
            for layer in helpers.LAYERS}  # fmt: skip
    assert tree == {layer: sorted(modules) for layer, modules in helpers.LAYERS.items()}, (
        "helpers.LAYERS (the short names notebooks use: `from helpers import layers`) lists every module"
    )
    layered = next(c for c in _contracts() if c["type"] == "layers")
    assert layered["layers"] == ["infra", "exercises", "lessons", "core"] and layered["exhaustive"]
    assert any(c["type"] == "acyclic_siblings" for c in _contracts())


def test_a_modules_short_name_is_the_layered_module_itself() -> None:
    import importlib

    import helpers
    from helpers import layers
    from helpers.core import shell
    from helpers.lessons import layers as layered

    assert layers is layered and importlib.import_module("helpers.shell") is shell
    assert shell.__spec__ is not None and shell.__spec__.name == "helpers.core.shell"
    assert helpers.monitor.__name__ == "helpers.lessons.monitor"


def _imports(path: Path) -> list[tuple[ast.Import | ast.ImportFrom, bool]]:
    """Every import statement of a file, and whether it sits inside a function."""
    tree = ast.parse(path.read_text())
    inner = {
        id(sub)
        for node in ast.walk(tree)
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))
        for sub in ast.walk(node)
    }
    return [(n, id(n) in inner) for n in ast.walk(tree) if isinstance(n, (ast.Import, ast.ImportFrom))]


def test_no_test_module_imports_another() -> None:
    found = []
    for path in sorted((ROOT / "tests").rglob("test_*.py")):
        for node, _ in _imports(path):
            names = [node.module or ""] if isinstance(node, ast.ImportFrom) else [a.name for a in node.names]
            if isinstance(node, ast.ImportFrom) and node.module in ("tests", None):
                names = [a.name for a in node.names]
            if any(n.rpartition(".")[2].startswith("test_") for n in names):
                found.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert found == [], "share it through tests/support.py instead: " + ", ".join(found)


def test_an_import_inside_a_function_says_why_it_is_deferred() -> None:
    found = []
    for path in sorted((ROOT / "helpers").rglob("*.py")):
        lines = path.read_text().splitlines()
        for node, inside in _imports(path):
            if inside and "# deferred:" not in lines[(node.end_lineno or node.lineno) - 1]:
                found.append(f"{path.relative_to(ROOT)}:{node.lineno}: {lines[node.lineno - 1].strip()}")
    assert found == [], "import it at the top, or say why not (`# deferred: …`): " + "; ".join(found)


def test_make_variables_mean_one_thing() -> None:
    """LEARNERS is the hub's count of learners everywhere (make test's rerun list is RERUN_TESTS): a variable
    named twice broke `make test LEARNERS=3`, then `make hub` and `make preflight`."""
    import subprocess

    def dry(*args: str) -> str:
        return subprocess.run(["make", "-n", *args], cwd=ROOT, capture_output=True, text=True, timeout=60).stdout

    assert "helpers.infra.hub start --learners 3" in dry("hub")
    assert "-m helpers.lessons.preflight" in dry("preflight")
    assert "helpers.infra.sizing --learners 30" in dry("preflight", "LEARNERS=30")
    assert "--dist load tests/learners/test_rerun.py" in dry("test", "LEARNERS=3")


def test_no_module_uses_another_modules_private_names() -> None:
    """``engines._inner`` from the matrix, ``records._write`` from a test: a private name is the module's own."""
    helpers = {p.stem for p in (ROOT / "helpers").rglob("*.py") if p.stem != "__init__"} | {"exercises"}
    found = []
    for path in [*(ROOT / "helpers").rglob("*.py"), *(ROOT / "tests").rglob("*.py"), *(ROOT / "scripts").glob("*.py")]:
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id in helpers:
                private = node.attr.startswith("_") and not node.attr.startswith("__")
                if private and path.stem != node.value.id:
                    found.append(f"{path.relative_to(ROOT)}:{node.lineno}: {node.value.id}.{node.attr}")
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("helpers"):
                found += [f"{path.relative_to(ROOT)}:{node.lineno}: {a.name}" for a in node.names
                          if a.name.startswith("_") and not a.name.startswith("__")]  # fmt: skip
    assert found == [], "make it public, or test through a public call: " + ", ".join(found)
