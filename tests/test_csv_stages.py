"""Each stage of the CSV reader on its own: decode, sniff, columns, time axis, order, report.

Inputs are built here and the expected values follow from how they were built (which bytes,
which delimiter, which dates in which order), never from running the reader first.
"""

import codecs

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rnn_core.data.csv.columns import TypedColumns, decimal_style, parse_numbers, settle_roles, type_columns
from rnn_core.data.csv.decode import decode, read_source
from rnn_core.data.csv.order import order_rows
from rnn_core.data.csv.report import build_report
from rnn_core.data.csv.sniff import (
    SINGLE_FIELD,
    Sniffed,
    check_ragged,
    column_names,
    delimiter_name,
    detect_delimiter,
    detect_header,
    sniff,
)
from rnn_core.data.csv.timeaxis import choose_time_axis, parse_dates
from rnn_core.errors import PlaygroundError


def dates(*iso: str) -> np.ndarray:
    return np.array(iso, dtype="datetime64[ns]")


def text_col(*tokens: str) -> pd.Series:
    return pd.Series(list(tokens), dtype=object)


# --------------------------------------------------------------------------- decode


@pytest.mark.parametrize(
    ("bom", "codec", "encoding"),
    [
        (codecs.BOM_UTF8, "utf-8", "utf-8-sig"),
        (codecs.BOM_UTF16_LE, "utf-16-le", "utf-16"),
        (codecs.BOM_UTF16_BE, "utf-16-be", "utf-16"),
    ],
)
def test_byte_order_marks_are_read_and_dropped(bom, codec, encoding):
    text = "Datum;Ort\n01.02.2021;Zürich\n"
    decoded = decode(bom + text.encode(codec))
    assert decoded.text == text and decoded.encoding == encoding
    assert all("UTF-16" in n for n in decoded.notes) and len(decoded.notes) == (encoding == "utf-16")


def test_latin1_fallback_names_the_first_bad_byte():
    head = b"Ort;Wert\nZ"
    data = head + "ürich;1\n".encode("latin-1")
    decoded = decode(data)
    assert decoded.text == "Ort;Wert\nZürich;1\n" and decoded.encoding == "latin-1"
    (note,) = decoded.notes
    assert f"byte {len(head)}" in note and "Latin-1" in note and "UTF-8" in note


@pytest.mark.parametrize(
    ("data", "words"),
    [
        (b"", "empty"),
        (b" \r\n\t\n", "empty"),
        (b"1,2\n" + bytes(range(1, 9)) * 4, "control bytes"),
        ("a,b\n1,2\n".encode("utf-16-le"), "NUL bytes.*UTF-16.*save it as CSV in UTF-8"),  # no BOM
    ],
)
def test_empty_binary_and_unmarked_utf16_bytes_are_errors(data, words):
    with pytest.raises(PlaygroundError, match=words):
        decode(data)


_CHARS = st.characters(blacklist_categories=("Cc", "Cs"), blacklist_characters="\ufeff") | st.just("\n")
_TEXT = st.text(_CHARS, min_size=1, max_size=80).filter(lambda t: any(c.isalnum() for c in t))


@settings(max_examples=80, deadline=None)
@given(_TEXT, st.sampled_from(["utf-8", "utf-8-sig", "utf-16"]))
def test_any_text_round_trips_through_its_encoding(text, encoding):
    decoded = decode(text.encode(encoding))  # "utf-8-sig" and "utf-16" write a byte-order mark
    assert decoded.text == text and decoded.encoding == encoding


def test_sources_and_their_labels(tmp_path):
    path = tmp_path / "rain.csv"
    path.write_bytes(b"v\n1\n")
    assert read_source(path) == (b"v\n1\n", "rain.csv")
    assert read_source(str(path), name="mine") == (b"v\n1\n", "mine")
    assert read_source(b"v\n1\n") == (b"v\n1\n", "uploaded CSV")
    assert read_source("v\n1\n") == (b"v\n1\n", "pasted CSV")
    with pytest.raises(PlaygroundError, match=r"not found.*check the path"):
        read_source(tmp_path / "nope.csv")
    with pytest.raises(PlaygroundError, match=r"not a file"):
        read_source(tmp_path)
    with pytest.raises(PlaygroundError, match=r"over the 1e-06 MB limit.*smaller file"):
        read_source(b"v\n1\n", max_bytes=1)
    with pytest.raises(PlaygroundError, match=r"bytes or a file path; got int"):
        read_source(3)


# --------------------------------------------------------------------------- sniff


@pytest.mark.parametrize("sep", [",", ";", "\t", "|"])
def test_delimiter_is_the_one_the_table_was_written_with(sep):
    rows = [["when", "level", "flow"]] + [[f"2020-01-{d:02d}", f"{d}.5", str(3 * d)] for d in range(1, 11)]
    assert detect_delimiter("\n".join(sep.join(r) for r in rows) + "\n") == sep


@pytest.mark.parametrize(
    ("text", "delimiter"),
    [
        ("a;b\n" + "".join(f"{i},5;{i},25\n" for i in range(10)), ";"),  # decimal commas are no delimiter
        ("value\n1.5\n2.5\n3.5\n", SINGLE_FIELD),
        ("Wert\n1,5\n2,5\n3,5\n4,5\n", SINGLE_FIELD),  # each row splits at its comma, the header not
    ],
)
def test_delimiter_of_awkward_files(text, delimiter):
    assert detect_delimiter(text) == delimiter


@pytest.mark.parametrize(
    ("rows", "header"),
    [
        ([["date", "value"], ["2020-01-01", "1.5"], ["2020-01-02", "2"]], True),  # text above numbers
        ([["1", "2"], ["3", "4"]], False),
        ([["2020-01-01", "1"], ["2020-01-02", "2"]], False),
        ([["name", "city"], ["ada", "london"]], True),  # all distinct text
        ([["x", "x"], ["a", "b"]], False),  # repeated text above text: data, not names
        ([["NA", "1"], ["2", "3"]], False),  # a missing marker is a value
    ],
)
def test_header_present_or_absent(rows, header):
    assert detect_header(rows) is header


def test_column_and_delimiter_names():
    assert [delimiter_name(d) for d in (";", "\t", SINGLE_FIELD)] == [";", "tab", None]
    assert column_names([" t ", "", "t", "t"], 4) == ["t", "column 2", "t (2)", "t (3)"]
    assert column_names(None, 3) == ["column 1", "column 2", "column 3"]


@pytest.mark.parametrize(
    ("text", "delimiter", "names", "rows", "lines"),
    [
        ("a,b\n1,2\n\n3,4\n", ",", ["a", "b"], [["1", "2"], ["3", "4"]], [2, 4]),
        # one column: an interior blank line is a missing value, only the trailing one is skipped
        ("v\n1\n\n3\n\n", SINGLE_FIELD, ["v"], [["1"], [""], ["3"]], [2, 3, 4]),
    ],
)
def test_sniff_splits_off_the_header_and_skips_blank_lines(text, delimiter, names, rows, lines):
    layout = sniff(text)
    assert (layout.delimiter, layout.header, layout.names) == (delimiter, True, names)
    assert layout.rows == rows and layout.lines == lines and layout.notes == ("1 blank line(s) skipped",)


def test_ragged_rows_name_their_lines_and_the_fix():
    with pytest.raises(PlaygroundError) as info:
        sniff("a,b\n1,2\n3,4,5\n6,7\n8\n")
    msg = str(info.value)
    assert "line 3 has 3 fields" in msg and "line 5 has 1 field" in msg
    assert "expected 2 like line 1" in msg and "quote values" in msg
    # the quoted field spans lines 2-3, so the ragged row starts on line 4
    with pytest.raises(PlaygroundError, match=r"line 4 has 3 fields"):
        sniff('a,b\n"x\ny",2\n3,4,5\n')
    # empty trailing fields carry nothing: dropped, not ragged
    rows = check_ragged([["a", "b"], ["1", "2", ""], ["3", "4", " "]], [1, 2, 3], ",")
    assert rows == [["a", "b"], ["1", "2"], ["3", "4"]]


def test_sniff_limits_and_header_only():
    with pytest.raises(PlaygroundError, match=r"row limit"):
        sniff("v\n" + "".join(f"{i}\n" for i in range(5)), max_rows=3)
    with pytest.raises(PlaygroundError, match=r"header \(time, value\) but no data rows"):
        sniff("time,value\n")


@st.composite
def numeric_tables(draw):
    """(text, delimiter, decimal comma?, header?, names, values (N, C)) of a random numeric table."""
    sep = draw(st.sampled_from([",", ";", "\t", "|"]))
    comma, header, n_cols = sep != "," and draw(st.booleans()), draw(st.booleans()), draw(st.integers(2, 5))
    row = st.lists(st.integers(-(10**6), 10**6).map(lambda k: k / 1000), min_size=n_cols, max_size=n_cols)
    values = np.array(draw(st.lists(row, min_size=2, max_size=30)))
    names = ["alpha", "beta", "gamma", "delta", "omega"][:n_cols]
    fields = [[f"{v:.3f}".replace(".", ",") if comma else f"{v:.3f}" for v in r] for r in values]
    text = "\n".join(sep.join(r) for r in ([names] if header else []) + fields) + "\n"
    return text, sep, comma, header, names, values


@settings(max_examples=60, deadline=None)
@given(numeric_tables())
def test_numeric_tables_round_trip_through_sniff_and_columns(table):
    text, sep, comma, header, names, values = table
    layout = sniff(text)
    assert layout.delimiter == sep and layout.header is header
    assert layout.names == (names if header else [f"column {j + 1}" for j in range(values.shape[1])])
    n = len(values)
    assert len(layout.rows) == n and layout.lines == list(range(1 + header, n + 1 + header))
    typed = type_columns(layout.names, layout.rows, layout.lines, sep)
    assert typed.decimal == ("," if comma else ".")
    assert typed.numeric == layout.names and typed.text == [] and typed.unusable == []
    for j, name in enumerate(layout.names):
        np.testing.assert_allclose(typed.data[name], values[:, j], rtol=0, atol=1e-9)


# --------------------------------------------------------------------------- columns


def test_decimal_comma_with_thousands_and_missing_markers():
    values, missing, inf, bad = parse_numbers(text_col("1,5", "-2,25", "1.234,5", "", "NA", "1 000,5"), ",")
    np.testing.assert_array_equal(values, [1.5, -2.25, 1234.5, np.nan, np.nan, 1000.5])
    np.testing.assert_array_equal(missing, [False, False, False, True, True, False])
    assert not inf.any() and not bad.any()


def test_thousands_separators_with_decimal_point():
    tokens = text_col("1,234.5", "1 234.5", "12'345", "1\u202f000", "1\u00a0000.25", "1,234,567", "\u22123.5")
    values, _, _, bad = parse_numbers(tokens, ".")  # the last with a minus sign, not a hyphen
    np.testing.assert_array_equal(values, [1234.5, 1234.5, 12345.0, 1000.0, 1000.25, 1234567.0, -3.5])
    assert not bad.any()


@pytest.mark.parametrize("token", ["1,23,456", "12,34", "1.234.56", "1,234 567", "1 234,567.5"])
def test_groups_that_are_not_threes_are_unreadable(token):
    _, missing, _, bad = parse_numbers(text_col(token), ".")
    assert bad.tolist() == [True] and missing.tolist() == [False]


@pytest.mark.parametrize(
    ("token", "infinite"),
    [(t, False) for t in ["", " ", "NA", "n/a", "#N/A", "NaN", "null", "None", "-", "--", "?", "missing"]]
    + [(t, True) for t in ["inf", "-inf", "+Infinity", "∞", "1e999", "-1e999"]],
)
def test_missing_and_infinite_tokens_become_nan(token, infinite):
    values, missing, inf, bad = parse_numbers(text_col("2", token), ".")
    assert missing.tolist() == [False, not infinite] and inf.tolist() == [False, infinite]
    assert values[0] == 2 and np.isnan(values[1]) and not bad.any()


@pytest.mark.parametrize(
    ("tokens", "delimiter", "decimal"),
    [
        (["1,5", "2,5"], ";", ","),  # only the comma style reads them
        (["1.5", "2.5"], ";", "."),
        (["1.234,5", "12,345"], ";", ","),  # "1.234,5" settles it
        (["1,234", "12,345"], ",", "."),  # every token both ways, ',' file: thousands
        (["1,234", "12,345"], ";", ","),  # the same tie in a ';' file goes to the comma
        (["1.234"], "\t", "."),  # a tie with only points in numbers
    ],
)
def test_decimal_style_of_the_file(tokens, delimiter, decimal):
    assert decimal_style([text_col(*tokens)], delimiter) == decimal


def test_type_columns_roles_reasons_and_lines():
    names = ["v", "w", "gone", "inf", "city"]
    rows = [
        ["1", "1", "", "inf", "Rome"],
        ["2", "2", "NA", "-inf", "Oslo"],
        ["inf", "oops", "", "inf", "Pisa"],
        ["4", "4", "-", "", "Bonn"],
    ]
    lines = [10, 11, 13, 14]  # as if a blank line sat between the second and third row
    typed = type_columns(names, rows, lines, ",")
    assert typed.numeric == ["v"] and typed.text == ["w", "city"] and typed.unusable == ["gone", "inf"]
    np.testing.assert_array_equal(typed.data["v"], [1.0, 2.0, np.nan, 4.0])
    assert typed.infinite == {"v": 1}
    assert typed.reasons["w"].startswith("1 non-numeric value(s), e.g. 'oops' (line 13)")
    assert typed.reasons["city"] == "text, e.g. 'Rome' (line 10)"
    assert typed.reasons["gone"] == "all values missing"
    assert typed.reasons["inf"] == "no finite values (all 3 present are infinite)"
    assert typed.data["city"].tolist() == ["Rome", "Oslo", "Pisa", "Bonn"]


def test_a_column_in_the_other_decimal_style_is_read_and_noted():
    # "1.5" only the point style reads, "1,25" only the comma style: six votes to two
    rows = [["1.5", "1,25"], ["2.5", ""], ["3.5", ""], ["4.5", ""], ["5.5", ""], ["7.5", "8,25"]]
    typed = type_columns(["a", "b"], rows, list(range(2, 8)), ";")
    assert typed.decimal == "."
    np.testing.assert_array_equal(typed.data["a"], [1.5, 2.5, 3.5, 4.5, 5.5, 7.5])
    np.testing.assert_array_equal(typed.data["b"], [1.25, np.nan, np.nan, np.nan, np.nan, 8.25])
    assert typed.notes == ["column 'b' uses a decimal comma"]


def test_settle_roles_takes_the_time_axis_out():
    typed = TypedColumns(
        decimal=".",
        numeric=["year", "v"],
        text=["date", "city"],
        unusable=["gone"],
        reasons={"date": "text, e.g. 'x'", "city": "text, e.g. 'Rome'", "gone": "all values missing"},
    )
    names = ["date", "year", "v", "gone", "city"]
    by_date = settle_roles(typed, names, "date")
    assert by_date.numeric == ["year", "v"] and by_date.unusable == ["gone", "city"]
    assert "date" not in by_date.reasons
    by_year = settle_roles(typed, names, "year")
    assert by_year.numeric == ["v"] and by_year.unusable == ["date", "gone", "city"]


def test_no_numeric_column_lists_every_column_and_why():
    typed = TypedColumns(decimal=".", text=["name", "city"], reasons={"name": "text, e.g. 'ada'"})
    with pytest.raises(PlaygroundError) as info:
        settle_roles(typed, ["name", "city"], None)
    msg = str(info.value)
    assert "no numeric column; found: name, city" in msg and "name: text, e.g. 'ada'" in msg
    assert "at least one column of numbers" in msg


# --------------------------------------------------------------------------- time axis


def typed_from(names, rows, delimiter=","):
    return type_columns(names, rows, list(range(2, len(rows) + 2)), delimiter)


def test_iso_dates_make_the_time_axis_in_file_order():
    days = [3, 1, 2, 5, 4]
    rows = [[f"2021-03-{d:02d}", str(d)] for d in days]
    axis = choose_time_axis(typed_from(["when", "v"], rows), ",")
    assert axis.column == "when" and axis.notes == ()
    np.testing.assert_array_equal(axis.values, dates(*(f"2021-03-{d:02d}" for d in days)))


def test_day_first_in_semicolon_files_month_first_otherwise():
    rows = [[f"{d:02d}.02.2021", "1"] for d in (1, 2, 3)]  # also valid read month first
    by_semicolon = choose_time_axis(typed_from(["Datum", "v"], rows, ";"), ";")
    np.testing.assert_array_equal(by_semicolon.values, dates("2021-02-01", "2021-02-02", "2021-02-03"))
    by_comma = choose_time_axis(typed_from(["date", "v"], rows, ","), ",")
    np.testing.assert_array_equal(by_comma.values, dates("2021-01-02", "2021-02-02", "2021-03-02"))


@pytest.mark.parametrize(
    ("tokens", "dayfirst", "expected"),
    [
        (["13.02.2021", "14.02.2021"], False, ["2021-02-13", "2021-02-14"]),  # the order that reads all
        (["2021-02-03", "2021-02-04"], True, ["2021-02-03", "2021-02-04"]),  # ISO is year first
        (["2021-01-01T12:00+02:00", "2021-01-01T12:00Z"], False, ["2021-01-01T10:00", "2021-01-01T12:00"]),
    ],
)
def test_parse_dates(tokens, dayfirst, expected):
    np.testing.assert_array_equal(parse_dates(text_col(*tokens), dayfirst), dates(*expected))


def test_missing_dates_are_nat_and_text_columns_are_not_dates():
    # "label" comes first but holds one date among text; "d" has a missing marker
    rows = [
        ["a", "2020-01-01", "1"],
        ["b", "NA", "2"],
        ["2020-01-03", "2020-01-03", "3"],
        ["c", "2020-01-04", "4"],
    ]
    axis = choose_time_axis(typed_from(["label", "d", "v"], rows), ",")
    assert axis.column == "d"
    np.testing.assert_array_equal(axis.values, dates("2020-01-01", "NaT", "2020-01-03", "2020-01-04"))


def test_a_year_column_is_the_axis_only_with_distinct_whole_numbers_and_another_input():
    rows = [[str(1990 + i), str(i * i)] for i in range(6)]
    axis = choose_time_axis(typed_from(["Year", "count"], rows), ",")
    assert axis.column == "Year" and axis.notes[0].startswith("column 'Year' is used as the time axis")
    np.testing.assert_array_equal(axis.values, np.arange(1990, 1996, dtype=float))
    for names, rows in [
        (["year", "count"], [["1990", "1"], ["1990", "2"], ["1991", "3"]]),  # repeated
        (["year", "count"], [["1990.5", "1"], ["1991", "2"]]),  # not whole
        (["year"], [["1990"], ["1991"], ["1992"]]),  # nothing left to predict
        (["id", "count"], [["1990", "1"], ["1991", "2"]]),  # not named like a time
    ]:
        assert choose_time_axis(typed_from(names, rows), ",").column is None, names


# --------------------------------------------------------------------------- order


def test_unsorted_dates_are_sorted_and_noted():
    days = [5, 1, 3, 2, 4]
    frame = pd.DataFrame({"when": dates(*(f"2022-03-{d:02d}" for d in days)), "v": [10.0 * d for d in days]})
    ordered, notes = order_rows(frame, "when")
    np.testing.assert_array_equal(ordered["v"], [10.0, 20.0, 30.0, 40.0, 50.0])
    assert ordered.index.tolist() == [0, 1, 2, 3, 4]
    assert notes == ["rows were not in time order; sorted by 'when'"]


def test_ties_keep_file_order_and_are_counted():
    frame = pd.DataFrame({"t": [2.0, 1.0, 2.0, 1.0, 3.0], "row": [0.0, 1.0, 2.0, 3.0, 4.0]})
    ordered, notes = order_rows(frame, "t")
    np.testing.assert_array_equal(ordered["row"], [1.0, 3.0, 0.0, 2.0, 4.0])
    assert notes == ["2 repeated value(s) in 't'", "rows were not in time order; sorted by 't'"]


def test_undated_rows_are_dropped_and_all_undated_is_an_error():
    frame = pd.DataFrame({"d": dates("2020-01-01", "NaT", "2020-01-03"), "v": [1.0, 2.0, 3.0]})
    ordered, notes = order_rows(frame, "d")
    np.testing.assert_array_equal(ordered["v"], [1.0, 3.0])
    assert notes == ["1 row(s) without a readable 'd' were dropped"]
    with pytest.raises(PlaygroundError, match=r"no row has a readable 'd'; check the date column"):
        order_rows(pd.DataFrame({"d": dates("NaT", "NaT"), "v": [1.0, 2.0]}), "d")
    ordered, notes = order_rows(frame, None)  # no time axis: rows stay as they are
    assert ordered is frame and notes == []


@settings(max_examples=50, deadline=None)
@given(st.lists(st.integers(0, 4), min_size=20, max_size=80))
def test_many_ties_keep_file_order(days):
    frame = pd.DataFrame({"t": np.array(days, dtype=float), "row": np.arange(len(days), dtype=float)})
    ordered, notes = order_rows(frame, "t")
    expected = sorted(range(len(days)), key=lambda k: (days[k], k))
    np.testing.assert_array_equal(ordered["row"], np.array(expected, dtype=float))
    repeats = len(days) - len(set(days))
    assert (f"{repeats} repeated value(s) in 't'" in notes) is (repeats > 0)
    assert ("rows were not in time order; sorted by 't'" in notes) is (days != sorted(days))


# --------------------------------------------------------------------------- report


def test_report_collects_every_stage():
    layout = Sniffed("\t", True, ["d", "v", "w", "city"], [], [])
    columns = TypedColumns(
        decimal=",",
        numeric=["v", "w"],
        unusable=["city"],
        reasons={"city": "text, e.g. 'Rome' (line 2)"},
        infinite={"v": 2},
    )
    frame = pd.DataFrame({"v": [1.0, np.nan, np.nan, 4.0], "w": [np.nan, 1.0, 2.0, 3.0], "city": ["a"] * 4})
    earlier = ["1 blank line(s) skipped"]
    report = build_report(frame, layout, columns, encoding="latin-1", date_column="d", notes=earlier)
    assert report["rows"] == 4 and report["columns"] == ["d", "v", "w", "city"]
    assert report["delimiter"] == "tab" and report["decimal"] == "," and report["header"] is True
    assert report["encoding"] == "latin-1" and report["date_column"] == "d"
    assert report["missing"] == {"v": 2, "w": 1} and report["unusable_columns"] == ["city"]
    assert report["infinite"] == 2 and report["infinite_by_column"] == {"v": 2}
    assert report["unusable_reasons"] == {"city": "text, e.g. 'Rome' (line 2)"}
    assert report["notes"] == [
        "1 blank line(s) skipped",
        "2 infinite value(s) treated as missing (v: 2)",
        "column 'city' is not usable: text, e.g. 'Rome' (line 2)",
    ]
    assert earlier == ["1 blank line(s) skipped"]  # the caller's list is not extended
