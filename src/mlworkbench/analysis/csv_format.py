"""How a CSV file is written: its encoding, separator, decimal mark and missing-value codes.

Real files come from spreadsheets and databases in many dialects: `;` separators with decimal
commas (the European Excel export), Windows (cp1252) or Latin-1 text, `?` for a missing
value. `sniff_options` reads a sample and returns the `pandas.read_csv` options (as a config's
`data.csv` section holds them) that read the file; `options_text` writes them as that section,
so error messages and `mlwb init` can say exactly what to add.
"""

from __future__ import annotations

import codecs
import csv
import json
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd

SEPARATORS = (",", ";", "\t", "|")
"""Separators looked for, in order of preference when two read a sample equally well."""
SAMPLE_BYTES = 256 * 1024
CHUNK_BYTES = 1024 * 1024
NA_CODES = ("?", "-", "--", ".", "n.a.", "n.v.t.")
"""Missing-value codes pandas does not know by itself (it knows NA, N/A, null, NaN, ...)."""
COMMA_DECIMAL = re.compile(r"^[-+]?(\d{1,3}(\.\d{3})+|\d+),\d+$")
DOT_DECIMAL = re.compile(r"^[-+]?\d*\.\d+$")
DOT_THOUSANDS = re.compile(r"^[-+]?\d{1,3}(\.\d{3})+(,\d+)?$")


def decodes(path: Path, encoding: str) -> bool:
    """True when the whole file decodes as `encoding` (read in chunks, stops at the first
    error, so a large file costs no memory)."""
    decoder = codecs.getincrementaldecoder(encoding)()
    try:
        with path.open("rb") as handle:
            while chunk := handle.read(CHUNK_BYTES):
                decoder.decode(chunk)
            decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return False
    return True


def detect_encoding(path: Path) -> str:
    """`utf-8`, `utf-8-sig` (UTF-8 with a byte-order mark), `cp1252` or `latin-1`.

    A file that is not UTF-8 reads as Windows cp1252 when it uses the bytes 0x80-0x9F for
    text (the euro sign, curly quotes); Latin-1 otherwise, and for every file cp1252 refuses.
    """
    with path.open("rb") as handle:
        head = handle.read(SAMPLE_BYTES)
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if decodes(path, "utf-8"):
        return "utf-8"
    return "cp1252" if _uses_c1_bytes(path) and decodes(path, "cp1252") else "latin-1"


def _uses_c1_bytes(path: Path) -> bool:
    """True when the file holds a byte 0x80-0x9F: text in cp1252, control codes in Latin-1."""
    with path.open("rb") as handle:
        return any(
            re.search(rb"[\x80-\x9f]", chunk)
            for chunk in iter(lambda: handle.read(CHUNK_BYTES), b"")
        )


def sample_lines(path: Path, encoding: str) -> list[str]:
    """The first lines of the file (about `SAMPLE_BYTES`), without a cut-off last line."""
    with path.open("rb") as handle:
        raw = handle.read(SAMPLE_BYTES)
        complete = len(raw) < SAMPLE_BYTES
    text = raw.decode(encoding, errors="replace")
    lines = text.splitlines()
    return lines if complete or len(lines) < 2 else lines[:-1]


def _rows(lines: list[str], sep: str) -> list[list[str]]:
    return [row for row in csv.reader(lines, delimiter=sep) if row]


def _consistency(lines: list[str], sep: str) -> tuple[float, int]:
    """How well `sep` splits the sample: the share of rows with as many fields as the header,
    and that number of fields (1 when it does not split the header at all)."""
    rows = _rows(lines, sep)
    if not rows or len(rows[0]) < 2:
        return 0.0, 1
    width = len(rows[0])
    body = rows[1:] or rows
    return sum(len(row) == width for row in body) / len(body), width


def detect_separator(lines: list[str]) -> str:
    """The separator of a sample: csv.Sniffer's answer when it splits every row alike, else
    the candidate that splits the most rows into as many fields as the header."""
    try:
        sniffed = csv.Sniffer().sniff("\n".join(lines[:200]), delimiters="".join(SEPARATORS))
        if _consistency(lines, sniffed.delimiter)[0] >= 0.99:
            return sniffed.delimiter
    except csv.Error:
        pass
    scores = {sep: _consistency(lines, sep) for sep in SEPARATORS}
    best = max(SEPARATORS, key=lambda sep: (round(scores[sep][0], 2), scores[sep][1]))
    return best if scores[best][1] > 1 else ","


def detect_numbers(lines: list[str], sep: str) -> dict[str, str]:
    """`decimal` (and `thousands`) when the sample writes numbers as 1,5 or 1.234,5; only
    possible when the separator is not a comma."""
    if sep == ",":
        return {}
    fields = [f.strip() for row in _rows(lines[1:], sep) for f in row]
    commas = sum(bool(COMMA_DECIMAL.match(f)) for f in fields)
    dots = sum(bool(DOT_DECIMAL.match(f)) for f in fields)
    if not commas or commas <= dots:
        return {}
    options = {"decimal": ","}
    if not dots and any(DOT_THOUSANDS.match(f) and "." in f for f in fields):
        options["thousands"] = "."
    return options


def spaces_after_separator(lines: list[str], sep: str) -> bool:
    """True when nearly every field after the first starts with a space ("a, b, c")."""
    fields = [f for row in _rows(lines, sep) for f in row[1:] if f]
    return bool(fields) and sum(f.startswith(" ") for f in fields) / len(fields) >= 0.9


def sniff_options(path: str | Path) -> dict[str, Any]:
    """The `pandas.read_csv` options that read `path`, only those that differ from pandas'
    defaults: `sep`, `encoding`, `decimal`, `thousands`, `skipinitialspace`."""
    path = Path(path)
    encoding = detect_encoding(path)
    lines = sample_lines(path, encoding)
    sep = detect_separator(lines)
    options: dict[str, Any] = {}
    if sep != ",":
        options["sep"] = sep
    if encoding != "utf-8":
        options["encoding"] = encoding
    options.update(detect_numbers(lines, sep))
    if spaces_after_separator(lines, sep):
        options["skipinitialspace"] = True
    return options


def missing_codes(frame: pd.DataFrame) -> list[str]:
    """The `NA_CODES` some text column of `frame` holds as a whole value: they stand for a
    missing value, and read as one they let a column of numbers read as numbers."""
    found = set()
    for name in frame.columns:
        values = frame[name]
        if pd.api.types.is_object_dtype(values) or pd.api.types.is_string_dtype(values):
            found |= set(values.dropna().astype(str).str.strip().unique()) & set(NA_CODES)
    return [code for code in NA_CODES if code in found]


def options_text(options: Mapping[str, Any]) -> str:
    """The options as the config's `data.csv` line: `csv: {sep: ";", decimal: ","}`."""
    return "csv: {" + ", ".join(f"{k}: {json.dumps(v)}" for k, v in options.items()) + "}"


def one_column_separator(frame: pd.DataFrame) -> str:
    """The separator a table read as one column holds in its name ('' when it is not one)."""
    if frame.shape[1] != 1:
        return ""
    name = str(frame.columns[0])
    return next((sep for sep in SEPARATORS if sep in name), "")
