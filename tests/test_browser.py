"""A real browser: JupyterLab started as `make lab` does, notebook 00 run in headless Chromium.

Checks that the preflight output and an ipywidgets control render, and saves a screenshot to
build/screenshots/ as a test artifact.
"""

from __future__ import annotations

import os
import re
import secrets
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
SHOTS = ROOT / "build" / "screenshots"

pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="Chromium is not installed (make test installs it as root)")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def lab(tmp_path: Path):
    port, token = _free_port(), secrets.token_hex(16)
    log = open(tmp_path / "lab.log", "w")
    jupyter = Path(sys.executable).parent / "jupyter"
    cmd = [
        str(jupyter),
        "lab",
        "--notebook-dir=notebooks",
        f"--port={port}",
        "--no-browser",
        "--ip=127.0.0.1",
        f"--IdentityProvider.token={token}",
        "--ServerApp.disable_check_xsrf=False",
    ]
    if os.geteuid() == 0:
        cmd.append("--allow-root")
    proc = subprocess.Popen(
        cmd, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, env=dict(os.environ, DMAC_NAMESPACE="dmac-browser")
    )
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                time.sleep(0.5)
        else:
            pytest.fail("JupyterLab did not start within 60 s:\n" + (tmp_path / "lab.log").read_text()[-2000:])
        yield f"http://127.0.0.1:{port}", token
    finally:
        proc.terminate()
        proc.wait(timeout=30)
        log.close()


def test_notebook_00_runs_in_a_real_browser(lab) -> None:
    from playwright.sync_api import sync_playwright

    url, token = lab
    SHOTS.mkdir(parents=True, exist_ok=True)
    args = [
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        "--disable-quic",
    ]
    if os.geteuid() == 0:
        args.append("--no-sandbox")
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=args)
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        try:
            page.goto(f"{url}/lab/tree/00-setup-and-preflight.ipynb?token={token}", timeout=60_000)
            page.wait_for_selector(".jp-Notebook", timeout=60_000)
            page.wait_for_selector(
                ".jp-Notebook-ExecutionIndicator[data-status='idle'], #jp-main-statusbar :text('Idle')", timeout=60_000
            )
            # clear the stored outputs, then run every cell for real
            menu = page.locator(".lm-MenuBar-itemLabel")
            menu.filter(has_text=re.compile(r"^Edit$")).click()
            page.locator(".lm-Menu-itemLabel").filter(has_text=re.compile(r"^Clear Outputs of All Cells$")).click()
            assert page.locator(".jp-OutputArea-output:has-text('READY: this machine')").count() == 0
            menu.filter(has_text=re.compile(r"^Run$")).click()
            page.locator(".lm-Menu-itemLabel").filter(has_text=re.compile(r"^Run All Cells$")).click()
            ready = page.wait_for_selector(
                ".jp-OutputArea-output:has-text('READY: this machine can run the course.')", timeout=120_000
            )
            assert re.search(r"Storage driver\s+overlay2", ready.text_content() or "")
            page.wait_for_selector(".widget-button:has-text('Check')", timeout=120_000)
            button = page.locator(".widget-button:has-text('Check')").first
            button.scroll_into_view_if_needed()
            box = page.locator(".widget-text input").first
            box.fill("overlay2")
            button.click()
            page.wait_for_selector(".jp-OutputArea-output:has-text('Correct')", timeout=30_000)
            page.screenshot(path=str(SHOTS / "00-setup-and-preflight.png"), full_page=False)
        finally:
            page.screenshot(path=str(SHOTS / "00-last-state.png"))
            browser.close()
