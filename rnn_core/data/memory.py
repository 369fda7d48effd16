"""Generated memory tasks: independent windows whose target lies far back inside the window.

Each task is ``N`` windows of ``T = seq_len`` steps with a target of their own, drawn from
``np.random.default_rng(seed)`` (the same seed and settings give the same windows):

- **echo** with lag ``k`` (``1 <= k <= T - 1``): the input is white noise ``x_t ~ N(0, 1)`` in one
  column, ``signal``; the target is ``x[T - 1 - k]``, the value ``k`` steps before the window's
  last step. ``k = 0`` would be the last input itself (no memory at all), ``k = T - 1`` is the
  first. A network must carry one number across ``k`` steps of noise.
- **adding problem** (after Hochreiter & Schmidhuber's LSTM paper, in its usual later form): two
  columns, ``value`` uniform in [0, 1) and ``marker``, which is 1 at exactly two steps, one in the
  first half ``0 .. T//2 - 1`` and one in the second ``T//2 .. T - 1``, and 0 elsewhere. The target
  is the sum of the two marked values. Predicting the expected sum, 1, scores an MSE of 1/6 (the
  variance of a sum of two uniform values), about 0.167: a model that cannot reach back to the
  first marker stays there.

Draws, in this order: echo ``standard_normal((N, T))``; adding ``random((N, T))`` for the values,
then ``integers(0, T//2, N)`` and ``integers(T//2, T, N)`` for the markers.

Splitting and normalising follow :mod:`rnn_core.data.windows` as far as it applies: the first
``n_train`` windows train and the rest validate (:func:`~rnn_core.data.windows.split_counts`,
20% validation by default, so the default 2,500 windows give 2,000 and 500); the inputs are
normalised per column with the mean and standard deviation of every row of the training windows
(:func:`~rnn_core.data.windows.normalisation_stats`, a constant column keeps scale 1). A target is
not an input row here, so the targets are normalised with the training targets' own statistics.

Specs for :func:`rnn_core.data.load_dataset` (the command line's ``--data``), parsed by
:func:`parse_memory_spec`: ``echo`` (k = 30), ``echo:K``, ``adding``, and after the colon any of
``k=K``, ``seed=S``, ``windows=N`` separated by commas: ``echo:30,seed=2``, ``adding:windows=5000``.
"""

from __future__ import annotations

import numpy as np

from rnn_core.data.baselines import memory_baselines
from rnn_core.data.datasets import MemoryDataset
from rnn_core.data.windows import check_seq_len, normalisation_stats, split_counts
from rnn_core.errors import PlaygroundError

MEMORY_TASKS: dict[str, str] = {"echo": "echo task", "adding": "adding problem"}
"""Task name -> what it is called in messages and labels."""

DEFAULT_LAG = 30
DEFAULT_WINDOWS = 2500
MAX_SEED = 2**32 - 1
MAX_VALUES = 5_000_000
"""Most input steps (windows × sequence length) generated, so a dataset stays within tens of MB."""

ADDING_EXPECTED_SUM = 1.0
"""The mean of the adding problem's target: two values uniform in [0, 1), 1/2 each."""


def _whole(what: str, value, lo: int, hi: int, hint: str = "") -> int:
    ok = isinstance(value, (int, np.integer)) and not isinstance(value, bool)
    if not ok or not lo <= value <= hi:
        raise PlaygroundError(f"{what} must be a whole number from {lo:,} to {hi:,}{hint}; got {value!r}")
    return int(value)


def check_lag(k, seq_len: int) -> int:
    """Echo's lag as int, or a PlaygroundError saying how it fits the window."""
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)):
        raise PlaygroundError(f"echo lag k must be a whole number such as 30 (echo:30); got {k!r}")
    if k < 1:
        raise PlaygroundError(
            f"echo lag k must be at least 1 (k = 0 would echo the last input, which needs no memory); got {k}"
        )
    if k > seq_len - 1:
        raise PlaygroundError(
            f"echo lag k = {k} does not fit in windows of {seq_len} steps (sequence length {seq_len}): "
            f"k can be at most {seq_len - 1}; raise the sequence length or lower k"
        )
    return int(k)


def echo_windows(n: int, seq_len: int, k: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """White-noise windows ``(n, T, 1)`` and their targets ``x[T - 1 - k]``, ``(n,)``."""
    x = rng.standard_normal((n, seq_len))  # (N, T)
    return x[:, :, None], x[:, seq_len - 1 - k].copy()


def adding_windows(n: int, seq_len: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Adding-problem windows ``(n, T, 2)`` (value, marker) and their targets, ``(n,)``."""
    values = rng.random((n, seq_len))  # (N, T)
    half = seq_len // 2
    first = rng.integers(0, half, n)
    second = rng.integers(half, seq_len, n)
    rows = np.arange(n)
    marker = np.zeros((n, seq_len))
    marker[rows, first] = 1.0
    marker[rows, second] = 1.0
    return np.stack([values, marker], axis=2), values[rows, first] + values[rows, second]


def memory_dataset(
    task: str,
    *,
    seq_len: int = 50,
    k: int | None = None,
    windows: int = DEFAULT_WINDOWS,
    seed: int = 0,
    n_train: int | None = None,
    val_fraction: float = 0.2,
    name: str | None = None,
) -> MemoryDataset:
    """The echo task (lag ``k``, default 30) or the adding problem as a :class:`MemoryDataset`.

    Parameters
    ----------
    task : {"echo", "adding"}
    seq_len : int
        Window length ``T`` (at least 2; echo needs ``k < T``).
    k : int, optional
        Echo's lag; only for echo.
    windows : int
        Windows generated, training and validation together (at least 2).
    seed : int
        Seed of the generator.
    n_train, val_fraction
        The split, as for every series (:func:`rnn_core.data.windows.split_counts`).
    """
    if task not in MEMORY_TASKS:
        raise PlaygroundError(f"unknown memory task {task!r}; tasks: {', '.join(MEMORY_TASKS)}")
    seq_len = check_seq_len(seq_len)
    if seq_len < 2:
        raise PlaygroundError(
            f"a memory task needs windows of at least 2 steps; the sequence length is {seq_len}"
        )
    windows = _whole("the number of windows", windows, 2, MAX_VALUES // 2)
    if windows * seq_len > MAX_VALUES:
        raise PlaygroundError(
            f"{windows:,} windows of {seq_len} steps are {windows * seq_len:,} input steps, over the "
            f"{MAX_VALUES:,} limit: use fewer windows or a shorter sequence length"
        )
    seed = _whole("the memory task's seed", seed, 0, MAX_SEED)
    n_tr, n_va = split_counts(windows, n_train=n_train, val_fraction=val_fraction)
    rng = np.random.default_rng(seed)
    if task == "echo":
        k = check_lag(DEFAULT_LAG if k is None else k, seq_len)
        inputs, targets = echo_windows(windows, seq_len, k, rng)  # (N, T, 1), (N,)
        columns, constant = ["signal"], None
        label = name or f"echo (k={k})"
        what = f"the signal {k} steps before each window's last step"
    else:
        if k is not None:
            raise PlaygroundError("the lag k only applies to the echo task; remove it for the adding problem")
        inputs, targets = adding_windows(windows, seq_len, rng)  # (N, T, 2), (N,)
        columns, constant = ["value", "marker"], ADDING_EXPECTED_SUM
        label = name or "adding problem"
        what = "the sum of the two marked values (predicting 1 scores an MSE of about 0.167)"

    c = inputs.shape[2]
    shift, scale, flat = normalisation_stats(inputs[:n_tr].reshape(-1, c), n_tr * seq_len - 1)
    target_stats = normalisation_stats(targets[:n_tr, None], n_tr - 1)
    target_shift, target_scale = float(target_stats[0][0]), float(target_stats[1][0])
    raw_windows = np.ascontiguousarray(inputs.transpose(1, 0, 2))  # (T, N, C)
    raw_windows.setflags(write=False)
    norm = (raw_windows - shift) / scale  # (T, N, C)
    norm.setflags(write=False)
    y = ((targets - target_shift) / target_scale)[:, None]  # (N, 1)
    targets.setflags(write=False)

    notes = [f"target: {what}"]
    notes += [f"column '{columns[i]}' is constant over the training windows; it is not scaled" for i in flat]
    report = {
        "rows": windows,
        "windows": windows,
        "task": task,
        "generator": {"task": task, "k": k, "windows": windows, "seed": seed},
        "notes": notes,
        "split": f"{n_tr} training and {n_va} validation windows of {seq_len} steps; "
        "normalised with the training windows",
    }
    return MemoryDataset(
        task=task,
        name=label,
        columns=columns,
        lag=k,
        inputs=raw_windows,
        targets=targets,
        x_axis=np.arange(windows, dtype=np.float64),
        seq_len=seq_len,
        train_X=norm[:, :n_tr],
        train_y=y[:n_tr],
        val_X=norm[:, n_tr:],
        val_y=y[n_tr:],
        train_idx=np.arange(n_tr, dtype=np.int64),
        val_idx=np.arange(n_tr, windows, dtype=np.int64),
        input_shift=shift,
        input_scale=scale,
        target_shift=target_shift,
        target_scale=target_scale,
        baselines=memory_baselines(targets[:n_tr], targets[n_tr:], constant=constant),
        report=report,
    )


def parse_memory_spec(spec: str) -> tuple[str, dict[str, int]] | None:
    """``(task, options)`` of a memory-task spec (see the module docstring), or None when ``spec``
    names no memory task. A spec that names one but is malformed is a PlaygroundError."""
    head, _, tail = spec.strip().partition(":")
    task = head.strip().lower()
    if task not in MEMORY_TASKS:
        return None
    options: dict[str, int] = {}
    items = [item.strip() for item in tail.split(",")] if tail.strip() else []
    for position, item in enumerate(items):
        key, equals, value = item.partition("=")
        key = key.strip().lower()
        if not equals:  # a bare number: echo's lag, first
            key, value = ("k", item) if task == "echo" and position == 0 else ("", item)
        if key not in ("k", "seed", "windows") or (key == "k" and task != "echo"):
            allowed = "k=K, seed=S, windows=N" if task == "echo" else "seed=S, windows=N"
            raise PlaygroundError(
                f"'{item}' is not an option of the {MEMORY_TASKS[task]} ({spec.strip()!r}); "
                f"options: {allowed}"
            )
        if key in options:
            raise PlaygroundError(f"{key} is given twice in {spec.strip()!r}")
        try:
            options[key] = int(value.strip())
        except ValueError:
            what = "echo lag k" if key == "k" else key
            raise PlaygroundError(
                f"{what} must be a whole number (e.g. echo:30 or adding:seed=1); got {value.strip()!r}"
            ) from None
    return task, options
