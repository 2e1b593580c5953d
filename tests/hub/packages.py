"""Host packages the hub's tests probe with, installed before anything fingerprints the host's files."""

from __future__ import annotations

import os
import shutil
import subprocess


def ensure_cron() -> bool:
    """Debian's cron, on every standard install but not on a minimal machine: the hub's deny list (F3) is proven
    against the real ``crontab``. Installing it adds a group and /etc/crontab, so CI does it before the lanes
    (``scripts/ci.py prepare``) and the hub's test before it takes its fingerprint. True when installed now."""
    if shutil.which("crontab"):
        return False
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    argv = ["apt-get", "install", "-y", "-qq", "--no-install-recommends", "cron"]
    if subprocess.run(argv, env=env, capture_output=True, timeout=600).returncode != 0:
        subprocess.run(["apt-get", "update", "-qq"], env=env, check=True, capture_output=True, timeout=600)
        subprocess.run(argv, env=env, check=True, capture_output=True, timeout=600)
    return True
