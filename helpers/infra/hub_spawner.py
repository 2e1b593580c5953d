"""JupyterHub's side of a learner's server: their cgroup, their rootless daemon, started and stopped with it.

Loaded by ``hub/jupyterhub_config.py`` in the hub (root). Before a server spawns, the hook creates the
learner's cgroup (``helpers.infra.cgroups``), mounts their daemon's data root (``helpers.infra.disks``), starts their
``dockerd-rootless.sh`` inside the cgroup and their network namespace (``helpers.infra.netns``) and loads the base
images they lack; the server itself enters the same cgroup and namespace before it drops root, and listens on
the namespace's address. When the server stops (by the learner, the admin, the idle culler or the hub
shutting down), their daemon stops, anything left in their cgroup is killed and their data root is unmounted.
Each spawn's timings go to ``/var/lib/<instance>/spawns.jsonl``.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import threading
import time

from jupyterhub.spawner import LocalProcessSpawner, set_user_setuid

from . import cgroups, disks, hub, hub_confine, netns, rootless


def _prepare(settings: hub.Settings, name: str) -> dict[str, float]:
    """Root's work before a spawn: cgroup, runtime folder, daemon inside the cgroup, base images."""
    began = time.monotonic()
    user = rootless.learner(name)
    hub_confine.check_groups(name)  # no server for an account in a root-equivalent group (docker, sudo …)
    folders = cgroups.create(settings.instance, name, settings.limits())
    disks.ensure(settings.state, user, hub.parse_bytes(settings.disk))  # their data root: a disk of its own
    rootless.ensure_tun()
    hub_confine.mount_runtime_dir(user.runtime_dir, user.uid, user.gid)  # a tmpfs of its own, not the host's /run
    config = hub_confine.daemon_config(settings.daemon_configs, name, disks.mount_point(user))
    netns.ensure(settings.instance, user.uid)  # a network of their own (F5): made at `make hub`, again if lost
    confine = lambda pid: cgroups.enter(folders, pid)  # noqa: E731
    rootless.start_daemon(user, confine=confine, config=config, own_network=True)
    daemon = time.monotonic()
    rootless.load_images(user)
    done = time.monotonic()
    times = {"daemon_s": round(daemon - began, 2), "images_s": round(done - daemon, 2)}
    record = {"user": name, "at": time.time(), **times}
    with open(settings.state / "spawns.jsonl", "a") as log:
        log.write(json.dumps(record) + "\n")
    return times


async def pre_spawn(spawner: LocalProcessSpawner) -> None:
    settings = hub.load()
    times = await asyncio.to_thread(_prepare, settings, spawner.user.name)
    spawner.log.info("daemon of %s ready: %s", spawner.user.name, times)


async def post_stop(spawner: LocalProcessSpawner) -> None:
    await asyncio.to_thread(hub.stop_learner, hub.load(), spawner.user.name)
    spawner.log.info("daemon and cgroup of %s stopped", spawner.user.name)


class CourseSpawner(LocalProcessSpawner):
    """A local process spawner whose server joins the learner's cgroup before it becomes the learner."""

    def make_preexec_fn(self, name: str):
        folders = cgroups.folders(hub.load().instance, name)
        uid = rootless.learner(name).uid
        drop = set_user_setuid(name)

        def preexec() -> None:  # in the child, as root, before it becomes the learner
            cgroups.enter(folders)
            netns.enter(uid)  # their network namespace (F5): the server and all it starts
            drop()

        return preexec

    async def start(self) -> tuple[str, int]:
        """Start the server with its output on a pipe of its own (F4): JupyterHub's default lets it inherit the
        hub's log, which every learner's kernel could then write, forge or truncate. A thread of the hub's
        copies the pipe into ``/var/log/<instance>/server-<name>.log`` (root's, 0600, capped)."""
        self.ip = netns.inside_address(rootless.learner(self.user.name).uid)  # the proxy reaches it through the pair
        read, write = os.pipe()
        output = {"stdin": subprocess.DEVNULL, "stdout": write, "stderr": subprocess.STDOUT}
        # popen_kwargs is a traitlets Dict, which mypy cannot see through
        self.popen_kwargs = {**self.popen_kwargs, **output}  # type: ignore[has-type]
        try:
            started = await super().start()
        except BaseException:
            os.close(read)
            raise
        finally:
            os.close(write)
        log = hub.load().logs / f"server-{self.user.name}.log"
        pump = hub_confine.pump
        threading.Thread(target=pump, args=(read, log), name=f"log-{self.user.name}", daemon=True).start()
        return started

    def get_env(self) -> dict[str, str]:
        env = super().get_env()
        env.update(hub.learner_env(self.user.name))
        return env
