"""Notebook 15: a Java data server (Debian's Tomcat 10) standing in for ERDDAP or THREDDS.

The image is ``debian:bookworm-slim`` + Debian's ``tomcat10`` (which brings OpenJDK 17, headless) + ``curl`` (so
``docker exec NAME curl …`` asks the server from inside, in any terminal). Three JSP pages, compiled by Tomcat's
Jasper (no JDK needed): ``/dmac/status.jsp`` reports the JVM's max heap, ``DATASET_TITLE``, the config file and
whether the data folder is writable; ``/dmac/allocate.jsp?mb=N`` holds N MiB on the heap for one request;
``/dmac/files.jsp?n=N`` holds N files open at once (a data server reading many files, against ``ulimit -n``).
"""

from __future__ import annotations

import os
import re
import shutil
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from ..core import course, images, ports, wait
from ..core.shell import docker, docker_out

PORT = 8080
STATUS = "/dmac/status.jsp"
CONFIG_DIR = "/etc/dmac"
CONFIG_FILE = f"{CONFIG_DIR}/datasets.xml"
DATA_DIR = "/srv/dmac/data"
START_TIMEOUT = 60.0
"""Seconds a Tomcat may take to answer: about 2 s when the host is quiet."""

DOCKERFILE = f"""
FROM debian:bookworm-slim
RUN apt-get update \\
 && apt-get install -y --no-install-recommends tomcat10 curl \\
 && rm -rf /var/lib/apt/lists/*
ENV CATALINA_HOME=/usr/share/tomcat10 CATALINA_BASE=/var/lib/tomcat10 CATALINA_TMPDIR=/tmp
RUN mkdir -p {DATA_DIR} {CONFIG_DIR} \\
 && chown tomcat:tomcat {DATA_DIR} \\
 && echo '<datasets>built-in default</datasets>' > {CONFIG_FILE}
COPY dmac/ /var/lib/tomcat10/webapps/dmac/
USER tomcat
EXPOSE {PORT}
CMD ["/usr/share/tomcat10/bin/catalina.sh", "run"]
"""

STATUS_JSP = f"""<%@ page contentType="text/plain; charset=UTF-8" import="java.nio.file.*" %><%
long maxHeap = Runtime.getRuntime().maxMemory() / (1024 * 1024);
String title = System.getenv("DATASET_TITLE");
Path configFile = Paths.get("{CONFIG_FILE}");
Path dataDir = Paths.get("{DATA_DIR}");
String configText, written;
try {{ configText = Files.readString(configFile).strip(); }}
catch (Exception e) {{ configText = "cannot read: " + e.getClass().getSimpleName(); }}
try {{ Files.writeString(dataDir.resolve("last-request.txt"), "served\\n"); written = "ok"; }}
catch (Exception e) {{ written = "failed: " + e.getClass().getSimpleName() + " " + e.getMessage(); }}
out.println("max heap: " + maxHeap + " MiB");
out.println("dataset title: " + (title == null ? "(not set)" : title));
out.println("config: " + configText);
out.println("data write: " + written);
%>
"""

ALLOCATE_JSP = """<%@ page contentType="text/plain; charset=UTF-8" import="java.util.*" %><%
String asked = request.getParameter("mb");
int mb = Integer.parseInt(asked == null ? "64" : asked);
List<byte[]> held = new ArrayList<>();
try {
  for (int i = 0; i < mb; i++) { byte[] b = new byte[1024 * 1024]; Arrays.fill(b, (byte) 1); held.add(b); }
  out.println("allocated " + held.size() + " MiB");
} catch (OutOfMemoryError e) {
  held.clear();
  response.setStatus(503);
  out.println("refused: java.lang.OutOfMemoryError: " + e.getMessage());
}
%>
"""


FILES_JSP = f"""<%@ page contentType="text/plain; charset=UTF-8" import="java.io.*,java.util.*" %><%
String asked = request.getParameter("n");
int n = Integer.parseInt(asked == null ? "100" : asked);
List<FileInputStream> held = new ArrayList<>();
try {{
  for (int i = 0; i < n; i++) held.add(new FileInputStream("{CONFIG_FILE}"));
  out.println("opened " + held.size() + " files");
}} catch (IOException e) {{
  response.setStatus(503);
  out.println("failed after " + held.size() + " files: " + e.getMessage());
}} finally {{
  for (FileInputStream f : held) f.close();
}}
%>
"""


def image_ref() -> str:
    return course.image("tomcat", "1")


UPGRADED_UID = 1001
"""The upgraded image's ``tomcat`` account (notebook 16): fixed, where Debian's package makes 997 on 12 and 13."""
_PINNED_ACCOUNT = f"""# The service account first, with a fixed id (as images that pin theirs do, e.g. Unidata's Tomcat
# image with its TOMCAT_USER_ID): Debian's tomcat10 package then keeps it instead of making one
RUN groupadd --system --gid {UPGRADED_UID} tomcat \\
 && useradd --system --uid {UPGRADED_UID} --gid tomcat --home-dir /var/lib/tomcat10 --no-create-home tomcat
RUN apt-get update \\"""


def upgraded_dockerfile(base: str) -> str:
    """Notebook 15's Dockerfile on Debian 13 (``base``), OpenJDK 21 with it, and a ``tomcat`` account of a fixed id."""
    return DOCKERFILE.replace("FROM debian:bookworm-slim", f"FROM {base}").replace(
        "RUN apt-get update \\", _PINNED_ACCOUNT, 1
    )


def upgraded_ref() -> str:
    return course.image("tomcat", "2")


def build_upgraded(base: str) -> None:
    """Build the upgraded server image on the Debian 13 image ``base`` (its pages are notebook 15's)."""
    images.build(upgraded_ref(), images.context("tomcat-2", {"Dockerfile": upgraded_dockerfile(base), **_pages()}))


def context() -> Path:
    """The build context: Dockerfile and the three pages."""

    return images.context("tomcat", {"Dockerfile": DOCKERFILE, **_pages()})


def _pages() -> dict[str, str]:
    return {"dmac/status.jsp": STATUS_JSP, "dmac/allocate.jsp": ALLOCATE_JSP, "dmac/files.jsp": FILES_JSP}


def folder(*parts: str, fresh: bool = False) -> Path:
    """A folder of the notebook's under ``build/<ns>/java/`` (emptied when ``fresh``)."""
    path = course.workdir("java", *parts)
    if fresh:
        give_back(path)
        for child in path.iterdir():
            shutil.rmtree(child) if child.is_dir() else child.unlink()
    return path


def give_back(path: Path) -> None:
    """Make a folder that a container's user was given (section 7) yours again, quietly: a short-lived
    container does it, as it gave it away (you may not chown another uid's files on the host)."""
    if path.stat().st_uid == os.getuid() and all(p.stat().st_uid == os.getuid() for p in path.iterdir()):
        return
    docker(
        "run",
        "--rm",
        "-v",
        f"{path}:/srv/given",
        "busybox",
        "chown",
        "-R",
        f"{os.getuid()}:{os.getgid()}",
        "/srv/given",
        show=False,
        echo=False,
    )


@dataclass(frozen=True)
class Status:
    max_heap_mib: int
    title: str
    config: str
    data_write: str


def parse(text: str) -> Status:
    fields = dict(line.split(": ", 1) for line in text.strip().splitlines() if ": " in line)
    heap = re.match(r"(\d+)", fields.get("max heap", ""))
    if not heap:
        raise ValueError(f"not a status page: {text[:200]!r}")
    return Status(
        int(heap.group(1)), fields.get("dataset title", ""), fields.get("config", ""), fields.get("data write", "")
    )


def ask(container: str, path: str = STATUS, *, timeout: float = 60, echo: bool = False) -> str:
    """``docker exec CONTAINER curl -s http://localhost:8080PATH`` (the body; empty when nothing answered).
    ``echo``: the command shown, as a terminal would run it (the body is for the cell to read)."""
    return docker(
        "exec",
        container,
        "curl",
        "-s",
        "-m",
        str(int(timeout)),
        f"http://localhost:{PORT}{path}",
        check=False,
        timeout=timeout + 10,
        echo=echo,
        show=False,
    ).output.strip()


def state(container: str) -> str:
    return docker_out("inspect", "--format", "{{.State.Status}}", container, check=False) or "gone"


def _exited(container: str) -> str | None:
    now = state(container)
    if now in ("exited", "dead", "gone"):
        log = docker_out("logs", "--tail", "3", container, check=False)
        return f"{container} is {now} before Tomcat answered; its log ends: {log[-400:]!r}"
    return None


def wait_ready(container: str, *, timeout: float = START_TIMEOUT) -> Status:
    """Wait until ``container``'s status page answers (bounded; a clear error if it stopped or never answers)."""
    return wait.until(
        lambda: _status_or_none(container),
        f"Tomcat in {container} to answer {STATUS}",
        timeout=timeout,
        interval=0.4,
        give_up=lambda: _exited(container),
    )


def _status_or_none(container: str) -> Status | None:
    try:
        return parse(ask(container, timeout=10))
    except ValueError:
        return None


def status(container: str, *, echo: bool = False) -> Status:
    return parse(ask(container, echo=echo))


def from_host(container: str, path: str = STATUS) -> str:
    """The page as a browser on this host gets it: the loopback port ``docker port`` names."""
    with urllib.request.urlopen(f"http://{ports.address(container, PORT)}{path}", timeout=30) as answer:
        return answer.read().decode()


def limit_mib(container: str) -> int:
    """The container's memory limit (``-m``) in MiB, 0 without one."""
    return int(docker_out("inspect", "--format", "{{.HostConfig.Memory}}", container) or 0) // 2**20


def oom_state(container: str) -> tuple[str, bool, int]:
    """(status, OOMKilled, exit code) as ``docker inspect`` reports them."""
    out = docker_out("inspect", "--format", "{{.State.Status}} {{.State.OOMKilled}} {{.State.ExitCode}}", container)
    status_, killed, code = out.split()
    return status_, killed == "true", int(code)


def wait_stopped(container: str, *, timeout: float = 30) -> str:
    return wait.until(
        lambda: state(container) if state(container) in ("exited", "dead") else None,
        f"{container} to stop",
        timeout=timeout,
    )


def share(heap: int, limit: int) -> str:
    """A verdict on the heap's share of the limit that does not depend on the exact MiB."""
    ratio = heap / limit
    for low, high, words in (
        (0.20, 0.26, "about a quarter"),
        (0.44, 0.51, "about half"),
        (0.68, 0.76, "about three quarters"),
    ):
        if low <= ratio <= high:
            return words
    return "more than the limit" if ratio > 1 else f"{ratio:.0%}"


def open_files(container: str, count: int) -> tuple[bool, int, str]:
    """Ask ``files.jsp`` to hold ``count`` files open at once: (all opened, how many were, the page's words)."""
    text = ask(container, f"/dmac/files.jsp?n={count}").strip()
    found = re.search(r"(?:opened|failed after) (\d+) files", text)
    opened = int(found.group(1)) if found else 0
    return text.startswith("opened"), opened, text
