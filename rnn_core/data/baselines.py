"""Naive predictors scored next to every metric, so a user can tell whether the RNN learned anything.

Regression (validation windows, original units):

- persistence: the window's last target value, ``y_hat[t] = raw[t-1, 0]``;
- mean: the mean of the training targets ``raw[train_idx, 0]``;
- linear: a linear autoregression on the same window, ``y_hat = w . vec(window) + b`` over all
  input columns, fitted by least squares on the training windows (normal equations in the
  normalised units, accumulated in chunks so long series need no design-matrix copy). When the
  Gram matrix is (numerically) rank-deficient -- a clean sine spans only two directions -- a small
  ridge ``1e-8 * trace / p`` makes the solve well-posed.

Memory tasks (validation windows, original units; a window's target is not a row of a series, so
persistence and the linear autoregression do not apply):

- mean: the mean of the training targets (its MSE is about the targets' variance);
- constant: the task's expected target, where it has one worth naming: 1 for the adding problem,
  whose two uniform values sum to 1 on average (MSE about 1/6, the variance of that sum).

Text (bits per validation character, add-one smoothing fitted on the training stream):

- unigram: ``p(c) = (n(c) + 1) / (N + V)``;
- bigram: ``p(c | a) = (n(a, c) + 1) / (n(a, .) + V)`` where ``n(a, .)`` counts training bigrams
  starting with ``a``. Every validation character is scored; the first one is conditioned on the
  last training character, since the two streams are contiguous in the source text.
"""

from __future__ import annotations

import numpy as np
from threadpoolctl import threadpool_limits

_CHUNK = 8192  # windows per chunk when accumulating the normal equations


def _rmse_mae(pred: np.ndarray, actual: np.ndarray) -> tuple[float, float]:
    err = pred - actual
    return float(np.sqrt(np.mean(err * err))), float(np.mean(np.abs(err)))


def fit_linear_ar(X: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, bool]:
    """Least-squares weights for ``y ~ vec(window) @ w[:-1] + w[-1]``.

    Parameters
    ----------
    X : ndarray, shape (T, B, C)
        Training windows (normalised).
    y : ndarray, shape (B,) or (B, 1)
        Training targets (normalised).

    Returns
    -------
    w : ndarray, shape (T * C + 1,)
        Weights over the flattened window (time-major, then column) followed by the bias.
    ridged : bool
        True when a ridge was added because the Gram matrix was rank-deficient.
    """
    T, B, C = X.shape
    p = T * C + 1
    gram = np.zeros((p, p))
    rhs = np.zeros(p)
    yv = np.asarray(y, dtype=np.float64).reshape(B)
    # one BLAS thread: these small products run several times faster than with threads that
    # spin-wait on a shared 2-core machine
    with threadpool_limits(1):
        for s in range(0, B, _CHUNK):
            a = _design(X[:, s : s + _CHUNK])  # (b, p)
            gram += a.T @ a
            rhs += a.T @ yv[s : s + _CHUNK]
    eig = np.linalg.eigvalsh(gram)
    top = float(eig[-1]) if eig.size else 0.0
    ridged = bool(eig[0] <= 1e-10 * max(top, 1e-300))
    if ridged:
        gram = gram + np.eye(p) * (1e-8 * max(float(np.trace(gram)) / p, 1e-12))
    return np.linalg.solve(gram, rhs), ridged


def _design(X: np.ndarray) -> np.ndarray:
    """``(T, b, C)`` windows -> ``(b, T*C + 1)`` rows of flattened window plus a 1 for the bias."""
    T, b, C = X.shape
    flat = np.ascontiguousarray(np.transpose(X, (1, 0, 2))).reshape(b, T * C)
    return np.hstack([flat, np.ones((b, 1))])


def predict_linear_ar(w: np.ndarray, X: np.ndarray) -> np.ndarray:
    """Apply :func:`fit_linear_ar` weights to windows ``(T, B, C)`` -> ``(B,)``."""
    out = np.empty(X.shape[1])
    for s in range(0, X.shape[1], _CHUNK):
        out[s : s + _CHUNK] = _design(X[:, s : s + _CHUNK]) @ w
    return out


def regression_baselines(
    raw: np.ndarray,
    train_idx: np.ndarray,
    val_idx: np.ndarray,
    train_X: np.ndarray,
    train_y: np.ndarray,
    val_X: np.ndarray,
    target_shift: float,
    target_scale: float,
) -> tuple[dict[str, float], bool]:
    """Persistence, training-mean and linear-AR errors on the validation windows, original units.

    Returns the baselines dict and whether the linear fit needed a ridge.
    """
    actual = raw[val_idx, 0]
    persistence = raw[val_idx - 1, 0]
    mean = np.full_like(actual, raw[train_idx, 0].mean())
    w, ridged = fit_linear_ar(train_X, train_y)
    linear = predict_linear_ar(w, val_X) * target_scale + target_shift
    out: dict[str, float] = {}
    for key, pred in (("persistence", persistence), ("mean", mean), ("linear", linear)):
        out[f"{key}_rmse"], out[f"{key}_mae"] = _rmse_mae(pred, actual)
    return out, ridged


def memory_baselines(
    train_targets: np.ndarray, val_targets: np.ndarray, *, constant: float | None = None
) -> dict[str, float]:
    """Training-mean (and, with ``constant``, constant) errors on the validation targets ``(Bva,)``."""
    actual = np.asarray(val_targets, dtype=np.float64)
    out: dict[str, float] = {}
    preds = {"mean": float(np.mean(train_targets))}
    if constant is not None:
        preds["constant"] = float(constant)
    for key, value in preds.items():
        out[f"{key}_rmse"], out[f"{key}_mae"] = _rmse_mae(np.full_like(actual, value), actual)
    return out


def ngram_bpc(train_ids: np.ndarray, val_ids: np.ndarray, vocab_size: int) -> dict[str, float]:
    """Unigram and bigram bits per validation character with add-one smoothing (see module doc)."""
    V = int(vocab_size)
    tr = np.asarray(train_ids, dtype=np.int64)
    va = np.asarray(val_ids, dtype=np.int64)
    if va.size == 0:
        return {"unigram_bpc": float("nan"), "bigram_bpc": float("nan")}
    uni = np.bincount(tr, minlength=V).astype(np.float64)
    p_uni = (uni[va] + 1.0) / (tr.size + V)
    # bigram counts kept sparse (codes prev * V + cur), as a large vocabulary would make V x V huge
    codes, pair_counts = np.unique(tr[:-1] * V + tr[1:], return_counts=True)
    starts = np.bincount(tr[:-1], minlength=V).astype(np.float64)
    # the first validation character follows the last training one in the source text
    prev = np.concatenate([tr[-1:], va[:-1]]) if tr.size else va[:-1]
    cur = va if tr.size else va[1:]
    query = prev * V + cur
    pos = np.clip(np.searchsorted(codes, query), 0, max(codes.size - 1, 0))
    hit = codes[pos] == query if codes.size else np.zeros(query.shape, dtype=bool)
    n_pair = np.where(hit, pair_counts[pos] if codes.size else 0, 0).astype(np.float64)
    p_bi = (n_pair + 1.0) / (starts[prev] + V)
    # 0.0 - x rather than -x: a one-character vocabulary scores 0 bits, not "-0.0"
    return {
        "unigram_bpc": 0.0 - float(np.mean(np.log2(p_uni))),
        "bigram_bpc": 0.0 - float(np.mean(np.log2(p_bi))) if p_bi.size else float("nan"),
    }
