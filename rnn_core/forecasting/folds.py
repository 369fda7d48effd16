"""The folds of a rolling-origin backtest (Tashman, 2000): train on the past, score what follows.

The last rows of the series are cut into ``folds`` scoring periods of equal length ``P`` that
tile the end in time order; the rows before the first period are the first fold's training part
(at least ``min_train`` rows, and any rows left over by the division). Fold ``i`` trains on rows
ending right before its period:

- expanding: rows ``0 .. score_start - 1``, so each fold knows everything before its period;
- sliding: the same number of rows for every fold, the first fold's, ending at
  ``score_start - 1``, so old data drops out as the origin rolls on.

A fold scores every origin whose whole horizon lies inside its period
(:func:`rnn_core.forecasting.horizon.origins_in`); the first such origin is the last training
row, and no forecast row is a training row.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from rnn_core.data.windows import check_seq_len
from rnn_core.errors import PlaygroundError
from rnn_core.forecasting.horizon import check_whole, origins_in

MODES = ("expanding", "sliding")


@dataclass(frozen=True, eq=False)
class Fold:
    """One train-then-score step of a backtest; row numbers are inclusive.

    Attributes
    ----------
    index : int
        0 for the earliest fold.
    train_start, train_end : int
        The rows the model may be fitted (and normalised) on.
    score_start, score_end : int
        The scoring period; ``score_start = train_end + 1``.
    origins : ndarray of int64, shape (B,)
        Every origin whose forecast rows ``o + 1 .. o + H`` lie in the scoring period.
    """

    index: int
    train_start: int
    train_end: int
    score_start: int
    score_end: int
    origins: np.ndarray

    @property
    def train_rows(self) -> int:
        return self.train_end - self.train_start + 1


def backtest_folds(
    n_rows: int,
    *,
    folds: int = 5,
    horizon: int,
    seq_len: int,
    mode: str = "expanding",
    min_train: int | None = None,
) -> list[Fold]:
    """Rolling-origin folds over a series of ``n_rows`` rows (see the module docstring).

    Parameters
    ----------
    n_rows : int
        ``N``.
    folds : int
        Number of scoring periods ``k``.
    horizon : int
        ``H``; a period holds at least one origin only if ``P >= H``.
    seq_len : int
        ``T``; the first fold trains on at least ``T + 2`` rows, one training and one
        validation window, as :func:`rnn_core.data.windows.build_series_dataset` needs.
    mode : {"expanding", "sliding"}
    min_train : int, optional
        Fewest rows the first fold trains on; by default half the series (at least ``T + 2``),
        so that the earliest fold is not judged on a model that saw almost nothing.

    Returns
    -------
    list[Fold]
        ``k`` folds in time order, each period ``P = (N - min_train) // k`` rows.
    """
    N = check_whole("number of rows", n_rows, 1)
    k = check_whole("number of folds", folds, 1)
    H = check_whole("horizon", horizon, 1)
    T = check_seq_len(seq_len)
    if mode not in MODES:
        raise PlaygroundError(f"backtest mode must be one of {', '.join(MODES)}; got {mode!r}")
    least = T + 2
    if min_train is None:
        M = max(least, N // 2)
    else:
        M = check_whole("minimum training rows", min_train, 1)
        if least > M:
            raise PlaygroundError(
                f"minimum training rows must be at least {least} (sequence length {T} + 2, one "
                f"training and one validation window); got {M}"
            )
    room = N - M  # rows left for scoring
    if room // k < H:
        fit = max(room, 0) // H
        if fit == 0:
            raise PlaygroundError(
                f"a series of {N} rows is too short for a backtest: after {M} training rows it needs "
                f"{H} more to score one {H}-step horizon; use a longer series, a shorter horizon or "
                "fewer training rows"
            )
        raise PlaygroundError(
            f"{N} rows fit at most {fit} fold(s) of a {H}-step horizon after {M} training rows; "
            f"ask for {fit} or fewer folds, a shorter horizon or fewer training rows"
        )
    P = room // k
    first_train = N - k * P  # >= M: the division's remainder goes to the first training part
    out = []
    for i in range(k):
        start = first_train + i * P
        end = start + P - 1
        train_start = 0 if mode == "expanding" else start - first_train
        out.append(Fold(i, train_start, start - 1, start, end, origins_in(start, end, H, T)))
    return out
