"""Binder's files install: a fresh environment built the way binder/postBuild does imports the helpers."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent


def test_binder_environment_names_python_and_pip() -> None:
    env = yaml.safe_load((ROOT / "binder" / "environment.yml").read_text())
    deps = env["dependencies"]
    assert "pip" in deps and any(str(d).startswith("python=3.") for d in deps)
    root_env = yaml.safe_load((ROOT / "environment.yml").read_text())
    assert [d for d in root_env["dependencies"] if isinstance(d, str)] == deps  # same Python for both


def test_postbuild_installs_an_environment_that_imports_the_helpers(tmp_path: Path) -> None:
    venv = tmp_path / "binder-env"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=120)
    python = venv / "bin" / "python"
    script = (ROOT / "binder" / "postBuild").read_text()
    assert 'pip install --no-cache-dir -e ".[test]"' in script
    result = subprocess.run(
        [str(python), "-m", "pip", "install", "--quiet", "-e", ".[test]"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    probe = subprocess.run(
        [str(python), "-c", "import helpers, helpers.offline; print(helpers.available())"],
        capture_output=True,
        text=True,
        timeout=60,
        env={"DOCKER_HOST": f"unix://{tmp_path}/none.sock", "PATH": "/usr/bin:/bin"},
    )
    assert probe.returncode == 0, probe.stderr
    assert probe.stdout.strip() == "False"
