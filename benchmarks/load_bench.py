"""How one server holds up with several browser sessions training at once, and alone.

Starts one ``streamlit run serve.py`` (headless, on a free loopback port), waits for
``/_stcore/health``, drives Debian's Chromium with Playwright (one browser context per session)
and prints, all from the same run:

Alone
  - health -> usable Train page (h1 "Train" shown, Start enabled, a chart drawn), target <= 2 s;
  - Start click -> the Step metric reads >= 1, target <= 0.5 s;
  - the session's steps/s over ``--alone-seconds`` (the Step metric sampled twice a second,
    least-squares slope), on the landing page's sine task;
  - an LSTM-128 on text (Data -> Text -> Use this data; Train -> preset "Char-RNN for text
    (LSTM 128)" -> Load preset -> Reset -> Start): live steps/s over ``--lstm-seconds`` against
    the same model and text trained headless in this process (``Trainer.run``), target >= 0.8.
Load
  - ``--sessions`` N contexts open the app and press Start; after ``--warmup`` s every session's
    Step metric is sampled for ``--seconds``: steps/s per session, the slowest against the fair
    share (total / N), target >= 0.5, and the total against the one session alone, target >= 0.6;
    the CPU the server, its workers, the browser and this script used meanwhile;
  - a new visitor's time from opening the URL to a usable page while the N train, target <= 3 s,
    in a Chromium of the visitor's own (each student has a browser of their own), and then, for
    comparison, in a new tab of the browser that draws the N sessions;
  - Pause pressed in every session: per session the time from its click to the last change of
    its step (stopped = two reads 0.5 s apart agree, at most 15 s), the max, target <= 1 s.

The "ok"/"MISSED" lines say which targets the figures meet; they are figures, not assertions,
and the exit status is 0 whatever they say (1 only if a phase could not be measured at all).

Usage::

    .venv/bin/python benchmarks/load_bench.py [--sessions 8] [--seconds 20] [--warmup 5]
        [--alone-seconds 10] [--lstm-seconds 15] [--browser-nice 0] [--json]

``--json`` prints one JSON object as the last line. The browser runs on the same cores as the
server, so the figures include its cost; the CPU lines say how much that was, and
``--browser-nice 10`` (say) lowers the browser's priority so the server's processes come first.
Streamlit reruns a ``run_every`` fragment when the page's timer asks for it, so a starved
browser also slows training: a niceness is a trade, not a cure. ``BENCH_TRACEBACK=1`` prints the
traceback of a phase that failed.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import time
import traceback
from pathlib import Path

import browser_driver as bd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

LSTM_PRESET = "Char-RNN for text (LSTM 128)"

SESSION_TTL = 2
"""server.disconnectedSessionTTL (s): the closed sessions of the alone phases must be gone before
the load phase, or their (paused) runs would still hold places on the workers."""

TARGETS = [
    # (key in the results, comparison, bound, what is compared)
    ("slowest_over_fair", ">=", 0.5, "slowest session >= 0.5 x fair share"),
    ("total_over_alone", ">=", 0.6, "total steps/s under load >= 0.6 x one session alone"),
    ("visitor_usable_s", "<=", 3.0, "new visitor's usable page <= 3 s while N train"),
    ("pause_max_s", "<=", 1.0, "Pause -> steps stop <= 1 s (max over sessions)"),
    ("alone_usable_s", "<=", 2.0, "alone: health -> usable page <= 2 s"),
    ("first_step_s", "<=", 0.5, "alone: Start -> first step <= 0.5 s"),
    ("lstm_live_over_headless", ">=", 0.8, "LSTM-128 text: live / headless >= 0.8"),
]


def phase_alone(a: bd.Session, server: bd.Server, t_health: float, res: dict, args) -> None:
    """The first visitor: ``a`` was opened (blank) before the server started, as a browser is
    open before its user types the address, so its page time counts from health alone."""
    try:
        stages = bd.open_stages(a, server.url)
        for stage in ("scripts", "message", "title", "usable"):
            res[f"alone_{stage}_s"] = (stages[stage] - t_health) / 1000
        res["app_mode"] = app_mode(a.state()["sidebar"])
        bd.renice_browser(server.pid, args.browser_nice)
        t_click = bd.click_now(a, "Start")
        res["first_step_s"] = (bd.wait_step(a, 1) - t_click) / 1000
        time.sleep(1.0)  # skip the first ticks (first evaluation, first chart sizes)
        cpu0, t0 = bd.cpu_by_group(server.pid), time.monotonic()
        pts = bd.sample_steps([a], args.alone_seconds)[0]
        cpu1, elapsed = bd.cpu_by_group(server.pid), time.monotonic() - t0
        res["alone_steps_per_s"] = bd.slope(pts)
        res["alone_cpu_cores"] = bd.cores_busy(cpu0, cpu1, elapsed)
        res["alone_pause_s"] = bd.pause_latencies([a])[0]["seconds"]
    finally:
        a.close()


def app_mode(sidebar: str) -> str:
    return "dask" if bd.run_count(sidebar) is not None else "in-process (no 'runs on' line in the sidebar)"


def phase_lstm_live(browser, server: bd.Server, res: dict, args) -> str:
    """Live steps/s of the LSTM-128 text preset; returns the data label the sidebar shows."""
    b = bd.new_session(browser, "lstm")
    page = b.page
    try:
        bd.open_usable(b, server.url)
        bd.nav(b, "Data")
        page.get_by_test_id("stRadio").filter(has_text="Sine wave").get_by_text("Text", exact=True).click()
        use = page.get_by_role("button", name="Use this data", exact=True)
        use.wait_for(state="visible")
        bd.wait_idle(b)
        use.click()
        side = bd.wait_sidebar(b, r"Data\s*·\s*Text:")
        label = re.search(r"Data\s*·\s*(Text:[^\n]*)", side)[1].strip()
        bd.nav(b, "Train")
        bd.wait_idle(b)
        bd.choose(b, "Preset", LSTM_PRESET)
        bd.wait_idle(b)
        page.get_by_role("button", name="Load preset", exact=True).click()
        bd.wait_idle(b)
        page.get_by_role("button", name="Reset", exact=True).click()
        side = bd.wait_sidebar(b, r"LSTM\s*·\s*128 units")
        res["lstm_model"] = re.search(r"Model\s*·\s*([^\n]*)", side)[1].strip()
        bd.wait_idle(b)
        bd.wait_enabled(b, "Start")
        bd.renice_browser(server.pid, args.browser_nice)
        t_click = bd.click_now(b, "Start")
        res["lstm_first_step_s"] = (bd.wait_step(b, 1, timeout_ms=60_000) - t_click) / 1000
        time.sleep(3.0)  # warm-up
        cpu0, t0 = bd.cpu_by_group(server.pid), time.monotonic()
        pts = bd.sample_steps([b], args.lstm_seconds)[0]
        res["lstm_cpu_cores"] = bd.cores_busy(cpu0, bd.cpu_by_group(server.pid), time.monotonic() - t0)
        res["lstm_live_steps_per_s"] = bd.slope(pts)
        bd.pause_latencies([b])
        return label
    finally:
        b.close()


def lstm_headless(data_label: str, seconds: float) -> tuple[float, str]:
    """Steps/s of ``Trainer.run`` on the char preset and the given built-in text, in this process."""
    from rnn_core.config import RunSettings
    from rnn_core.data import load_dataset
    from rnn_core.settings import PRESETS
    from rnn_core.trainer import Trainer

    s = RunSettings(**PRESETS["char"].values)
    # The sidebar names the sample as "Text: <sample label>"; load_dataset takes that label.
    sample = data_label.removeprefix("Text:").strip() or "grammar"
    ds = load_dataset(sample, seq_len=s.seq_len)
    tr = Trainer(ds, s.model_config(), s.train_config())
    tr.run(5)  # warm-up
    t0 = time.perf_counter()
    tr.run(10)
    per_step = (time.perf_counter() - t0) / 10
    n = max(20, int(seconds / max(per_step, 1e-6)))
    start, t0 = tr.step_count, time.perf_counter()
    tr.run(n)
    return (tr.step_count - start) / (time.perf_counter() - t0), ds.name


def drop_closed_sessions(server: bd.Server) -> None:
    """Let Streamlit forget the sessions closed so far: it removes an expired disconnected
    session only when it stores another one, so wait out the TTL and drop a bare WebSocket."""
    time.sleep(SESSION_TTL + 1)
    bd.bare_session(server.url)
    time.sleep(1.0)


def visitor_stages(browser, server: bd.Server, res: dict, prefix: str) -> None:
    """A new visitor's first page in ``browser``: seconds to each stage, as ``<prefix>_<stage>_s``."""
    visitor = bd.new_session(browser, prefix)
    try:
        t = bd.now_ms()
        stages = bd.open_stages(visitor, server.url)
        for stage in ("scripts", "message", "title", "usable"):
            res[f"{prefix}_{stage}_s"] = (stages[stage] - t) / 1000
    finally:
        visitor.close()
    drop_closed_sessions(server)  # its run is released before the next measurement


def phase_load(pw, browser, server: bd.Server, res: dict, args) -> None:
    n = args.sessions
    drop_closed_sessions(server)
    sessions = [bd.new_session(browser, f"s{i + 1}") for i in range(n)]
    try:
        for i, s in enumerate(sessions):
            bd.open_usable(s, server.url)
            if i == 0:  # what a first session sees: its own run, or runs of closed sessions too
                res["runs_before_load"] = bd.run_count(s.state()["sidebar"])
        for s in sessions:
            bd.click_now(s, "Start")
        bd.renice_browser(server.pid, args.browser_nice)
        time.sleep(args.warmup)
        cpu0, t0 = bd.cpu_by_group(server.pid), time.monotonic()
        pts = bd.sample_steps(sessions, args.seconds)
        cpu1, elapsed = bd.cpu_by_group(server.pid), time.monotonic() - t0
        rates = [bd.slope(p) for p in pts]
        total = sum(rates)
        res["load_steps_per_s"] = rates
        res["load_total_steps_per_s"] = total
        res["fair_share_steps_per_s"] = total / n
        res["slowest_steps_per_s"] = min(rates)
        res["slowest_over_fair"] = min(rates) / (total / n) if total else 0.0
        if res.get("alone_steps_per_s"):
            res["total_over_alone"] = total / res["alone_steps_per_s"]
        res["load_cpu_cores"] = bd.cores_busy(cpu0, cpu1, elapsed)
        side = sessions[0].state()["sidebar"]
        res["load_sidebar_runs"] = bd.run_count(side)
        res["worker_processes"] = sum(p["role"] == "worker" for p in bd.server_processes(server.pid))

        res["separate_cpu_groups"] = bd.separate_cpu_groups(server.pid)
        with bd.own_browser(pw) as theirs:
            visitor_stages(theirs, server, res, "visitor")
        visitor_stages(browser, server, res, "visitor_tab")

        stops = bd.pause_latencies(sessions)
        lat = [s["seconds"] for s in stops]
        res["pause_s"] = lat
        res["pause_moved_after_stop"] = [s["moved_after_stop"] for s in stops]
        res["pause_max_s"] = None if any(x is None for x in lat) else max(lat)
    finally:
        for s in sessions:
            s.close()


def verdicts(res: dict) -> list[tuple[str, str, str]]:
    out = []
    for key, op, bound, what in TARGETS:
        v = res.get(key)
        if v is None:
            out.append(("MISSED", what, "not measured" if key not in res else "did not stop"))
            continue
        ok = v >= bound if op == ">=" else v <= bound
        out.append(("ok" if ok else "MISSED", what, f"{v:.2f}"))
    return out


def fmt(v, unit: str = "", digits: int = 2) -> str:
    if v is None:
        return "—"
    return f"{v:.{digits}f}{unit}"


def print_table(res: dict, errors: dict, n: int) -> None:
    print(f"app version: {res.get('app_mode', '—')}; browser niceness {res.get('browser_nice', 0)}")
    rows = [
        ("alone: health -> page scripts run", fmt(res.get("alone_scripts_s"), " s"), ""),
        ("alone: health -> first server message", fmt(res.get("alone_message_s"), " s"), ""),
        ("alone: health -> h1 Train shown", fmt(res.get("alone_title_s"), " s"), ""),
        ("alone: health -> usable Train page", fmt(res.get("alone_usable_s"), " s"), "<= 2 s"),
        ("alone: Start -> Step >= 1", fmt(res.get("first_step_s"), " s"), "<= 0.5 s"),
        ("alone: sine steps/s", fmt(res.get("alone_steps_per_s"), "", 1), ""),
        ("alone: Pause -> steps stop", fmt(res.get("alone_pause_s"), " s"), ""),
        ("LSTM-128 text: model", res.get("lstm_model", "—").strip(" ·"), ""),
        ("LSTM-128 text: data", res.get("lstm_data", "—"), ""),
        ("LSTM-128 text: live steps/s", fmt(res.get("lstm_live_steps_per_s"), "", 1), ""),
        ("LSTM-128 text: headless steps/s", fmt(res.get("lstm_headless_steps_per_s"), "", 1), ""),
        ("LSTM-128 text: live / headless", fmt(res.get("lstm_live_over_headless")), ">= 0.8"),
        (f"load: {n} sessions, total steps/s", fmt(res.get("load_total_steps_per_s"), "", 1), ""),
        ("load: fair share (total / N)", fmt(res.get("fair_share_steps_per_s"), "", 1), ""),
        ("load: slowest session", fmt(res.get("slowest_steps_per_s"), "", 1), ""),
        ("load: slowest / fair share", fmt(res.get("slowest_over_fair")), ">= 0.5"),
        ("load: total / alone", fmt(res.get("total_over_alone")), ">= 0.6"),
        ("load: new visitor (own browser) -> page scripts run", fmt(res.get("visitor_scripts_s"), " s"), ""),
        ("load: new visitor -> first server message", fmt(res.get("visitor_message_s"), " s"), ""),
        ("load: new visitor -> h1 Train shown", fmt(res.get("visitor_title_s"), " s"), ""),
        ("load: new visitor -> usable page", fmt(res.get("visitor_usable_s"), " s"), "<= 3 s"),
        ("load: visitor as a tab of the N's browser -> h1", fmt(res.get("visitor_tab_title_s"), " s"), ""),
        (
            "load: visitor as a tab of the N's browser -> usable",
            fmt(res.get("visitor_tab_usable_s"), " s"),
            "",
        ),
        ("load: Pause -> steps stop, max", fmt(res.get("pause_max_s"), " s"), "<= 1 s"),
    ]
    width = max(len(r[0]) for r in rows)
    print(f"{'measure':<{width}}  {'value':>16}  target")
    for name, value, target in rows:
        print(f"{name:<{width}}  {value:>16}  {target}")
    if res.get("load_steps_per_s"):
        print("\nper session under load (steps/s, Pause -> stop s):")
        moved = res.get("pause_moved_after_stop", [False] * n)
        for i, r in enumerate(res["load_steps_per_s"]):
            lat = res.get("pause_s", [None] * n)[i]
            note = " (changed again after two reads agreed)" if moved[i] and lat is not None else ""
            print(f"  s{i + 1:<3} {r:8.1f}   {fmt(lat, ' s') if lat is not None else 'still changing'}{note}")
    print(f"\ncores busy (of {os.cpu_count()}) during each window; others: the rest of the machine")
    windows = (
        ("alone_cpu_cores", "alone, sine"),
        ("lstm_cpu_cores", "alone, LSTM-128 live"),
        ("headless_cpu_cores", "LSTM-128 headless (bench)"),
        ("load_cpu_cores", f"load, {n} sessions"),
    )
    for key, what in windows:
        if res.get(key):
            parts = ", ".join(f"{k} {v:.2f}" for k, v in res[key].items())
            print(f"  {what:<26} {parts}")
    others = max((res[k]["others"] for k, _ in windows if res.get(k)), default=0.0)
    if others > 0.25:
        print(
            f"NOTE: other processes on this machine kept up to {others:.2f} of its {os.cpu_count()} cores "
            "busy during these windows: the figures are not those of an otherwise idle machine."
        )
    if res.get("separate_cpu_groups"):
        print(
            "NOTE: Linux autogroup scheduling puts the browser and the server in separate CPU groups: "
            "a new tab shares the browser's group with the other tabs first, whatever the server does."
        )
    la = res.get("loadavg")
    if la:
        print(f"load average (1 min) at start {la['start']:.1f}, at end {la['end']:.1f}")
    if "worker_processes" in res:
        print(f"worker processes of the server: {res['worker_processes']}")
    first = res.get("runs_before_load")
    if first:
        print(f"first load session on opening: {first['runs']} runs on {first['workers']} workers")
    runs = res.get("load_sidebar_runs")
    if runs:
        print(
            f"sidebar during load: Server {runs['name']} · {runs['runs']} runs on {runs['workers']} workers"
        )
    print()
    for status, what, value in verdicts(res):
        print(f"{status:<6}  {what}: {value}")
    for phase, err in errors.items():
        print(f"ERROR   {phase} could not be measured: {err}")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sessions", type=int, default=8, help="sessions training at once under load")
    ap.add_argument("--seconds", type=float, default=20.0, help="sampling window under load")
    ap.add_argument("--warmup", type=float, default=5.0, help="seconds between the last Start and sampling")
    ap.add_argument("--alone-seconds", type=float, default=10.0, help="sampling window of the one session")
    ap.add_argument(
        "--lstm-seconds", type=float, default=15.0, help="sampling window of the LSTM-128 session"
    )
    ap.add_argument("--browser-nice", type=int, default=0, help="niceness given to the browser's processes")
    ap.add_argument("--json", action="store_true", help="print one JSON object as the last line")
    args = ap.parse_args()
    if args.sessions < 1:
        ap.error("--sessions must be at least 1")

    bd.check_chromium()
    from playwright.sync_api import sync_playwright

    res: dict = {"sessions": args.sessions, "browser_nice": args.browser_nice}
    load_start = os.getloadavg()[0]
    errors: dict[str, str] = {}

    def attempt(phase: str, fn, *a):
        try:
            return fn(*a)
        except Exception as exc:  # a phase that fails leaves the others to measure
            errors[phase] = f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"
            if os.environ.get("BENCH_TRACEBACK"):
                traceback.print_exc()
            return None

    server = bd.Server(extra=["--server.disconnectedSessionTTL", str(SESSION_TTL)])
    with sync_playwright() as pw:
        browser = bd.launch(pw)
        try:
            first = bd.new_session(browser, "alone")
            server.start()
            t_health = server.wait_healthy()
            attempt("alone", phase_alone, first, server, t_health, res, args)
            label = attempt("lstm live", phase_lstm_live, browser, server, res, args)
            if label is not None:
                res["lstm_data"] = label
                cpu0, t0 = bd.cpu_by_group(server.pid), time.monotonic()
                got = attempt("lstm headless", lstm_headless, label, min(args.lstm_seconds, 8.0))
                res["headless_cpu_cores"] = bd.cores_busy(
                    cpu0, bd.cpu_by_group(server.pid), time.monotonic() - t0
                )
                if got is not None:
                    res["lstm_headless_steps_per_s"], res["lstm_headless_data"] = got
                    if res.get("lstm_live_steps_per_s") is not None and got[0]:
                        res["lstm_live_over_headless"] = res["lstm_live_steps_per_s"] / got[0]
            attempt("load", phase_load, pw, browser, server, res, args)
        finally:
            browser.close()
            server.stop()
    res["loadavg"] = {"start": load_start, "end": os.getloadavg()[0]}
    if errors:
        res["errors"] = errors
        print(f"server log: {server.log_path}", file=sys.stderr)
    res["targets"] = {what: status for status, what, _ in verdicts(res)}
    if args.json:
        print(json.dumps(res))
    else:
        print_table(res, errors, args.sessions)
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
