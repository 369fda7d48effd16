"""Training history: per-step metrics and periodic evaluations as growing columns.

The dashboard appends a row on every optimizer step (thousands per minute) and redraws
the loss curve a few times a second, so rows go into preallocated float64 arrays that
double in size when full (amortised O(1) per row, no list of dicts), and charts read a
downsampled view. Booleans are stored as 0.0/1.0; a value missing from a row is NaN.
"""

from __future__ import annotations

import io
import math
from collections.abc import Iterable, Mapping

import numpy as np

STEP_COLUMNS = (
    "step",
    "epoch",
    "loss",
    "grad_norm",
    "clipped",
    "clip_scale",
    "update_ratio",
    "seconds",
    "lr",
    "hidden_max",
    "rejected",
    "diverged",
)
"""Columns every step row has; per-parameter gradient norms are added as ``grad_norm/<name>``.

A row is one attempted step: ``rejected`` marks the attempts whose update was thrown away (they
share their ``step`` number with the accepted step that follows), ``diverged`` is the trainer's
flag, which stays up from the first unhealthy step until a roll-back cuts the rows after it."""

GRAD_NORM_PREFIX = "grad_norm/"

MAX_STEP_ROWS, MAX_EVAL_ROWS = 40_000, 4_000
"""Rows a history keeps at most (see :meth:`Table.append`): about 8 MB of step rows for a
three-layer model, however long it trains. Beyond, older rows are thinned, and the history CSV
then holds every step of the recent past and every 2nd, 4th, ... step before it."""


class Table:
    """Columns of float64 values sharing one row count, grown by doubling.

    Parameters
    ----------
    columns : iterable of str
        Initial column names. Unknown names met in :meth:`append` become new columns,
        NaN in the earlier rows.
    capacity : int
        Rows preallocated before the first doubling.
    """

    def __init__(self, columns: Iterable[str] = (), capacity: int = 256, max_rows: int | None = None) -> None:
        self.max_rows = max_rows
        self._capacity = max(int(capacity), 1)
        self._n = 0
        self._data: dict[str, np.ndarray] = {}
        for name in columns:
            self._add_column(name)

    def _add_column(self, name: str) -> None:
        self._data[name] = np.full(self._capacity, np.nan)

    def _grow(self) -> None:
        self._capacity *= 2
        for name, old in self._data.items():
            new = np.full(self._capacity, np.nan)
            new[: self._n] = old[: self._n]
            self._data[name] = new

    def append(self, row: Mapping[str, float]) -> None:
        """Add one row; columns absent from ``row`` get NaN, new names become columns.

        At ``max_rows`` rows the older half is thinned to every other row first, so a long run's
        history stays within a fixed size: recent rows at full resolution, older ones coarser.
        """
        if self.max_rows is not None and self._n >= self.max_rows:
            self.thin()
        if self._n == self._capacity:
            self._grow()
        for name, value in row.items():
            if name not in self._data:
                self._add_column(name)
            self._data[name][self._n] = float(value) if value is not None else math.nan
        self._n += 1

    def __len__(self) -> int:
        return self._n

    @property
    def columns(self) -> list[str]:
        """Column names in the order they first appeared."""
        return list(self._data)

    def __contains__(self, name: object) -> bool:
        return name in self._data

    def __getitem__(self, name: str) -> np.ndarray:
        """Read-only view of one column's filled rows, shape ``(len(self),)``."""
        if name not in self._data:
            raise KeyError(f"no history column {name!r}; columns: {', '.join(self._data)}")
        view = self._data[name][: self._n]
        view.flags.writeable = False
        return view

    def last(self) -> dict[str, float]:
        """The most recent row as a dict (empty if there are no rows)."""
        if self._n == 0:
            return {}
        return {name: float(col[self._n - 1]) for name, col in self._data.items()}

    def thin(self) -> None:
        """Keep every other row of the older half of the rows, and every row of the newer half."""
        half = self._n // 2
        keep = np.concatenate([np.arange(0, half, 2), np.arange(half, self._n)])
        for col in self._data.values():
            kept = col[keep]
            col[: len(keep)] = kept
            col[len(keep) : self._n] = np.nan
        self._n = len(keep)

    def truncate(self, n: int) -> None:
        """Forget rows from index ``n`` on (used when a trainer restores a snapshot)."""
        n = max(0, min(int(n), self._n))
        for col in self._data.values():
            col[n : self._n] = np.nan
        self._n = n

    def copy(self) -> Table:
        """Deep copy holding only the filled rows (plus doubling headroom)."""
        out = Table(capacity=max(self._n, 1) * 2, max_rows=self.max_rows)
        out._n = self._n
        for name, col in self._data.items():
            new = np.full(out._capacity, np.nan)
            new[: self._n] = col[: self._n]
            out._data[name] = new
        return out


def downsample_indices(n_rows: int, n: int) -> np.ndarray:
    """At most ``n`` evenly spaced row indices that always include the first and last row.

    Parameters
    ----------
    n_rows : int
        Number of rows available.
    n : int
        Maximum number of indices to return (values below 2 are treated as 2).

    Returns
    -------
    ndarray of int64, shape (min(n_rows, n),), strictly increasing.
    """
    if n_rows <= 0:
        return np.zeros(0, dtype=np.int64)
    n = max(int(n), 2)
    if n_rows <= n:
        return np.arange(n_rows, dtype=np.int64)
    # Rounded linspace is strictly increasing here because the spacing (n_rows-1)/(n-1) > 1.
    return np.round(np.linspace(0, n_rows - 1, n)).astype(np.int64)


class History:
    """Per-step training metrics and periodic evaluations of one trainer.

    ``steps`` holds one row per :meth:`~rnn_core.trainer.Trainer.step` with the columns of
    :data:`STEP_COLUMNS` plus ``grad_norm/<param name>``; ``evals`` holds one row per
    evaluation with ``step`` and whatever metrics the evaluation produced (``train_loss``,
    ``val_loss``, ``val_rmse`` or ``val_bpc``, ...).

    ``history["loss"]`` reads a step column, ``history.evals["val_loss"]`` an eval column.
    """

    def __init__(self, capacity: int = 256) -> None:
        self.steps = Table(STEP_COLUMNS, capacity, max_rows=MAX_STEP_ROWS)
        self.evals = Table(("step",), 64, max_rows=MAX_EVAL_ROWS)

    def record_step(self, metrics: Mapping[str, object]) -> None:
        """Append one step row from a :meth:`Trainer.step` result.

        Scalar entries named in :data:`STEP_COLUMNS` are stored; the ``grad_norms`` mapping is
        spread into ``grad_norm/<name>`` columns. Other keys are ignored.
        """
        row: dict[str, float] = {}
        for name in STEP_COLUMNS:
            if name in metrics:
                row[name] = float(metrics[name])  # type: ignore[arg-type]
        for pname, value in dict(metrics.get("grad_norms", {})).items():  # type: ignore[call-overload]
            row[GRAD_NORM_PREFIX + pname] = float(value)
        self.steps.append(row)

    def record_eval(self, step: int, metrics: Mapping[str, object]) -> None:
        """Append one evaluation row: the numeric and boolean entries of ``metrics`` at ``step``.

        Booleans (such as ``val_estimate``) become 0.0/1.0; nested mappings (such as
        ``baselines``) and other values are skipped.
        """
        row: dict[str, float] = {"step": float(step)}
        for name, value in metrics.items():
            if isinstance(value, (int, float, bool, np.floating, np.integer, np.bool_)):
                row[name] = float(value)
        self.evals.append(row)

    def __len__(self) -> int:
        return len(self.steps)

    def __getitem__(self, name: str) -> np.ndarray:
        return self.steps[name]

    @property
    def grad_norm_columns(self) -> list[str]:
        """Names of the per-parameter gradient norm columns, e.g. ``grad_norm/rnn.weight_hh_l0``."""
        return [c for c in self.steps.columns if c.startswith(GRAD_NORM_PREFIX)]

    def downsample(self, n: int = 400, columns: Iterable[str] | None = None) -> dict[str, np.ndarray]:
        """At most ``n`` evenly spaced step rows, always keeping the first and the last.

        Parameters
        ----------
        n : int
            Maximum number of points per column (a few hundred keeps chart payloads small).
        columns : iterable of str, optional
            Step columns to return; default all.

        Returns
        -------
        dict mapping column name to an array of shape ``(min(len(self), n),)``; ``"step"`` is
        always included so the points can be placed on the x-axis.
        """
        names = list(self.steps.columns if columns is None else columns)
        if "step" not in names:
            names.insert(0, "step")
        idx = downsample_indices(len(self.steps), n)
        return {name: np.array(self.steps[name][idx]) for name in names}

    def curves(self, n: int) -> dict:
        """What the loss and gradient charts draw: at most ``n`` rows of the steps and of the
        evaluations, and the names of the gradient norm columns."""
        idx = downsample_indices(len(self.evals), n)
        evals = {c: self.evals[c][idx].copy() for c in self.evals.columns}
        return {"steps": self.downsample(n), "evals": evals, "grad_norm_columns": self.grad_norm_columns}

    def to_csv(self) -> str:
        """The whole history as CSV text, one line per step.

        Evaluation columns are joined onto the step row with the same ``step``; an evaluation
        taken before any step (step 0) gets a line of its own. Empty cells mean "not measured".
        """
        step_cols = self.steps.columns
        eval_cols = [c for c in self.evals.columns if c != "step"]
        header = step_cols + [f"eval_{c}" if c in step_cols else c for c in eval_cols]
        steps = self.steps["step"]
        eval_steps = self.evals["step"]
        # Later evaluations at the same step overwrite earlier ones: the latest is the truest.
        eval_at: dict[float, int] = {float(s): i for i, s in enumerate(eval_steps)}
        step_set = {float(s) for s in steps}
        buf = io.StringIO()
        buf.write(",".join(header) + "\n")

        def fmt(v: float) -> str:
            return "" if math.isnan(v) else repr(float(v)) if not float(v).is_integer() else str(int(v))

        def eval_only(s: float, i: int) -> None:
            cells = ["" for _ in step_cols]
            cells[step_cols.index("step")] = fmt(s)
            cells += [fmt(self.evals[c][i]) for c in eval_cols]
            buf.write(",".join(cells) + "\n")

        # Evaluations at a step with no step row (e.g. step 0, before training) get own lines,
        # placed in step order.
        pending = sorted((s, i) for s, i in eval_at.items() if s not in step_set)
        k = 0
        for r in range(len(self.steps)):
            while k < len(pending) and pending[k][0] < steps[r]:
                eval_only(*pending[k])
                k += 1
            cells = [fmt(self.steps[c][r]) for c in step_cols]
            i = eval_at.get(float(steps[r]))
            cells += [fmt(self.evals[c][i]) if i is not None else "" for c in eval_cols]
            buf.write(",".join(cells) + "\n")
        for item in pending[k:]:
            eval_only(*item)
        return buf.getvalue()

    def copy(self) -> History:
        """Deep copy (snapshots keep one so a restore also rewinds the curves)."""
        out = History.__new__(History)
        out.steps = self.steps.copy()
        out.evals = self.evals.copy()
        return out

    def truncate_to_step(self, step: int) -> None:
        """Drop step and evaluation rows recorded after ``step``."""
        self.steps.truncate(int(np.searchsorted(self.steps["step"], step, side="right")))
        self.evals.truncate(int(np.searchsorted(self.evals["step"], step, side="right")))
