"""BLAS thread limits for the engine's small matrices.

At dashboard sizes (batch 32, hidden 100-128) each time step multiplies matrices of a few
hundred kilobytes. OpenBLAS splits any product above 2^18 multiply-adds across its threads; for
a chain of small products that hand-over costs more than it saves, and on a shared 2-core
machine the second thread mostly waits for a core (``python -m rnn_core bench`` measures both).
The engine therefore runs its time loops under :func:`single_thread` itself, and leaves the
large once-per-sequence products (weight gradients, the text head) to the caller's setting.

Use::

    from rnn_core.threads import single_thread

    with single_thread():
        trainer.run(100)

Only NumPy's own BLAS is touched (not, say, the MKL inside PyTorch), through ``threadpoolctl``,
a runtime dependency.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

import numpy as np

_libs: list[Any] | None = None


def _numpy_blas() -> list[Any]:
    """threadpoolctl controllers of the BLAS libraries NumPy uses (cached after the first call)."""
    global _libs
    if _libs is None:
        from threadpoolctl import ThreadpoolController

        libs = ThreadpoolController().select(user_api="blas").lib_controllers
        root = np.__file__.rsplit("numpy", 1)[0]
        ours = [lib for lib in libs if str(lib.filepath).startswith(root)]
        _libs = ours or list(libs)
    return _libs


@contextlib.contextmanager
def blas_threads(n: int) -> Iterator[None]:
    """Limit NumPy's BLAS to ``n`` threads inside the ``with`` block; restored on exit."""
    libs = _numpy_blas()
    old = [lib.get_num_threads() for lib in libs]
    changed = [(lib, k) for lib, k in zip(libs, old, strict=True) if k != n]
    for lib, _ in changed:
        lib.set_num_threads(int(n))
    try:
        yield
    finally:
        for lib, k in changed:
            lib.set_num_threads(k)


def single_thread() -> contextlib.AbstractContextManager[None]:
    """Context manager running NumPy's BLAS single-threaded: the engine's fastest setting."""
    return blas_threads(1)
