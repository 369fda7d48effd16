"""How the live dashboard performs in a real browser, next to the bare trainer.

Starts ``streamlit run serve.py`` on a free port, drives Debian's Chromium with Playwright and prints:

- time from starting the server to a usable page (the Start button can be clicked), target < 5 s;
- training throughput while the charts update (steps/s read from the page's Step metric) next to
  headless ``Trainer`` throughput at the same sine defaults, measured here too; target >= 1/2;
- chart refreshes per second (changes of the Step metric and redraws of the loss chart, both
  counted in the page by a MutationObserver), target >= 2/s;
- time from the Pause click to the last change of the step count, target < 1 s.

Usage: ``.venv/bin/python benchmarks/browser_bench.py [--seconds 10] [--json] [--time-views]``
(``--time-views``: with the Train page's through-time views open too). This is a
measurement, not a test: numbers depend on the machine and on what else it is doing.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run"]

# Installed in the page: remembers when the Step metric changed and when the loss chart (the
# first chart on the page) showed a new figure.
OBSERVER_JS = """
() => {
  const findStep = () => {
    for (const m of document.querySelectorAll('[data-testid="stMetric"]')) {
      const label = m.querySelector('[data-testid="stMetricLabel"]');
      if (label && label.innerText.trim() === 'Step') return m.querySelector('[data-testid="stMetricValue"]');
    }
    return null;
  };
  window.__bench = {steps: [], redraws: []};
  let last = null, lastPlot = null;
  const obs = new MutationObserver((records) => {
    const now = Date.now();
    const el = findStep();
    if (el) {
      const v = parseInt(el.innerText.replace(/,/g, ''), 10);
      if (!Number.isNaN(v) && v !== last) { last = v; window.__bench.steps.push([now, v]); }
    }
    // The app's chart element marks each figure it drew with a revision (st.plotly_chart, in
    // older versions of the app, mounted a new plot node instead): count either.
    const own = document.querySelector('.rnn-chart');
    const plot = own ? own.dataset.revision
      : document.querySelector('[data-testid="stPlotlyChart"] .js-plotly-plot');
    if (plot && plot !== lastPlot) { lastPlot = plot; window.__bench.redraws.push(now); }
  });
  obs.observe(document.body, {subtree: true, childList: true, characterData: true, attributes: true});
}
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def headless_throughput(seconds: float) -> float:
    """Steps/s of a Trainer with the app's default settings on the default sine task."""
    from rnn_core.config import RunSettings
    from rnn_core.data import sine_dataset
    from rnn_core.trainer import Trainer

    run = RunSettings()
    tr = Trainer(sine_dataset(seq_len=run.seq_len), run.model_config(), run.train_config())
    tr.run(20)  # warm-up
    n, t0 = 0, time.perf_counter()
    while time.perf_counter() - t0 < seconds:
        tr.run(10)
        n += 10
    return n / (time.perf_counter() - t0)


def start_server(port: int) -> subprocess.Popen:
    cmd = [
        sys.executable, "-m", "streamlit", "run", "serve.py",
        "--server.port", str(port), "--server.address", "127.0.0.1",
        "--server.headless", "true", "--browser.gatherUsageStats", "false",
        "--server.fileWatcherType", "none",
    ]  # fmt: skip
    return subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)


def wait_healthy(url: str, proc: subprocess.Popen, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"streamlit exited with status {proc.returncode}")
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=1) as r:
                if r.status == 200:
                    return
        except OSError:
            time.sleep(0.05)
    raise SystemExit("server did not become healthy")


def rate(points: list[list[float]]) -> float:
    """Steps per second between the first and last (time ms, step) points."""
    if len(points) < 2:
        return 0.0
    (t0, s0), (t1, s1) = points[0], points[-1]
    return (s1 - s0) / ((t1 - t0) / 1000) if t1 > t0 else 0.0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=10.0, help="training time measured in the browser")
    ap.add_argument("--json", action="store_true", help="print one JSON object instead of a table")
    ap.add_argument("--time-views", action="store_true",
                    help="open the through-time views before training (six more live charts)")  # fmt: skip
    args = ap.parse_args()

    if not os.access(CHROMIUM, os.X_OK):
        raise SystemExit(f"no Chromium at {CHROMIUM}; run `bash scripts/ensure_chromium.sh` or set CHROMIUM")
    from playwright.sync_api import sync_playwright

    results: dict[str, float] = {}
    results["headless_steps_per_s"] = headless_throughput(min(args.seconds, 5.0))

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1440, "height": 1000})
        port = free_port()
        url = f"http://127.0.0.1:{port}"
        t_start = time.monotonic()
        proc = start_server(port)
        try:
            wait_healthy(url, proc)
            results["server_healthy_s"] = time.monotonic() - t_start
            page.goto(url)
            start = page.get_by_role("button", name="Start", exact=True)
            start.wait_for(state="visible", timeout=60_000)
            page.wait_for_function("() => !document.querySelector('button[kind=primary]')?.disabled")
            results["server_start_to_usable_page_s"] = time.monotonic() - t_start

            if args.time_views:
                page.get_by_text("Through time: gradients, memory, spectrum").click()
                drawn = "() => [...document.querySelectorAll('.rnn-chart')].filter(d => d._fullLayout).length"
                page.wait_for_function(f"({drawn})() >= 10", timeout=60_000)
            page.evaluate(OBSERVER_JS)
            start.click()
            time.sleep(args.seconds)
            bench = page.evaluate("() => window.__bench")
            steps = [p for p in bench["steps"] if p[1] > 0]
            window_s = (steps[-1][0] - steps[0][0]) / 1000 if len(steps) > 1 else 0.0
            results["browser_steps_per_s"] = rate(steps)
            results["step_metric_updates_per_s"] = (len(steps) - 1) / window_s if window_s else 0.0
            redraws = [t for t in bench["redraws"] if steps and t >= steps[0][0]]
            results["loss_chart_redraws_per_s"] = (
                (len(redraws) - 1) / window_s if window_s and redraws else 0.0
            )

            # Pause: from the click to the last change of the step count the page shows. The
            # mouse event is sent at the button's position right away (a locator click would
            # first wait for the page to be idle, hiding part of the latency a user sees).
            box = page.get_by_role("button", name="Pause", exact=True).bounding_box()
            clicked_at = time.time() * 1000
            page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
            time.sleep(3.0)
            after = page.evaluate("() => window.__bench.steps")
            last_change = max(t for t, _ in after)
            results["pause_to_stop_s"] = max(0.0, (last_change - clicked_at) / 1000)
            final = after[-1][1]
            time.sleep(1.0)
            still = page.evaluate("() => window.__bench.steps")[-1][1]
            results["steps_after_pause_settled"] = float(still - final)
        finally:
            browser.close()
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()

    results["browser_over_headless"] = results["browser_steps_per_s"] / max(
        results["headless_steps_per_s"], 1e-9
    )
    if args.json:
        print(json.dumps(results, indent=2))
        return
    rows = [
        ("server start -> usable page", f"{results['server_start_to_usable_page_s']:.2f} s", "< 5 s"),
        ("headless Trainer (sine defaults)", f"{results['headless_steps_per_s']:.0f} steps/s", ""),
        ("browser, charts updating", f"{results['browser_steps_per_s']:.0f} steps/s", ""),
        ("browser / headless", f"{results['browser_over_headless']:.2f}", ">= 0.5"),
        ("Step metric updates", f"{results['step_metric_updates_per_s']:.1f} /s", ">= 2 /s"),
        ("loss chart redraws", f"{results['loss_chart_redraws_per_s']:.1f} /s", ">= 2 /s"),
        ("Pause click -> steps stop", f"{results['pause_to_stop_s']:.2f} s", "< 1 s"),
        ("steps after that (should be 0)", f"{results['steps_after_pause_settled']:.0f}", "0"),
    ]
    width = max(len(r[0]) for r in rows)
    print(f"{'measure':<{width}}  {'value':>16}  target")
    for name, value, target in rows:
        print(f"{name:<{width}}  {value:>16}  {target}")


if __name__ == "__main__":
    main()
