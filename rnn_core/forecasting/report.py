"""A series model scored as a practitioner scores a forecaster: closed-loop forecasts of 1..H
steps from every origin of a period, next to the simple methods, with conformal intervals.

Periods (rows of the whole series; see :mod:`rnn_core.data.windows`):

- ``"val"``: origins whose horizon lies inside the validation targets' rows. These residuals
  also calibrate the intervals, so coverage is not reported for them (it would be in-sample).
- ``"test"``: origins whose horizon lies inside the held-out test period
  (:class:`~rnn_core.data.datasets.HeldOut`); the only place the test rows are read. The
  intervals calibrated on the validation period are scored here: empirical coverage against
  the nominal level and the Winkler score.

Every method forecasts from the same origins with the same knowledge (rows up to the origin):
the model and the linear autoregression in a closed loop (extra input columns held at the
origin's value), persistence, seasonal naive, drift and the training mean. MASE divides by the
in-sample seasonal-naive MAE of the training rows, so 1.0 means "as good, on average, as the
seasonal naive method was on the training part".
"""

from __future__ import annotations

from typing import Any

import numpy as np

from rnn_core.data.windows import normalisation_stats
from rnn_core.errors import PlaygroundError
from rnn_core.forecasting.benchmarks import fit_linear_ar_rows, linear_ar_predictor, simple_forecasts
from rnn_core.forecasting.horizon import (
    Predict,
    actuals,
    check_whole,
    closed_loop,
    errors_by_horizon,
    origins_in,
)
from rnn_core.forecasting.intervals import band, conformal_halfwidths, interval_report
from rnn_core.forecasting.metrics import check_level, mase_scale, smape, smape_applies
from rnn_core.forecasting.season import Season, detect_season, season_length

DEFAULT_HORIZON = 12
"""Steps ahead scored by default (a year of monthly data)."""

DEFAULT_LEVEL = 0.8
"""Nominal coverage of the intervals by default."""

MAX_ORIGINS = 1000
"""Most origins scored per period; a longer period is scored on evenly spaced origins."""

MODEL = "RNN"
METHODS = {
    "persistence": "persistence",
    "seasonal_naive": "seasonal naive",
    "drift": "drift",
    "mean": "training mean",
    "linear": "linear AR",
}
"""Display names of the simple methods, by key."""

PERIODS = ("val", "test")


def season_of(dataset: Any) -> Season:
    """The season detected on a series dataset's training rows (dates first, then autocorrelation)."""
    end = int(dataset.train_idx[-1]) + 1
    x = np.asarray(dataset.x_axis)[:end]
    return detect_season(np.asarray(dataset.raw, dtype=np.float64)[:end, 0], dates=x)


def _period(dataset: Any, period: str) -> tuple[np.ndarray, int, int]:
    """The rows a period's forecasts may read ``(N', C)`` and its first and last row."""
    raw = np.asarray(dataset.raw, dtype=np.float64)
    if period == "val":
        return raw, int(dataset.val_idx[0]), int(dataset.val_idx[-1])
    if period == "test":
        test = getattr(dataset, "test", None)
        if test is None:
            raise PlaygroundError(
                "this series has no test period: hold one out (a test fraction above 0) when loading it"
            )
        held, _ = test.rows()
        return np.concatenate([raw, held]), test.start, test.start + test.length - 1
    raise PlaygroundError(f"period must be one of {', '.join(PERIODS)}; got {period!r}")


def _origins(dataset: Any, start: int, end: int, H: int) -> np.ndarray:
    o = origins_in(start, end, H, int(dataset.seq_len))
    if o.size > MAX_ORIGINS:
        o = o[np.unique(np.linspace(0, o.size - 1, MAX_ORIGINS).round().astype(np.int64))]
    return o


def forecasts_from(
    dataset: Any, predict: Predict, raw: np.ndarray, origins: np.ndarray, H: int, season: int
) -> dict[str, np.ndarray]:
    """Every method's ``(B, H)`` forecasts from ``origins``, the model's under :data:`MODEL`."""
    T = int(dataset.seq_len)
    train_end = int(dataset.train_idx[-1])
    kw = {"normalise": dataset.normalise, "to_raw": dataset.to_raw}
    # the model forecasts in its own units (a target transform's), inverted from each origin
    model = closed_loop(predict, dataset.model_values(raw), origins, T, H, **kw)
    out = {MODEL: dataset.to_original(model, origins, raw[:, 0])}
    simple = simple_forecasts(raw[:, 0], origins, H, season=season, train_end=train_end)
    plain = _plain_normaliser(raw, train_end)
    w, _ = fit_linear_ar_rows(raw, 0, train_end, T, normalise=plain.normalise)
    simple["linear"] = closed_loop(linear_ar_predictor(w), raw, origins, T, H, **plain.maps)
    out.update({METHODS[k]: simple[k] for k in METHODS})
    return out


class _Plain:
    """Normalisation of the original series by its training rows, for the linear AR, which
    works on the series as it is whatever the model's transform."""

    def __init__(self, shift: np.ndarray, scale: np.ndarray) -> None:
        self.shift, self.scale = shift, scale
        self.maps = {"normalise": self.normalise, "to_raw": self.to_raw}

    def normalise(self, rows) -> np.ndarray:
        return (np.asarray(rows, dtype=np.float64) - self.shift) / self.scale

    def to_raw(self, y) -> np.ndarray:
        return np.asarray(y, dtype=np.float64) * self.scale[0] + self.shift[0]


def _plain_normaliser(raw: np.ndarray, train_end: int) -> _Plain:
    shift, scale, _ = normalisation_stats(raw, train_end)
    return _Plain(shift, scale)


def evaluate(
    dataset: Any,
    predict: Predict,
    *,
    period: str = "val",
    horizon: int = DEFAULT_HORIZON,
    level: float = DEFAULT_LEVEL,
    season: int | None = None,
) -> dict[str, Any]:
    """Errors by horizon of the model and the simple methods over one period, with intervals.

    Parameters
    ----------
    dataset : SeriesDataset
    predict : callable
        The model: normalised windows ``(T, B, C)`` -> normalised next target ``(B,)``.
    period : {"val", "test"}
        See the module docstring; ``"test"`` reads the held-out rows.
    horizon : int
        ``H``, steps ahead.
    level : float
        Nominal coverage of the intervals, in (0, 1).
    season : int, optional
        ``m``; detected on the training rows when not given.

    Returns
    -------
    dict
        ``period, horizon, level, origins`` (how many), ``season`` (``{"length", "how"}``),
        ``scale`` (``{"value", "season", "note"}``, the MASE denominator), ``errors``
        (``{method: {"mae", "rmse", "mase": ndarray (H,)}}``, the model under ``"RNN"``),
        ``overall`` (``{method: {"mae", "rmse", "mase", "smape"}}`` over every horizon),
        ``smape_note`` (why sMAPE is left out, or None), ``residuals`` (the model's
        ``actual - forecast``, ``(B, H)``), ``halfwidths`` ``(H,)`` (from the
        validation residuals) and ``interval_note``; for ``"test"`` also ``coverage`` (share of
        all values inside the intervals), ``coverage_by_horizon`` ``(H,)``, ``winkler`` and
        ``winkler_by_horizon`` (:func:`~rnn_core.forecasting.intervals.interval_report`).
    """
    H = check_whole("horizon", horizon, 1)
    level = check_level(level)
    found = season_of(dataset) if season is None else Season(season_length(season), f"set: {season}")
    m = found.length
    raw, start, end = _period(dataset, period)
    origins = _origins(dataset, start, end, H)
    actual = actuals(raw[:, 0], origins, H)  # (B, H)
    with np.errstate(over="ignore", invalid="ignore"):
        forecasts = forecasts_from(dataset, predict, raw, origins, H, m)
    train_end = int(dataset.train_idx[-1])
    y_train = raw[: train_end + 1, 0]
    scale = mase_scale(y_train, m)
    errors = errors_by_horizon(actual, forecasts, scale=scale)
    applies, why = smape_applies(y_train)
    overall = {}
    for name, pred in forecasts.items():
        err = pred - actual
        row = {
            "mae": float(np.mean(np.abs(err))),
            "rmse": float(np.sqrt(np.mean(err**2))),
            "mase": float(np.mean(np.abs(err)) / scale.value),
        }
        row["smape"] = float(smape(actual, pred)) if applies else None
        overall[name] = row
    result: dict[str, Any] = {
        "period": period,
        "horizon": H,
        "level": level,
        "origins": int(origins.size),
        "season": {"length": m, "how": found.how},
        "scale": {"value": scale.value, "season": scale.season, "note": scale.note},
        "errors": errors,
        "overall": overall,
        "smape_note": None if applies else why,
    }
    residuals = actual - forecasts[MODEL]
    result["residuals"] = residuals
    if period == "val":
        calib = residuals
    else:
        vraw, vstart, vend = _period(dataset, "val")
        vo = _origins(dataset, vstart, vend, H)
        with np.errstate(over="ignore", invalid="ignore"):
            vpred = closed_loop(predict, dataset.model_values(vraw), vo, int(dataset.seq_len), H,
                                normalise=dataset.normalise, to_raw=dataset.to_raw)  # fmt: skip
            vpred = dataset.to_original(vpred, vo, vraw[:, 0])
        calib = actuals(vraw[:, 0], vo, H) - vpred
    if np.all(np.isfinite(calib)):
        widths = conformal_halfwidths(calib, level)
        result["halfwidths"], result["interval_note"] = widths.halfwidths, widths.note
    else:
        result["halfwidths"] = np.full(H, np.inf)
        result["interval_note"] = "the model's validation forecasts are not finite, so no interval is drawn"
    if period == "test":
        lower, upper = band(forecasts[MODEL], result["halfwidths"])
        scores = interval_report(actual, lower, upper, level)
        result.update(
            {k: scores[k] for k in ("coverage", "coverage_by_horizon", "winkler", "winkler_by_horizon")}
        )
    return result


def forecast_band(values: np.ndarray, halfwidths: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Interval bounds for a forecast of ``n`` steps ``(n,)``: the first ``H`` steps get the
    calibrated half-widths, later steps none (inf), since no horizon that long was calibrated."""
    n = len(values)
    w = np.full(n, np.inf)
    k = min(n, len(halfwidths))
    w[:k] = np.asarray(halfwidths, dtype=np.float64)[:k]
    return band(np.asarray(values, dtype=np.float64), w)
