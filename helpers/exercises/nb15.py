"""Exercises of notebook 15 (a Java data server: heap and memory limit, configuration)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from ..core import course, records, wait
from ..lessons import javaserver
from . import Verdict, course_container, course_image, exercise, failed, passed

LIMIT_MAX_MIB = 512
"""15.1: a limit far above what the server needs protects nothing on a shared host."""
WORKING_SET_MIB = 100
"""15.1: what one request of the data server holds on the heap (an aggregation over a day of data)."""
TITLE = "Gulf of Maine buoys"
"""15.2: the title the page must show."""


def config_folder() -> Path:
    """15.2's configuration folder on the host (``build/<ns>/java/ex-config``)."""
    return javaserver.folder("ex-config")


def config_starter() -> Path:
    """Write 15.2's ``datasets.xml`` unless the learner already has one there."""
    return course.starter(config_folder() / "datasets.xml", "<datasets>buoys A01 B01 E01</datasets>\n")


def _server(id: str, suffix: str, hint: str) -> Any:
    """The learner's container ``name(suffix)``, recorded, from the course's Tomcat image, answering its page."""
    wanted = course.name(suffix)
    box = course_container(suffix, missing=f"there is no container called {wanted} yet.")
    if isinstance(box, Verdict):
        return box
    records.note(id, "container", wanted, box)
    ref = javaserver.image_ref()
    img = course_image(ref, missing=f"no image {ref} yet: run the notebook's build cell.")
    if isinstance(img, Verdict):
        return img
    if box.image.id != img.id:
        return failed(f"{wanted} does not run {ref}.", f"Run the course's Tomcat image: {ref}.")
    if box.status != "running":
        state = box.attrs["State"]
        return failed(
            f"{wanted} is {box.status} (exit code {state['ExitCode']}, OOMKilled {state['OOMKilled']}).",
            "docker logs NAME and docker inspect NAME say why; run it with -d so it keeps serving.",
        )
    try:
        javaserver.wait_ready(wanted)
    except (wait.WaitTimeout, wait.WaitFailed) as exc:
        return failed(f"{wanted}'s Tomcat does not answer {javaserver.STATUS}: {exc}", hint)
    return box


def _killed(box: Any) -> bool:
    box.reload()
    return box.status != "running" or bool(box.attrs["State"]["OOMKilled"])


@exercise(
    "15.1",
    "a data server that is killed for memory",
    needs="memory-limit",  # where -m is not enforced, nothing kills the server
    hint="docker inspect shows State.OOMKilled, HostConfig.Memory and Config.Env (CATALINA_OPTS); the status page "
    "(docker exec NAME curl -s localhost:8080/dmac/status.jsp) shows the JVM's max heap.",
    solution="""
    # -Xmx1g does not fit in -m 256m: leave the heap to the JVM, which sizes it from the limit
    docker("run", "-d", "--name", name("ex-erddap"), "-m", "256m", "--memory-swap", "256m", image("tomcat", "1"))
    """,
)
def heap_within_limit() -> Verdict:
    wanted = course.name("ex-erddap")
    box = _server("15.1", "ex-erddap", "Run the server with -d and a memory limit, and let it start (docker logs).")
    if isinstance(box, Verdict):
        return box
    host = box.attrs["HostConfig"]
    memory, swap = host.get("Memory") or 0, host.get("MemorySwap") or 0
    if not memory:
        return failed(
            f"{wanted} has no memory limit: on a shared host one server may take the memory the others need.",
            f"Keep a memory limit (-m), at most {LIMIT_MAX_MIB}m.",
        )
    limit = memory // 2**20
    if limit > LIMIT_MAX_MIB:
        return failed(
            f"{wanted}'s memory limit is {limit} MiB, more than {LIMIT_MAX_MIB} MiB: a limit far above the need "
            "protects nothing.",
            f"Keep the limit at most -m {LIMIT_MAX_MIB}m and size the heap to fit in it.",
        )
    if swap == -1:
        return failed(
            f"{wanted} may use unlimited swap (--memory-swap -1): its memory is not bounded.",
            "Leave --memory-swap out, or give it the same value as -m.",
        )
    heap = javaserver.status(wanted).max_heap_mib
    if heap >= limit:
        return failed(
            f"the JVM in {wanted} may grow its heap to {heap} MiB, but the container may use {limit} MiB: the "
            "kernel kills it before Java ever sees a full heap.",
            "Take -Xmx out of CATALINA_OPTS (the JVM then sizes the heap from the limit), or make it well below -m.",
        )
    needed = javaserver.ask(wanted, f"/dmac/allocate.jsp?mb={WORKING_SET_MIB}")
    if _killed(box):
        return failed(
            f"{wanted} was killed for memory (OOMKilled) by a request for {WORKING_SET_MIB} MiB.",
            "Its heap and the JVM's own memory must fit in the limit.",
        )
    if not needed.startswith("allocated"):
        return failed(
            f"{wanted}'s max heap, {heap} MiB, is too small for one request of {WORKING_SET_MIB} MiB: "
            f"{needed.strip()[:80]!r}.",
            "Give the JVM a larger share of the limit (-XX:MaxRAMPercentage) or a larger limit.",
        )
    javaserver.ask(wanted, f"/dmac/allocate.jsp?mb={heap + 16}")  # fill the whole heap: Java must say no, not die
    try:
        wait.until(lambda: _killed(box) or None, "an OOM kill", timeout=2)
    except wait.WaitTimeout:
        pass
    if _killed(box):
        return failed(
            f"with a full heap of {heap} MiB, {wanted} was killed for memory (OOMKilled, limit {limit} MiB): the "
            "JVM needs memory outside its heap too (classes, threads, compiled code).",
            "Leave room between the heap and the limit: a smaller -Xmx or MaxRAMPercentage, or a larger -m.",
        )
    return passed(
        f"{wanted} runs with -m {limit}m and a max heap of {heap} MiB: it served a {WORKING_SET_MIB} MiB request "
        "and, with its heap full, Java refused the request instead of the kernel killing the server."
    )


@exercise(
    "15.2",
    "configure the data server: a title and a config folder",
    hint=f'-e DATASET_TITLE="{TITLE}" sets the title; -v FOLDER:{javaserver.CONFIG_DIR}:ro mounts the folder.',
    solution="""
    docker("run", "-d", "--name", name("ex-catalog"), "-e", "DATASET_TITLE=Gulf of Maine buoys",
           "-v", f"{config_folder}:/etc/dmac:ro", image("tomcat", "1"))
    """,
)
def configured() -> Verdict:
    wanted = course.name("ex-catalog")
    box = _server("15.2", "ex-catalog", "Run it with -d; docker logs NAME shows whether Tomcat started.")
    if isinstance(box, Verdict):
        return box
    page = javaserver.status(wanted)
    if page.title != TITLE:
        return failed(
            f"{wanted}'s page shows the title {page.title!r}, not {TITLE!r}.",
            f'Set it at run time: -e DATASET_TITLE="{TITLE}" (quotes: it has spaces).',
        )
    folder = config_folder().resolve()
    mounts = {m.get("Destination"): m for m in box.attrs.get("Mounts", [])}
    single = mounts.get(javaserver.CONFIG_FILE)
    if single is not None:
        return failed(
            f"{wanted} mounts one file at {javaserver.CONFIG_FILE}: an editor that saves by writing a new file and "
            "renaming it leaves the container on the old file.",
            f"Mount the folder instead: -v FOLDER:{javaserver.CONFIG_DIR}:ro.",
        )
    mount = mounts.get(javaserver.CONFIG_DIR)
    if mount is None or mount.get("Type") != "bind" or Path(mount.get("Source", "")).resolve() != folder:
        what = f"mounts {mount.get('Name') or mount.get('Source')} there" if mount else "mounts nothing there"
        return failed(
            f"{wanted} does not bind-mount {folder} at {javaserver.CONFIG_DIR} ({what}).",
            f"-v {os.path.relpath(folder)}:{javaserver.CONFIG_DIR}:ro (the folder, not the file).",
        )
    # an edit as editors save it (a new file renamed over the old): the page must show it
    target = folder / "datasets.xml"
    original = target.read_text()
    probe = f"<datasets>checked by exercise 15.2 ({os.getpid()})</datasets>"
    tmp = target.with_name(".datasets.xml.tmp")
    try:
        tmp.write_text(probe + "\n")
        tmp.replace(target)
        seen = javaserver.status(wanted).config
    finally:
        tmp.write_text(original)
        tmp.replace(target)
    if seen != probe:
        return failed(
            f"after {target.name} was replaced on the host, {wanted}'s page still shows {seen[:60]!r}.",
            f"Mount the folder: -v FOLDER:{javaserver.CONFIG_DIR}:ro.",
        )
    return passed(
        f"{wanted} shows the title {TITLE!r} and reads {javaserver.CONFIG_DIR} from {os.path.relpath(folder)}: an "
        "edit saved on the host as editors save it reached the page."
    )
