"""Sequence sources: generated sines, CSV time series and text, each as a windowed, split dataset.

Regression sources become a :class:`SeriesDataset` (training/validation windows split by time,
normalised with training statistics, naive baselines); text becomes a :class:`TextDataset`.
Every problem a user can cause raises :class:`~rnn_core.errors.PlaygroundError`.
"""

from rnn_core.data.baselines import ngram_bpc, regression_baselines
from rnn_core.data.csv import CsvTable, csv_dataset, read_csv_table
from rnn_core.data.datasets import UNKNOWN_CHAR, SeriesDataset, TextDataset
from rnn_core.data.loader import load_dataset
from rnn_core.data.sine import SINE_PRESETS, sine_dataset, sine_series
from rnn_core.data.text import TEXT_SAMPLES, text_dataset
from rnn_core.data.windows import build_series_dataset

__all__ = [
    "SINE_PRESETS",
    "TEXT_SAMPLES",
    "UNKNOWN_CHAR",
    "CsvTable",
    "SeriesDataset",
    "TextDataset",
    "build_series_dataset",
    "csv_dataset",
    "load_dataset",
    "ngram_bpc",
    "read_csv_table",
    "regression_baselines",
    "sine_dataset",
    "sine_series",
    "text_dataset",
]
