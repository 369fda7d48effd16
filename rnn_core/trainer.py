"""Step-wise training of a :class:`~rnn_core.network.Network` on a series or a text.

The trainer owns no loop: the dashboard calls :meth:`Trainer.step` as often as its time budget
allows, scripts call :meth:`Trainer.run`, and the command line steps with a learning-rate
schedule (:func:`rnn_core.cli.fit`). Each step draws one minibatch with the
trainer's single seeded ``np.random.Generator`` (the same one that initialised the weights), so
the same seed and settings give bit-identical runs.

Minibatches
-----------
- Regression (window -> next value): the training windows are shuffled once per epoch and cut
  into batches of ``batch_size`` (the last batch of an epoch may be smaller).
- Text, ``"stream"`` mode: the training ids are split into ``batch_size`` contiguous streams that
  are walked in chunks of ``seq_len`` with the hidden state carried from chunk to chunk, as
  Karpathy's char-rnn does; at the end of the streams the walk wraps around to the start and the
  state is reset to zero.
- Text, ``"random"`` mode: independent windows at random offsets, each from a zero state.

Divergence guard
----------------
A step whose loss or gradient is not finite (including a gradient norm that overflows float64),
or whose update would make a weight or the optimizer state non-finite, is rejected: weights and
optimizer state stay as they were, :attr:`Trainer.diverged` becomes True and stays so until a
:meth:`Trainer.restore` of an earlier snapshot (or a new trainer).
"""

from __future__ import annotations

import contextlib
import copy
import dataclasses
import math
import os
import time
from typing import Any, BinaryIO

import numpy as np

from rnn_core import losses
from rnn_core.checkpoint import check_compatible, dataset_meta, load_checkpoint, save_checkpoint
from rnn_core.config import ModelConfig, TrainConfig
from rnn_core.errors import PlaygroundError
from rnn_core.history import History, downsample_indices
from rnn_core.network import Network
from rnn_core.optim import clip_gradients, make_optimizer
from rnn_core.threads import single_thread

LN2 = math.log(2.0)
EVAL_BATCH = 2048  # windows per forward pass when evaluating, bounds memory on long series
MAX_TRAIN_EVAL_WINDOWS = 8192  # train metrics on an evenly spaced subset beyond this
MAX_TRAIN_EVAL_CHARS = 20_000  # train bits/char on the first this many characters
EVAL_STREAMS = 32  # parallel streams when scoring a text split


def _blas_context() -> contextlib.AbstractContextManager[Any]:
    """Single-threaded BLAS for the duration of a call (the engine's measured fastest setting).

    At these sizes a second BLAS thread on a shared 2-core machine mostly waits for a core:
    measured here, the docstrings text trained at 17-106 steps/s with 2 threads against 210-220
    with 1 while other work ran; the sine task was the same either way.
    """
    return single_thread()


def _copy_state(state: Any) -> Any:
    if state is None:
        return None
    if isinstance(state, tuple):
        return tuple(np.array(s, copy=True) for s in state)
    return np.array(state, copy=True)


def _norm(arrays: list[np.ndarray]) -> float:
    """Global L2 norm of several arrays, rescaled when the plain sum of squares would overflow."""
    total = sum(float(np.vdot(a, a)) for a in arrays)
    if math.isfinite(total):
        return math.sqrt(total)
    big = max(float(np.abs(a).max()) for a in arrays if a.size)
    return big * math.sqrt(sum(float(np.vdot(a / big, a / big)) for a in arrays))


def _l2(a: np.ndarray) -> float:
    """L2 norm of one array. float32 squares overflow from 1.8e19 on, so a float32 gradient whose
    norm overflows is measured again in float64 rather than taken for a divergence."""
    norm = math.sqrt(float(np.vdot(a, a)))
    if not math.isfinite(norm) and a.dtype != np.float64:
        a = a.astype(np.float64)
        norm = math.sqrt(float(np.vdot(a, a)))
    return norm


def _update_ratio(new: dict[str, np.ndarray], old: dict[str, np.ndarray]) -> float:
    """||new - old|| / ||old|| over all parameters together."""
    delta = _norm([new[k] - old[k] for k in new])
    return delta / max(_norm(list(old.values())), 1e-12)


def _log_softmax(logits: np.ndarray) -> np.ndarray:
    z = logits - logits.max(axis=-1, keepdims=True)
    return z - np.log(np.exp(z).sum(axis=-1, keepdims=True))


class Trainer:
    """Trains one network on one dataset, one minibatch per :meth:`step`.

    Parameters
    ----------
    dataset : SeriesDataset or TextDataset
        From :mod:`rnn_core.data`.
    model : ModelConfig
        Cell, hidden size, layers, nonlinearity, init, dtype. ``input_size``, ``output_size`` and
        ``head`` are taken from the dataset whatever ``model`` says.
    train : TrainConfig
        Optimizer, learning rate, batch size, clipping, truncation, seed, text mode.

    Attributes
    ----------
    dataset, network, config (the effective ModelConfig), train_config, optimizer,
    rng (the one seeded generator), step_count (steps attempted), epoch (passes over the
    training data, fractional), diverged, history (:class:`~rnn_core.history.History`).
    """

    def __init__(self, dataset: Any, model: ModelConfig, train: TrainConfig | None = None) -> None:
        train = TrainConfig() if train is None else train
        self.dataset = dataset
        self.is_text = getattr(dataset, "kind", "regression") == "text"
        if self.is_text:
            size = int(dataset.vocab_size)
            self.config = dataclasses.replace(model, input_size=size, output_size=size, head="text")
        else:
            self.config = dataclasses.replace(
                model, input_size=int(dataset.input_size), output_size=1, head="regression"
            )
        self.train_config = train
        self.rng = np.random.default_rng(train.seed)
        # Sampling text draws from its own stream so that looking at samples never changes
        # the course of training.
        self.sample_rng = np.random.default_rng([train.seed, 1])
        self.network = Network(self.config, self.rng)
        self.optimizer = make_optimizer(train.optimizer, self.network.params, train.lr, train.momentum)
        self.history = History()
        self.step_count = 0
        self.diverged = False
        self._samples_seen = 0  # training windows (regression) or positions (text) consumed
        self._dtype = np.dtype(self.config.dtype)
        if self.is_text:
            self._init_text()
        else:
            self._init_series()

    @classmethod
    def create(
        cls,
        dataset: Any,
        *,
        cell: str = "rnn",
        hidden_size: int = 32,
        num_layers: int = 1,
        nonlinearity: str = "tanh",
        init: str = "xavier",
        forget_bias: float = 1.0,
        dtype: str = "float64",
        train: TrainConfig | None = None,
    ) -> Trainer:
        """Build a trainer from plain settings; sizes and head come from ``dataset``."""
        model = ModelConfig(
            cell=cell,
            hidden_size=hidden_size,
            num_layers=num_layers,
            nonlinearity=nonlinearity,
            init=init,
            forget_bias=forget_bias,
            dtype=dtype,
        )
        return cls(dataset, model, train)

    # ------------------------------------------------------------------ data walking

    def _init_series(self) -> None:
        ds = self.dataset
        # The dataset's windows are strided views of one array; minibatches are gathered from
        # them (and cast to the model dtype) rather than copying every window up front.
        self._train_X = ds.train_X  # (T, Btr, C)
        self._val_X = ds.val_X  # (T, Bva, C)
        self._train_y = np.asarray(ds.train_y, dtype=self._dtype).reshape(-1, 1)  # (Btr, 1)
        self._val_y = np.asarray(ds.val_y, dtype=self._dtype).reshape(-1, 1)  # (Bva, 1)
        if self._train_X.shape[1] == 0:
            raise PlaygroundError("the data has no training windows; use a longer series or a shorter window")
        self._order: np.ndarray | None = None
        self._pos = 0

    def _init_text(self) -> None:
        ds = self.dataset
        self._train_ids = np.asarray(ds.train_ids, dtype=np.int64)
        self._val_ids = np.asarray(ds.val_ids, dtype=np.int64)
        t = int(ds.seq_len)
        n = len(self._train_ids)
        if n < t + 1:
            raise PlaygroundError(
                f"the training text has {n} characters, fewer than a window of {t} plus 1; "
                "paste a longer text or choose a shorter sequence length"
            )
        # Fewer streams than asked when the text is too short for batch_size full chunks.
        b = max(1, min(self.train_config.batch_size, n // (t + 1)))
        length = n // b
        self._streams = self._train_ids[: b * length].reshape(b, length).T.copy()  # (L, B)
        self._stream_pos = 0
        self._state: Any = None

    def _series_batch(self) -> tuple[np.ndarray, np.ndarray, int]:
        n = self._train_X.shape[1]
        if self._order is None or self._pos >= n:
            self._order = self.rng.permutation(n)
            self._pos = 0
        idx = self._order[self._pos : self._pos + self.train_config.batch_size]
        self._pos += len(idx)
        x = np.asarray(self._train_X[:, idx], dtype=self._dtype)  # (T, B, C)
        return x, self._train_y[idx], len(idx)  # y: (B, 1)

    def _text_batch(self) -> tuple[np.ndarray, np.ndarray, Any, int]:
        t = int(self.dataset.seq_len)
        if self.train_config.text_mode == "random":
            n = len(self._train_ids)
            b = self.train_config.batch_size
            starts = self.rng.integers(0, n - t, size=b)
            pos = starts[None, :] + np.arange(t)[:, None]  # (T, B)
            return self._train_ids[pos], self._train_ids[pos + 1], None, t * b
        length = self._streams.shape[0]
        if self._stream_pos + t + 1 > length:
            self._stream_pos = 0
            self._state = None  # wrapped to the start: the carried state belongs elsewhere
        p = self._stream_pos
        x = self._streams[p : p + t]  # (T, B)
        y = self._streams[p + 1 : p + t + 1]  # (T, B)
        self._stream_pos += t
        return x, y, self._state, x.size

    @property
    def epoch(self) -> float:
        """Passes over the training data so far (fractional)."""
        n = self._train_X.shape[1] if not self.is_text else len(self._train_ids)
        return self._samples_seen / max(n, 1)

    # ------------------------------------------------------------------ training

    def step(self) -> dict[str, Any]:
        """One minibatch update.

        Returns
        -------
        dict with ``step`` (count after this step), ``epoch``, ``loss`` (the minibatch loss before
        the update: MSE of normalised values, or mean cross-entropy in nats), ``grad_norm`` (global
        L2 norm before clipping), ``grad_norms`` ({param name: L2 norm before clipping}),
        ``clipped``, ``clip_scale`` (factor norm clipping applied, 1.0 if none), ``update_ratio``
        (||new - old|| / ||old|| over all weights; 0 for a rejected step), ``lr``, ``seconds``,
        ``rejected`` (this step was thrown away) and ``diverged`` (the trainer's flag).
        """
        with _blas_context():
            return self._step()

    def _step(self) -> dict[str, Any]:
        t0 = time.perf_counter()
        net = self.network
        tc = self.train_config
        if self.is_text:
            x, y, state0, consumed = self._text_batch()
        else:
            x, y, consumed = self._series_batch()
            state0 = None
        self._samples_seen += consumed
        self.step_count += 1

        with np.errstate(over="ignore", invalid="ignore", divide="ignore", under="ignore"):
            out, state_t, cache = net.forward(x, state0, cache=True)
            if self.is_text:
                loss, dout = losses.softmax_cross_entropy(out, y)
            else:
                loss, dout = losses.mse(out, y)
            loss = float(loss)
            grads: dict[str, np.ndarray] = {}
            if math.isfinite(loss):
                grads, _, _ = net.backward(dout, cache, bptt=tc.bptt)
            grad_norms = {k: _l2(g) for k, g in grads.items()}
            grad_norm = math.sqrt(sum(v * v for v in grad_norms.values())) if grads else math.nan

            rejected = not (math.isfinite(loss) and math.isfinite(grad_norm))
            clipped, clip_scale, update_ratio = False, 1.0, 0.0
            if not rejected:
                info = clip_gradients(grads, clip_norm=tc.clip_norm, clip_value=tc.clip_value)
                clipped, clip_scale = bool(info.clipped), float(info.scale)
                old = {k: p.copy() for k, p in net.params.items()}
                old_opt = self.optimizer.state_dict()  # copies
                self.optimizer.step(net.params, grads)
                finite = all(np.isfinite(p).all() for p in net.params.values())
                if finite and self.optimizer.is_finite():
                    update_ratio = _update_ratio(net.params, old)
                else:
                    # The update itself overflowed (a weight, or optimizer state such as Adam's
                    # squared-gradient average, which would freeze those weights for good): put
                    # back the last finite weights and state.
                    for k, p in net.params.items():
                        np.copyto(p, old[k])
                    self.optimizer.load_state_dict(old_opt)
                    rejected = True

        if self.is_text and tc.text_mode == "stream":
            self._state = None if rejected else state_t
        if rejected:
            self.diverged = True
        metrics: dict[str, Any] = {
            "step": self.step_count,
            "epoch": self.epoch,
            "loss": loss,
            "grad_norm": grad_norm,
            "grad_norms": grad_norms,
            "clipped": clipped,
            "clip_scale": clip_scale,
            "update_ratio": update_ratio,
            "lr": float(self.optimizer.lr),
            "seconds": time.perf_counter() - t0,
            "rejected": rejected,
            "diverged": self.diverged,
        }
        self.history.record_step(metrics)
        return metrics

    def run(self, n: int, *, stop_on_divergence: bool = True) -> list[dict[str, Any]]:
        """Take ``n`` steps (fewer if a step diverges and ``stop_on_divergence``); their metrics."""
        out = []
        with _blas_context():
            for _ in range(int(n)):
                m = self._step()
                out.append(m)
                if stop_on_divergence and m["rejected"]:
                    break
        return out

    def set_lr(self, lr: float) -> None:
        """Change the learning rate from the next step on; optimizer state is kept."""
        self.train_config = dataclasses.replace(self.train_config, lr=lr)  # validates
        self.optimizer.lr = float(lr)

    def set_clipping(self, clip_norm: float | None = None, clip_value: float | None = None) -> None:
        """Change gradient clipping from the next step on (``None`` switches a kind off)."""
        self.train_config = dataclasses.replace(self.train_config, clip_norm=clip_norm, clip_value=clip_value)

    # ------------------------------------------------------------------ evaluation

    def _forward_windows(self, X: np.ndarray) -> np.ndarray:
        """Normalised one-step predictions ``(B,)`` for windows ``X`` of shape ``(T, B, C)``."""
        outs = []
        for s in range(0, X.shape[1], EVAL_BATCH):
            x = np.asarray(X[:, s : s + EVAL_BATCH], dtype=self._dtype)  # (T, b, C)
            out, _, _ = self.network.forward(x, None, cache=False)
            outs.append(out[:, 0])  # (b,)
        return np.concatenate(outs) if outs else np.zeros(0, dtype=self._dtype)

    def _to_raw(self, y_norm: np.ndarray) -> np.ndarray:
        ds = self.dataset
        return np.asarray(y_norm, dtype=np.float64) * float(ds.target_scale) + float(ds.target_shift)

    @staticmethod
    def _window_subset(n: int, cap: int | None) -> np.ndarray | None:
        """Evenly spaced window indices (first and last included) when ``n`` exceeds ``cap``,
        else ``None`` for all windows."""
        if cap is None:
            return None
        cap = int(cap)
        if cap < 1:
            raise PlaygroundError(f"the number of windows to evaluate must be at least 1; got {cap}")
        if n <= cap:
            return None
        if cap == 1:
            return np.array([n - 1], dtype=np.int64)
        return downsample_indices(n, cap)

    def _series_metrics(self, split: str, max_windows: int | None = None) -> dict[str, float]:
        ds = self.dataset
        X, y = (self._train_X, self._train_y) if split == "train" else (self._val_X, self._val_y)
        idx = np.asarray(ds.train_idx if split == "train" else ds.val_idx)
        if X.shape[1] == 0:
            return {"loss": math.nan, "rmse": math.nan, "mae": math.nan, "windows": 0}
        cap = max_windows
        if split == "train":
            cap = MAX_TRAIN_EVAL_WINDOWS if cap is None else min(int(cap), MAX_TRAIN_EVAL_WINDOWS)
        pick = self._window_subset(X.shape[1], cap)
        if pick is not None:
            X, y, idx = X[:, pick], y[pick], idx[pick]
        pred = self._forward_windows(X).astype(np.float64)  # (B,)
        loss = float(np.mean((pred - y[:, 0]) ** 2))
        err = self._to_raw(pred) - np.asarray(ds.raw, dtype=np.float64)[idx, 0]
        return {
            "loss": loss,
            "rmse": float(np.sqrt(np.mean(err**2))),
            "mae": float(np.mean(np.abs(err))),
            "windows": int(X.shape[1]),
        }

    def _text_metrics(self, ids: np.ndarray) -> dict[str, float]:
        """Mean cross-entropy (nats), bits/char and accuracy of next-character prediction on ``ids``,
        read as ``EVAL_STREAMS`` contiguous streams with carried state from a zero start."""
        t = int(self.dataset.seq_len)
        n = len(ids) - 1
        if n < 1:
            return {"loss": math.nan, "bpc": math.nan, "accuracy": math.nan}
        b = max(1, min(EVAL_STREAMS, n // t))
        length = n // b
        starts = np.arange(b) * length
        state = None
        total, correct, count = 0.0, 0, 0
        for p in range(0, length, t):
            steps = min(t, length - p)
            pos = starts[None, :] + p + np.arange(steps)[:, None]  # (t, B)
            logits, state, _ = self.network.forward(ids[pos], state, cache=False)  # (t, B, V)
            target = ids[pos + 1]  # (t, B)
            logp = _log_softmax(logits.astype(np.float64))
            total -= float(np.take_along_axis(logp, target[..., None], axis=-1).sum())
            correct += int((logits.argmax(axis=-1) == target).sum())
            count += target.size
        loss = total / count
        return {"loss": loss, "bpc": loss / LN2, "accuracy": correct / count}

    def evaluate(self, *, train: bool = True, max_windows: int | None = None) -> dict[str, Any]:
        """Losses and metrics on the training and validation splits, with the data's baselines.

        Parameters
        ----------
        train : bool
            Also score the training split (the larger part of the cost); ``False`` gives the
            validation figures only, for frequent refreshes.
        max_windows : int, optional
            Regression only: score at most this many evenly spaced windows of each split (the
            first and the last always among them). The result is then an *estimate* of the
            split's metrics, cheap on a long series, for live refreshes; ``None`` (the default)
            scores every validation window, exactly. Text data ignores it.

        Returns
        -------
        dict with ``step``, ``train_loss``, ``val_loss`` (same units as the training loss) and
        - regression: ``train_rmse``, ``train_mae``, ``val_rmse``, ``val_mae`` in the data's
          original units (training metrics on at most 8192 evenly spaced windows);
        - text: ``train_bpc``, ``val_bpc`` (bits per character), ``train_accuracy``,
          ``val_accuracy`` (training metrics on the first 20,000 characters);
        and ``baselines`` (copy of ``dataset.baselines``). With ``train=False`` the ``train_*``
        keys are absent. Regression also gives ``val_windows`` (how many validation windows
        were scored) and ``val_estimate`` (True when that is fewer than all of them). The numbers
        are also appended to ``history.evals``.
        """
        with _blas_context(), np.errstate(over="ignore", invalid="ignore", divide="ignore", under="ignore"):
            if self.is_text:
                keys: tuple[str, ...] = ("loss", "bpc", "accuracy")
                va = self._text_metrics(self._val_ids)
                tr = self._text_metrics(self._train_ids[:MAX_TRAIN_EVAL_CHARS]) if train else None
            else:
                keys = ("loss", "rmse", "mae")
                va = self._series_metrics("val", max_windows)
                tr = self._series_metrics("train", max_windows) if train else None
        result: dict[str, Any] = {"step": self.step_count}
        for key in keys:
            if tr is not None:
                result[f"train_{key}"] = tr[key]
            result[f"val_{key}"] = va[key]
        if not self.is_text:
            result["val_windows"] = va["windows"]
            result["val_estimate"] = va["windows"] < self._val_X.shape[1]
        result["baselines"] = dict(getattr(self.dataset, "baselines", {}) or {})
        self.history.record_eval(self.step_count, result)
        return result

    def _require(self, text: bool, what: str) -> None:
        if self.is_text != text:
            need = "a text" if text else "a numeric series (sine or CSV)"
            raise PlaygroundError(f"{what} needs {need}; the current data is {self.dataset.kind}")

    def predictions(
        self, split: str = "val", max_points: int | None = None
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """One-step-ahead predictions for the windows of a split, in original units.

        Parameters
        ----------
        split : {"train", "val"}
        max_points : int, optional
            Predict at most this many evenly spaced windows (the first and the last always among
            them), e.g. for a chart of a long series; a sample, not every prediction. ``None``
            (the default) predicts every window.

        Returns
        -------
        x_axis : ndarray (B,)
            ``dataset.x_axis`` at each window's target row (floats or datetime64).
        predicted : ndarray (B,) float64
        actual : ndarray (B,) float64
            B is the split's number of windows, or ``min(B, max_points)``.
        """
        self._require(False, "predictions")
        if split not in ("train", "val"):
            raise PlaygroundError(f"split must be 'train' or 'val'; got {split!r}")
        ds = self.dataset
        X = self._train_X if split == "train" else self._val_X
        idx = np.asarray(ds.train_idx if split == "train" else ds.val_idx)
        pick = self._window_subset(X.shape[1], max_points)
        if pick is not None:
            X, idx = X[:, pick], idx[pick]
        with _blas_context(), np.errstate(over="ignore", invalid="ignore"):
            pred = self._to_raw(self._forward_windows(X))
        actual = np.asarray(ds.raw, dtype=np.float64)[idx, 0]
        return np.asarray(ds.x_axis)[idx], pred, actual

    def _future_axis(self, n: int) -> np.ndarray:
        xa = np.asarray(self.dataset.x_axis)
        datetime = np.issubdtype(xa.dtype, np.datetime64)
        zero = np.timedelta64(0, "ns") if datetime else 0.0
        step = zero
        if len(xa) >= 2:
            diffs = np.sort(np.diff(xa[-min(len(xa), 101) :]))
            step = diffs[len(diffs) // 2]  # median spacing; works for datetime64 too
            if not step > zero:  # mostly repeated time stamps: the average spacing instead
                step = (xa[-1] - xa[0]) / (len(xa) - 1)
        if not step > zero:  # one row, or one time stamp throughout
            step = np.timedelta64(1, "D") if datetime else 1.0
        return xa[-1] + step * np.arange(1, n + 1)

    def forecast(self, n: int) -> tuple[np.ndarray, np.ndarray]:
        """Closed-loop forecast of ``n`` values beyond the end of the data, in original units.

        The last ``seq_len`` rows of the whole series (training and validation) form the first
        window; each prediction is appended as the next target value and the window slides on.
        Extra input columns (multivariate CSV) have no forecast of their own, so they are held at
        their last observed value. Errors compound: the curve shows what the model believes, not
        a confidence band.

        Returns
        -------
        x_axis_future : ndarray (n,)
            Continues ``dataset.x_axis`` with its median spacing (numbers or datetime64).
        values : ndarray (n,) float64
        """
        self._require(False, "a forecast")
        n = int(n)
        if n < 1 or n > 100_000:
            raise PlaygroundError(f"forecast length must be from 1 to 100000; got {n}")
        ds = self.dataset
        raw = np.asarray(ds.raw, dtype=np.float64)  # (N, C)
        t = int(ds.seq_len)
        window = np.asarray(ds.normalise(raw[-t:]), dtype=self._dtype)  # (T, C)
        last_row = raw[-1].copy()
        values = np.empty(n)
        with _blas_context(), np.errstate(over="ignore", invalid="ignore"):
            for i in range(n):
                out, _, _ = self.network.forward(window[:, None, :], None, cache=False)  # (1, 1)
                values[i] = self._to_raw(out[0, 0])
                last_row[0] = values[i]
                new = np.asarray(ds.normalise(last_row[None, :]), dtype=self._dtype)  # (1, C)
                window = np.concatenate([window[1:], new], axis=0)
        return self._future_axis(n), values

    # ------------------------------------------------------------------ text

    def _unigram(self) -> np.ndarray:
        counts = np.bincount(self._train_ids, minlength=self.config.output_size).astype(np.float64)
        return counts / counts.sum()

    def _encode(self, text: str) -> np.ndarray:
        return np.asarray(self.dataset.encode(text), dtype=np.int64)

    def _run_ids(self, ids: np.ndarray, state: Any) -> tuple[np.ndarray, Any]:
        logits, state, _ = self.network.forward(ids.reshape(-1, 1), state, cache=False)  # (t, 1, V)
        return logits[-1, 0].astype(np.float64), state

    def sample(
        self, n: int = 200, temperature: float = 1.0, prime: str = "", rng: np.random.Generator | None = None
    ) -> str:
        """Generate text one character at a time, feeding each draw back in.

        Parameters
        ----------
        n : int
            Characters to generate.
        temperature : float
            Divides the logits: below 1 sharper and more repetitive, above 1 more random.
        prime : str
            Text to read first; the result starts with it. Without one, the first character is
            drawn from the training text's character frequencies (and counts towards ``n``).
        rng : np.random.Generator, optional
            Defaults to the trainer's sampling generator, separate from the training one.

        Returns
        -------
        str : ``prime`` followed by ``n`` generated characters.
        """
        self._require(True, "sampling")
        n = int(n)
        if not 0 <= n <= 100_000:
            raise PlaygroundError(f"sample length must be from 0 to 100000; got {n}")
        if not (isinstance(temperature, (int, float)) and math.isfinite(temperature) and temperature > 0):
            raise PlaygroundError(f"temperature must be a number above 0; got {temperature!r}")
        rng = self.sample_rng if rng is None else rng
        out: list[int] = []
        with _blas_context(), np.errstate(over="ignore", invalid="ignore", under="ignore"):
            if prime:
                logits, state = self._run_ids(self._encode(prime), None)
            else:
                if n == 0:
                    return ""
                first = int(np.searchsorted(np.cumsum(self._unigram()), rng.random(), side="right"))
                first = min(first, self.config.output_size - 1)
                out.append(first)
                logits, state = self._run_ids(np.array([first]), None)
            while len(out) < n:
                p = losses.softmax(logits, temperature).astype(np.float64)
                cdf = np.cumsum(p)
                nxt = int(np.searchsorted(cdf, rng.random() * cdf[-1], side="right"))
                nxt = min(nxt, self.config.output_size - 1)
                out.append(nxt)
                logits, state = self._run_ids(np.array([nxt]), state)
        return prime + self.dataset.decode(np.array(out, dtype=np.int64))

    def next_char_probs(self, prefix: str, k: int = 10) -> list[tuple[str, float]]:
        """The ``k`` most likely next characters after ``prefix`` with their probabilities.

        An empty prefix gives the training text's character frequencies (the model needs at least
        one character to read).
        """
        self._require(True, "next-character probabilities")
        with _blas_context(), np.errstate(over="ignore", invalid="ignore", under="ignore"):
            if prefix:
                logits, _ = self._run_ids(self._encode(prefix), None)
                p = np.asarray(losses.softmax(logits), dtype=np.float64)
            else:
                p = self._unigram()
        order = np.argsort(-p, kind="stable")[: max(int(k), 0)]
        vocab = self.dataset.vocab
        return [(vocab[i], float(p[i])) for i in order]

    # ------------------------------------------------------------------ internals

    def internals(self, split: str = "val", index: int = 0) -> dict[str, np.ndarray]:
        """Per-time-step hidden states (and LSTM/GRU gates) of one window, each ``(T, H)``.

        Regression: window ``index`` of the split. Text: the ``index``-th chunk of ``seq_len``
        characters of the split, read from a zero state. Keys as ``Network.internals``:
        ``'h0'``, ``'h1'``, ... and for LSTM ``'c0','i0','f0','g0','o0'``, GRU ``'r0','z0','n0'``.
        """
        if split not in ("train", "val"):
            raise PlaygroundError(f"split must be 'train' or 'val'; got {split!r}")
        if self.is_text:
            ids = self._train_ids if split == "train" else self._val_ids
            t = int(self.dataset.seq_len)
            n_chunks = max(1, len(ids) // t)
            self._check_index(index, n_chunks)
            x = ids[index * t : index * t + t].reshape(-1, 1)  # (T, 1)
        else:
            X = self._train_X if split == "train" else self._val_X
            self._check_index(index, X.shape[1])
            x = np.asarray(X[:, index : index + 1], dtype=self._dtype)  # (T, 1, C)
        with _blas_context(), np.errstate(over="ignore", invalid="ignore"):
            _, _, cache = self.network.forward(x, None, cache=True)
            return self.network.internals(cache, 0)

    @staticmethod
    def _check_index(index: int, n: int) -> None:
        if isinstance(index, bool) or not isinstance(index, (int, np.integer)) or not 0 <= index < n:
            raise PlaygroundError(f"window index must be from 0 to {n - 1}; got {index!r}")

    # ------------------------------------------------------------------ state

    def snapshot(self) -> dict[str, Any]:
        """A deep copy of everything that determines future steps and the curves so far.

        Holds parameters, optimizer state and learning rate, both random generators' states,
        counters, the minibatch position (shuffle order or stream offset), the carried hidden
        state, the divergence flag and the history. Restoring it and stepping gives bit-identical
        results to never having left.
        """
        return {
            "params": {k: p.copy() for k, p in self.network.params.items()},
            "optimizer": copy.deepcopy(self.optimizer.state_dict()),
            "train_config": self.train_config,
            "rng": copy.deepcopy(self.rng.bit_generator.state),
            "sample_rng": copy.deepcopy(self.sample_rng.bit_generator.state),
            "step_count": self.step_count,
            "samples_seen": self._samples_seen,
            "diverged": self.diverged,
            "order": None if self.is_text or self._order is None else self._order.copy(),
            "pos": 0 if self.is_text else self._pos,
            "stream_pos": self._stream_pos if self.is_text else 0,
            "state": _copy_state(self._state) if self.is_text else None,
            "history": self.history.copy(),
        }

    def restore(self, snap: dict[str, Any]) -> None:
        """Return to a :meth:`snapshot` of this trainer (the snapshot stays reusable)."""
        if set(snap["params"]) != set(self.network.params):
            raise PlaygroundError("this snapshot belongs to a different model; reset the trainer instead")
        for k, p in self.network.params.items():
            np.copyto(p, snap["params"][k])
        self.optimizer.load_state_dict(copy.deepcopy(snap["optimizer"]))
        self.train_config = snap["train_config"]
        self.optimizer.lr = float(self.train_config.lr)
        self.rng.bit_generator.state = copy.deepcopy(snap["rng"])
        self.sample_rng.bit_generator.state = copy.deepcopy(snap["sample_rng"])
        self.step_count = int(snap["step_count"])
        self._samples_seen = int(snap["samples_seen"])
        self.diverged = bool(snap["diverged"])
        if self.is_text:
            self._stream_pos = int(snap["stream_pos"])
            self._state = _copy_state(snap["state"])
        else:
            self._order = None if snap["order"] is None else snap["order"].copy()
            self._pos = int(snap["pos"])
        self.history = snap["history"].copy()

    # ------------------------------------------------------------------ files

    def save(self, path_or_buffer: str | os.PathLike | BinaryIO | None = None) -> bytes | None:
        """Write the model as an ``.npz`` (see :mod:`rnn_core.checkpoint`); ``None`` returns bytes."""
        meta = dataset_meta(self.dataset)
        meta["train"] = dataclasses.asdict(self.train_config)
        meta["step_count"] = self.step_count
        return save_checkpoint(path_or_buffer, self.network.params, self.config, meta)

    @classmethod
    def load(cls, path_or_bytes: str | os.PathLike | bytes | BinaryIO, dataset: Any) -> Trainer:
        """A trainer for ``dataset`` whose weights come from a saved model file.

        The saved training settings are reused and the step count goes on from the saved
        ``step_count`` (0 when the file has none), so further steps are numbered after the
        earlier ones. Everything else starts fresh, as none of it is saved: the optimizer state
        (Adam's moments and bias correction begin again), the history, the epoch counter, the
        minibatch order and, for text, the carried hidden state. Raises :class:`PlaygroundError`
        when the file is invalid or was trained on data with other columns, vocabulary or
        normalisation.
        """
        ckpt = load_checkpoint(path_or_bytes)
        check_compatible(ckpt, dataset)
        trainer = cls(dataset, ckpt.model, ckpt.train)
        for k, p in trainer.network.params.items():
            np.copyto(p, ckpt.params[k])
        trainer.step_count = ckpt.step_count
        return trainer
