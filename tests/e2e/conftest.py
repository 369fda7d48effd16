"""Fixtures for the end-to-end layer: the real app served by `streamlit run`, driven in Chromium.

The browser is Debian's Chromium at ``/usr/bin/chromium`` (override with ``CHROMIUM``), started by
Playwright through ``executable_path`` because Playwright's own browser download is not available
everywhere. Without a Chromium the layer is skipped with the reason, except under CI, where a
missing browser is an error.
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "artifacts"
SCREENSHOTS = ARTIFACTS / "screenshots"
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
SERVER_START_TIMEOUT = 60.0
# Streamlit sets this attribute on its root element; "notRunning" means the script run finished.
IDLE_APP = '[data-testid="stApp"][data-test-script-state="notRunning"]'


def _chromium_or_skip() -> str:
    if Path(CHROMIUM).is_file() and os.access(CHROMIUM, os.X_OK):
        return CHROMIUM
    reason = f"no Chromium at {CHROMIUM}; run `bash scripts/ensure_chromium.sh` or set CHROMIUM"
    if os.environ.get("CI") == "true":
        pytest.fail(f"browser tests must run under CI: {reason}")
    pytest.skip(reason)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_healthy(url: str, proc: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + SERVER_START_TIMEOUT
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"streamlit exited with {proc.returncode}:\n{log.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"streamlit did not answer /_stcore/health in {SERVER_START_TIMEOUT:.0f} s")


@pytest.fixture(scope="session")
def app_url() -> Iterator[str]:
    """Base URL of the app, served from the repository root on a free port for the whole session."""
    _chromium_or_skip()
    ARTIFACTS.mkdir(exist_ok=True)
    port = _free_port()
    log = ARTIFACTS / "streamlit-server.log"
    cmd = [
        sys.executable, "-m", "streamlit", "run", "serve.py",
        "--server.port", str(port),
        "--server.address", "127.0.0.1",
        "--server.headless", "true",
        "--browser.gatherUsageStats", "false",
        "--server.fileWatcherType", "none",
        # A closed tab's session (and its run in a worker) is dropped after this many seconds.
        "--server.disconnectedSessionTTL", "3",
    ]  # fmt: skip
    # The served app starts its own local cluster of worker processes, as a user's server does.
    env = {k: v for k, v in os.environ.items() if k != "RNN_PLAYGROUND_WORKERS"}
    with log.open("w") as out:
        proc = subprocess.Popen(cmd, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT, env=env)
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_healthy(url, proc, log)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()


@pytest.fixture(scope="session")
def browser(app_url: str):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=_chromium_or_skip(), headless=True, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def console_errors() -> list[str]:
    """Console errors and uncaught page errors seen by the test's page; checked at teardown."""
    return []


@pytest.fixture
def page(browser, console_errors: list[str]):
    """A page in a fresh browser context, i.e. a fresh Streamlit session, failing on console errors."""
    context = browser.new_context(viewport={"width": 1440, "height": 1000})
    page = context.new_page()
    page.set_default_timeout(20_000)
    page.on("console", lambda msg: console_errors.append(msg.text) if msg.type == "error" else None)
    page.on("pageerror", lambda exc: console_errors.append(f"uncaught: {exc}"))
    yield page
    context.close()
    assert not console_errors, f"browser console errors: {console_errors}"


@pytest.fixture
def goto(page, app_url: str) -> Callable[..., None]:
    """Open a page of the app (``""`` is the landing page) and wait until its script run finished."""

    def _goto(page_path: str = "") -> None:
        page.goto(f"{app_url}/{page_path.lstrip('/')}")
        page.wait_for_selector(IDLE_APP, state="attached")
        page.wait_for_selector('[data-testid="stMainBlockContainer"]')

    return _goto


@pytest.fixture
def shot(page, request: pytest.FixtureRequest) -> Callable[[str], Path]:
    """Save a full-page screenshot under artifacts/screenshots/<test>-<name>.png and return its path."""

    def _shot(name: str) -> Path:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        stem = re.sub(r"[^A-Za-z0-9_.-]+", "_", f"{request.node.name}-{name}")
        path = SCREENSHOTS / f"{stem}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return _shot
