"""The default model learns something real: it beats the naive baselines on real data.

- Yearly sunspot numbers (1700-2008, 309 values, bundled with statsmodels) fed through the CSV
  reader: the default RNN's validation RMSE is below persistence ("next year = this year").
- Python's own standard-library docstrings (~40 kB of text): the default RNN needs fewer bits
  per character than the unigram model fitted on the same training text.

"Default" is exactly what ``python -m rnn_core train`` uses (``cli.make_trainer`` + ``cli.fit``).
"""

import pytest

from rnn_core import cli
from rnn_core.data import csv_dataset, load_dataset


def test_default_rnn_beats_persistence_on_sunspots():
    sunspots = pytest.importorskip("statsmodels.datasets.sunspots")
    frame = sunspots.load_pandas().data  # YEAR, SUNACTIVITY
    ds = csv_dataset(frame.to_csv(index=False).encode(), target="SUNACTIVITY", name="sunspots")
    assert ds.report["rows"] == 309
    trainer = cli.make_trainer(ds)
    steps, _ = cli.fit(trainer)
    ev = trainer.evaluate()
    assert steps == cli.DEFAULTS["steps"] and not trainer.diverged
    assert ev["val_rmse"] < ev["baselines"]["persistence_rmse"]
    assert ev["val_rmse"] < ev["baselines"]["mean_rmse"]


def test_default_rnn_beats_unigram_on_docstrings():
    ds = load_dataset("docstrings")
    assert 20_000 < len(ds.train_ids) + len(ds.val_ids) < 100_000
    trainer = cli.make_trainer(ds)
    cli.fit(trainer)
    ev = trainer.evaluate()
    assert not trainer.diverged
    assert ev["val_bpc"] < ev["baselines"]["unigram_bpc"]
