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

import os
import socket

import streamlit as st

from rnn_core.executor import DEFAULT_MAX_RUNS, Executor


@st.cache_resource(show_spinner=False)
def executor() -> Executor:
    workers = os.environ.get("RNN_PLAYGROUND_WORKERS", "").strip()
    in_process = workers == "threads"
    return Executor(
        os.environ.get("RNN_PLAYGROUND_SCHEDULER") or None,
        workers=1 if in_process else (int(workers) if workers else None),
        processes=not in_process,
        max_runs=int(os.environ.get("RNN_PLAYGROUND_MAX_RUNS", DEFAULT_MAX_RUNS)),
    )


def replica_name() -> str:
    return os.environ.get("RNN_PLAYGROUND_REPLICA") or socket.gethostname()


def load_line() -> str:
    """``Server: <name> · <N> runs on <W> workers`` (and a note when runs share cores)."""
    ex = executor()
    runs, workers = len(ex.live_runs()), len(ex.workers())
    line = f"Server: {replica_name()} · {runs} run{'s' if runs != 1 else ''} on {workers} workers"
    if runs > workers:
        line += f" (busy: each run gets about {workers / runs:.0%} of a core)"
    return line
