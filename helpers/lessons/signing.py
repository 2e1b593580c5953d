"""Signing and verifying images in the course registry with cosign (Sigstore), offline, with a course key pair.

cosign runs in a course image built from Debian's ``cosign`` package (Debian has it in unstable only:
the build fetches that one package from sid and installs it on bookworm; once built, it runs offline).
Its container shares the course registry's network namespace (``--network container:<registry>``),
so the registry is ``127.0.0.1:5000`` for it on every engine. The key pair lives only in the labelled
volume ``name("cosign-keys")``: clean-up removes it with the volume. No transparency log (Rekor) is
used: it is on the internet; with a key pair, the public key alone decides.
"""

from __future__ import annotations

from ..core import course, images
from ..core.shell import CommandFailed, Result, docker, docker_out
from . import dockerfiles, registry

PASSWORD = "course-demo-key-password"  # encrypts the demonstration's private key; never reuse it
INSIDE = "127.0.0.1:5000"  # the registry's address inside its own network namespace

DOCKERFILE = """
FROM debian:bookworm-slim
# cosign is packaged in Debian unstable (sid) only: read sid's package list alone, download that one package
# and install it on bookworm (it needs nothing newer than bookworm's libc). Check-Valid-Until=false: a mirror's
# copy of sid may be older than its Release file's expiry date; the Release file's signature is still checked.
RUN echo "deb http://deb.debian.org/debian sid main" > /tmp/sid.list \\
 && apt-get -o Dir::Etc::SourceList=/tmp/sid.list -o Dir::Etc::SourceParts=- \\
      -o Acquire::Check-Valid-Until=false update \\
 && cd /tmp && apt-get -o Dir::Etc::SourceList=/tmp/sid.list -o Dir::Etc::SourceParts=- download cosign \\
 && dpkg -i /tmp/cosign_*.deb \\
 && rm -rf /tmp/sid.list /tmp/*.deb /var/lib/apt/lists/*
WORKDIR /keys
ENTRYPOINT ["cosign"]
"""

QC = """
FROM busybox
ARG CHECKS="range spike"
RUN echo "station-qc: checks $CHECKS" > /qc.txt
CMD ["cat", "/qc.txt"]
"""

_FLAGS = {
    # sign with the key only: no signing config fetched from the internet, no transparency log upload
    "sign": ["--use-signing-config=false", "--tlog-upload=false", "--allow-http-registry", "-y"],
    "verify": ["--insecure-ignore-tlog=true", "--allow-http-registry"],
}


def image_ref() -> str:
    return course.image("cosign", "1")


def keys_volume() -> str:
    return course.name("cosign-keys")


def build() -> Result:
    """Build the cosign image and say which cosign it holds."""
    result = images.build(image_ref(), dockerfiles.context("cosign", dockerfile=DOCKERFILE))
    version = docker_out("run", "--rm", "--entrypoint", "dpkg-query", image_ref(), "-W", "-f", "${Version}", "cosign")
    print(f"{image_ref()} holds cosign {version.split('.')[0]}.x from Debian's package")  # sid moves: major only
    return result


def qc_context():
    """A small image to sign (its checks are a build argument, so a changed image is one flag away)."""
    return dockerfiles.context("03-station-qc", dockerfile=QC)


def inside(ref: str) -> str:
    """``ref`` as the cosign container reaches it: the registry's host address becomes ``127.0.0.1:5000``."""
    return ref.replace(registry.address(), INSIDE, 1) if ref.startswith(registry.address() + "/") else ref


def cosign(command: str, *args: str, **kwargs) -> Result:
    """``cosign <command> ...`` in its container, next to the registry, with the key volume mounted at /keys."""
    return docker(
        "run", "--rm", "--network", f"container:{registry.container()}",
        "-v", f"{keys_volume()}:/keys", "-e", f"COSIGN_PASSWORD={PASSWORD}",
        image_ref(), command, *_FLAGS.get(command, []), *(inside(a) for a in args), **kwargs,
    )  # fmt: skip


def make_keys(prefix: str = "cosign") -> None:
    """A fresh key pair ``<prefix>.key`` (encrypted with PASSWORD) and ``<prefix>.pub`` in the key volume."""
    if prefix == "cosign":  # the course's own pair: start from an empty volume
        named = ("volume", "ls", "-q", "--filter", f"name=^{keys_volume()}$")
        if docker_out(*named) and not docker_out(*named, "--filter", f"label={course.label_filter()}"):
            raise CommandFailed(
                f"A volume called {keys_volume()} exists that the course did not make: it is left alone."
            )
        docker("volume", "rm", "-f", keys_volume(), show=False, echo=False, check=False)
        docker("volume", "create", keys_volume(), show=False, echo=False)
    else:  # another pair beside it: cosign would ask before overwriting an earlier one
        files = [f"/keys/{prefix}.key", f"/keys/{prefix}.pub"]
        docker("run", "--rm", "-v", f"{keys_volume()}:/keys", "busybox", "rm", "-f", *files, show=False, echo=False)
    cosign("generate-key-pair", "--output-key-prefix", prefix, echo=prefix == "cosign", show=prefix == "cosign")


def sign(ref: str, key: str = "cosign.key", *, echo: bool = True) -> None:
    """Sign ``ref`` (give a digest: ``repo@sha256:…``) with ``key``; the signature is pushed next to it."""
    result = cosign("sign", "--key", key, ref, show=False, check=False, echo=echo)
    if not result.ok:
        raise CommandFailed(f"cosign sign failed: {result.lines[-1] if result.lines else result.returncode}")
    if echo:
        print(f"✔ signed {ref.split('@')[0]}@… with {key}; the signature is stored in the registry next to the image")


def verified(ref: str, key: str = "cosign.pub", *, echo: bool = True) -> bool:
    """Does cosign verify ``ref`` against the public ``key``? Prints one line saying so."""
    result = cosign("verify", "--key", key, ref, show=False, check=False, echo=echo)
    if echo:
        if result.ok:
            print(f"✔ verified: {ref.rsplit('/', 1)[-1]} is signed by the private key that matches {key}")
        else:
            why = next((ln for ln in result.lines if ln.startswith("Error:")), result.output.strip()[-200:])
            print(f"✗ refused: {why}")
    return result.ok
