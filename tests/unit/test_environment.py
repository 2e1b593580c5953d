"""One locked environment: uv.lock drives `make env`, Binder and conda, with the same Python everywhere."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
UV = ROOT / ".uv" / "bin" / "uv"  # bootstrapped by `make env`
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())
BINDER_REQUIREMENTS = ROOT / "binder" / "requirements.txt"


def _uv(*args: str) -> subprocess.CompletedProcess[str]:
    assert UV.exists(), "uv is bootstrapped into .uv/ by `make env`"
    env = dict(os.environ, UV_SYSTEM_CERTS="1")
    return subprocess.run([str(UV), *args], cwd=ROOT, capture_output=True, text=True, timeout=300, env=env)


def _make_recipe(target: str) -> str:
    """The uv command line of a Makefile target (one line), with $(UV) and the file variable filled in."""
    text = (ROOT / "Makefile").read_text()
    recipe = re.search(rf"^{target}:.*\n\t(.+)$", text, re.M)
    assert recipe, f"no recipe for {target} in the Makefile"
    return recipe.group(1)


def _pinned_python(env_file: Path) -> str:
    deps = yaml.safe_load(env_file.read_text())["dependencies"]
    return next(d for d in deps if isinstance(d, str) and d.startswith("python=")).removeprefix("python=")


def test_python_version_is_the_same_everywhere() -> None:
    conda = {_pinned_python(ROOT / "environment.yml"), _pinned_python(ROOT / "binder" / "environment.yml")}
    assert conda == {"3.11"}
    assert PYPROJECT["project"]["requires-python"] == ">=3.11"
    assert PYPROJECT["tool"]["ruff"]["target-version"] == "py311"
    # the course's own .venv, made by `make env`, runs the same minor version
    assert sys.version_info[:2] >= (3, 11)


def test_lock_is_in_step_with_pyproject() -> None:
    result = _uv("lock", "--check", "--python", sys.executable)
    assert result.returncode == 0, "pyproject.toml changed without `make update-lock`:\n" + result.stderr[-2000:]


def test_binder_requirements_are_exported_from_the_lock() -> None:
    recipe = _make_recipe("binder-requirements")
    args = recipe.split()[1:]  # drop $(UV)
    out = args.index("--output-file")
    del args[out : out + 2]
    result = _uv(*args)
    assert result.returncode == 0, result.stderr
    written = BINDER_REQUIREMENTS.read_text()
    pins = lambda text: sorted(ln for ln in text.splitlines() if "==" in ln)  # noqa: E731
    assert pins(written) == pins(result.stdout), "binder/requirements.txt is stale: run `make binder-requirements`"


def test_binder_gets_no_test_tools() -> None:
    pins = {ln.split("==")[0].lower() for ln in BINDER_REQUIREMENTS.read_text().splitlines() if "==" in ln}
    test_extra = PYPROJECT["project"]["optional-dependencies"]["test"]
    test_tools = {re.split(r"[<>=!~ \[]", req)[0].lower() for req in test_extra}
    assert test_tools and not pins & test_tools
    assert {"docker", "jupyterlab", "pandas"} <= pins
    assert not (ROOT / "Dockerfile").exists(), "a root Dockerfile would take over Binder's build"


def test_postbuild_installs_an_environment_that_imports_the_helpers(tmp_path: Path) -> None:
    venv = tmp_path / "binder-env"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=120)
    env = dict(os.environ, PATH=f"{venv / 'bin'}:{os.environ['PATH']}")  # postBuild's `python` is the venv's
    result = subprocess.run(
        ["bash", str(ROOT / "binder" / "postBuild")], cwd=ROOT, capture_output=True, text=True, timeout=900, env=env
    )
    assert result.returncode == 0, result.stderr[-2000:]
    probe = subprocess.run(
        [str(venv / "bin" / "python"), "-c", "import helpers.core.offline, pandas; print(helpers.available())"],
        capture_output=True,
        text=True,
        timeout=60,
        env={"DOCKER_HOST": f"unix://{tmp_path}/none.sock", "PATH": "/usr/bin:/bin"},
    )
    assert probe.returncode == 0, probe.stderr
    assert probe.stdout.strip() == "False"
    frozen = subprocess.run(
        [str(venv / "bin" / "python"), "-m", "pip", "freeze"], capture_output=True, text=True, timeout=60
    ).stdout.lower()
    assert "pytest" not in frozen and "playwright" not in frozen
