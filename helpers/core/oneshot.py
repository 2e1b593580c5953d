"""A throwaway container's output through the SDK, the same on Docker Engine and on Podman.

``client().containers.run(image, command, remove=True)`` opens a following log stream, waits for the
container, removes it and only then reads the stream. Docker Engine has buffered the output by then;
Podman ends the stream when the container is removed, so about half of such runs return ``b""`` there
(measured on Podman 5.4 with ``sh -c 'sleep 0.3; echo hi'``). :func:`output` waits, reads the logs, and
only then removes the container.
"""

from __future__ import annotations

from typing import Any

from .daemon import client


def output(image: str, command: str | list[str] | None = None, *, stderr: bool = False, **kwargs: Any) -> bytes:
    """Run ``image`` (``command``) to its end and return its stdout (and stderr if asked); the container goes.

    Takes ``containers.create``'s keyword arguments (``volumes``, ``labels``, ``environment``, ``user`` …).
    A non-zero exit raises ``docker.errors.ContainerError`` with the container's stderr, as the SDK's
    ``containers.run`` does.
    """
    import docker as sdk  # deferred: the Docker SDK is slow to import

    box = client().containers.create(image, command, **kwargs)
    try:
        box.start()
        status = box.wait()["StatusCode"]
        if status != 0:
            raise sdk.errors.ContainerError(box, status, command, image, box.logs(stdout=False, stderr=True))
        return box.logs(stdout=True, stderr=stderr)
    finally:
        box.remove(force=True)
