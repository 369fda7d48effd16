"""Stage 1, bytes -> text: where the bytes come from, the size limit, encoding and byte-order mark.

Rules: the size limit (``max_bytes``) is checked before anything is parsed; empty and binary
files (NUL bytes, or many control characters in the start) are errors; UTF-16 is read only with
a byte-order mark; UTF-8 is read with or without its BOM; anything else is read as Latin-1 and
the fallback is reported as a note.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from rnn_core.errors import PlaygroundError

MAX_BYTES = 50_000_000
SAMPLE_CHARS = 65_536  # the start of the text that the binary test and the delimiter sniffer read


@dataclass(frozen=True)
class Decoded:
    """The text of a CSV file and how it was read.

    Attributes
    ----------
    text : str
        The whole file, without a byte-order mark.
    encoding : str
        ``"utf-8"``, ``"utf-8-sig"`` (UTF-8 with BOM), ``"utf-16"`` or ``"latin-1"``.
    notes : tuple[str, ...]
        What a user should know about the reading (the Latin-1 fallback).
    """

    text: str
    encoding: str
    notes: tuple[str, ...] = ()


def read_source(source, max_bytes: int = MAX_BYTES, name: str | None = None) -> tuple[bytes, str]:
    """Bytes of a CSV source and a label for it.

    Parameters
    ----------
    source : bytes | bytearray | memoryview | str | pathlib.Path
        File contents, CSV text (a str containing a line break), or a path.
    max_bytes : int
        Size limit; a file is checked by its size before it is read.
    name : str, optional
        Label to use instead of the file name (or "uploaded CSV" / "pasted CSV").
    """
    if isinstance(source, (bytes, bytearray, memoryview)):
        data = bytes(source)
        label = name or "uploaded CSV"
    elif isinstance(source, str) and ("\n" in source or "\r" in source):
        # CSV text pasted as a string (a path never contains a line break)
        data = source.encode("utf-8")
        label = name or "pasted CSV"
    elif isinstance(source, (str, Path)):
        path = Path(source)
        if not path.exists():
            raise PlaygroundError(f"CSV file not found: {path}; check the path")
        if not path.is_file():
            raise PlaygroundError(f"{path} is not a file; give the path of a .csv file")
        size = path.stat().st_size
        if size > max_bytes:
            raise PlaygroundError(_too_big(size, max_bytes))
        data = path.read_bytes()
        label = name or path.name
    else:
        raise PlaygroundError(f"CSV source must be bytes or a file path; got {type(source).__name__}")
    if len(data) > max_bytes:
        raise PlaygroundError(_too_big(len(data), max_bytes))
    return data, label


def _too_big(size: int, limit: int) -> str:
    return (
        f"file is {size / 1e6:.1f} MB, over the {limit / 1e6:g} MB limit; "
        "upload a smaller file (fewer rows or columns) or raise the size limit"
    )


def decode(data: bytes) -> Decoded:
    """Bytes -> text, with the encoding found; empty and binary files are errors."""
    if not data.strip():
        raise PlaygroundError(
            "the file is empty; upload a CSV with one row per time step (a header row is optional)"
        )
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return Decoded(data.decode("utf-16"), "utf-16", ("read as UTF-16 (byte-order mark found)",))
        except UnicodeDecodeError as e:
            raise PlaygroundError(
                f"the file claims UTF-16 but cannot be decoded ({e.reason}); save it as UTF-8"
            ) from e
    if b"\x00" in data:
        raise PlaygroundError(
            "the file does not look like CSV text: it contains NUL bytes (a binary file, or UTF-16 "
            "without a byte-order mark); export or save it as CSV in UTF-8"
        )
    decoded = _decode_utf8_or_latin1(data)
    _check_not_binary(decoded.text)
    return decoded


def _decode_utf8_or_latin1(data: bytes) -> Decoded:
    if data.startswith(b"\xef\xbb\xbf"):
        encoding, body = "utf-8-sig", data[3:]
    else:
        encoding, body = "utf-8", data
    try:
        return Decoded(body.decode("utf-8"), encoding)
    except UnicodeDecodeError as e:
        note = (
            f"the file is not valid UTF-8 (byte {e.start}); it was read as Latin-1: check accented "
            "characters, or save the file as UTF-8"
        )
        return Decoded(data.decode("latin-1"), "latin-1", (note,))


def _check_not_binary(text: str) -> None:
    controls = sum(
        1 for ch in text[:SAMPLE_CHARS] if (ord(ch) < 32 and ch not in "\t\n\r\x0b\x0c") or ch == "\x7f"
    )
    if controls > max(2, 0.005 * min(len(text), SAMPLE_CHARS)):
        raise PlaygroundError(
            f"the file does not look like CSV text ({controls} control bytes in its start; a binary "
            "file?); upload a CSV text file"
        )
