"""The room registry for a workshop: the course registry on the instructor's address, over TLS, preloaded.

    python -m helpers.infra.room start [--host ADDRESS] [--port 5443]   # make room-registry (instructor)
    python -m helpers.infra.room load ADDRESS:PORT --ca ca.crt          # a learner: pull every course image
    python -m helpers.infra.room stop                                   # make clean removes it as well
    python -m helpers.infra.room start --from-bundle build/dmac-bundle.tar  # offline: the data a bundle carries

``start`` runs the course registry (:mod:`helpers.lessons.registry`'s image) on every interface of the
instructor's machine, with a certificate for ``ADDRESS`` signed by a fresh course CA, pushes the base
images and every image of the namespace into it over loopback (which Docker trusts without a CA),
then restarts it read-only, so the room pulls but nobody pushes. It writes the CA certificate to
``build/<ns>/room/ca.crt`` and prints what learners run: the CA goes where Docker documents it for a
private registry, ``/etc/docker/certs.d/ADDRESS:PORT/ca.crt``, then ``load`` pulls and re-tags.
``make bundle`` also ships the registry's data (``registry-data.tar``) when a room registry has run here:
``start --from-bundle`` unpacks it into the data volume instead of pushing, so a machine with neither the
images nor a network serves the room at once.
The registry, its data and its keys are labelled course resources: ``make clean`` removes them.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import ssl
import tarfile
import urllib.request
from pathlib import Path
from typing import IO

from ..core import course, wait
from ..core.images import BASE_IMAGES
from ..core.shell import CommandFailed, docker, docker_out, docker_stream
from ..lessons import registry

PORT = int(os.environ.get("DMAC_ROOM_PORT", "5443"))

_CERT_SH = """set -e
cd /auth
rm -f ./*
openssl req -x509 -newkey rsa:2048 -nodes -days 30 -subj "/CN=DMAC room CA" -keyout ca.key -out ca.crt \
  -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null
openssl req -newkey rsa:2048 -nodes -subj "/CN=$ROOM_HOST" -keyout registry.key -out registry.csr 2>/dev/null
printf 'subjectAltName=IP:%s,IP:127.0.0.1,DNS:localhost\\nextendedKeyUsage=serverAuth\\n%s\\n%s\\n%s\\n' "$ROOM_HOST" \
  'keyUsage=critical,digitalSignature,keyEncipherment' 'subjectKeyIdentifier=hash' \
  'authorityKeyIdentifier=keyid,issuer' > ext.cnf  # what strict X.509 checking (Python 3.13) asks for
openssl x509 -req -in registry.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 30 -extfile ext.cnf \
  -out registry.crt 2>/dev/null
rm -f registry.csr ext.cnf ca.srl
sed 's/^storage:$/storage:\\n  maintenance:\\n    readonly:\\n      enabled: true/' \
  /etc/docker/registry/config.yml > config-readonly.yml
chown docker-registry: registry.key
chmod 600 ca.key registry.key
"""


def host_address() -> str:
    """``DMAC_ROOM_HOST``, else this machine's address on its default route (no packet is sent)."""
    if os.environ.get("DMAC_ROOM_HOST"):
        return os.environ["DMAC_ROOM_HOST"]
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.connect(("192.0.2.1", 9))  # TEST-NET-1: a route lookup only
        return probe.getsockname()[0]


def container() -> str:
    return course.name("room-registry")


def volumes() -> tuple[str, str]:
    """(data, auth) volumes of the room registry."""
    return course.name("room-registry-data"), course.name("room-auth")


def _volume(name: str) -> None:
    named = ("volume", "ls", "-q", "--filter", f"name=^{name}$")
    if docker_out(*named) and not docker_out(*named, "--filter", f"label={course.label_filter()}"):
        raise CommandFailed(f"A volume called {name} exists that the course did not make: it is left alone.")
    docker("volume", "create", name, show=False, echo=False)


def publish(port: int, *, read_only: bool) -> str:
    """``-p`` for the registry: while it is writable (being preloaded) on loopback only, so nobody on the room's
    network can push a base image of their own into it then (finding F14); read-only, on every interface."""
    return f"{port}:5000" if read_only else f"127.0.0.1:{port}:5000"


def _run(host: str, port: int, *, read_only: bool) -> None:
    data, auth = volumes()
    docker("rm", "-f", container(), show=False, echo=False, check=False)
    # read-only: a config file whose storage section says so (environment variables cannot set that key)
    config = ["docker-registry", "serve", "/auth/config-readonly.yml"] if read_only else []
    docker(
        "run", "-d", "--name", container(), "--restart", "unless-stopped", "--stop-timeout", str(registry.STOP_SECONDS),
        "-p", publish(port, read_only=read_only), "-v", f"{data}:/var/lib/registry", "-v", f"{auth}:/auth:ro",
        "-e", "REGISTRY_HTTP_TLS_CERTIFICATE=/auth/registry.crt", "-e", "REGISTRY_HTTP_TLS_KEY=/auth/registry.key",
        "-u", "docker-registry", registry.image_ref(), *config, show=False,
    )  # fmt: skip
    context = ssl._create_unverified_context()  # readiness only; trust is the learners' certs.d

    def ready() -> bool:
        with urllib.request.urlopen(f"https://127.0.0.1:{port}/v2/", timeout=3, context=context) as r:
            return r.status == 200

    wait.until(ready, f"the room registry on port {port}", timeout=30)


def images_to_serve() -> list[str]:
    """The base images and every tagged image of this namespace (what the offline bundle carries too)."""
    refs = set(BASE_IMAGES)
    listing = docker_out("images", "--filter", f"label={course.label_filter()}", "--format", "{{.Repository}}:{{.Tag}}")
    refs |= {ref for ref in listing.split() if not ref.endswith(":<none>") and not ref.startswith("127.0.0.1:")}
    return sorted(refs)


def ca_pem() -> str:
    auth = volumes()[1]
    return docker_out("run", "--rm", "-v", f"{auth}:/auth:ro", "busybox", "cat", "/auth/ca.crt") + "\n"


DATA_IN_BUNDLE = "registry-data.tar"
"""The room registry's storage (``/var/lib/registry``) as a tar, inside the offline bundle."""


def export_data(target: Path) -> Path:
    """Write the room registry's data volume as a tar file (what ``make bundle`` ships); returns it."""
    data = volumes()[0]
    if not docker_out("volume", "ls", "-q", "--filter", f"name=^{data}$", "--filter", f"label={course.label_filter()}"):
        raise CommandFailed(f"No room registry data here ({data}): run `make room-registry` first.")
    with target.open("wb") as out:
        docker_stream(
            "run", "--rm", "-v", f"{data}:/var/lib/registry:ro", "busybox", "tar", "-C", "/var/lib/registry", "-cf",
            "-", ".", stdout=out,
        )  # fmt: skip
    return target


_UNPACK = "rm -rf /var/lib/registry/* && tar -C /var/lib/registry -xf - && chown -R docker-registry: /var/lib/registry"


def _import_data(stream: IO[bytes]) -> None:
    """Unpack a registry-data tar into the data volume, owned by the registry's user."""
    data = volumes()[0]
    docker_stream(
        "run", "--rm", "-i", "-u", "0", "-v", f"{data}:/var/lib/registry", registry.image_ref(), "sh", "-c", _UNPACK,
        stdin=stream,
    )  # fmt: skip


def bundled_data(bundle: Path, folder: Path) -> Path:
    """Take the registry data out of an offline bundle into ``folder``; a bundle without it says so."""
    with tarfile.open(bundle) as tar:
        if DATA_IN_BUNDLE not in tar.getnames():
            raise CommandFailed(
                f"{bundle} carries no room registry data: make it with `make bundle` after `make room-registry`."
            )
        tar.extract(DATA_IN_BUNDLE, folder, filter="data")
    return folder / DATA_IN_BUNDLE


def start(
    host: str | None = None, port: int = PORT, refs: list[str] | None = None, *, data: Path | None = None
) -> Path:
    """Run the room registry on ``host:port``, preloaded and read-only; returns the CA certificate's path.

    ``data``: an offline bundle (or a registry-data tar) whose registry data is unpacked instead of pushing.
    """
    host = host or host_address()
    registry.build()
    data_volume, auth = volumes()
    _volume(data_volume)
    _volume(auth)
    docker(
        "run", "--rm", "-v", f"{auth}:/auth", "-e", f"ROOM_HOST={host}", registry.image_ref(), "sh", "-c", _CERT_SH,
        show=False,
    )  # fmt: skip
    if data is not None:
        with tarfile.open(data) as tar:  # a bundle, or the registry data itself
            inside = DATA_IN_BUNDLE in tar.getnames()
        unpacked = bundled_data(data, course.workdir("room")) if inside else data
        with unpacked.open("rb") as stream:
            _import_data(stream)
        if inside:
            unpacked.unlink()
        print(f"registry data unpacked from {data}")
    else:
        _run(host, port, read_only=False)
        for ref in refs if refs is not None else images_to_serve():
            local = f"127.0.0.1:{port}/{_repository(ref)}"
            docker("tag", ref, local, show=False)
            docker("push", local, show="progress")
            docker("rmi", local, show=False)
    _run(host, port, read_only=True)
    ca = course.workdir("room") / "ca.crt"
    ca.write_text(ca_pem())
    print(
        f"\nRoom registry: https://{host}:{port} (read-only), CA certificate {ca}\n"
        "On each learner's machine (as root, once):\n"
        f"  mkdir -p /etc/docker/certs.d/{host}:{port} && cp ca.crt /etc/docker/certs.d/{host}:{port}/ca.crt\n"
        f"then, in the course checkout:  python -m helpers.infra.room load {host}:{port} --ca ca.crt"
    )
    return ca


def _repository(ref: str) -> str:
    """``debian:bookworm-slim`` -> ``library/debian:bookworm-slim``; ``dmac/hello:1.0`` stays."""
    return ref if "/" in ref.split(":")[0] else f"library/{ref}"


def catalog(address: str, ca_file: Path) -> list[str]:
    """Every ``repository:tag`` the room registry serves, asked over HTTPS with its CA."""
    context = ssl.create_default_context(cafile=str(ca_file))

    def get(path: str) -> dict:
        with urllib.request.urlopen(f"https://{address}/v2/{path}", timeout=10, context=context) as r:
            return json.loads(r.read())

    refs = []
    for repo in get("_catalog").get("repositories", []):
        refs += [f"{repo}:{tag}" for tag in get(f"{repo}/tags/list").get("tags") or []]
    return sorted(refs)


def load(address: str, ca_file: Path) -> list[str]:
    """A learner's side: pull every image of the room registry and give it its course name."""
    names = []
    for ref in catalog(address, ca_file):
        remote = f"{address}/{ref}"
        docker("pull", remote, show="progress")
        name = ref.removeprefix("library/")
        docker("tag", remote, name, show=False)
        docker("rmi", remote, show=False)
        names.append(name)
    print(f"loaded {len(names)} image(s) from the room registry")
    return names


def stop() -> None:
    docker("rm", "-f", container(), show=False, check=False)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="The DMAC course's registry for a workshop room.")
    sub = parser.add_subparsers(dest="command", required=True)
    up = sub.add_parser("start", help="run it on this machine's address, preloaded with the course images")
    up.add_argument("--host", help="the address learners reach (default: DMAC_ROOM_HOST or the default route's)")
    up.add_argument("--port", type=int, default=PORT)
    up.add_argument("--from-bundle", type=Path, help="serve the registry data of this offline bundle (no pushes)")
    pull = sub.add_parser("load", help="pull every image it serves into this machine's daemon")
    pull.add_argument("address", help="ADDRESS:PORT of the room registry")
    pull.add_argument("--ca", type=Path, required=True, help="the room CA certificate (ca.crt)")
    sub.add_parser("stop", help="stop and remove it (its volumes stay until make clean)")
    opts = parser.parse_args(argv)
    if opts.command == "start":
        start(opts.host, opts.port, data=opts.from_bundle)
    elif opts.command == "load":
        load(opts.address, opts.ca)
    else:
        stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
