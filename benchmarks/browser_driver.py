"""What the load and soak benchmarks share: the server, the browser, reading the page, /proc.

The server is ``python -m streamlit run serve.py`` on a free loopback port, as in
``browser_bench.py``; the browser is Debian's Chromium (``CHROMIUM`` overrides the path) driven by
Playwright through ``executable_path``. One browser context is one Streamlit session. The page is
read with one small script per read (:data:`STATE_JS`) rather than through locators, so a read
costs one round trip and never waits for the page to settle; times come from the page's own
clock (``Date.now()``, milliseconds), the same wall clock as :func:`now_ms` here.

Not a module of the app: nothing here is imported by ``dashboard`` or ``rnn_core``.
"""

from __future__ import annotations

import base64
import contextlib
import math
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    # Pages of other contexts are not in front: without these Chromium throttles their timers
    # and frames, and a session in the background would look slower than it is.
    "--disable-background-timer-throttling",
    "--disable-renderer-backgrounding",
    "--disable-backgrounding-occluded-windows",
]
VIEWPORT = {"width": 1440, "height": 1000}
NAV_PAGES = ("Train", "Data", "Predict", "Model")

# A drawn chart is an SVG in the app's chart element (or, in older versions of the app, in
# Streamlit's plotly chart). One read of everything the benchmarks look at. The Step metric is
# the tile labelled "Step" on the Train page; on other pages the sidebar status ("Step 1,234 ·
# epoch ...") gives the step.
STATE_JS = """
() => {
  const int = (s) => { const d = (s || '').replace(/[^0-9]/g, ''); return d ? parseInt(d, 10) : null; };
  let step = null;
  for (const m of document.querySelectorAll('[data-testid="stMetric"]')) {
    const label = m.querySelector('[data-testid="stMetricLabel"]');
    if (label && label.innerText.trim() === 'Step') {
      const v = m.querySelector('[data-testid="stMetricValue"]');
      step = v ? int(v.innerText) : null;
    }
  }
  const button = (name) => [...document.querySelectorAll('button')].find((b) => b.innerText.trim() === name);
  const start = button('Start');
  const side = document.querySelector('[data-testid="stSidebar"]');
  const app = document.querySelector('[data-testid="stApp"]');
  return {
    now: Date.now(),
    step: step,
    titles: [...document.querySelectorAll('h1')].map((h) => h.innerText.trim()),
    start_enabled: start ? !start.disabled : null,
    charts: document.querySelectorAll('.rnn-chart .main-svg, [data-testid="stPlotlyChart"] .main-svg').length,
    sidebar: side ? side.innerText : '',
    script: app ? app.getAttribute('data-test-script-state') : null,
  };
}
"""

# A usable Train page: its h1 "Train" shown, the Start button enabled and a chart drawn (an SVG
# inside a plotly chart, not only the empty element). Returns the page's time when it first holds.
USABLE_JS = """
() => {
  const h1 = [...document.querySelectorAll('h1')].some((h) => h.innerText.trim() === 'Train');
  const start = [...document.querySelectorAll('button')].find((b) => b.innerText.trim() === 'Start');
  const chart = document.querySelector('.rnn-chart .main-svg, [data-testid="stPlotlyChart"] .main-svg');
  return h1 && start && !start.disabled && chart ? Date.now() : false;
}
"""

# Remembers the page time of the last change of the Step metric (or of the sidebar's step),
# from a MutationObserver, so a stop is timed to the change and not to the next read.
OBSERVE_STEP_JS = """
() => {
  const read = () => {
    for (const m of document.querySelectorAll('[data-testid="stMetric"]')) {
      const label = m.querySelector('[data-testid="stMetricLabel"]');
      if (label && label.innerText.trim() === 'Step') {
        const v = m.querySelector('[data-testid="stMetricValue"]');
        const d = v ? v.innerText.replace(/[^0-9]/g, '') : '';
        return d ? parseInt(d, 10) : null;
      }
    }
    return null;
  };
  if (window.__stepObserver) window.__stepObserver.disconnect();
  window.__lastStep = {step: read(), t: Date.now(), changes: 0};
  const obs = new MutationObserver(() => {
    const v = read();
    if (v !== null && v !== window.__lastStep.step) {
      window.__lastStep = {step: v, t: Date.now(), changes: window.__lastStep.changes + 1};
    }
  });
  obs.observe(document.body, {subtree: true, childList: true, characterData: true});
  window.__stepObserver = obs;
}
"""

# The page time when the Step metric first reads at least ``n``, else false (for wait_for_function).
STEP_REACHED_JS = """
(n) => {
  for (const m of document.querySelectorAll('[data-testid="stMetric"]')) {
    const label = m.querySelector('[data-testid="stMetricLabel"]');
    if (label && label.innerText.trim() === 'Step') {
      const v = m.querySelector('[data-testid="stMetricValue"]');
      const d = v ? v.innerText.replace(/[^0-9]/g, '') : '';
      return d && parseInt(d, 10) >= n ? Date.now() : false;
    }
  }
  return false;
}
"""

# Streamlit sets this attribute on its root element; "notRunning": no script run under way.
IDLE_JS = """
() => document.querySelector('[data-testid="stApp"]')?.getAttribute('data-test-script-state') === 'notRunning'
"""

RUNS_RE = re.compile(
    r"Server:\s*(?P<name>.+?)\s*·\s*(?P<runs>\d+)\s+runs?\s+on\s+(?P<workers>\d+)\s+workers?"
)
SIDEBAR_STEP_RE = re.compile(r"Step\s+(?P<step>[\d,]+)")
SIDEBAR_MODE_RE = re.compile(r"_circle\s+(running|stepping|paused(?: \(diverged\))?)")


def now_ms() -> float:
    """Wall-clock milliseconds, the clock of the page's ``Date.now()``."""
    return time.time() * 1000.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Server:
    """One ``streamlit run serve.py`` on a free loopback port; its output goes to a log file."""

    extra: list[str] = field(default_factory=list)
    port: int = 0
    proc: subprocess.Popen | None = None
    log_path: Path | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def start(self) -> None:
        self.port = free_port()
        self.log_path = Path(tempfile.mkdtemp(prefix="rnn-bench-")) / "streamlit.log"
        cmd = [
            sys.executable, "-m", "streamlit", "run", "serve.py",
            "--server.port", str(self.port), "--server.address", "127.0.0.1",
            "--server.headless", "true", "--browser.gatherUsageStats", "false",
            "--server.fileWatcherType", "none", *self.extra,
        ]  # fmt: skip
        with self.log_path.open("w") as out:
            self.proc = subprocess.Popen(cmd, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT)

    def wait_healthy(self, timeout: float = 60.0) -> float:
        """Block until ``/_stcore/health`` answers 200; return that moment in wall-clock ms."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise SystemExit(f"streamlit exited with status {self.proc.returncode}; log: {self.log_path}")
            try:
                with urllib.request.urlopen(f"{self.url}/_stcore/health", timeout=1) as r:
                    if r.status == 200:
                        return now_ms()
            except OSError:
                time.sleep(0.02)
        raise SystemExit(f"server did not answer /_stcore/health in {timeout:.0f} s; log: {self.log_path}")

    def stop(self) -> None:
        if self.proc is not None:
            stop_process(self.proc, 15)


def stop_process(proc: subprocess.Popen, grace: float = 10) -> None:
    """Terminate ``proc`` if it still runs, and kill it if it has not ended ``grace`` s later."""
    if proc.poll() is not None:
        return
    proc.terminate()
    try:
        proc.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=10)


def check_chromium() -> None:
    if not os.access(CHROMIUM, os.X_OK):
        raise SystemExit(f"no Chromium at {CHROMIUM}; run `bash scripts/ensure_chromium.sh` or set CHROMIUM")


def launch(pw):
    return pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)


@contextlib.contextmanager
def own_browser(pw, timeout: float = 30.0):
    """A second Chromium, started in a session of its own and driven over its DevTools port:
    the browser of a visitor who is not one of the other tabs. Every student of a class has a
    browser of their own; in one Chromium, a new tab would wait for the other tabs' drawing
    first (Linux's autogroup scheduling shares the CPU between sessions, then within them). It
    still shares this machine's cores with everything else."""
    port = free_port()
    profile = tempfile.mkdtemp(prefix="rnn-bench-browser-")
    cmd = [CHROMIUM, "--headless", f"--remote-debugging-port={port}", f"--user-data-dir={profile}",
           *CHROMIUM_ARGS, "about:blank"]  # fmt: skip
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        deadline = time.monotonic() + timeout
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/json/version", timeout=1):
                    break
            except OSError:
                if time.monotonic() > deadline or proc.poll() is not None:
                    raise RuntimeError("the visitor's Chromium did not open its DevTools port") from None
                time.sleep(0.05)
        browser = pw.chromium.connect_over_cdp(f"http://127.0.0.1:{port}")
        try:
            yield browser
        finally:
            browser.close()
    finally:
        stop_process(proc)
        shutil.rmtree(profile, ignore_errors=True)


@dataclass
class Session:
    """One browser context with one page: one Streamlit session."""

    name: str
    context: object
    page: object

    def state(self) -> dict:
        return self.page.evaluate(STATE_JS)

    def close(self) -> None:
        self.context.close()


def new_session(browser, name: str, timeout_ms: float = 60_000) -> Session:
    context = browser.new_context(viewport=VIEWPORT)
    page = context.new_page()
    page.set_default_timeout(timeout_ms)
    return Session(name, context, page)


def open_usable(sess: Session, url: str, timeout_ms: float = 60_000) -> float:
    """Open the app's landing page; return the page time (ms) when it was first usable."""
    return open_stages(sess, url, timeout_ms)["usable"]


def open_stages(sess: Session, url: str, timeout_ms: float = 60_000) -> dict[str, float]:
    """Open the app's landing page; times (ms since the epoch) when the page's scripts had
    loaded and run (``scripts``: DOMContentLoaded), when the first message of the server's
    WebSocket arrived (``message``), when its h1 "Train" first showed (``title``) and when the
    page was first usable (``usable``)."""
    first: dict[str, float] = {}

    def on_socket(ws) -> None:
        ws.on("framereceived", lambda _frame: first.setdefault("message", time.time() * 1000))

    sess.page.on("websocket", on_socket)
    sess.page.goto(url, wait_until="commit")
    title = sess.page.wait_for_function(
        "() => [...document.querySelectorAll('h1')].some((h) => h.innerText.trim() === 'Train')"
        " && Date.now()",
        polling="raf",
        timeout=timeout_ms,
    ).json_value()
    usable = sess.page.wait_for_function(USABLE_JS, polling="raf", timeout=timeout_ms).json_value()
    scripts = sess.page.evaluate("performance.timing.domContentLoadedEventEnd")
    sess.page.remove_listener("websocket", on_socket)
    return {
        "scripts": float(scripts), "message": first.get("message", math.nan),
        "title": float(title), "usable": float(usable),
    }  # fmt: skip


def click_now(sess: Session, label: str) -> float:
    """Click the button labelled ``label`` with a real mouse event at once; return the click time.

    A locator click first waits for the page to be idle and the button stable; under load that
    wait would be counted as the app's latency, so the button's position is read and clicked.
    """
    where = sess.page.evaluate(
        """(name) => {
          const b = [...document.querySelectorAll('button')].find((e) => e.innerText.trim() === name);
          if (!b) return null;
          b.scrollIntoView({block: 'center'});
          const r = b.getBoundingClientRect();
          return {x: r.x + r.width / 2, y: r.y + r.height / 2, disabled: b.disabled};
        }""",
        label,
    )
    if where is None:
        raise RuntimeError(f"{sess.name}: no button labelled {label!r} on the page")
    t = now_ms()
    sess.page.mouse.click(where["x"], where["y"])
    return t


def wait_step(sess: Session, n: int, timeout_ms: float = 30_000) -> float:
    """Page time (ms) when the Step metric first reads at least ``n``."""
    return float(
        sess.page.wait_for_function(STEP_REACHED_JS, arg=n, polling="raf", timeout=timeout_ms).json_value()
    )


def wait_idle(sess: Session, timeout_ms: float = 30_000) -> None:
    """Wait until no script run is under way (use only while the session does not train)."""
    sess.page.wait_for_timeout(100)
    sess.page.wait_for_function(IDLE_JS, timeout=timeout_ms)


def wait_enabled(sess: Session, label: str, timeout_ms: float = 30_000) -> None:
    sess.page.wait_for_function(
        """(name) => {
          const b = [...document.querySelectorAll('button')].find((e) => e.innerText.trim() === name);
          return !!b && !b.disabled;
        }""",
        arg=label,
        timeout=timeout_ms,
    )


def nav(sess: Session, title: str, timeout_ms: float = 30_000) -> None:
    """Go to a page through the sidebar link (a new URL would start a new session)."""
    sess.page.get_by_test_id("stSidebarNav").get_by_role("link", name=title, exact=True).click(
        timeout=timeout_ms
    )
    sess.page.wait_for_function(
        "(t) => [...document.querySelectorAll('h1')].some((h) => h.innerText.trim() === t)",
        arg=title,
        timeout=timeout_ms,
    )


def wait_sidebar(sess: Session, pattern: str, timeout_ms: float = 30_000) -> str:
    """Wait until the sidebar's text matches the regular expression ``pattern``; return the text."""
    return sess.page.wait_for_function(
        """(p) => { const s = document.querySelector('[data-testid="stSidebar"]');
          return s && new RegExp(p).test(s.innerText) ? s.innerText : false; }""",
        arg=pattern,
        timeout=timeout_ms,
    ).json_value()


def choose(sess: Session, label: str, option: str) -> None:
    """Pick ``option`` in the selectbox labelled ``label``."""
    page = sess.page
    box = page.get_by_test_id("stSelectbox").filter(has=page.get_by_text(label, exact=True))
    box.get_by_role("combobox").click()
    page.get_by_role("option", name=option, exact=True).click()


def run_count(sidebar: str) -> dict | None:
    """``{"name", "runs", "workers"}`` from the sidebar's server line, or None if it has none."""
    m = RUNS_RE.search(sidebar or "")
    if m is None:
        return None
    return {"name": m["name"], "runs": int(m["runs"]), "workers": int(m["workers"])}


def sidebar_mode(sidebar: str) -> str | None:
    """The run state the sidebar status shows ("running", "paused", "stepping"...), if any."""
    m = SIDEBAR_MODE_RE.search(sidebar or "")
    return m[1] if m else None


def sidebar_step(sidebar: str) -> int | None:
    m = SIDEBAR_STEP_RE.search(sidebar or "")
    return int(m["step"].replace(",", "")) if m else None


def slope(points: list[tuple[float, float]]) -> float:
    """Least-squares steps per second through ``(time ms, step)`` points (0 with fewer than 2)."""
    pts = [(t / 1000.0, s) for t, s in points if s is not None]
    if len(pts) < 2 or pts[-1][0] <= pts[0][0]:
        return 0.0
    n = len(pts)
    mt = sum(t for t, _ in pts) / n
    ms = sum(s for _, s in pts) / n
    var = sum((t - mt) ** 2 for t, _ in pts)
    return sum((t - mt) * (s - ms) for t, s in pts) / var if var else 0.0


def sample_steps(sessions: list[Session], seconds: float, interval: float = 0.5) -> list[list[tuple]]:
    """Read every session's step about every ``interval`` s for ``seconds``: ``(page ms, step)`` lists."""
    out: list[list[tuple]] = [[] for _ in sessions]
    end = time.monotonic() + seconds
    rounds = int(seconds / interval) + 2  # a bound even if reads are slow
    for _ in range(rounds):
        t_round = time.monotonic()
        for i, sess in enumerate(sessions):
            s = sess.state()
            out[i].append((s["now"], s["step"] if s["step"] is not None else sidebar_step(s["sidebar"])))
        if time.monotonic() >= end:
            break
        time.sleep(max(0.0, min(interval - (time.monotonic() - t_round), end - time.monotonic())))
    return out


def pause_latencies(
    sessions: list[Session], settle: float = 0.5, bound_s: float = 15.0, recheck: float = 2.0
) -> list[dict]:
    """Press Pause in every session at once; per session, how long its steps went on after the click.

    A session is taken as stopped when two reads ``settle`` s apart show the same step. Under
    load the Step metric may change less often than that while training still runs, so every
    session is read once more ``recheck`` s after the last one stopped; ``seconds`` is from the
    click to the last change the page's observer saw by then (0 when none came after the click),
    ``moved_after_stop`` says whether a change came after the two reads agreed, and ``seconds``
    is None when the step was still changing after ``bound_s``.
    """
    for sess in sessions:
        sess.page.evaluate(OBSERVE_STEP_JS)
    clicks = [click_now(sess, "Pause") for sess in sessions]
    last_read: list[int | None] = [None] * len(sessions)
    stopped_at: list[dict | None] = [None] * len(sessions)
    deadline = time.monotonic() + bound_s
    for _ in range(int(bound_s / settle) + 2):
        for i, sess in enumerate(sessions):
            if stopped_at[i] is not None:
                continue
            seen = sess.page.evaluate("() => window.__lastStep")
            if last_read[i] is not None and seen["step"] == last_read[i]:
                stopped_at[i] = seen
            last_read[i] = seen["step"]
        if all(stopped_at) or time.monotonic() >= deadline:
            break
        time.sleep(settle)
    time.sleep(recheck)
    out = []
    for i, sess in enumerate(sessions):
        final = sess.page.evaluate("() => window.__lastStep")
        if stopped_at[i] is None:
            out.append({"seconds": None, "moved_after_stop": True, "step": final["step"]})
            continue
        out.append({
            "seconds": max(0.0, (final["t"] - clicks[i]) / 1000.0),
            "moved_after_stop": final["changes"] != stopped_at[i]["changes"],
            "step": final["step"],
        })  # fmt: skip
    return out


# --- processes, from /proc ---------------------------------------------------------------------

CLK_TCK = os.sysconf("SC_CLK_TCK")


def _stat_fields(pid: int) -> list[str] | None:
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # The command name is in parentheses and may hold spaces: split after its closing one.
    return raw[raw.rindex(")") + 2 :].split()


def children_map() -> dict[int, list[int]]:
    kids: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        f = _stat_fields(int(entry.name))
        if f is not None:
            kids.setdefault(int(f[1]), []).append(int(entry.name))
    return kids


def descendants(pid: int) -> list[int]:
    kids = children_map()
    out, todo = [], list(kids.get(pid, []))
    while todo and len(out) < 10_000:
        p = todo.pop()
        out.append(p)
        todo.extend(kids.get(p, []))
    return sorted(out)


def cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace").strip()
    except OSError:
        return ""


def rss_mib(pid: int) -> float | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024.0
    except OSError:
        return None
    return None


def cpu_seconds(pid: int) -> float:
    f = _stat_fields(pid)
    return (int(f[11]) + int(f[12])) / CLK_TCK if f else 0.0


def role(cmd: str) -> str:
    """What a descendant of the server is, from its command line."""
    if "resource_tracker" in cmd:
        return "resource tracker"
    if "forkserver" in cmd:
        return "forkserver"
    if "distributed" in cmd or "multiprocessing" in cmd:
        return "worker"
    return "other"


def server_processes(server_pid: int) -> list[dict]:
    """The server and its descendants: pid, role, RSS (MiB) and command line."""
    rows = [{"pid": server_pid, "role": "server", "rss_mib": rss_mib(server_pid), "cmd": cmdline(server_pid)}]
    for pid in descendants(server_pid):
        cmd = cmdline(pid)
        rows.append({"pid": pid, "role": role(cmd), "rss_mib": rss_mib(pid), "cmd": cmd})
    return rows


def machine_busy_seconds() -> float:
    """CPU seconds the whole machine has been busy since boot (all cores; idle and iowait not
    counted), from the first line of ``/proc/stat``."""
    fields = Path("/proc/stat").read_text().splitlines()[0].split()[1:]
    user, nice, system, _idle, _iowait, irq, softirq, steal = (int(x) for x in fields[:8])
    return (user + nice + system + irq + softirq + steal) / CLK_TCK


def cpu_by_group(server_pid: int) -> dict:
    """A reading of the CPU seconds used so far by each process of the server (its workers apart),
    of the browser (every other descendant of this benchmark, Playwright's driver included), of
    this benchmark itself, and of the whole machine. Two readings make :func:`cores_busy`."""
    server_tree = set(descendants(server_pid))
    procs: dict[int, tuple[str, float]] = {server_pid: ("server", cpu_seconds(server_pid))}
    for pid in server_tree:
        procs[pid] = ("workers" if role(cmdline(pid)) == "worker" else "server", cpu_seconds(pid))
    procs[os.getpid()] = ("bench", cpu_seconds(os.getpid()))
    for pid in descendants(os.getpid()):
        if pid != server_pid and pid not in server_tree:
            procs[pid] = ("browser", cpu_seconds(pid))
    return {"procs": procs, "machine": machine_busy_seconds()}


def cores_busy(before: dict, after: dict, seconds: float) -> dict[str, float]:
    """Cores busy per group between two :func:`cpu_by_group` readings ``seconds`` apart.

    Per process: what it used between the readings (all of its time if it started in between;
    nothing for one that ended in between, whose last moments are lost). ``others``: the rest
    of the machine, i.e. other people's and other programs' processes.
    """
    out = {"server": 0.0, "workers": 0.0, "browser": 0.0, "bench": 0.0}
    for pid, (group, cpu) in after["procs"].items():
        prev = before["procs"].get(pid)
        out[group] += cpu - (prev[1] if prev and prev[0] == group and prev[1] <= cpu else 0.0)
    ours = sum(out.values())
    out = {k: v / seconds for k, v in out.items()}
    out["others"] = max(0.0, (after["machine"] - before["machine"] - ours) / seconds)
    return out


def bare_session(url: str, hold: float = 0.5) -> None:
    """Open a Streamlit WebSocket that never asks for a script run, then drop it.

    The server makes a session for it (so no script runs and no model is built) and, when the
    connection drops, stores it among the disconnected sessions. Streamlit removes expired
    disconnected sessions only when it stores another one, so this is how the soak benchmark
    lets it reap the sessions of closed browser contexts without a browser session of its own.
    """
    host = url.split("://", 1)[1].rstrip("/")
    key = base64.b64encode(os.urandom(16)).decode()
    request = (
        f"GET /_stcore/stream HTTP/1.1\r\nHost: {host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: streamlit\r\n"
        f"Origin: {url}\r\n\r\n"
    )
    hostname, port = host.rsplit(":", 1)
    with socket.create_connection((hostname, int(port)), timeout=5) as sock:
        sock.sendall(request.encode())
        answer = sock.recv(4096).decode(errors="replace")
        if not answer.startswith("HTTP/1.1 101"):
            raise RuntimeError(
                f"WebSocket upgrade refused: {answer.splitlines()[0] if answer else 'no answer'}"
            )
        time.sleep(hold)
        # A masked close frame with no payload (opcode 0x8), then the socket goes.
        sock.sendall(bytes([0x88, 0x80]) + os.urandom(4))
        time.sleep(0.2)


def separate_cpu_groups(server_pid: int) -> bool:
    """Whether Linux's autogroup scheduling puts the browser and the server in different CPU
    groups: CPU time is then shared between the groups first, and a new tab competes mainly
    with the other tabs, whatever the server's processes do or their niceness says."""
    try:
        if Path("/proc/sys/kernel/sched_autogroup_enabled").read_text().strip() != "1":
            return False
        server = Path(f"/proc/{server_pid}/autogroup").read_text().split()[0]
        server_tree = set(descendants(server_pid)) | {server_pid}
        others = {
            Path(f"/proc/{pid}/autogroup").read_text().split()[0]
            for pid in descendants(os.getpid())
            if pid not in server_tree and "chrom" in cmdline(pid)
        }
    except OSError:
        return False
    return bool(others) and server not in others


def renice_browser(server_pid: int, nice: int) -> int:
    """Give the browser's processes (every descendant of this benchmark outside the server's
    tree) the niceness ``nice``; returns how many were changed. Call again after new pages."""
    if nice <= 0:
        return 0
    server_tree = set(descendants(server_pid)) | {server_pid}
    changed = 0
    for pid in descendants(os.getpid()):
        if pid in server_tree:
            continue
        try:
            if os.getpriority(os.PRIO_PROCESS, pid) < nice:
                os.setpriority(os.PRIO_PROCESS, pid, nice)
                changed += 1
        except OSError:
            pass
    return changed
