"""``make lab``: start JupyterLab on the course, wait until it answers, then print the one URL to open.

``python -m helpers.infra.lab [--port N]``. The URL opens notebook 00 directly. The token is handed to
JupyterLab through its environment (not its command line, which other users of a shared host can
read in ``ps``). When the default port is taken (another course, another Jupyter), the next free
one is used and said; a port asked for explicitly (``make lab PORT=8901``) must be free.
"""

from __future__ import annotations

import argparse
import os
import secrets
import signal
import socket
import subprocess
import sys
from pathlib import Path

from ..core import wait
from ..core.course import ROOT
from ..core.shell import course_cli_link, terminal_env

DEFAULT_PORT = 8888
FIRST_NOTEBOOK = "00-setup-and-preflight.ipynb"
START_TIMEOUT = 90.0


def port_free(port: int, host: str = "127.0.0.1") -> bool:
    """True when nothing listens on ``host:port`` and we may bind it."""
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True


def choose_port(wanted: int | None) -> int:
    """``wanted`` if given (it must be free), else 8888 or the next free port after it."""
    if wanted is not None:
        if not port_free(wanted):
            raise SystemExit(f"Port {wanted} is already in use. Choose another: make lab PORT={wanted + 1}")
        return wanted
    for port in range(DEFAULT_PORT, DEFAULT_PORT + 100):
        if port_free(port):
            if port != DEFAULT_PORT:
                print(f"[lab] port {DEFAULT_PORT} is in use; using {port}", flush=True)
            return port
    raise SystemExit(f"No free port between {DEFAULT_PORT} and {DEFAULT_PORT + 99}: make lab PORT=<a free port>")


def course_url(port: int, token: str) -> str:
    return f"http://127.0.0.1:{port}/lab/tree/{FIRST_NOTEBOOK}?token={token}"


def command(port: int) -> list[str]:
    """The JupyterLab command line (no secret in it)."""
    argv = [
        str(Path(sys.executable).parent / "jupyter"),
        "lab",
        f"--notebook-dir={ROOT / 'notebooks'}",
        f"--port={port}",
        "--ServerApp.port_retries=0",
        "--ip=127.0.0.1",
        "--no-browser",
    ]
    if os.geteuid() == 0:
        argv.append("--allow-root")
    return argv


def wait_until_up(proc: subprocess.Popen, port: int, timeout: float = START_TIMEOUT) -> None:
    """Poll JupyterLab's API until it answers; a server that exits or never answers ends ``make lab``."""
    try:
        wait.http_body(f"http://127.0.0.1:{port}/api", timeout=timeout,
                       give_up=lambda: None if proc.poll() is None else f"it stopped (exit code {proc.returncode})")
    except wait.WaitFailed:
        raise SystemExit(f"JupyterLab stopped at once (exit code {proc.returncode}); its messages are above.") from None
    except wait.WaitTimeout:
        proc.terminate()
        message = f"JupyterLab did not answer on port {port} within {timeout:.0f} s; its messages are above."
        raise SystemExit(message) from None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Open the DMAC Containers course in JupyterLab.")
    parser.add_argument("--port", type=int, default=int(os.environ["PORT"]) if os.environ.get("PORT") else None)
    port = choose_port(parser.parse_args(argv).port)
    token = secrets.token_hex(24)
    # terminals opened in JupyterLab inherit this: `docker` there is the notebooks' CLI, daemon and builder
    course_cli_link()
    env = dict(terminal_env(), JUPYTER_TOKEN=token)
    proc = subprocess.Popen(command(port), cwd=ROOT, env=env)
    signal.signal(signal.SIGTERM, lambda *_: proc.terminate())
    try:
        wait_until_up(proc, port)
        bar = "=" * 78
        print(f"\n{bar}\nThe course is open. In your browser, go to:\n\n    {course_url(port, token)}\n", flush=True)
        print(f"Ctrl-C (twice) stops JupyterLab.\n{bar}\n", flush=True)
        return proc.wait()
    except KeyboardInterrupt:  # the terminal sent it to JupyterLab too; let it shut down cleanly
        return proc.wait()
    finally:
        if proc.poll() is None:
            proc.terminate()
            proc.wait(timeout=30)


if __name__ == "__main__":
    raise SystemExit(main())
