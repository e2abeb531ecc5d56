"""Values written as text: numbers ("32,220", "12%", "3,5") and dates ("2013-07-02"), recognised
on a column's distinct values and parsed the way column screening reads them."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

OTHER = "other"
"""The value that stands for the rare values of a text column the screening caps."""
DATE_TEXT = re.compile(
    r"^\s*(\d{4}[-/.]\d{1,2}[-/.]\d{1,2}|\d{1,2}[-/.]\d{1,2}[-/.]\d{2,4})"
    r"([ T]\d{1,2}:\d{2}(:\d{2}(\.\d+)?)?([+-]\d{2}:?\d{2}|Z)?)?\s*$"
)
NUMBER_FORMATS = {
    "plain": (re.compile(r"^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$"), None),
    "thousands separators": (re.compile(r"^[-+]?\d{1,3}(,\d{3})+(\.\d+)?$"), ","),
    "decimal commas": (re.compile(r"^[-+]?\d{1,3}(\.\d{3})*,\d+$|^[-+]?\d+,\d+$"), "."),
}
"""Ways numbers are written as text: a pattern, and the character that only groups digits."""
PARSE_SHARE = 0.95
"""Share of a text column's values that must read as numbers (or dates) to be parsed."""


def is_numeric(values: pd.Series) -> bool:
    """Numbers (not booleans) count as numeric."""
    return pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values)


def text_counts(values: pd.Series) -> pd.Series:
    """How often each distinct non-missing value occurs, by its text (checks on the distinct
    values, weighted by these counts, cost the same on a million rows as on a thousand)."""
    return values.dropna().astype(str).value_counts()


def _clean(text: pd.Index) -> pd.Index:
    """Text without surrounding spaces, currency signs, inner spaces or a percent sign."""
    return text.str.strip().str.replace(r"^[$€£]|%$|[\s\u00a0']", "", regex=True)


def _share(counts: pd.Series, matched: np.ndarray) -> float:
    return float(counts[matched].sum() / counts.sum())


def number_format(values: pd.Series) -> str:
    """The way a text column writes numbers (`NUMBER_FORMATS`), or '' when it does not."""
    counts = text_counts(values)
    if counts.empty:
        return ""
    text = _clean(counts.index)
    matches = {
        name: np.asarray(text.str.match(rule), dtype=bool)
        for name, (rule, _) in NUMBER_FORMATS.items()
    }
    best = max(matches, key=lambda name: _share(counts, matches[name]))  # first of equals
    share = _share(counts, matches[best])
    codes = int((~matches[best]).sum())  # distinct texts such as 'unknown' among numbers
    return best if share >= PARSE_SHARE or (share >= 0.5 and codes <= 3) else ""


def parse_numbers(values: pd.Series, fmt: str) -> pd.Series:
    """Numbers from text written in `fmt`; values that are not numbers become missing."""
    if is_numeric(values):
        return values.astype(float)
    text = values.astype(str).str.strip()
    text = text.str.replace(r"^[$€£]|%$|[\s\u00a0']", "", regex=True)
    grouping = NUMBER_FORMATS[fmt][1] if fmt in NUMBER_FORMATS else None
    if grouping:
        text = text.str.replace(grouping, "", regex=False)
    if grouping == ".":
        text = text.str.replace(",", ".", regex=False)
    parsed = pd.to_numeric(text.where(values.notna()), errors="coerce")
    return parsed.astype(float)


def looks_like_dates(values: pd.Series) -> bool:
    """True for datetime columns and for text that is (nearly) all dates."""
    if pd.api.types.is_datetime64_any_dtype(values):
        return True
    if is_numeric(values) or pd.api.types.is_bool_dtype(values):
        return False
    counts = text_counts(values)
    if counts.empty:
        return False
    if _share(counts, np.asarray(counts.index.str.match(DATE_TEXT), dtype=bool)) < PARSE_SHARE:
        return False
    dates = _to_dates(pd.Series(counts.index, index=counts.index))
    return _share(counts, dates.notna().to_numpy()) >= PARSE_SHARE


def _to_dates(values: pd.Series) -> pd.Series:
    if pd.api.types.is_datetime64_any_dtype(values):
        return values.dt.tz_localize(None) if values.dt.tz is not None else values
    try:
        dates = pd.to_datetime(values, errors="coerce", format="mixed", utc=True)
    except (ValueError, TypeError, OverflowError):
        return pd.Series(pd.NaT, index=values.index)
    return dates.dt.tz_localize(None)


def decimal_years(values: pd.Series) -> pd.Series:
    """Dates (text or datetime) as decimal years: 2013-07-02 -> 2013.50; others missing."""
    if is_numeric(values):
        return values.astype(float)
    dates = _to_dates(values.where(values.notna()))
    length = np.where(dates.dt.is_leap_year, 366.0, 365.0)
    return (dates.dt.year + (dates.dt.dayofyear - 1) / length).astype(float)
