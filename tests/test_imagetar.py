"""helpers.core.imagetar: ``docker save`` archives in the legacy layout (this daemon) and the OCI one (Engine 25+).

The daemon here is Engine 20.10, which writes the legacy layout; the OCI layout of Engine 25+ is
synthesized by the test itself, byte for byte the way the layout specification lays it out.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import os
import tarfile
import tracemalloc
from collections.abc import Iterator
from pathlib import Path

import docker.errors
import pytest

from helpers.core import course, images, imagetar
from helpers.core.daemon import client
from helpers.lessons import dockerfiles, layers

SECRET = b"imagetar: a secret that was deleted in a later layer\n"


# ---------------------------------------------------------------- against the real daemon (legacy layout)


@pytest.fixture(scope="module")
def deleted_later() -> Iterator[str]:
    """A labelled busybox image: a file written in one layer, deleted in the next (a whiteout)."""
    with pytest.MonkeyPatch.context() as mp:  # module scope: the test namespace here too, without leaking it
        mp.setenv("DMAC_NAMESPACE", os.environ.get("DMAC_TEST_NAMESPACE", "dmac-test"))
        ref = course.image("t-imagetar", "1")
        text = (
            "FROM busybox\n"
            f"RUN mkdir /etc/app && printf '{SECRET.decode().strip()}\\n' > /etc/app/secret.txt\n"
            "RUN rm /etc/app/secret.txt\n"
            'LABEL org.dmac-course.test="imagetar"\n'
        )
        images.build(ref, images.context("t-imagetar", {"Dockerfile": text}), show=False, echo=False)
    yield ref


def test_real_archive_config_layers_and_whiteout(deleted_later: str) -> None:
    with imagetar.open_saved(deleted_later) as image:
        config = image.config()
        names = image.layer_names
        assert imagetar.whiteouts(image) == ["/etc/app/secret.txt"]
        found = imagetar.files_with(image, SECRET)
    assert config["config"]["Labels"]["org.dmac-course.test"] == "imagetar"
    assert config["config"]["Labels"][course.LABEL] == course.namespace()
    assert len(names) == len(config["rootfs"]["diff_ids"]) == len(layers.rootfs_layers(deleted_later))
    assert found == [f"{names[-2]}:etc/app/secret.txt"]  # the layer that wrote it, not the base's
    # the helpers the notebooks call give the same answers
    assert layers.whiteouts(deleted_later) == ["/etc/app/secret.txt"]
    assert dockerfiles.image_config(deleted_later) == config
    assert dockerfiles.files_with_content(deleted_later, SECRET) == (len(names), found)
    assert dockerfiles.files_with_content(deleted_later, b"in no layer at all") == (len(names), [])


def test_an_unknown_image_is_not_found(unique: str) -> None:
    with pytest.raises(docker.errors.NotFound), imagetar.open_saved(course.image("t-imagetar-none", unique)):
        pass


def test_a_large_image_is_streamed_not_held_in_memory() -> None:
    ref = "debian:bookworm-slim"
    size = client().images.get(ref).attrs["Size"]
    assert size > 60_000_000  # big enough that holding it in memory shows
    tracemalloc.start()
    try:
        with imagetar.open_saved(ref) as image:
            assert len(image.layer_names) >= 1 and image.config()["os"] == "linux"
            imagetar.whiteouts(image)  # reads every layer
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < size / 2, f"peak {peak / 1e6:.0f} MB of Python memory for a {size / 1e6:.0f} MB image"


# ---------------------------------------------------------------- synthesized archives (no daemon)


def _tar(files: dict[str, bytes | None], compress: bool = False) -> bytes:
    """A layer tar: ``None`` makes a folder. Gzipped when ``compress`` (as pulled layers are)."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        for path, data in files.items():
            info = tarfile.TarInfo(path)
            info.mtime = 1_700_000_000
            if data is None:
                info.type, info.mode = tarfile.DIRTYPE, 0o755
                tar.addfile(info)
            else:
                info.size, info.mode = len(data), 0o644
                tar.addfile(info, io.BytesIO(data))
    return gzip.compress(buf.getvalue(), mtime=0) if compress else buf.getvalue()


def _digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


BOTTOM = _tar({"etc/": None, "etc/secret.txt": SECRET, "etc/keep.txt": b"kept\n", "var/cache/old.bin": b"old"})
TOP = _tar(
    {
        "etc/": None,
        "etc/.wh.secret.txt": b"",  # a whiteout: deletes /etc/secret.txt
        "var/cache/": None,
        "var/cache/.wh..wh..opq": b"",  # an opaque folder marker: hides, deletes no named path
        "home/copy.txt": SECRET,
    },
    compress=True,
)
CONFIG = {"architecture": "amd64", "os": "linux", "config": {"Labels": {"made-by": "test"}}}


def _add(tar: tarfile.TarFile, name: str, data: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size, info.mtime = len(data), 1_700_000_000
    tar.addfile(info, io.BytesIO(data))


def oci_archive(path: Path, layer_tars: list[bytes], config: dict) -> list[str]:
    """What Engine 25+ ``docker save`` writes: blobs, then index.json, manifest.json, oci-layout.

    Returns the layers' names in the archive (bottom first). Blobs are written in reverse order,
    so a reader that follows the archive's order instead of the manifest's gets them wrong.
    """
    config_blob = json.dumps(config).encode()
    layer_media = [
        "application/vnd.oci.image.layer.v1.tar" + ("+gzip" if t[:2] == b"\x1f\x8b" else "") for t in layer_tars
    ]
    manifest_blob = json.dumps(
        {
            "schemaVersion": 2,
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "config": {
                "mediaType": "application/vnd.oci.image.config.v1+json",
                "digest": f"sha256:{_digest(config_blob)}",
                "size": len(config_blob),
            },
            "layers": [
                {"mediaType": m, "digest": f"sha256:{_digest(t)}", "size": len(t)}
                for m, t in zip(layer_media, layer_tars, strict=True)
            ],
        }
    ).encode()
    index = {
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.index.v1+json",
        "manifests": [
            {
                "mediaType": "application/vnd.oci.image.manifest.v1+json",
                "digest": f"sha256:{_digest(manifest_blob)}",
                "size": len(manifest_blob),
                "annotations": {"io.containerd.image.name": "docker.io/library/t:1"},
            }
        ],
    }
    names = [f"blobs/sha256/{_digest(t)}" for t in layer_tars]
    manifest = [{"Config": f"blobs/sha256/{_digest(config_blob)}", "RepoTags": ["t:1"], "Layers": names}]
    with tarfile.open(path, "w") as tar:
        for blob in [*reversed(layer_tars), config_blob, manifest_blob]:
            _add(tar, f"blobs/sha256/{_digest(blob)}", blob)
        _add(tar, "index.json", json.dumps(index).encode())
        _add(tar, "manifest.json", json.dumps(manifest).encode())
        _add(tar, "oci-layout", b'{"imageLayoutVersion": "1.0.0"}')
    return names


def legacy_archive(path: Path, layer_tars: list[bytes], config: dict) -> list[str]:
    """What Engine < 25 ``docker save`` writes: ``<id>/layer.tar`` per layer, ``<digest>.json``, manifest.json."""
    config_blob = json.dumps(config).encode()
    names = [f"{_digest(t)}/layer.tar" for t in layer_tars]
    manifest = [{"Config": f"{_digest(config_blob)}.json", "RepoTags": ["t:1"], "Layers": names}]
    with tarfile.open(path, "w") as tar:
        for name, blob in zip(names, layer_tars, strict=True):
            _add(tar, name.removesuffix("/layer.tar") + "/VERSION", b"1.0")
            _add(tar, name, blob)
        _add(tar, f"{_digest(config_blob)}.json", config_blob)
        _add(tar, "manifest.json", json.dumps(manifest).encode())
        _add(tar, "repositories", b'{"t": {"1": ""}}')
    return names


@pytest.mark.parametrize("layout", [oci_archive, legacy_archive], ids=["oci", "legacy"])
def test_both_layouts_read_the_same(layout, tmp_path: Path) -> None:
    path = tmp_path / "image.tar"
    names = layout(path, [BOTTOM, TOP], CONFIG)
    with imagetar.open_archive(path) as image:
        assert image.layer_names == names
        assert image.config() == CONFIG
        assert [name for name, _ in image.layers()] == names
        assert imagetar.whiteouts(image) == ["/etc/secret.txt"]
        assert imagetar.files_with(image, SECRET) == [f"{names[0]}:etc/secret.txt", f"{names[1]}:home/copy.txt"]
    with path.open("rb") as f, imagetar.open_archive(f) as image:  # a file object works too
        assert imagetar.whiteouts(image) == ["/etc/secret.txt"]


def test_the_oci_layout_has_no_layer_tar_members(tmp_path: Path) -> None:
    """The reader before Engine 25 support kept only members named ``layer.tar``: here it found nothing."""
    path = tmp_path / "image.tar"
    oci_archive(path, [BOTTOM, TOP], CONFIG)
    with tarfile.open(path) as tar:
        assert [n for n in tar.getnames() if n.endswith("layer.tar")] == []
        assert "oci-layout" in tar.getnames() and "index.json" in tar.getnames()
    with imagetar.open_archive(path) as image:
        assert imagetar.whiteouts(image) != []


def test_an_archive_without_manifest_json_is_refused_plainly(tmp_path: Path) -> None:
    path = tmp_path / "bare.tar"
    with tarfile.open(path, "w") as tar:
        _add(tar, "oci-layout", b'{"imageLayoutVersion": "1.0.0"}')
    with pytest.raises(KeyError, match=r"manifest\.json"), imagetar.open_archive(path):
        pass
