"""Which ``docker`` command-line client the course runs, and whether it builds with BuildKit.

Core: :mod:`helpers.core.shell` runs it, :mod:`helpers.core.engine` describes it; neither needs the other to find it.
"""

from __future__ import annotations

import os
import subprocess
from dataclasses import dataclass
from functools import lru_cache

from .errors import CommandFailed


def _version(binary: str) -> tuple[int, ...]:
    try:
        out = subprocess.run(
            [binary, "version", "--format", "{{.Client.Version}}"], capture_output=True, text=True, timeout=10
        ).stdout
    except (OSError, subprocess.TimeoutExpired):
        return (0,)
    digits = out.strip().split("+")[0].split("-")[0].split(".")
    return tuple(int(d) for d in digits if d.isdigit()) or (0,)


def _has_buildx(binary: str) -> bool:
    try:
        return subprocess.run([binary, "buildx", "version"], capture_output=True, timeout=10).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


@dataclass(frozen=True)
class Cli:
    """The docker CLI binary the course uses and whether it builds with BuildKit."""

    path: str
    buildkit: bool


@lru_cache(maxsize=1)
def cli() -> Cli:
    """Pick the ``docker`` CLI: ``DMAC_DOCKER_CLI``, else the first on PATH that offers BuildKit.

    A CLI with the buildx plugin builds with BuildKit; a CLI older than 23 does so with
    ``DOCKER_BUILDKIT=1``; otherwise the first ``docker`` on PATH with the legacy builder.
    """
    if os.environ.get("DMAC_DOCKER_CLI"):
        path = os.environ["DMAC_DOCKER_CLI"]
        return Cli(path, _has_buildx(path) or _version(path) < (23,))
    found: list[str] = []
    for folder in os.environ.get("PATH", "").split(os.pathsep):
        candidate = os.path.join(folder, "docker")
        if os.access(candidate, os.X_OK) and os.path.realpath(candidate) not in map(os.path.realpath, found):
            found.append(candidate)
    if not found:
        raise CommandFailed("The docker command-line client is not installed (no `docker` on PATH).")
    for path in found:
        if _has_buildx(path) or _version(path) < (23,):
            return Cli(path, True)
    return Cli(found[0], False)
