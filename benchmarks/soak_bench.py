"""Memory of one server over a long run with sessions training and moving between pages.

Starts one ``streamlit run serve.py`` (headless, loopback, with a short
``server.disconnectedSessionTTL``), opens ``--sessions`` (4) browser contexts in Debian's
Chromium, presses Start in each, and then, for ``--minutes`` (30):

- every ``--switch-every`` s (10) each session goes to the next page through the sidebar,
  Train -> Data -> Predict -> Model -> Train (the sessions staggered);
- every ``--sample-every`` s (30) it records the resident memory (``VmRSS`` from
  ``/proc/<pid>/status``) of the Streamlit server process and of each of its descendant
  processes (the Dask workers: command lines naming ``distributed`` or ``multiprocessing``,
  found by walking the parent ids in ``/proc/*/stat``; multiprocessing's resource tracker is
  listed apart), the run count of the sidebar's line
  ``Server: <name> · <N> runs on <W> workers`` and each session's step.

At the end it prints each process's memory at the baseline (the first sample at or after
``--report-after`` minutes (5): start-up and the first allocations are over by then) and at the
end, and the difference. Then it closes the contexts and, for about ``--close-wait`` s (30),
watches a fresh session's sidebar and the workers' memory to see whether the closed sessions'
trainers are freed: Streamlit keeps a disconnected session for ``server.disconnectedSessionTTL``
seconds and removes expired ones only when it stores another disconnected session, so once the
TTL is over the benchmark opens and drops a bare WebSocket (a session with no script run and no
model) to let it do so, and reports the run count both before and after that.

Usage::

    .venv/bin/python benchmarks/soak_bench.py [--minutes 30] [--report-after 5] [--sessions 4]
        [--switch-every 10] [--sample-every 30] [--session-ttl 5] [--close-wait 30]
        [--browser-nice 0] [--json]

``--json`` prints one JSON object as the last line. Figures, not assertions: exit status 0
unless the run could not be carried out.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
import traceback

import browser_driver as bd

CYCLE = ("Train", "Data", "Predict", "Model")


def snapshot(server: bd.Server, sessions: list[bd.Session], t0: float, pages: list[str]) -> dict:
    """One sample: memory of the server's processes, the sidebar's run count, each session's step."""
    procs = bd.server_processes(server.pid)
    runs, steps, modes = None, [], []
    for sess in sessions:
        try:
            st = sess.state()
        except Exception:  # a page in the middle of a navigation: read it next time
            steps.append(None)
            modes.append(None)
            continue
        steps.append(st["step"] if st["step"] is not None else bd.sidebar_step(st["sidebar"]))
        modes.append(bd.sidebar_mode(st["sidebar"]))
        if runs is None:
            runs = bd.run_count(st["sidebar"])
    return {
        "t_s": round(time.monotonic() - t0, 1),
        "processes": [{k: p[k] for k in ("pid", "role", "rss_mib")} for p in procs],
        "commands": {p["pid"]: p["cmd"][:160] for p in procs},
        "runs": runs,
        "steps": steps,
        "modes": modes,
        "pages": list(pages),
    }


def progress_line(s: dict) -> str:
    mem = sum(p["rss_mib"] or 0 for p in s["processes"])
    runs = s["runs"]["runs"] if s["runs"] else "—"
    where = " ".join(
        f"{st}/{pg[:2]}/{(md or '?')[:3]}"
        for st, pg, md in zip(s["steps"], s["pages"], s["modes"], strict=True)
    )
    cores = s.get("cores_busy")
    busy = " ".join(f"{k[:3]} {v:.2f}" for k, v in cores.items()) if cores else "—"
    return (
        f"  t={s['t_s']:6.0f} s  RSS {mem:7.1f} MiB in {len(s['processes'])} processes  runs {runs}"
        f"  step/page/state {where}  cores {busy}  load {s['loadavg_1min']:.1f}"
    )


def soak(browser, server: bd.Server, args, res: dict) -> list[bd.Session]:
    n = args.sessions
    sessions = [bd.new_session(browser, f"s{i + 1}") for i in range(n)]
    bd.open_usable(sessions[0], server.url)
    # A fresh session alone on the server: how many runs it sees of its own (its own model).
    alone = bd.run_count(sessions[0].state()["sidebar"])
    res["own_runs"] = alone["runs"] if alone else None
    for sess in sessions[1:]:
        bd.open_usable(sess, server.url)
    for sess in sessions:
        bd.click_now(sess, "Start")
    bd.renice_browser(server.pid, args.browser_nice)

    pages = ["Train"] * n
    t0 = time.monotonic()
    t_end = t0 + args.minutes * 60
    next_switch = [t0 + args.switch_every * (1 + i / n) for i in range(n)]
    next_sample = t0
    samples: list[dict] = []
    cpu_prev, t_prev = bd.cpu_by_group(server.pid), time.monotonic()
    nav_errors: list[str] = []
    switches = 0
    bound = int(args.minutes * 60 * (n / args.switch_every + 1 / args.sample_every) * 4) + 100
    for _ in range(bound):
        now = time.monotonic()
        if now >= t_end + 60:  # a bound on the overrun of a slow last navigation
            break
        if now >= next_sample or now >= t_end:
            samples.append(snapshot(server, sessions, t0, pages))
            cpu_now, t_now = bd.cpu_by_group(server.pid), time.monotonic()
            if t_now - t_prev > 1:
                samples[-1]["cores_busy"] = bd.cores_busy(cpu_prev, cpu_now, t_now - t_prev)
            cpu_prev, t_prev = cpu_now, t_now
            samples[-1]["loadavg_1min"] = os.getloadavg()[0]
            next_sample = max(next_sample + args.sample_every, time.monotonic() + 1.0)
            if not args.json:
                print(progress_line(samples[-1]), flush=True)
            if now >= t_end:
                break
        # One page switch at a time (the most overdue one), so that a due sample is never
        # held up by more than one navigation.
        i = min(range(n), key=lambda k: next_switch[k])
        if time.monotonic() >= next_switch[i]:
            sess = sessions[i]
            target = CYCLE[(CYCLE.index(pages[i]) + 1) % len(CYCLE)]
            try:
                bd.nav(sess, target, timeout_ms=20_000)
                pages[i] = target
                switches += 1
            except Exception as exc:
                nav_errors.append(
                    f"t={time.monotonic() - t0:.0f}s {sess.name} -> {target}: {type(exc).__name__}"
                )
            # Keep the cadence, but a session whose switches take longer than it must not pile up.
            next_switch[i] = max(next_switch[i] + args.switch_every, time.monotonic() + 1.0)
            continue
        wake = min([next_sample, t_end, *next_switch])
        time.sleep(min(1.0, max(0.0, wake - time.monotonic())))
    res["samples"] = samples
    res["page_switches"] = switches
    res["nav_errors"] = nav_errors
    return sessions


def compare(samples: list[dict], report_after_s: float) -> dict:
    """Memory per process at the baseline sample and at the last one."""
    base = next((s for s in samples if s["t_s"] >= report_after_s - 1), samples[0])
    end = samples[-1]
    at_base = {p["pid"]: p for p in base["processes"]}
    at_end = {p["pid"]: p for p in end["processes"]}
    minutes = max((end["t_s"] - base["t_s"]) / 60, 1e-9)
    rows = []
    for pid in sorted(set(at_base) | set(at_end), key=lambda p: (p not in at_base, p)):
        b, e = at_base.get(pid), at_end.get(pid)
        rb = b["rss_mib"] if b else None
        re_ = e["rss_mib"] if e else None
        diff = re_ - rb if rb is not None and re_ is not None else None
        rows.append({
            "pid": pid, "role": (b or e)["role"], "baseline_mib": rb, "end_mib": re_, "diff_mib": diff,
            "mib_per_min": diff / minutes if diff is not None else None,
            "note": "" if b and e else ("started after the baseline" if e else "gone by the end"),
            "cmd": (end["commands"].get(pid) or base["commands"].get(pid) or "")[:100],
        })  # fmt: skip
    steps = []
    for sb, se in zip(base["steps"], end["steps"], strict=True):
        ok = sb is not None and se is not None
        steps.append((se - sb) / (end["t_s"] - base["t_s"]) if ok and end["t_s"] > base["t_s"] else None)
    return {
        "baseline_t_s": base["t_s"], "end_t_s": end["t_s"], "processes": rows,
        "runs_baseline": base["runs"], "runs_end": end["runs"], "steps_per_s": steps,
    }  # fmt: skip


def worker_mib(procs: list[dict]) -> float:
    return sum(p["rss_mib"] or 0 for p in procs if p["role"] == "worker")


def after_close(browser, server: bd.Server, sessions: list[bd.Session], args, res: dict) -> None:
    """Close the sessions; watch whether their runs and memory go, as a fresh session sees it."""
    before = bd.server_processes(server.pid)
    res["before_close"] = {"server_mib": before[0]["rss_mib"], "workers_mib": worker_mib(before)}
    for sess in sessions:
        sess.close()
    t_close = time.monotonic()
    deadline = t_close + args.close_wait
    time.sleep(max(0.0, min(args.session_ttl + 2, args.close_wait - 5)))
    probe = bd.new_session(browser, "probe")
    timeline = []

    def look(event: str) -> None:
        st = probe.state()
        procs = bd.server_processes(server.pid)
        timeline.append({
            "t_s": round(time.monotonic() - t_close, 1), "event": event, "runs": bd.run_count(st["sidebar"]),
            "server_mib": procs[0]["rss_mib"], "workers_mib": worker_mib(procs),
        })  # fmt: skip

    try:
        bd.open_usable(probe, server.url)
        look("fresh session opened (TTL over, nothing reaped yet)")
        try:
            bd.bare_session(server.url)
            look("bare WebSocket opened and dropped (Streamlit reaps expired sessions)")
        except Exception as exc:
            timeline.append(
                {"t_s": round(time.monotonic() - t_close, 1), "event": f"bare WebSocket failed: {exc}"}
            )
        target = "Data"
        for _ in range(int(args.close_wait / 3) + 2):
            if time.monotonic() >= deadline:
                break
            time.sleep(min(3.0, max(0.0, deadline - time.monotonic())))
            bd.nav(probe, target, timeout_ms=20_000)  # a rerun redraws the sidebar's line
            look(f"fresh session reran ({target} page)")
            target = "Train" if target == "Data" else "Data"
    finally:
        probe.close()
    res["after_close"] = timeline
    last = timeline[-1] if timeline else {}
    own = res.get("own_runs")
    runs = last.get("runs")
    if runs is None or own is None:
        res["trainers_freed"] = None
    else:
        res["trainers_freed"] = runs["runs"] <= own


def print_report(res: dict, args) -> None:
    cmp_ = res.get("compare")
    print(f"\napp version: {res.get('app_mode')}")
    print(f"{args.sessions} sessions, {args.minutes:g} min, page switches {res.get('page_switches')}, "
          f"navigation errors {len(res.get('nav_errors', []))}")  # fmt: skip
    for e in res.get("nav_errors", [])[:10]:
        print(f"  {e}")
    others = [s["cores_busy"]["others"] for s in res.get("samples", []) if s.get("cores_busy")]
    if others:
        print(
            "other processes on this machine (not this server, its workers, the browser or this script): "
            f"{sum(others) / len(others):.2f} cores busy on average, {max(others):.2f} at most, "
            f"of {os.cpu_count()}"
        )
    if cmp_:
        base_t, end_t = cmp_["baseline_t_s"], cmp_["end_t_s"]
        print(f"\nresident memory (MiB), baseline t={base_t:.0f} s -> end t={end_t:.0f} s:")
        print(f"  {'pid':>7}  {'process':<16} {'baseline':>9} {'end':>9} {'diff':>8} {'MiB/min':>8}")
        for r in cmp_["processes"]:

            def f(v, spec):
                return format(v, spec) if v is not None else "—"

            mem = f"{f(r['baseline_mib'], '9.1f')} {f(r['end_mib'], '9.1f')} {f(r['diff_mib'], '+8.1f')}"
            print(f"  {r['pid']:>7}  {r['role']:<16} {mem} {f(r['mib_per_min'], '+8.2f')}  {r['note']}")
        for r in cmp_["processes"]:
            print(f"  {r['pid']:>7}: {r['cmd']}")
        rb, reb = cmp_["runs_baseline"], cmp_["runs_end"]
        print(f"  sidebar runs: baseline {rb['runs'] if rb else '—'}, end {reb['runs'] if reb else '—'}"
              f" (a fresh session alone saw {res.get('own_runs', '—')})")  # fmt: skip
        rates = ", ".join("—" if r is None else f"{r:.1f}" for r in cmp_["steps_per_s"])
        print(f"  steps/s per session between baseline and end: {rates}")
    if res.get("after_close"):
        b = res["before_close"]
        print(f"\nafter closing the {args.sessions} sessions (disconnectedSessionTTL {args.session_ttl} s); "
              f"before: server {b['server_mib']:.1f} MiB, workers {b['workers_mib']:.1f} MiB")  # fmt: skip
        for row in res["after_close"]:
            runs = row.get("runs")
            runs_text = f"runs {runs['runs']}" if runs else "runs —"
            mem = (f"server {row['server_mib']:.1f} MiB, workers {row['workers_mib']:.1f} MiB"
                   if "server_mib" in row else "")  # fmt: skip
            print(f"  t={row['t_s']:5.1f} s  {runs_text:<8}  {mem}  {row['event']}")
        freed = res.get("trainers_freed")
        if freed is None:
            print("trainers freed: cannot tell (the sidebar shows no run count)")
        else:
            runs = res["after_close"][-1]["runs"]["runs"]
            own = res["own_runs"]
            verdict = "yes" if freed else "NO"
            print(f"trainers freed: {verdict} (the fresh session sees {runs} runs; its own: {own})")
    for phase, err in res.get("errors", {}).items():
        print(f"ERROR   {phase}: {err}")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--minutes", type=float, default=30.0, help="length of the soak")
    ap.add_argument("--report-after", type=float, default=5.0, help="minute of the baseline sample")
    ap.add_argument("--sessions", type=int, default=4)
    ap.add_argument("--switch-every", type=float, default=10.0, help="seconds between page switches")
    ap.add_argument("--sample-every", type=float, default=30.0, help="seconds between memory samples")
    ap.add_argument("--session-ttl", type=int, default=5, help="server.disconnectedSessionTTL, seconds")
    ap.add_argument("--close-wait", type=float, default=30.0, help="seconds watched after closing")
    ap.add_argument("--browser-nice", type=int, default=0, help="niceness given to the browser's processes")
    ap.add_argument("--json", action="store_true", help="print one JSON object as the last line")
    args = ap.parse_args()
    if args.report_after >= args.minutes:
        ap.error("--report-after must be before the end (--minutes)")
    if args.sessions < 1 or args.switch_every <= 0 or args.sample_every <= 0:
        ap.error("--sessions, --switch-every and --sample-every must be positive")

    bd.check_chromium()
    from playwright.sync_api import sync_playwright

    res: dict = {"sessions": args.sessions, "minutes": args.minutes, "report_after": args.report_after}
    errors: dict[str, str] = {}
    server = bd.Server(extra=["--server.disconnectedSessionTTL", str(args.session_ttl)])
    with sync_playwright() as pw:
        browser = bd.launch(pw)
        try:
            server.start()
            server.wait_healthy()
            sessions = []
            try:
                sessions = soak(browser, server, args, res)
                samples = res["samples"]
                side_runs = next((s["runs"] for s in samples if s["runs"]), None)
                res["app_mode"] = "dask" if side_runs else "in-process (no 'runs on' line in the sidebar)"
                res["compare"] = compare(samples, args.report_after * 60)
            except Exception as exc:
                errors["soak"] = f"{type(exc).__name__}: {exc}".splitlines()[0]
                if os.environ.get("BENCH_TRACEBACK"):
                    traceback.print_exc()
            if sessions:
                try:
                    after_close(browser, server, sessions, args, res)
                except Exception as exc:
                    errors["after close"] = f"{type(exc).__name__}: {exc}".splitlines()[0]
                    if os.environ.get("BENCH_TRACEBACK"):
                        traceback.print_exc()
        finally:
            browser.close()
            server.stop()
    if errors:
        res["errors"] = errors
        print(f"server log: {server.log_path}", file=sys.stderr)
    if args.json:
        for sample in res.get("samples", []):
            sample.pop("commands", None)
        print(json.dumps(res))
    else:
        print_report(res, args)
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
