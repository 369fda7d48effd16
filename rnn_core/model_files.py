"""Saving a trainer's model to an ``.npz`` and building a trainer from one (:mod:`rnn_core.checkpoint`
holds the format)."""

from __future__ import annotations

import dataclasses
import os
from typing import Any, BinaryIO

import numpy as np

from rnn_core.checkpoint import check_compatible, dataset_meta, load_checkpoint, save_checkpoint


class ModelFiles:
    """Mixin of :class:`~rnn_core.trainer.Trainer`: its model to and from a file (needs
    ``dataset``, ``train_config``, ``step_count``, ``network``, ``config``, ``optimizer``,
    ``_lr`` and ``_reset_guard``)."""

    dataset: Any
    train_config: Any
    step_count: int
    network: Any
    config: Any

    def save(self, path_or_buffer: str | os.PathLike | BinaryIO | None = None) -> bytes | None:
        """Write the model as an ``.npz`` (see :mod:`rnn_core.checkpoint`); ``None`` returns bytes.
        The file keeps the training settings with the *base* learning rate, and the step count."""
        meta = dataset_meta(self.dataset)
        meta["train"] = dataclasses.asdict(self.train_config)
        meta["step_count"] = self.step_count
        return save_checkpoint(path_or_buffer, self.network.params, self.config, meta)

    @classmethod
    def load(cls, path_or_bytes: str | os.PathLike | bytes | BinaryIO, dataset: Any) -> Any:
        """A trainer for ``dataset`` with a saved model's weights and training settings; steps (and
        the learning-rate schedule) go on from the saved ``step_count`` (0 if absent). Optimizer
        state, history, epoch, batch order and carried state start fresh, as none is saved.
        Raises :class:`PlaygroundError` for an invalid file or data with other columns,
        vocabulary or normalisation."""
        ckpt = load_checkpoint(path_or_bytes)
        check_compatible(ckpt, dataset)
        trainer = cls(dataset, ckpt.model, ckpt.train)
        for k, p in trainer.network.params.items():
            np.copyto(p, ckpt.params[k])
        trainer.step_count = ckpt.step_count
        trainer.optimizer.lr = trainer._lr()
        trainer._reset_guard()
        return trainer
