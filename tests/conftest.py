"""Suite-wide settings: the browser layer is marked `e2e` so `pytest -m "not e2e"` runs the fast layers."""

import os
import sys
from pathlib import Path

import pytest

E2E_DIR = Path(__file__).parent / "e2e"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        if E2E_DIR in Path(str(item.path)).parents:
            item.add_marker(pytest.mark.e2e)


def pytest_report_header(config: pytest.Config) -> str:
    chromium = os.environ.get("CHROMIUM", "/usr/bin/chromium")
    found = chromium if os.access(chromium, os.X_OK) else "none (browser tests are skipped outside CI)"
    return f"e2e browser: {found}"


# The app's fast layers run their trainers on Dask's in-process cluster (one worker thread): the
# same code path as the worker processes the server starts, without their start-up cost. The
# end-to-end layer serves the app in a subprocess with real worker processes.
os.environ.setdefault("RNN_PLAYGROUND_WORKERS", "threads")


@pytest.fixture(autouse=True)
def _release_the_app_sessions_runs():
    """Every AppTest is a browser session of its own, and a server releases the runs of a
    session that has gone; here sessions end with their test, so their runs go with it (left to
    the server's reaper, a burst of tests could reach the executor's cap on live runs)."""
    yield
    engine = sys.modules.get("dashboard.engine")
    if engine is not None and engine._executor:
        for run in engine._executor[0].live_runs():
            run.close()
