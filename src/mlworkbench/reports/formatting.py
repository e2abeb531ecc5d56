"""Numbers and codes as people read them in reports: grouped digits, never scientific
notation, and a monitoring status in words rather than its numeric level."""

from __future__ import annotations

import hashlib
import math
import numbers
import re
from pathlib import PurePath
from typing import Any

# Deferred imports: numpy and pandas load inside the functions that use them, so that importing
# this module (from the command line or a notebook) stays fast.

STATUS_WORDS = ("OK", "WARN", "ALERT")
"""Monitoring statuses by level, as `drift.STATUSES` defines them (the `status_level`
metric logs the position in this tuple)."""


def format_number(value: Any) -> str:
    """A value as a reader expects it in a table.

    Integers and whole floats get thousands separators (`32,220`); other numbers from 1,000
    up one decimal (`32,220.5`), smaller ones three significant digits (`12.3`, `0.0123`,
    `0.000123`), written out in full, never as `3.22e+04`. NaN and None read as a dash,
    infinity as `∞`; booleans and text stay as they are.
    """
    if value is None:
        return "–"
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        return "–" if str(value) in {"nan", "NaN", "<NA>", "NaT", "None"} else str(value)
    if isinstance(value, numbers.Integral):
        return f"{int(value):,}"
    number = float(value)
    if math.isnan(number):
        return "–"
    if math.isinf(number):
        return "∞" if number > 0 else "-∞"
    if number.is_integer() and abs(number) < 1e18:
        return f"{int(number):,}"
    if abs(number) >= 1000:
        return f"{number:,.1f}".removesuffix(".0")
    import numpy as np

    text = np.format_float_positional(number, precision=3, fractional=False, trim="-")
    return text if "." in text else f"{int(text):,}"  # 999.7 rounds to 1,000


def format_fixed(value: Any, spec: str) -> str:
    """A number in the fixed format `spec` (`.1%`, `.3f`) with thousands separators; NaN,
    text and booleans as `format_number` writes them."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or value != value:
        return format_number(value)
    return f"{value:,{spec}}"


def status_word(value: Any) -> str:
    """A monitoring status in words: a level (`2`, `2.0`, `"2"`) becomes `ALERT`; a word
    stays; anything else (no status) becomes an empty string."""
    if value is None or value == "":
        return ""
    text = str(value).strip()
    if text.upper() in STATUS_WORDS:
        return text.upper()
    try:
        level = float(text)
    except ValueError:
        return text
    if level.is_integer() and 0 <= level < len(STATUS_WORDS):
        return STATUS_WORDS[int(level)]
    return text


def left_aligned_text(frame: Any) -> tuple[str, str]:
    """A CSS class for a table of `frame` and the style that left-aligns its text columns
    (notebook pages right-align every cell, which makes sentences hard to read)."""

    import pandas as pd

    positions = [
        i + 1
        for i in range(frame.shape[1])
        if not pd.api.types.is_numeric_dtype(frame.iloc[:, i])
        or pd.api.types.is_bool_dtype(frame.iloc[:, i])
    ]
    if not positions:
        return "", ""
    key = "mlwb-t" + hashlib.sha1(repr(positions).encode()).hexdigest()[:8]
    cells = ",".join(f".{key} td:nth-child({p}),.{key} th:nth-child({p})" for p in positions)
    return key, f"<style>{cells}{{text-align:left}}</style>"


def store_label(uri: str) -> str:
    """A tracking store as a report names it: a server's address as it is (without any
    credentials), a local store by its file or folder name only, never a path of the machine."""

    if uri.startswith(("http://", "https://")):
        return re.sub(r"//[^/@]*@", "//", uri)
    local = re.sub(r"^(sqlite|file):/*", "/", uri)
    kind = " (SQLite)" if uri.startswith("sqlite:") else ""
    return PurePath(local).name + kind
