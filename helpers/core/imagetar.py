"""Reading ``docker save`` archives, in both layouts engines write.

Legacy (Engine < 25): ``<id>/layer.tar``, ``<config digest>.json``, ``manifest.json``.
OCI (Engine 25+): ``oci-layout``, ``index.json`` and ``blobs/sha256/<digest>`` for layers and config.
Both carry ``manifest.json``, which names the config file and the layer tars, bottom first: that is
what is read. A layer is a plain or a gzip-compressed tar.

The archive comes over the API (works with a remote daemon) into a temporary file that moves to disk
past ``SPOOL_BYTES``: an image is never held in memory whole, and layers are opened one at a time.
"""

from __future__ import annotations

import json
import os
import tarfile
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from typing import IO, Any

from .daemon import client

SPOOL_BYTES = 16 * 1024 * 1024
"""Archives up to this size stay in memory; larger ones are written to a temporary file."""

WHITEOUT = ".wh."
META = ".wh..wh."  # .wh..wh..opq (an opaque folder) and other markers: not a deleted path


class SavedImage:
    """The first image of an opened ``docker save`` archive: its config and its layers, bottom first."""

    def __init__(self, archive: tarfile.TarFile) -> None:
        self._archive = archive
        entries = json.load(self._open("manifest.json"))
        if not entries:
            raise ValueError("manifest.json lists no image")
        self._entry: dict[str, Any] = entries[0]

    def _open(self, name: str) -> IO[bytes]:
        """A member's bytes, read from the archive as needed (symbolic links inside it followed)."""
        try:
            member = self._archive.extractfile(name)
        except KeyError:
            member = None
        if member is None:
            raise KeyError(f"{name!r} is not a file in this docker save archive")
        return member

    @property
    def layer_names(self) -> list[str]:
        """The layers' paths inside the archive, bottom first (``<id>/layer.tar`` or ``blobs/sha256/<hex>``)."""
        return list(self._entry["Layers"])

    def config(self) -> dict[str, Any]:
        """The image configuration exactly as stored (``docker image inspect`` shows a digest of it)."""
        return json.load(self._open(self._entry["Config"]))

    def layers(self) -> Iterator[tuple[str, tarfile.TarFile]]:
        """(path in the archive, layer tar) per layer, bottom first; each closes when the next is read."""
        for name in self.layer_names:
            with tarfile.open(fileobj=self._open(name), mode="r:*") as layer:  # plain or compressed
                yield name, layer


@contextmanager
def open_archive(source: str | os.PathLike[str] | IO[bytes]) -> Iterator[SavedImage]:
    """Read a ``docker save`` archive from a file path or a seekable binary file."""
    if isinstance(source, (str, os.PathLike)):
        archive = tarfile.open(source, mode="r:*")
    else:
        archive = tarfile.open(fileobj=source, mode="r:*")
    with archive:
        yield SavedImage(archive)


@contextmanager
def open_saved(ref: str) -> Iterator[SavedImage]:
    """``docker save ref`` through the API, streamed chunk by chunk to a temporary file, then read."""

    chunks = client().api.get_image(ref)  # an unknown image: NotFound at the first chunk
    with tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES) as spool:
        for chunk in chunks:
            spool.write(chunk)
        spool.seek(0)
        with open_archive(spool) as image:
            yield image


def whiteouts(image: SavedImage) -> list[str]:
    """Paths hidden by whiteout files (``.wh.<name>``) in the image's layers, sorted; opaque markers left out."""
    found: list[str] = []
    for _, layer in image.layers():
        for entry in layer.getnames():
            base = os.path.basename(entry)
            if base.startswith(WHITEOUT) and not base.startswith(META):
                found.append("/" + os.path.join(os.path.dirname(entry), base[len(WHITEOUT) :]))
    return sorted(found)


def files_with(image: SavedImage, data: bytes) -> list[str]:
    """``<layer path>:<file path>`` of every file in any layer whose bytes are ``data`` (layers bottom first).

    Only files of the same size are read, so memory stays bounded by ``len(data)``.
    """
    found: list[str] = []
    for name, layer in image.layers():
        for member in layer:
            if member.isfile() and member.size == len(data):
                content = layer.extractfile(member)
                if content is not None and content.read() == data:
                    found.append(f"{name}:{member.name}")
    return found
