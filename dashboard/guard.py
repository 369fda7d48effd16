"""The load boundary: the one safe door through which files, settings and slow actions pass.

A :class:`~rnn_core.errors.PlaygroundError` becomes its own message; any other exception a
generic one, with the traceback in the server log and never on the page.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TypeVar

from rnn_core.errors import PlaygroundError

log = logging.getLogger(__name__)
T = TypeVar("T")


def guarded(action: str, fn: Callable[[], T]) -> tuple[T | None, str | None]:
    """Run ``fn``; return ``(result, None)`` or ``(None, message)`` for the user.

    ``action`` completes the sentence "Could not ..." for unexpected errors.
    """
    try:
        return fn(), None
    except PlaygroundError as exc:
        return None, str(exc)
    except MemoryError:
        return None, f"Could not {action}: not enough memory. Try a smaller file or model."
    except Exception as exc:  # the load boundary: whatever happens, no traceback reaches the page
        log.exception("unexpected error while trying to %s", action)
        return None, (
            f"Could not {action}: unexpected {type(exc).__name__}. "
            "Check that the file is what it should be; nothing was changed."
        )
