"""The CPU priority of training, below that of the pages and everything else on the machine.

A worker trains in its training loop's thread at :data:`TRAINING_NICENESS` (:func:`lower_priority`),
in a process moved into a CPU session of its own when the worker starts (:func:`own_cpu_group`,
called by :mod:`rnn_core.warm`), so that a page, a Pause or a new visitor never waits behind the
training on a machine that also serves the app.
"""

from __future__ import annotations

import contextlib
import os
import threading

TRAINING_NICENESS = 5
"""How much lower than normal the training threads' CPU priority is (Linux ``nice``): on a
machine that also serves the pages, a page or a Pause never waits behind training."""


def own_cpu_group() -> None:
    """Put this worker process in a session of its own, if it is a process of its own (a worker
    process started by a Dask nanny, not a worker thread of the caller's process).

    Linux's autogroup scheduling shares the CPU between sessions first and between processes
    within a session second, so a thread's niceness orders it only within its session: in a
    session of its own at :data:`TRAINING_NICENESS`, the worker yields to the web server's and
    the browsers' sessions, and within it the training thread still yields to the worker's own
    threads. Elsewhere, or when not allowed, nothing changes."""
    import multiprocessing

    if multiprocessing.parent_process() is None or not hasattr(os, "setsid"):
        return
    with contextlib.suppress(OSError):  # already a session or group leader
        os.setsid()
    with contextlib.suppress(OSError), open("/proc/self/autogroup", "w") as group:
        group.write(str(TRAINING_NICENESS))


def lower_priority() -> None:
    """Give this thread (alone: Linux sets priorities per thread) a lower CPU priority."""
    try:
        tid = threading.get_native_id()
        nice = min(os.getpriority(os.PRIO_PROCESS, tid) + TRAINING_NICENESS, 19)
        os.setpriority(os.PRIO_PROCESS, tid, nice)
    except (AttributeError, OSError):  # not Linux, or not allowed: train at normal priority
        pass
