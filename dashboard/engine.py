"""The one shared resource of the web process: the executor that runs every session's training.

Configured by environment variables, read once per server:

- ``RNN_PLAYGROUND_SCHEDULER``: address of an existing Dask scheduler (``tcp://host:8786``);
  unset, the server starts its own ``LocalCluster`` on loopback.
- ``RNN_PLAYGROUND_WORKERS``: worker processes of that local cluster (default: one per core), or
  ``threads`` for one in-process worker thread (the fast tests' setting; same code path).
- ``RNN_PLAYGROUND_MAX_RUNS``: live runs the server accepts at once.
- ``RNN_PLAYGROUND_REPLICA``: this server's name in the sidebar (default: the host name).
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time

from streamlit.runtime import Runtime
from streamlit.runtime.scriptrunner import get_script_run_ctx

from rnn_core.executor import DEFAULT_MAX_RUNS, Executor

REAP_SECONDS = 1.0
"""How often the runs of ended browser sessions are looked for and released."""

log = logging.getLogger(__name__)


_executor: list[Executor] = []
_executor_lock = threading.Lock()


def executor() -> Executor:
    """The server's executor, made by the first caller (``serve.py`` at start-up, or the first
    session's script run under ``streamlit run app.py``); its cluster connects in the
    background."""
    with _executor_lock:
        if not _executor:
            workers = os.environ.get("RNN_PLAYGROUND_WORKERS", "").strip()
            in_process = workers == "threads"
            ex = Executor(
                os.environ.get("RNN_PLAYGROUND_SCHEDULER") or None,
                workers=1 if in_process else (int(workers) if workers else None),
                processes=not in_process,
                max_runs=int(os.environ.get("RNN_PLAYGROUND_MAX_RUNS", DEFAULT_MAX_RUNS)),
            )
            threading.Thread(target=_reap, args=(ex,), name="rnn-playground-reaper", daemon=True).start()
            _executor.append(ex)
        return _executor[0]


def start() -> Executor:
    """Make the executor and wait until its cluster has workers (``serve.py``, before the server
    answers its first request)."""
    ex = executor()
    ex.workers()
    return ex


def session_id() -> str | None:
    """The browser session this script run serves (None outside a running server)."""
    ctx = get_script_run_ctx()
    return ctx.session_id if ctx is not None else None


def _session_exists(runtime: Runtime, sid: str) -> bool:
    # A session whose tab was closed stays for server.disconnectedSessionTTL seconds, in case the
    # tab reconnects; after that Streamlit forgets it, and its runs are released here.
    manager = getattr(runtime, "_session_mgr", None)
    if manager is not None and hasattr(manager, "get_session_info"):
        return manager.get_session_info(sid) is not None
    return runtime.is_active_session(sid)


def _reap(ex: Executor) -> None:
    """Release the runs whose browser session has ended (tab closed, session timed out)."""
    while True:
        time.sleep(REAP_SECONDS)
        if not Runtime.exists():
            continue
        try:
            runtime = Runtime.instance()
            for run in ex.live_runs():
                owner = getattr(run, "owner", None)
                if owner is not None and not _session_exists(runtime, owner):
                    run.close()
        except Exception:  # never let the reaper die; say why in the server log
            log.exception("releasing the runs of ended sessions failed")


def replica_name() -> str:
    return os.environ.get("RNN_PLAYGROUND_REPLICA") or socket.gethostname()


def load_line() -> str:
    """``Server: <name> · <N> runs on <W> workers`` (and how many train, and a note when those
    share cores)."""
    ex = executor()
    runs, workers, training = len(ex.live_runs()), len(ex.workers()), ex.training()
    line = f"Server: {replica_name()} · {runs} run{'s' if runs != 1 else ''} on {workers} workers"
    if training > workers:
        line += f" ({training} training: each gets about {workers / training:.0%} of a core)"
    return line
