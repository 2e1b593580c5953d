"""Logins to the course's registries in the Docker CLI's config, and forgetting them at clean-up.

Core: clean-up logs out of this namespace's course registries (and no other entry of ``~/.docker/config.json``)
without knowing the registry lesson (:mod:`helpers.lessons.registry`), which records each address it used here.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from . import course
from .shell import docker


def addresses_file() -> Path:
    """Where every address this namespace's registries had is recorded (for clean-up's logout)."""
    return course.workdir("registry") / "addresses.txt"


def record_address(where: str) -> None:
    path = addresses_file()
    known = set(path.read_text().split()) if path.exists() else set()
    path.write_text("\n".join(sorted(known | {where})) + "\n")


def config_path() -> Path:
    """Where the Docker CLI keeps logins: ``$DOCKER_CONFIG/config.json`` or ``~/.docker/config.json``."""
    return Path(os.environ.get("DOCKER_CONFIG") or Path.home() / ".docker") / "config.json"


def logged_in_registries() -> list[str]:
    """The registries with an entry under ``auths`` in the CLI's config file (sorted)."""
    path = config_path()
    if not path.is_file():
        return []
    return sorted((json.loads(path.read_text() or "{}").get("auths") or {}).keys())


def forget() -> None:
    """Log out of this namespace's registries if the CLI config has an entry for them (clean-up)."""
    try:
        present = logged_in_registries()
    except (OSError, ValueError):  # an unreadable or hand-broken config file: leave it to its owner
        return
    path = addresses_file()
    ours = set(path.read_text().split()) if path.exists() else set()
    for where in sorted(ours & set(present)):
        docker("logout", where, show=False, echo=False, check=False, timeout=30)
    path.unlink(missing_ok=True)
