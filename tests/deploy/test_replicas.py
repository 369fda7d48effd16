"""Two replicas of the app behind a real HAProxy, sharing one Dask cluster, as browsers see them.

The module starts the deployment of ``deploy/launch.py`` once, on free loopback ports: a Dask
scheduler, two single-threaded workers, two Streamlit replicas (``web1``, ``web2``) and HAProxy
with ``deploy/haproxy.cfg``. Each browser context is a new visitor; the replica serving its
session is read where a user reads it, in the sidebar line ``Server: <name> · <N> runs on <W>
workers`` (drawn from the session's WebSocket), and compared with HAProxy's sticky cookie and
with the ``X-Served-By`` header of every HTTP answer the page received.

Skipped with the reason when haproxy or Chromium is missing, except under CI (``CI=true``), where
both must be there. Marked ``deploy``, and ``e2e`` too: ``-m "not e2e"`` leaves out every test
that drives a browser.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import pytest
from playwright.sync_api import BrowserContext, Page

from deploy.launch import Deployment, free_port, haproxy_binary
from tests.e2e.conftest import ARTIFACTS, CHROMIUM_ARGS, IDLE_APP, _chromium_or_skip
from tests.e2e.test_app_browser import button, nav, step_count, wait_until

pytestmark = [pytest.mark.deploy, pytest.mark.e2e]

WORKERS = 2
VISITORS = 4
READY_TIMEOUT_MS = 60_000
SERVER_LINE = re.compile(r"Server: (?P<name>\S+) · (?P<runs>\d+) runs? on (?P<workers>\d+) workers")


def _haproxy_or_skip() -> str:
    binary = haproxy_binary()
    if binary is not None:
        return binary
    where = f"at HAPROXY={os.environ['HAPROXY']}" if os.environ.get("HAPROXY") else "on PATH or in /usr/sbin"
    reason = f"no haproxy {where}; run `bash scripts/ensure_haproxy.sh` or set HAPROXY"
    if os.environ.get("CI") == "true":
        pytest.fail(f"the deployment test must run under CI: {reason}")
    pytest.skip(reason)


@pytest.fixture(scope="module")
def deployment() -> Iterator[Deployment]:
    _haproxy_or_skip()
    _chromium_or_skip()
    dep = Deployment(
        port=free_port(),
        replica_ports=[free_port(), free_port()],
        workers=WORKERS,
        scheduler_port=free_port(),
        run_dir=ARTIFACTS / "deploy",
    )
    try:
        dep.start()
        yield dep
    finally:
        dep.stop()


@pytest.fixture(scope="module")
def browser(deployment: Deployment):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=_chromium_or_skip(), headless=True, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


@dataclass
class Visitor:
    """One browser context (its own cookies, so its own Streamlit session) and what it saw."""

    context: BrowserContext = field(repr=False)
    page: Page = field(repr=False)
    url: str
    errors: list[str] = field(default_factory=list, repr=False)
    served_by: dict[str, str | None] = field(default_factory=dict, repr=False)  # URL -> X-Served-By

    def watch(self, page: Page) -> None:
        page.set_default_timeout(20_000)
        page.on("console", lambda msg: self.errors.append(msg.text) if msg.type == "error" else None)
        page.on("pageerror", lambda exc: self.errors.append(f"uncaught: {exc}"))
        page.on("response", self._record)

    def _record(self, response) -> None:
        if response.url.startswith(self.url):
            self.served_by[response.url] = response.headers.get("x-served-by")

    def open(self, page: Page | None = None, wait: bool = True) -> None:
        """Load the app's landing page; ``wait=False`` returns once the answer starts arriving."""
        page = page or self.page
        page.goto(self.url, wait_until="load" if wait else "commit")
        if wait:
            self.ready(page)

    def ready(self, page: Page | None = None) -> None:
        page = page or self.page
        # A session's first script run builds its model on the cluster; several visitors arriving
        # at once on a busy machine may wait for each other's.
        page.wait_for_selector(IDLE_APP, state="attached", timeout=READY_TIMEOUT_MS)
        page.wait_for_selector('[data-testid="stMainBlockContainer"]')

    def server_line(self, page: Page | None = None) -> re.Match:
        page = page or self.page
        return wait_until(
            lambda: SERVER_LINE.search(page.get_by_test_id("stSidebar").inner_text()),
            30,
            "the sidebar's Server line",
        )

    def replica(self, page: Page | None = None) -> str:
        return self.server_line(page)["name"]

    def cookie(self) -> str | None:
        return next((c["value"] for c in self.context.cookies(self.url) if c["name"] == "SERVERID"), None)


@pytest.fixture
def visitor(browser, deployment: Deployment) -> Iterator[Callable[[], Visitor]]:
    """Makes new visitors (fresh contexts); at teardown closes them, failing on console errors."""
    made: list[Visitor] = []

    def new() -> Visitor:
        context = browser.new_context(viewport={"width": 1280, "height": 900})
        v = Visitor(context, context.new_page(), deployment.url)
        v.watch(v.page)
        made.append(v)
        return v

    yield new
    for v in made:
        v.context.close()
    errors = {i: v.errors for i, v in enumerate(made) if v.errors}
    assert not errors, f"browser console errors by visitor: {errors}"


def assert_served_by_one_replica(v: Visitor, name: str) -> None:
    """Every HTTP answer the visitor got (document, scripts, styles, health) came from ``name``."""
    assert v.served_by, "no answers recorded"
    others = {url: by for url, by in v.served_by.items() if by != name}
    assert not others, f"answers not from {name}: {others}"


def _run_owners(deployment: Deployment) -> set[str]:
    """Ids of the Dask clients holding a live run (an actor ``run-...``) on the scheduler."""
    from distributed import Client

    def owners(dask_scheduler) -> list[str]:
        return sorted(
            {cs.client_key for key, ts in dask_scheduler.tasks.items() if str(key).startswith("run-")
             for cs in ts.who_wants}
        )  # fmt: skip

    with Client(deployment.scheduler_address, timeout="10s", set_as_default=False) as client:
        return set(client.run_on_scheduler(owners))


def test_new_sessions_spread_over_both_replicas_of_one_cluster_and_keep_their_models(
    visitor, deployment: Deployment
):
    visitors = [visitor() for _ in range(VISITORS)]
    for v in visitors:  # arriving together, and all kept open as live sessions are
        v.open(wait=False)
    on: dict[str, Visitor] = {}
    seen = []
    for v in visitors:
        v.ready()
        line = v.server_line()
        seen.append(line["name"])
        on.setdefault(line["name"], v)
        assert int(line["workers"]) == WORKERS, line.group(0)
        assert v.cookie() == line["name"], "HAProxy's cookie and the sidebar name another replica"
        assert_served_by_one_replica(v, line["name"])
    assert set(seen) == set(deployment.names), f"replicas seen by {VISITORS} new visitors: {seen}"
    # One session on each replica takes a step; its model is still there after a page switch.
    for name, v in on.items():
        assert step_count(v.page) == 0
        button(v.page, "Step").click()
        wait_until(lambda v=v: step_count(v.page) == 1, 20, f"one step on {name}")
        nav(v.page, "Data")
        assert v.replica() == name
        nav(v.page, "Train")
        wait_until(lambda v=v: step_count(v.page) == 1, 10, f"the Step metric back on Train on {name}")
        v.page.wait_for_timeout(500)  # a model lost on the way would show 0 on the next refresh
        assert step_count(v.page) == 1 and v.replica() == name
    # The two replicas are two Dask clients of the one scheduler, each holding its runs there.
    owners = _run_owners(deployment)
    assert len(owners) >= len(deployment.names), f"clients holding runs on the shared scheduler: {owners}"


def test_a_session_sticks_to_its_replica_across_pages_reloads_and_tabs(visitor):
    v = visitor()
    v.open()
    name = v.replica()
    for title in ("Data", "Train"):
        nav(v.page, title)
        assert v.replica() == name, f"on the {title} page"
    v.page.reload()
    v.ready()
    assert v.replica() == name, "after a reload"
    tab = v.context.new_page()  # same cookies: a second tab of the same browser
    v.watch(tab)
    v.open(page=tab)
    assert v.replica(tab) == name, "in a second tab"
    assert v.cookie() == name
    assert_served_by_one_replica(v, name)
