"""The dataset types every sequence source becomes: regression series, memory tasks and text.

A :class:`SeriesDataset` is windows cut from one series, a :class:`MemoryDataset` generated
windows that each carry their own target, a :class:`TextDataset` character ids. All are plain
containers built by the functions in this package; nothing here reads files.
Arrays are time-major like the rest of the engine: windows are ``(T, B, C)`` with ``T = seq_len``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from rnn_core.errors import PlaygroundError

UNKNOWN_CHAR = "\ufffd"


@dataclass(frozen=True, kw_only=True, eq=False)
class RegressionWindows:
    """What both kinds of regression data share: windows of ``seq_len`` steps with normalised
    targets, their split, the maps between original units and what the model sees, the
    baselines and the report (each dataset's docstring says what its fields hold)."""

    kind: str = "regression"
    name: str
    columns: list[str]
    seq_len: int
    train_X: np.ndarray
    train_y: np.ndarray
    val_X: np.ndarray
    val_y: np.ndarray
    train_idx: np.ndarray
    val_idx: np.ndarray
    input_shift: np.ndarray
    input_scale: np.ndarray
    target_shift: float
    target_scale: float
    baselines: dict[str, float] = field(default_factory=dict)
    report: dict = field(default_factory=dict)
    transform: Any = None

    def model_values(self, rows) -> np.ndarray:
        """Rows ``(N, C)`` of the series from row 0, in original units, as the model sees them
        before normalisation: the target column transformed (NaN in the transform's first lag
        rows); the rows themselves without a transform."""
        values = np.asarray(rows, dtype=np.float64)
        if self.transform is None:
            return values
        out = values.copy()
        out[:, 0] = self.transform.apply(values[:, 0])
        return out

    def to_original(self, z_hat, origins, y) -> np.ndarray:
        """Model-unit predictions ``(B, H)`` of rows ``o+1 .. o+H`` back in original units, given
        the target ``y`` (original units, from row 0) known up to each origin ``o``."""
        z = np.asarray(z_hat, dtype=np.float64)
        return z if self.transform is None else self.transform.invert(z, origins, y)

    @property
    def input_size(self) -> int:  # each dataset says how many columns it has
        raise NotImplementedError

    def to_raw(self, y_norm) -> np.ndarray:
        """Map normalised target values (any shape) back to the model's units: original units,
        unless a target transform applies (then :meth:`to_original` finishes the way back)."""
        return np.asarray(y_norm, dtype=np.float64) * self.target_scale + self.target_shift

    def normalise(self, raw_rows) -> np.ndarray:
        """Map input rows ``(..., C)`` in the model's units (:meth:`model_values`; original units
        without a transform) to the normalised inputs the model sees."""
        rows = np.asarray(raw_rows, dtype=np.float64)
        if rows.shape[-1:] != (self.input_size,):
            raise PlaygroundError(
                f"rows to normalise must end in {self.input_size} column(s) ({', '.join(self.columns)}); "
                f"got shape {rows.shape}"
            )
        return (rows - self.input_shift) / self.input_scale

    @property
    def train_windows(self) -> int:
        return int(self.train_y.shape[0])

    @property
    def val_windows(self) -> int:
        return int(self.val_y.shape[0])


@dataclass(frozen=True, eq=False)
class HeldOut:
    """The rows at the end of a series held out of training and validation until a user asks.

    Nothing that trains, validates, normalises, scores a baseline or draws a chart reads these
    rows: a dataset is built from the rows before them only, so replacing them changes nothing
    until :meth:`rows` is called (by "Score on test"; the tests check exactly that).

    Attributes
    ----------
    start : int
        Index of the first held-out row in the whole series (the scored part has ``start`` rows).
    length : int
        Number of held-out rows.
    """

    start: int
    length: int
    _raw: np.ndarray = field(repr=False)
    _x_axis: np.ndarray = field(repr=False)

    def rows(self) -> tuple[np.ndarray, np.ndarray]:
        """The held-out values ``(length, C)`` in original units and their x-axis ``(length,)``."""
        return self._raw, self._x_axis


@dataclass(frozen=True, eq=False)
class FutureInputs:
    """Known values of the extra input columns after the series ends (rows of a CSV after the
    target's last value): a forecast uses them instead of holding the last observed row.

    Attributes
    ----------
    x_axis : ndarray, shape (M,)
        Where they lie (row positions or datetime64).
    values : ndarray, shape (M, C - 1)
        One row per future step, one column per extra input, original units.
    """

    x_axis: np.ndarray
    values: np.ndarray


@dataclass(frozen=True, kw_only=True, eq=False)
class SeriesDataset(RegressionWindows):
    """Many-to-one regression: a window of ``seq_len`` rows predicts the next target value.

    Row ``t`` of ``raw`` is the target of the window ``raw[t - seq_len : t]``. Training windows
    come first in time, validation windows after them (see :mod:`rnn_core.data.windows`).

    Attributes
    ----------
    name : str
        ``"sine"`` or the file name.
    columns : list[str]
        ``[target, *extra_inputs]``; the model sees the target's own past plus the extras.
    x_axis : ndarray, shape (N,)
        Row positions (float) or ``datetime64[ns]`` values, for charts.
    x_label : str
        ``"x"``, ``"row"`` or the date column's name.
    raw : ndarray, shape (N, C)
        Cleaned values in original units, float64, column 0 is the target.
    seq_len : int
        Window length ``T``.
    train_X, val_X : ndarray, shape (T, B, C)
        Normalised input windows. They are read-only strided views of one normalised copy of
        ``raw`` (no per-window copies); index a batch out of them rather than copying them whole.
    train_y, val_y : ndarray, shape (B, 1)
        Normalised targets.
    train_idx, val_idx : ndarray, shape (B,)
        Row in ``raw`` of each window's target.
    input_shift, input_scale : ndarray, shape (C,)
        ``raw = normalised * scale + shift``; statistics from the training rows only.
    target_shift, target_scale : float
        The same for the target (equal to column 0's statistics).
    baselines : dict[str, float]
        ``persistence_rmse, persistence_mae, mean_rmse, mean_mae, linear_rmse, linear_mae`` on the
        validation windows, in original units.
    report : dict
        ``rows, missing_filled, missing_dropped, infinite, encoding, notes, unusable_columns,
        date_column`` and source-specific extras.
    test : HeldOut or None
        The held-out rows after ``raw`` (``raw``, ``x_axis`` and every array above cover only
        the rows before them), or None without a test period.
    future : FutureInputs or None
        Known future values of the extra inputs, after every row above and after the test
        period (a forecast holds the extras at their last value where none are known).
    transform : Transform or None
        The target transform the model learns in (:mod:`rnn_core.forecasting.transforms`):
        windows, targets and normalisation are of :meth:`model_values`, while ``raw``,
        baselines and every metric stay in original units (:meth:`to_original`). With a lag
        (``diff``, ``seasonal_diff``) the first window starts at row ``lag``.
    """

    x_axis: np.ndarray
    x_label: str
    raw: np.ndarray
    test: HeldOut | None = None
    future: FutureInputs | None = None

    @property
    def input_size(self) -> int:
        """Number of input columns ``C``."""
        return int(self.raw.shape[1])

    def forecast_inputs(self, n: int) -> tuple[np.ndarray, np.ndarray]:
        """The extra inputs of the ``n`` rows after ``raw``, ``(n, C - 1)``, and which of them were
        supplied ``(n,)``: the known future values where there are some (after the test period,
        whose rows stay unread), the last row's held everywhere else (after supplied ones, the
        last supplied)."""
        held = np.asarray(self.raw, dtype=np.float64)[-1, 1:]
        extras = np.tile(held, (n, 1))
        supplied = np.zeros(n, dtype=bool)
        if self.future is not None:
            start = self.test.length if self.test is not None else 0
            values = np.asarray(self.future.values, dtype=np.float64)
            k = max(0, min(n - start, len(values)))
            if k:
                extras[start : start + k] = values[:k]
                extras[start + k :] = values[k - 1]
                supplied[start : start + k] = True
        return extras, supplied

    @property
    def forecastable(self) -> bool:
        """A prediction is the next row of the target column, so it can be fed back (a forecast)."""
        return True

    @property
    def reference_baseline(self) -> tuple[str, str]:
        """``(name, key in baselines)`` of the baseline the headline RMSE is compared with."""
        return "persistence", "persistence_rmse"


@dataclass(frozen=True, kw_only=True, eq=False)
class MemoryDataset(RegressionWindows):
    """Many-to-one regression on generated windows that are independent, each with its own target.

    The memory tasks of :mod:`rnn_core.data.memory`: the windows are not cut from one series and a
    target is not the row after its window, so there is nothing to forecast beyond the data. The
    attributes a :class:`SeriesDataset` shares with this type mean the same to the series task
    (:class:`rnn_core.tasks.series.SeriesTask`), which trains both alike: ``raw[idx, 0]`` is the
    target of the window ``idx`` in original units and ``x_axis[idx]`` its place in charts, here
    the window's number.

    Attributes
    ----------
    task : str
        ``"echo"`` or ``"adding"``.
    name : str
        ``"echo (k=30)"`` or ``"adding problem"``.
    columns : list[str]
        The input columns (``signal``; ``value, marker``).
    lag : int or None
        Echo's ``k``; None for the adding problem.
    inputs : ndarray, shape (T, N, C)
        Every window in original units (read-only), training windows first.
    targets : ndarray, shape (N,)
        Each window's target in original units.
    x_axis : ndarray, shape (N,)
        Window numbers ``0 .. N-1`` as floats; ``x_label`` is ``"window"``.
    seq_len : int
        Window length ``T``.
    train_X, val_X : ndarray, shape (T, B, C)
        Normalised windows, read-only views of one normalised copy of ``inputs``.
    train_y, val_y : ndarray, shape (B, 1)
        Normalised targets.
    train_idx, val_idx : ndarray, shape (B,)
        Window numbers: ``0 .. n_train-1`` and ``n_train .. N-1``.
    input_shift, input_scale : ndarray, shape (C,)
        ``inputs = normalised * scale + shift``; statistics of every row of the training windows.
    target_shift, target_scale : float
        The same for the targets, from the training targets (a target is not an input row here,
        so it gets statistics of its own).
    baselines : dict[str, float]
        ``mean_rmse, mean_mae`` (the training targets' mean) and, for the adding problem,
        ``constant_rmse, constant_mae`` (the expected sum, 1), on the validation windows.
    report : dict
        ``rows`` (windows), ``generator`` (the settings), ``split`` and ``notes``.
    """

    task: str
    lag: int | None = None
    inputs: np.ndarray
    targets: np.ndarray
    x_axis: np.ndarray
    x_label: str = "window"

    @property
    def raw(self) -> np.ndarray:
        """``(N, 1)``: one row per window holding its target, read as a series' target column is."""
        return self.targets[:, None]

    @property
    def input_size(self) -> int:
        return int(self.inputs.shape[2])

    @property
    def forecastable(self) -> bool:
        """Windows are independent and a target is not a next row: nothing can be fed back."""
        return False

    @property
    def reference_baseline(self) -> tuple[str, str]:
        """``(name, key in baselines)`` of the baseline the headline RMSE is compared with."""
        if self.task == "adding":
            return "constant 1", "constant_rmse"
        return "mean", "mean_rmse"


@dataclass(frozen=True, kw_only=True, eq=False)
class TextDataset:
    """Characters as integer ids, split by position into a training and a validation stream.

    Attributes
    ----------
    vocab : list[str]
        Id -> character, sorted by code point; when the vocabulary is capped the unknown bucket
        ``'\\ufffd'`` comes last.
    counts : dict[str, int]
        Occurrences of each vocabulary entry in the whole (processed) text.
    train_ids : ndarray, shape (Ntr,)
        int64 ids of the first part of the text.
    val_ids : ndarray, shape (Nva,)
        int64 ids of the rest.
    baselines : dict[str, float]
        ``unigram_bpc, bigram_bpc``: bits per validation character of add-one smoothed n-gram
        models fitted on the training stream.
    report : dict
        ``chars, undecodable, lowercased, unknown, notes``.
    """

    kind: str = "text"
    name: str
    vocab: list[str]
    counts: dict[str, int]
    train_ids: np.ndarray
    val_ids: np.ndarray
    seq_len: int
    baselines: dict[str, float] = field(default_factory=dict)
    report: dict = field(default_factory=dict)

    @property
    def vocab_size(self) -> int:
        return len(self.vocab)

    @property
    def input_size(self) -> int:
        return len(self.vocab)

    @property
    def unknown_id(self) -> int | None:
        """Id of the unknown bucket, or None when the vocabulary was not capped."""
        if self.report.get("capped") and self.vocab and self.vocab[-1] == UNKNOWN_CHAR:
            return len(self.vocab) - 1
        return None

    def encode(self, text: str) -> np.ndarray:
        """Characters -> int64 ids ``(len(text),)``, lowercasing first if the dataset did.

        Characters outside the vocabulary go to the unknown bucket when there is one; otherwise
        they are a :class:`PlaygroundError` naming them.
        """
        if self.report.get("lowercased"):
            text = text.lower()
        index = {c: i for i, c in enumerate(self.vocab)}
        unknown = self.unknown_id
        ids = np.empty(len(text), dtype=np.int64)
        missing: list[str] = []
        for k, ch in enumerate(text):
            i = index.get(ch, unknown)
            if i is None:
                if ch not in missing:
                    missing.append(ch)
                i = 0
            ids[k] = i
        if missing:
            shown = ", ".join(repr(c) for c in missing[:10])
            raise PlaygroundError(
                f"text contains characters not in the vocabulary: {shown}; remove them or "
                "rebuild the dataset with a vocabulary cap (unknown bucket)"
            )
        return ids

    def decode(self, ids) -> str:
        """Ids (any iterable of ints) -> string."""
        arr = np.asarray(ids, dtype=np.int64).ravel()
        if arr.size and (arr.min() < 0 or arr.max() >= len(self.vocab)):
            lo, hi = int(arr.min()), int(arr.max())
            raise PlaygroundError(f"character ids must be from 0 to {len(self.vocab) - 1}; got {lo}..{hi}")
        return "".join(self.vocab[i] for i in arr.tolist())
