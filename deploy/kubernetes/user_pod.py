"""Print (JSON) the learner pod KubeSpawner would make from values.yaml's ``singleuser`` section.

Run by validate.py with the validation venv's Python (it has jupyterhub-kubespawner): KubeSpawner's own
``make_pod`` builds the pod, so the sidecar, volumes and limits are checked as the spawner would submit
them. The chart maps values to KubeSpawner's settings; the mapping below follows its
``files/hub/jupyterhub_config.py`` for the keys this deployment sets.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import yaml
from kubernetes_asyncio.client import ApiClient
from kubespawner.objects import make_pod

UNITS = {"K": 1024, "M": 1024**2, "G": 1024**3, "T": 1024**4}  # JupyterHub's ByteSpecification


def size(text: str | None) -> int | None:
    return None if text is None else int(float(text[:-1]) * UNITS[text[-1]]) if text[-1] in UNITS else int(text)


def pod(values: dict) -> dict:
    user = values["singleuser"]
    home = {"name": "volume-learner", "persistentVolumeClaim": {"claimName": "claim-learner"}}
    made = make_pod(
        name="jupyter-learner",
        cmd=[user.get("cmd", "jupyterhub-singleuser")],
        port=8888,
        image=f"{user['image']['name']}:{user['image']['tag']}",
        uid=user.get("uid", 1000),
        fs_gid=user.get("fsGid", 100),
        env={**user.get("extraEnv", {}), "JUPYTERHUB_API_TOKEN": "placeholder"},
        volumes=[home, *user["storage"].get("extraVolumes", [])],
        volume_mounts=[
            {"name": "volume-learner", "mountPath": "/home/jovyan"},
            *user["storage"].get("extraVolumeMounts", []),
        ],
        cpu_limit=user.get("cpu", {}).get("limit"),
        cpu_guarantee=user.get("cpu", {}).get("guarantee"),
        mem_limit=size(user.get("memory", {}).get("limit")),
        mem_guarantee=size(user.get("memory", {}).get("guarantee")),
        lifecycle_hooks=user.get("lifecycleHooks"),
        extra_pod_config=user.get("extraPodConfig"),
        extra_containers=user.get("extraContainers"),
        labels={"component": "singleuser-server"},
    )
    serializer = ApiClient.__new__(ApiClient)  # its serializer needs no connection (nor an event loop)
    out = serializer.sanitize_for_serialization(made)
    out.setdefault("apiVersion", "v1")
    out.setdefault("kind", "Pod")
    return out


if __name__ == "__main__":
    print(json.dumps(pod(yaml.safe_load(Path(sys.argv[1]).read_text()))))
