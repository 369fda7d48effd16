"""BLAS thread limits for the engine's small matrices.

At dashboard sizes (batch 32, hidden 100-128) each step multiplies matrices of a few hundred
kilobytes; a second BLAS thread costs more in hand-over than it saves, and on a shared 2-core
machine it mostly waits for a core. ``python -m rnn_core bench`` measures both settings side
by side; single-threaded BLAS won every scenario there (see the module docstring of
:mod:`rnn_core.bench` for how it measures).

Use::

    from rnn_core.threads import single_thread

    with single_thread():
        trainer.run(100)

or, once for the whole process, ``limit_blas_threads(1)``. Without ``threadpoolctl`` both are
no-ops. The library scan of threadpoolctl (~0.1 ms) is done once and cached; entering and
leaving a limit costs a few microseconds.
"""

from __future__ import annotations

import contextlib
from typing import Any

_controller: Any = None
_process_limit: Any = None  # keeps a process-wide limit alive


def _get_controller() -> Any:
    global _controller
    if _controller is None:
        try:
            from threadpoolctl import ThreadpoolController
        except ImportError:  # optional dependency: run with NumPy's defaults
            _controller = False
        else:
            _controller = ThreadpoolController()
    return _controller


def blas_threads(n: int) -> contextlib.AbstractContextManager[Any]:
    """Context manager limiting BLAS (OpenBLAS/MKL/BLIS) to ``n`` threads, restored on exit."""
    controller = _get_controller()
    if not controller:
        return contextlib.nullcontext()
    return controller.limit(limits=int(n), user_api="blas")


def single_thread() -> contextlib.AbstractContextManager[Any]:
    """Context manager running BLAS single-threaded: the engine's fastest setting."""
    return blas_threads(1)


def limit_blas_threads(n: int = 1) -> None:
    """Limit BLAS to ``n`` threads for the rest of the process (e.g. at app start-up)."""
    global _process_limit
    controller = _get_controller()
    if controller:
        _process_limit = controller.limit(limits=int(n), user_api="blas")
