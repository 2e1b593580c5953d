"""Prove that an offline bundle installs where there is no network at all.

    python -m helpers.infra.bundle_check build/dmac-bundle.tar     # make bundle-check

A clean Debian (the course's own ``debian:bookworm-slim``, made offline by debootstrap) runs in a
container started with ``--network none``: nothing in it can reach a mirror, PyPI or a registry.
Inside, the bundle's Debian packages are installed by apt from the bundle's files alone, its own ``dockerd`` starts, the
bundle's images are loaded into it, the course's Python environment is installed from the bundled
wheels (``pip --no-index``), and notebook 00 runs top to bottom against that daemon. What the room's
machine needs is then exactly what the bundle carries.
"""

from __future__ import annotations

import argparse
import shlex
import subprocess
import sys
import time
import uuid
from pathlib import Path

from ..core import course
from .bundle import INSTALL_DEBS
from .engines import DIND_FLAGS

IMAGE = "debian:bookworm-slim"
NOTEBOOK = "notebooks/00-setup-and-preflight.ipynb"

# Runs inside the container, as root, with no network. $1: the bundle, $2: the notebook, $3: INSTALL_DEBS;
# the course is at /src (read-only).
SCRIPT = r"""
set -eu
step() { printf '[offline] %s (%ss)\n' "$1" "$(( $(date +%s) - T0 ))"; }
T0=$(date +%s)
mkdir -p /b && tar -xf "$1" -C /b
step "bundle unpacked: $(ls /b/debs | wc -l) Debian packages, $(ls /b/wheels | wc -l) wheels"
awk 'NR > 1' /proc/net/route | grep -q . && { echo "this container has a route out: not an offline test"; exit 3; }
printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d  # no init here
sh -c "$3" install-debs /b/debs > /var/log/apt-bundle.log 2>&1 || { tail -25 /var/log/apt-bundle.log; exit 4; }
step "installed by apt from the bundle alone: $(dockerd --version)"
(dockerd --host=unix:///var/run/docker.sock > /var/log/dockerd.log 2>&1 &)
i=0
until docker info > /dev/null 2>&1; do
  i=$((i + 1)); [ $i -lt 120 ] || { tail -20 /var/log/dockerd.log; exit 5; }; sleep 0.5
done
step "dockerd answers"
docker load -q -i /b/images.tar
step "images loaded"
mkdir /course && tar -C /src --exclude=./.venv --exclude=./build --exclude=./.git -cf - . | tar -C /course -xf -
python3 -m venv /venv
/venv/bin/pip install --quiet --no-index --find-links /b/wheels -e '/course[test]'
step "Python environment installed from the bundled wheels"
cd /course/notebooks
DMAC_NAMESPACE=dmac-offline /venv/bin/papermill --no-progress-bar --log-level WARNING "/course/$2" /tmp/run.ipynb
/venv/bin/python - <<'PY'
import json
cells = json.load(open("/tmp/run.ipynb"))["cells"]
errors = [o for c in cells for o in c.get("outputs", []) if o.get("output_type") == "error"]
text = "".join("".join(o.get("text", "")) for c in cells for o in c.get("outputs", []) if o.get("name") == "stdout")
assert not errors, errors
verdict = [ln for ln in text.splitlines() if "READY" in ln][-1:]
print("[offline] notebook ran with no error; preflight verdict:", verdict)
PY
step "done"
"""


def _docker(*args: str, check: bool = True, timeout: float = 600) -> subprocess.CompletedProcess:
    return subprocess.run(["docker", *args], capture_output=True, text=True, check=check, timeout=timeout)


def run(bundle: Path, notebook: str = NOTEBOOK) -> str:
    """Install ``bundle`` and run ``notebook`` in a ``--network none`` Debian; the container's output."""
    tag = uuid.uuid4().hex[:6]
    box, volume = course.name("offline", tag), course.name("offline", tag, "data")
    labels = [arg for key, value in course.labels().items() for arg in ("--label", f"{key}={value}")]
    _docker("volume", "create", *labels, volume)
    try:
        _docker(
            "run", "-d", "--name", box, *labels, "--network", "none", *DIND_FLAGS,
            "-v", f"{volume}:/var/lib/docker", "-v", f"{bundle.resolve()}:/bundle.tar:ro",
            "-v", f"{course.ROOT}:/src:ro", IMAGE, "sleep", "infinity",
        )  # fmt: skip
        begin = time.monotonic()
        proc = subprocess.run(
            ["docker", "exec", box, "sh", "-c", SCRIPT, "offline", "/bundle.tar", notebook, INSTALL_DEBS],
            capture_output=True, text=True, timeout=1500,
        )  # fmt: skip
        output = proc.stdout + proc.stderr
        if proc.returncode != 0:
            raise RuntimeError(f"the offline install failed (exit {proc.returncode}):\n{output[-3000:]}")
        return output + f"[offline] {time.monotonic() - begin:.0f} s in all\n"
    finally:
        _docker("rm", "-f", "-v", box, check=False)
        _docker("volume", "rm", "-f", volume, check=False)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m helpers.infra.bundle_check", description=__doc__.splitlines()[0])
    parser.add_argument("bundle", type=Path)
    parser.add_argument("--notebook", default=NOTEBOOK)
    opts = parser.parse_args(argv)
    try:
        print(run(opts.bundle, opts.notebook))
    except (RuntimeError, subprocess.SubprocessError) as exc:
        print(f"✗ {exc}", file=sys.stderr)
        return 1
    print(f"✔ {shlex.quote(str(opts.bundle))} installs and runs the course with no network")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
