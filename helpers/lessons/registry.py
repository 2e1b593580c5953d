"""The course's own image registry: CNCF Distribution 2.8 from Debian, on a loopback port of this namespace.

Two variants, each a labelled container with its storage on a labelled volume:

* **open** (``tls=False``): plain HTTP on a loopback port. Docker trusts 127.0.0.0/8 as an insecure
  registry by default, so it pushes and pulls there without TLS.
* **private** (``tls=True``): HTTPS with a certificate signed by a course-made CA, and ``docker login``
  against an htpasswd (bcrypt) file, on another loopback port.

Each is published with ``-p 127.0.0.1::5000``: the kernel picks the host port (``helpers.core.ports``), and
:func:`address` reads it back from the running container. Every address a registry of this namespace
had is recorded in the namespace's build folder, so clean-up logs out of each one it finds in the CLI config.

The CA, its key, the server key and the htpasswd file live only in the labelled volume
``name("registry-auth")``: clean-up removes them with the volume, and no host file is written except
the learner's own ``~/.docker/config.json`` entry that ``docker login`` adds (and ``logout`` removes).
"""

from __future__ import annotations

import base64
import json
import secrets
import socket
import ssl
import subprocess
import urllib.error
import urllib.request
from pathlib import Path
from typing import cast

from ..core import course, images, logins, ports, wait
from ..core.logins import logged_in_registries as logged_in_registries  # notebook 07 asks the registry module
from ..core.shell import CommandFailed, Result, docker, docker_out
from . import dockerfiles

PORT = 5000  # inside the container
USER = "dmac-publisher"


def password() -> str:
    """The private registry's password in this namespace: random, made once, kept only in a 0600 file under
    ``build/<namespace>/registry/``. On a workshop hub the registries' ports are on a loopback every learner shares,
    so a password the course printed would let another learner push to yours (the hub's finding F10)."""
    path = course.workdir("registry") / "password"
    if not path.is_file():
        path.touch(mode=0o600)
        path.write_text(secrets.token_urlsafe(18) + "\n")
    return path.read_text().strip()


def __getattr__(name: str) -> str:
    if name == "PASSWORD":  # `registry.PASSWORD`, as notebook 07 logs in: this namespace's password
        return password()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
STOP_SECONDS = 2

DOCKERFILE = """
FROM debian:bookworm-slim
# Debian's packaged CNCF Distribution registry, htpasswd (apache2-utils) and openssl for the course CA
RUN apt-get update \\
 && apt-get install -y --no-install-recommends docker-registry apache2-utils openssl \\
 && rm -rf /var/lib/apt/lists/*
COPY config.yml /etc/docker/registry/config.yml
RUN mkdir -p /var/lib/registry /auth && chown docker-registry: /var/lib/registry
EXPOSE 5000
CMD ["docker-registry", "serve", "/etc/docker/registry/config.yml"]
"""

CONFIG = """version: 0.1
log:
  level: warn
storage:
  filesystem:
    rootdirectory: /var/lib/registry
  delete:
    enabled: true
http:
  addr: :5000
"""

# Run once in a container (as root) to fill the auth volume: a CA, a server certificate it signs
# (for 127.0.0.1 and localhost), and an htpasswd file with one bcrypt entry.
_CREDENTIALS_SH = """set -e
cd /auth
openssl req -x509 -newkey rsa:2048 -nodes -days 30 -subj "/CN=DMAC course CA ($NS)" \
  -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" \
  -keyout ca.key -out ca.crt 2>/dev/null
openssl req -newkey rsa:2048 -nodes -subj "/CN=127.0.0.1" -keyout registry.key -out registry.csr 2>/dev/null
# the extensions strict X.509 checking asks for (Python 3.13's default): key usages and key identifiers
printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\\nextendedKeyUsage=serverAuth\\n%s\\n%s\\n%s\\n' \
  'keyUsage=critical,digitalSignature,keyEncipherment' 'subjectKeyIdentifier=hash' \
  'authorityKeyIdentifier=keyid,issuer' > ext.cnf
openssl x509 -req -in registry.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 30 \
  -extfile ext.cnf -out registry.crt 2>/dev/null
htpasswd -Bbc htpasswd "$REG_USER" "$REG_PASSWORD" 2>/dev/null
rm -f registry.csr ext.cnf ca.srl
chown docker-registry: registry.key htpasswd
chmod 600 ca.key registry.key
"""


def image_ref() -> str:
    return course.image("registry", "2.8")


def address(tls: bool = False) -> str:
    """``127.0.0.1:<port>`` of this namespace's running open (or private, ``tls=True``) registry."""
    try:
        return ports.address(container(tls), PORT)
    except CommandFailed:
        raise CommandFailed(
            f"The course registry ({container(tls)}) is not running: run the cell that starts it "
            f"(registry.start({'tls=True' if tls else ''}))."
        ) from None


def _live_addresses() -> set[str]:
    live = set()
    for tls in (False, True):
        try:
            live.add(address(tls))
        except CommandFailed:
            pass
    return live


def _drop_stale_references() -> None:
    """Untag references to this namespace's repositories in loopback registries that are not running now.

    A registry started again gets another port from the kernel: the tags and ``RepoDigests`` an image kept from
    an earlier address (``127.0.0.1:<old port>/<namespace>/...``) would point at nothing and fill ``docker image
    inspect``. Only such references go (never another namespace's, nor another registry's); a login kept for
    such an address is logged out too.
    """
    live = _live_addresses()
    listing = docker_out("images", "--digests", "--format", "{{.Repository}}\t{{.Tag}}\t{{.Digest}}")
    refs, stale = [], set()
    for line in listing.splitlines():
        repository, tag, digest = [*line.split("\t"), "", "", ""][:3]
        host, _, path = repository.partition("/")
        if not (host.startswith("127.0.0.1:") and path.startswith(f"{course.namespace()}/")) or host in live:
            continue
        stale.add(host)
        refs += [f"{repository}:{tag}"] if tag not in ("", "<none>") else []
        refs += [f"{repository}@{digest}"] if digest not in ("", "<none>") else []
    for ref in refs:
        docker("rmi", "--no-prune", ref, show=False, echo=False, check=False)
    recorded = logins.addresses_file()
    stale |= (set(recorded.read_text().split()) if recorded.exists() else set()) - live
    try:
        logged_in = set(logged_in_registries())
    except (OSError, ValueError):  # an unreadable config file: left to its owner
        logged_in = set()
    for where in sorted(stale & logged_in):
        docker("logout", where, show=False, echo=False, check=False, timeout=30)
    recorded.write_text("\n".join(sorted(live)) + "\n")


def container(tls: bool = False) -> str:
    return course.name("registry-tls" if tls else "registry")


def data_volume(tls: bool = False) -> str:
    return course.name("registry-tls-data" if tls else "registry-data")


def auth_volume() -> str:
    return course.name("registry-auth")


def build() -> Result:
    """Build the registry image (quietly: the log goes to stderr) and say what it is."""

    context = dockerfiles.context("registry", dockerfile=DOCKERFILE, files={"config.yml": CONFIG})
    result = images.build(image_ref(), context, show="progress")
    version = docker_out("run", "--rm", image_ref(), "docker-registry", "--version").split()
    print(f"course registry image {image_ref()}: {' '.join(version[:3])} from Debian's docker-registry package")
    return result


def _remove(name: str) -> None:
    """Remove a leftover container of this namespace called ``name`` (an interrupted run's)."""
    ours = docker_out("ps", "-aq", "--filter", f"name=^{name}$", "--filter", f"label={course.label_filter()}")
    if ours:
        docker("rm", "-f", name, show=False, echo=False)


def _fresh_volume(volume: str) -> None:
    """(Re)create the labelled volume ``volume``, dropping an earlier one of this namespace (never another's)."""
    named = ("volume", "ls", "-q", "--filter", f"name=^{volume}$")
    if docker_out(*named):
        if not docker_out(*named, "--filter", f"label={course.label_filter()}"):
            raise CommandFailed(f"A volume called {volume} exists that the course did not make: it is left alone.")
        docker("volume", "rm", "-f", volume, show=False, echo=False)
    docker("volume", "create", volume, show=False, echo=False)  # labelled: clean-up finds it


def make_credentials() -> None:
    """Fill the auth volume with a fresh course CA, server certificate and htpasswd entry."""
    _remove(container(True))
    _fresh_volume(auth_volume())
    docker(
        "run", "--rm", "-v", f"{auth_volume()}:/auth", "-e", f"NS={course.namespace()}",
        "-e", f"REG_USER={USER}", "-e", f"REG_PASSWORD={password()}",
        image_ref(), "sh", "-c", _CREDENTIALS_SH, show=False, echo=False,
    )  # fmt: skip


def start(tls: bool = False, *, echo: bool = True) -> str:
    """Run the registry (open, or private with TLS and htpasswd) and wait until it answers; its address."""
    name = container(tls)
    _remove(name)
    _fresh_volume(data_volume(tls))
    args = [
        "run", "-d", "--name", name, "--stop-timeout", str(STOP_SECONDS),
        "-p", ports.publish(PORT), "-v", f"{data_volume(tls)}:/var/lib/registry",
    ]  # fmt: skip
    if tls:
        args += [
            "-v", f"{auth_volume()}:/auth:ro",
            "-e", "REGISTRY_HTTP_TLS_CERTIFICATE=/auth/registry.crt",
            "-e", "REGISTRY_HTTP_TLS_KEY=/auth/registry.key",
            "-e", "REGISTRY_AUTH=htpasswd",
            "-e", "REGISTRY_AUTH_HTPASSWD_REALM=DMAC course registry",
            "-e", "REGISTRY_AUTH_HTPASSWD_PATH=/auth/htpasswd",
        ]  # fmt: skip
    args += ["-u", "docker-registry", image_ref()]
    docker(*args, show=False, echo=echo)
    where = address(tls)
    logins.record_address(where)
    _drop_stale_references()
    wait.until(lambda: answers(tls), f"the registry on {where}", timeout=30, give_up=lambda: _exited(name))
    return where


def _exited(name: str) -> str | None:
    state = docker_out("inspect", "--format", "{{.State.Status}}", name)
    if state in ("exited", "dead"):
        logs = subprocess.run(["docker", "logs", "--tail", "5", name], capture_output=True, text=True, timeout=10)
        return f"the container {state}: {(logs.stdout + logs.stderr).strip()}"
    return None


def answers(tls: bool = False) -> bool:
    """True once ``/v2/`` answers (200 open; 401 when it asks for a login)."""
    scheme = "https" if tls else "http"
    try:
        where = address(tls)
    except CommandFailed:
        return False
    context = ssl._create_unverified_context() if tls else None  # readiness only; trust is shown by verify()
    try:
        with urllib.request.urlopen(f"{scheme}://{where}/v2/", timeout=3, context=context) as r:
            return r.status == 200
    except urllib.error.HTTPError as exc:
        return exc.code == 401
    except (OSError, ssl.SSLError):
        return False


def stop(tls: bool = False) -> None:
    docker("stop", "-t", str(STOP_SECONDS), container(tls), show=False)


# ------------------------------------------------------------------ TLS trust


def ca_pem() -> str:
    """The course CA's certificate (public), read from the auth volume."""
    return docker_out("run", "--rm", "-v", f"{auth_volume()}:/auth:ro", "busybox", "cat", "/auth/ca.crt") + "\n"


def verify(cafile_pem: str | None) -> str:
    """Connect to the private registry verifying its certificate against ``cafile_pem`` (or the system CAs)."""
    context = ssl.create_default_context(cadata=cafile_pem) if cafile_pem else ssl.create_default_context()
    host, port = address(True).split(":")
    try:
        with socket.create_connection((host, int(port)), timeout=5) as raw:
            with context.wrap_socket(raw, server_hostname=host) as tls:
                cert = tls.getpeercert()
                assert cert is not None, "a verified TLS connection has the peer's certificate"
                # typeshed types every field as one union; "subject" is RDNs of (name, value) pairs
                rdns = cast(tuple[tuple[tuple[str, str], ...], ...], cert["subject"])
                subject = dict(x[0] for x in rdns)
                return f"✔ certificate verified: {subject['commonName']}, signed by the course CA"
    except ssl.SSLCertVerificationError as exc:
        return f"✗ certificate refused: {exc.verify_message}"


# ------------------------------------------------------------------ push, pull, digests


HARVESTER = """
FROM busybox
ARG RELEASE=1.2.0
RUN echo "harvester $RELEASE: fetches buoy 46042 every hour" > /release.txt
CMD ["cat", "/release.txt"]
"""


def harvester_context() -> Path:
    """The build context of notebook 07's small ``harvester`` image (its release is a build argument)."""

    return dockerfiles.context("07-harvester", dockerfile=HARVESTER)


_LOGIN_NEEDED = ("no basic auth credentials", "unauthorized", "authentication required")


def push(ref: str, *, expect_error: bool = False, quiet: bool = False) -> str:
    """``docker push ref`` (progress on stderr); prints and returns the manifest digest the registry reported.

    ``expect_error``: the push is refused (no login); one stable line says why.
    """
    show: bool | str = False if expect_error or quiet else "progress"
    result = docker("push", ref, show=show, check=not expect_error, echo=not quiet)
    if expect_error:
        if result.ok:
            raise CommandFailed("This push was expected to fail, but it succeeded.")
        text = result.output.lower()
        why = "the registry wants a login" if any(w in text for w in _LOGIN_NEEDED) else result.lines[-1].strip()
        print(f"✗ push refused: {why}")
        return ""
    digest = next((w for line in result.lines for w in line.split() if w.startswith("sha256:")), "")
    if not quiet:
        print(f"pushed {ref} → digest {digest}")
    return digest


def pull(ref: str) -> Result:
    """``docker pull ref`` (progress on stderr); prints the Digest and Status lines."""
    result = docker("pull", ref, show="progress")
    for line in result.lines:
        if line.startswith(("Digest:", "Status:")):
            print(line.rstrip())
    return result


def repo_digests(ref: str) -> list[str]:
    """The image's ``RepoDigests``: ``repository@sha256:…`` for each registry it was pushed to or pulled from."""
    return json.loads(docker_out("image", "inspect", "--format", "{{json .RepoDigests}}", ref) or "[]")


def digest_ref(ref: str) -> str:
    """``ref``'s ``repository@sha256:…`` in its registry (the one named in ``ref``)."""
    repo = ref.rsplit(":", 1)[0] if ref.count(":") > 1 or "/" not in ref.rsplit(":", 1)[-1] else ref
    for entry in repo_digests(ref):
        if entry.split("@")[0] == repo:
            return entry
    raise CommandFailed(f"{ref} has no digest from its registry yet: push or pull it first.")


# ------------------------------------------------------------------ docker login and ~/.docker/config.json


def login(user: str, password: str, *, expect_error: bool = False) -> Result:
    """``docker login`` to the private registry, the password on standard input (never on the command line)."""
    result = docker(
        "login", "--username", user, "--password-stdin", address(True),
        input=password + "\n", show=False, check=False,
    )  # fmt: skip
    if result.ok:
        if expect_error:
            raise CommandFailed("This login was expected to fail, but it succeeded.")
        print("Login Succeeded" if "Login Succeeded" in result.output else result.lines[-1])
    else:
        text = result.output.lower()
        # some engines retry a refused HTTPS login over plain HTTP and report that attempt's 400 instead:
        # ask the registry itself whether these credentials are refused
        refused = "401" in text or "unauthorized" in text or _registry_status(user, password) == 401
        print("✗ login refused:", "401 Unauthorized (wrong user name or password)" if refused else result.lines[-1])
        if not expect_error:
            raise CommandFailed(f"docker login failed: {result.output.strip()}")
    return result


def _registry_status(user: str, password: str) -> int | None:
    """The HTTP status the private registry gives ``GET /v2/`` with these credentials (None: no answer)."""
    request = urllib.request.Request(f"https://{address(True)}/v2/")
    token = base64.b64encode(f"{user}:{password}".encode()).decode()
    request.add_header("Authorization", f"Basic {token}")
    try:
        with urllib.request.urlopen(request, timeout=5, context=ssl.create_default_context(cadata=ca_pem())) as reply:
            return reply.status
    except urllib.error.HTTPError as exc:
        return exc.code
    except OSError:
        return None


def logout() -> Result:
    """``docker logout`` from the private registry: removes only that registry's entry."""
    return docker("logout", address(True))


# ------------------------------------------------------------------ asking the registry itself (checkers)

_MANIFEST_TYPES = ", ".join(
    [
        "application/vnd.docker.distribution.manifest.v2+json",
        "application/vnd.oci.image.manifest.v1+json",
        "application/vnd.docker.distribution.manifest.list.v2+json",
        "application/vnd.oci.image.index.v1+json",
    ]
)


def manifest(repository: str, reference: str) -> tuple[str, dict] | None:
    """The open registry's manifest for ``repository:reference`` (tag or digest): ``(digest, manifest)``, or None."""
    request = urllib.request.Request(
        f"http://{address()}/v2/{repository}/manifests/{reference}", headers={"Accept": _MANIFEST_TYPES}
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.headers.get("Docker-Content-Digest", ""), json.loads(response.read())
    except urllib.error.HTTPError as exc:
        if exc.code == 404:
            return None
        raise


# ------------------------------------------------------------------ notebook 09: pinning FROM by digest

STATION_BASE = """
FROM busybox
ARG BUILD=1
RUN echo "station base, build $BUILD" > /base.txt
"""


def station_base_context() -> Path:
    """Notebook 09's stand-in for an upstream base image (its build number is a build argument)."""

    return dockerfiles.context("09-station-base", dockerfile=STATION_BASE)


def app_dockerfile(base: str) -> str:
    """Notebook 09's app image, ``FROM base`` (a tag, or a digest)."""
    return f"""
FROM {base}
RUN echo "app built on: $(cat /base.txt)" > /app.txt
CMD ["cat", "/app.txt"]
"""


def app_context(key: str, base: str) -> Path:

    return dockerfiles.context(key, dockerfile=app_dockerfile(base))
