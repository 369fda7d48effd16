"""CSV time series from users: detection, cleaning and honest reporting. The only pandas user.

:func:`read_csv_table` runs six stages, each a module that owns one question:

1. :mod:`~rnn_core.data.csv.decode` -- bytes -> text: size limit, empty or binary files,
   UTF-8 (with or without BOM), UTF-16 with a BOM, the Latin-1 fallback.
2. :mod:`~rnn_core.data.csv.sniff` -- text -> rows: delimiter, ragged rows, header, names.
3. :mod:`~rnn_core.data.csv.columns` -- rows -> typed columns: decimal point or comma,
   thousands separators, missing and infinite markers, text.
4. :mod:`~rnn_core.data.csv.timeaxis` -- the date column (or a numeric ``year``) and its dates.
5. :mod:`~rnn_core.data.csv.order` -- undated rows dropped, rows sorted by time, repeats.
6. :mod:`~rnn_core.data.csv.report` -- what was found, missing, infinite and left out.

What a cell can be (number, date, marker) is defined once in :mod:`~rnn_core.data.csv.tokens`.
:func:`csv_dataset` (:mod:`~rnn_core.data.csv.dataset`) picks the target and inputs, fills or
drops missing values and builds the windows.
"""

from rnn_core.data.csv.dataset import csv_dataset
from rnn_core.data.csv.decode import MAX_BYTES
from rnn_core.data.csv.sniff import MAX_ROWS
from rnn_core.data.csv.table import CsvTable, read_csv_table

__all__ = ["MAX_BYTES", "MAX_ROWS", "CsvTable", "csv_dataset", "read_csv_table"]
