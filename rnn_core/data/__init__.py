"""Sequence sources: generated sines, CSV time series, memory tasks and text, each a split dataset.

Regression sources become a :class:`SeriesDataset` (training/validation windows split by time,
normalised with training statistics, naive baselines); the generated memory tasks (echo, the
adding problem) a :class:`MemoryDataset` of independent windows with their own targets; text
becomes a :class:`TextDataset`.
Every problem a user can cause raises :class:`~rnn_core.errors.PlaygroundError`.
"""

from rnn_core.data.baselines import memory_baselines, ngram_bpc, regression_baselines
from rnn_core.data.csv import CsvTable, csv_dataset, read_csv_table
from rnn_core.data.datasets import UNKNOWN_CHAR, MemoryDataset, SeriesDataset, TextDataset
from rnn_core.data.loader import load_dataset
from rnn_core.data.memory import MEMORY_TASKS, memory_dataset, parse_memory_spec
from rnn_core.data.sine import SINE_PRESETS, sine_dataset, sine_series
from rnn_core.data.text import TEXT_SAMPLES, text_dataset
from rnn_core.data.windows import build_series_dataset

__all__ = [
    "MEMORY_TASKS",
    "SINE_PRESETS",
    "TEXT_SAMPLES",
    "UNKNOWN_CHAR",
    "CsvTable",
    "MemoryDataset",
    "SeriesDataset",
    "TextDataset",
    "build_series_dataset",
    "csv_dataset",
    "load_dataset",
    "memory_baselines",
    "memory_dataset",
    "ngram_bpc",
    "parse_memory_spec",
    "read_csv_table",
    "regression_baselines",
    "sine_dataset",
    "sine_series",
    "text_dataset",
]
