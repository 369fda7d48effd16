"""CSV time series: a bank of malformed files (each a PlaygroundError naming problem and fix)
and the real-world shapes that must load. Every file is generated here."""

import math

import numpy as np
import pytest
from data_helpers import csv_bytes
from hypothesis import given, settings
from hypothesis import strategies as st

from rnn_core.data import csv_dataset, read_csv_table
from rnn_core.errors import PlaygroundError


def ramp_rows(n: int, fmt=lambda i: f"{i * 0.5:.1f}") -> list[list[str]]:
    return [[fmt(i)] for i in range(n)]


def long_csv(n: int = 40, sep: str = ",") -> bytes:
    rows = [["value", "other"]] + [[f"{math.sin(i):.6f}", f"{i}"] for i in range(n)]
    return csv_bytes(rows, sep)


# --------------------------------------------------------------------------- malformed bank


@pytest.mark.parametrize(
    ("data", "words"),
    [
        (bytes(range(256)) * 8, ["does not look like CSV", "NUL", "UTF-8"]),
        (np.random.default_rng(0).integers(1, 256, 3000, dtype=np.uint8).tobytes(), ["CSV text"]),
        (b"", ["empty"]),
        (b"  \n\n \r\n", ["empty"]),
        (b"time,value\n", ["header", "no data rows", "add rows"]),
        (b"name,city\nalice,paris\nbob,rome\n", ["no numeric column; found: name, city"]),
        (b"value\nNaN\n\nNA\nnan\n", ["no numeric column", "value", "all values missing"]),
        (b"a,b\n1,2\n3,4,5\n6,7\n8\n", ["ragged rows", "line 3 has 3 fields", "line 5 has 1 field", "quote"]),
        (b"v\ninf\n-inf\nInfinity\n", ["no numeric column", "infinite"]),
        ("a,b\n1,2\n".encode("utf-16-le"), ["NUL", "UTF-16", "UTF-8"]),
    ],
    ids=[
        "binary",
        "random-bytes",
        "empty",
        "blank-lines",
        "header-only",
        "no-numeric",
        "all-nan",
        "ragged",
        "all-inf",
        "utf16-no-bom",
    ],
)
def test_malformed_files_raise_playground_error(data, words):
    with pytest.raises(PlaygroundError) as info:
        csv_dataset(data, seq_len=3)
    for w in words:
        assert w.lower() in str(info.value).lower(), (w, str(info.value))


def test_one_row_names_the_minimum():
    with pytest.raises(PlaygroundError, match=r"1 usable row.*at least 52 \(sequence length 50 \+ 2\)"):
        csv_dataset(b"1.5,2.5\n")


def test_series_shorter_than_window():
    data = csv_bytes([["v"], *ramp_rows(20)])
    with pytest.raises(PlaygroundError, match=r"20 usable row.*at least 32.*lower the sequence length"):
        csv_dataset(data, seq_len=30)


def test_file_over_the_size_limit(tmp_path):
    path = tmp_path / "big.csv"
    path.write_bytes(long_csv(2000))
    with pytest.raises(PlaygroundError, match=r"MB limit.*smaller file"):
        read_csv_table(path, max_bytes=1000)
    with pytest.raises(PlaygroundError, match=r"MB limit"):
        read_csv_table(path.read_bytes(), max_bytes=1000)


def test_too_many_rows():
    with pytest.raises(PlaygroundError, match=r"row limit"):
        read_csv_table(long_csv(100), max_rows=50)


def test_missing_file(tmp_path):
    with pytest.raises(PlaygroundError, match=r"not found.*check the path"):
        read_csv_table(tmp_path / "nope.csv")


def test_unknown_column_names_the_choices():
    with pytest.raises(PlaygroundError, match=r"unknown column 'humidty'.*value, other"):
        csv_dataset(long_csv(), seq_len=5, inputs=["humidty"])
    with pytest.raises(PlaygroundError, match=r"unknown column 'temp'"):
        csv_dataset(long_csv(), seq_len=5, target="temp")


def test_text_column_cannot_be_the_target():
    data = csv_bytes([["name", "v"]] + [[f"n{i}", str(i)] for i in range(20)])
    with pytest.raises(PlaygroundError, match=r"column 'name' cannot be the target.*pick one of: v"):
        csv_dataset(data, target="name", seq_len=3)


def test_all_nan_column_as_target_is_an_error():
    data = csv_bytes([["a", "b"]] + [[str(i), ""] for i in range(20)])
    table = read_csv_table(data)
    assert table.unusable_columns == ["b"]
    with pytest.raises(PlaygroundError, match=r"'b'.*all values missing"):
        csv_dataset(table, target="b", seq_len=3)


def test_all_inf_column_is_an_error_when_chosen():
    data = csv_bytes([["a", "b"]] + [[str(i), "inf"] for i in range(20)])
    with pytest.raises(PlaygroundError, match=r"'b'.*infinite"):
        csv_dataset(data, target="b", seq_len=3)


def test_mostly_numeric_column_is_listed_not_coerced():
    data = csv_bytes([["v", "w"]] + [[str(i), "oops" if i == 7 else str(i)] for i in range(20)])
    table = read_csv_table(data)
    assert table.numeric_columns == ["v"] and table.unusable_columns == ["w"]
    reason = table.report["unusable_reasons"]["w"]
    assert "1 non-numeric" in reason and "'oops'" in reason and "line 9" in reason


def test_bad_settings():
    with pytest.raises(PlaygroundError, match="interpolate"):
        csv_dataset(long_csv(), seq_len=5, missing="zero")
    with pytest.raises(PlaygroundError, match="sequence length"):
        csv_dataset(long_csv(), seq_len=0)
    with pytest.raises(PlaygroundError, match="validation fraction"):
        csv_dataset(long_csv(), seq_len=5, val_fraction=1.5)


# --------------------------------------------------------------------------- shapes that load


def test_semicolon_with_decimal_comma():
    rows = [["Datum", "Temperatur", "Feuchte"]]
    rows += [[f"{d:02d}.01.2021", f"{d},{d % 10}", f"{80 + d}"] for d in range(1, 31)]
    ds = csv_dataset(csv_bytes(rows, ";"), seq_len=5, inputs=["Feuchte"], test_fraction=0)
    assert ds.columns == ["Temperatur", "Feuchte"]
    assert ds.raw[0, 0] == pytest.approx(1.1) and ds.raw[12, 0] == pytest.approx(13.3)
    assert ds.report["date_column"] == "Datum" and ds.x_label == "Datum"
    assert ds.x_axis[0] == np.datetime64("2021-01-01") and ds.x_axis[29] == np.datetime64("2021-01-30")
    assert ds.report["delimiter"] == ";" and ds.report["decimal"] == ","


def test_headerless_single_column():
    ds = csv_dataset(csv_bytes(ramp_rows(30)), seq_len=4, test_fraction=0)
    assert ds.columns == ["column 1"]
    np.testing.assert_allclose(ds.raw[:, 0], np.arange(30) * 0.5)
    assert ds.report["rows"] == 30


def test_headerless_several_columns_get_generated_names():
    rows = [[str(i), str(2 * i), f"{i / 3:.4f}"] for i in range(15)]
    table = read_csv_table(csv_bytes(rows, "\t"))
    assert table.numeric_columns == ["column 1", "column 2", "column 3"]
    assert table.report["header"] is False and table.report["delimiter"] == "tab"


def test_utf8_bom():
    data = b"\xef\xbb\xbf" + csv_bytes([["value"], *ramp_rows(20)])
    ds = csv_dataset(data, seq_len=3)
    assert ds.columns == ["value"] and ds.report["encoding"] == "utf-8-sig"


def test_latin1_falls_back_and_is_reported():
    rows = [["Ort", "Wert"]] + [["Zürich" if i % 2 else "Genève", f"{i},5"] for i in range(20)]
    ds = csv_dataset(csv_bytes(rows, ";", encoding="latin-1"), seq_len=3)
    assert ds.report["encoding"] == "latin-1"
    assert any("Latin-1" in n for n in ds.report["notes"])
    assert ds.report["unusable_columns"] == ["Ort"]
    assert ds.raw[3, 0] == 3.5


def test_unsorted_dates_are_sorted():
    days = [5, 1, 3, 2, 4, 9, 7, 6, 8, 10, 11, 12]
    rows = [["when", "v"]] + [[f"2022-03-{d:02d}", str(d * 10)] for d in days]
    ds = csv_dataset(csv_bytes(rows), seq_len=3)
    np.testing.assert_array_equal(ds.raw[:, 0], np.arange(1, 13) * 10.0)
    assert np.all(np.diff(ds.x_axis) > np.timedelta64(0))
    assert any("sorted" in n for n in ds.report["notes"])


def test_gaps_interpolated_in_time():
    # days 1, 2, (3 missing value), 4 and then a jump to day 10 with a missing value at day 8
    rows = [
        ["date", "v"],
        ["2020-01-01", "1"],
        ["2020-01-02", "2"],
        ["2020-01-03", ""],
        ["2020-01-04", "4"],
        ["2020-01-08", "NA"],
        ["2020-01-10", "10"],
    ]
    rows += [[f"2020-01-{d}", str(d)] for d in range(11, 20)]
    ds = csv_dataset(csv_bytes(rows), seq_len=3)
    assert ds.raw[2, 0] == pytest.approx(3.0)
    assert ds.raw[4, 0] == pytest.approx(4 + (10 - 4) * (8 - 4) / (10 - 4))  # time-aware, not midpoint
    assert ds.report["missing_filled"] == 2 and ds.report["missing_dropped"] == 0


def test_gaps_by_position_without_dates_nearest_at_the_start_and_a_missing_end_cut():
    # in a one-column file an empty cell is a blank line; a blank last line only ends the file
    vals = ["", "2", "", "", "8", *[str(v) for v in range(9, 25)], "NA", ""]
    ds = csv_dataset(csv_bytes([["v"]] + [[v] for v in vals]), seq_len=3, test_fraction=0)
    # the trailing NA has no later value to fill it from: the row is left out, not made up
    assert ds.report["rows"] == 21
    np.testing.assert_allclose(ds.raw[:6, 0], [2, 2, 4, 6, 8, 9])
    assert ds.raw[-1, 0] == 24
    assert ds.report["missing_filled"] == 3
    assert any("the last 1 row(s) have no v: they are left out" in n for n in ds.report["notes"])


def test_gaps_dropped_on_request():
    vals = ["1", "", "3", "4", "NaN"] + [str(v) for v in range(6, 26)]
    ds = csv_dataset(csv_bytes([["v"]] + [[v] for v in vals]), seq_len=3, missing="drop")
    assert ds.report["missing_dropped"] == 2 and ds.report["missing_filled"] == 0
    assert ds.report["rows"] == 23
    np.testing.assert_array_equal(ds.x_axis[:3], [0.0, 2.0, 3.0])


def test_infinities_reported_and_filled():
    vals = ["1", "inf", "3", "-Infinity", "5", "1e999"] + [str(v) for v in range(7, 20)]
    ds = csv_dataset(csv_bytes([["v"]] + [[v] for v in vals]), seq_len=3, test_fraction=0)
    assert ds.report["infinite"] == 3
    assert ds.raw[1, 0] == 2 and ds.raw[3, 0] == 4 and ds.raw[5, 0] == 6
    assert any("infinite" in n for n in ds.report["notes"])


def test_several_numeric_columns_target_and_inputs():
    rows = [["date", "temp", "humidity", "wind", "station"]]
    rows += [[f"2021-06-{d:02d}", f"{20 + d}", f"{50 + d}", f"{d % 5}", "A"] for d in range(1, 31)]
    table = read_csv_table(csv_bytes(rows))
    assert table.numeric_columns == ["temp", "humidity", "wind"]
    assert table.unusable_columns == ["station"]
    ds = csv_dataset(table, seq_len=4, test_fraction=0)
    assert ds.columns == ["temp"] and ds.input_size == 1
    ds = csv_dataset(
        table, target="humidity", inputs=["temp", "wind", "humidity"], seq_len=4, test_fraction=0
    )
    assert ds.columns == ["humidity", "temp", "wind"] and ds.input_size == 3
    assert ds.train_X.shape[2] == 3
    np.testing.assert_array_equal(ds.raw[:, 0], 50 + np.arange(1, 31))
    assert set(ds.report) >= {
        "rows",
        "missing_filled",
        "missing_dropped",
        "infinite",
        "encoding",
        "notes",
        "unusable_columns",
        "date_column",
    }


def test_thousands_separators():
    rows = [["month", "sales"]] + [[f"2020-{m:02d}", f'"{m},{m:03d}.5"'] for m in range(1, 13)]
    ds = csv_dataset(csv_bytes(rows), seq_len=3)
    assert ds.raw[0, 0] == 1001.5 and ds.raw[11, 0] == 12012.5
    rows = [["Monat", "Umsatz"]] + [[f"01.{m:02d}.2020", f"{m}.{m:03d},25"] for m in range(1, 13)]
    ds = csv_dataset(csv_bytes(rows, ";"), seq_len=3, test_fraction=0)
    assert ds.raw[1, 0] == 2002.25 and ds.raw[10, 0] == 11011.25
    rows = [["v"]] + [[f"1 {k:03d},5"] for k in range(12)]
    ds = csv_dataset(csv_bytes(rows, ";"), seq_len=3, test_fraction=0)
    assert ds.raw[3, 0] == 1003.5


def test_year_column_is_the_time_axis():
    rows = [["year", "count"]] + [[str(1800 + i), f"{(i * 37) % 101}"] for i in range(40)]
    ds = csv_dataset(csv_bytes(rows), seq_len=5, test_fraction=0)
    assert ds.columns == ["count"] and ds.x_label == "year"
    assert ds.x_axis[0] == 1800.0 and ds.x_axis[-1] == 1839.0


def test_path_and_str_sources(tmp_path):
    path = tmp_path / "series.csv"
    path.write_bytes(long_csv())
    a = csv_dataset(path, seq_len=5)
    b = csv_dataset(str(path), seq_len=5)
    assert a.name == "series.csv" and b.name == "series.csv"
    np.testing.assert_array_equal(a.raw, b.raw)


def test_crlf_pipes_and_quotes():
    rows = [["t", '"value, in C"']] + [[str(i), f"{i}.25"] for i in range(12)]
    table = read_csv_table(csv_bytes(rows, "|", newline="\r\n"))
    assert table.numeric_columns == ["t", "value, in C"]


# --------------------------------------------------------------------------- property: shapes


@settings(max_examples=40, deadline=None)
@given(
    st.sampled_from([",", ";", "\t", "|"]),
    st.booleans(),
    st.booleans(),
    st.lists(st.floats(-1e5, 1e5, allow_nan=False).map(lambda v: round(v, 3)), min_size=8, max_size=40),
)
def test_numbers_round_trip_through_any_layout(sep, comma, header, values):
    if comma and sep == ",":
        sep = ";"  # a decimal comma needs another delimiter
    fmt = [f"{v:.3f}".replace(".", ",") if comma else f"{v:.3f}" for v in values]
    rows = ([["level", "step"]] if header else []) + [[f, str(i)] for i, f in enumerate(fmt)]
    table = read_csv_table(csv_bytes(rows, sep))
    first = table.numeric_columns[0]
    np.testing.assert_allclose(table.frame[first].to_numpy(), values, rtol=0, atol=1e-9)
    assert table.report["header"] is header


@pytest.mark.parametrize(
    ("data", "expect"),
    [
        (b"a;b\n123.456;1\n12.345;2\n", [123.456, 12.345]),  # only points in numbers: decimal point
        (b"a;b\n123,456;1\n12,345;2\n", [123.456, 12.345]),  # only commas, ';' file: decimal comma
        (b"a;b\n1.234,5;1\n12,345;2\n", [1234.5, 12.345]),  # "1.234,5" settles it
        (b'a,b\n"1,234",1\n"12,345",2\n', [1234.0, 12345.0]),  # ',' file: thousands
    ],
)
def test_ambiguous_separators(data, expect):
    np.testing.assert_allclose(read_csv_table(data).frame["a"].to_numpy(), expect)


def test_headerless_date_and_value():
    rows = [[f"2021-02-{d:02d}", f"{d * 1.5}"] for d in range(1, 21)]
    ds = csv_dataset(csv_bytes(rows), seq_len=3)
    assert ds.report["header"] is False and ds.report["date_column"] == "column 1"
    assert ds.columns == ["column 2"] and ds.raw[0, 0] == 1.5


def test_trailing_delimiters_and_blank_lines():
    data = b"a;b;\n1;2;\n\n3;4;\n5;6;\n7;8;\n9;10;\n"
    table = read_csv_table(data)
    assert table.numeric_columns == ["a", "b"] and table.unusable_columns == ["column 3"]
    assert table.report["rows"] == 5
    assert any("blank" in n for n in table.report["notes"])


_CSVISH = st.text(alphabet=st.sampled_from(list("0123456789.,;|\t\n\r -+eEaNnIif\"'/:T€é")), max_size=300)


@settings(max_examples=150, deadline=None)
@given(st.one_of(_CSVISH.map(lambda s: s.encode("utf-8")), st.binary(max_size=300)))
def test_any_bytes_load_or_raise_playground_error(data):
    try:
        ds = csv_dataset(data, seq_len=2)
    except PlaygroundError as e:
        assert str(e)
    else:
        assert np.all(np.isfinite(ds.raw)) and ds.train_windows >= 1 and ds.val_windows >= 1
