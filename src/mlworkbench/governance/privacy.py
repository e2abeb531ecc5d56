"""Privacy checks: columns that look like personal data, by name and by content.

A column is flagged when its name says what it holds (name, e-mail, phone, national or
customer identifier, address, birth date) or when its values do (e-mail addresses, phone
numbers, national-identifier formats, long free text). The governance stage turns every
finding, and every sensitive attribute the model uses as a feature, into a checklist item.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import pandas as pd

NAME_PATTERNS = {
    "name": r"(^|_)(first|last|full|sur|given|family)?_?name($|_)",
    "e-mail address": r"e_?mail",
    "phone number": r"phone|mobile|(^|_)tel($|_)|telephone",
    "national identifier": r"ssn|social_?security|passport|national_?id|tax_?id|(^|_)nin($|_)"
    r"|insurance_?number|id_?card|driver_?licen[cs]e",
    "customer identifier": r"customer_?(id|number|no)|client_?(id|number|no)|account_?(id|number"
    r"|no)|(^|_)iban($|_)|user_?id",
    "address": r"(^|_)(street|address|postcode|zip_?code|postal_?code)($|_)",
    "birth date": r"birth|(^|_)dob($|_)",
}

DATE = r"\d{4}[./-]\d{1,2}[./-]\d{1,2}|\d{1,2}[./-]\d{1,2}[./-]\d{2,4}"
"""Dates written as text (2023-01-15, 15/01/2023, 15.01.23): digits and separators, like a
phone number, but not one."""

VALUE_PATTERNS = {
    "e-mail address": r"^[\w.+-]+@[\w-]+\.[\w.-]+$",
    "national identifier": r"^\d{3}-\d{2}-\d{4}$|^[A-Z]{2}\d{6}[A-Z]$",
    "phone number": rf"^(?!(?:{DATE})$)\+?\(?\d[\d ()./-]{{6,}}\d$",
}
"""Checked in this order; the first pattern that half the values match names the column."""

FREE_TEXT_MIN_LENGTH = 40
"""Average length of a text column from which it counts as free text."""


@dataclass(frozen=True)
class Finding:
    """One column that looks like personal data, and why."""

    column: str
    kind: str
    evidence: str


def _normalised(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", str(name).lower()).strip("_")


def personal_data_columns(frame: pd.DataFrame, sample_rows: int = 1000) -> list[Finding]:
    """Columns of `frame` that look like personal data, by name or by content.

    Content is judged on up to `sample_rows` non-missing values of each text column: a
    pattern counts when at least half of them match it.
    """
    findings = []
    for column in frame.columns:
        name = _normalised(column)
        by_name = [kind for kind, pattern in NAME_PATTERNS.items() if re.search(pattern, name)]
        if by_name:
            findings.append(Finding(str(column), by_name[0], f"column name '{column}'"))
            continue
        values = frame[column].dropna()
        if pd.api.types.is_numeric_dtype(values) or values.empty:
            continue
        text = values.astype(str).head(sample_rows)
        for kind, pattern in VALUE_PATTERNS.items():
            share = text.str.match(pattern).mean()
            if share >= 0.5:
                findings.append(Finding(str(column), kind, f"{share:.0%} of values look like one"))
                break
        else:
            if text.str.len().mean() >= FREE_TEXT_MIN_LENGTH and text.nunique() > len(text) / 2:
                findings.append(
                    Finding(
                        str(column),
                        "free text",
                        f"{text.str.len().mean():.0f} characters on average",
                    )
                )
    return findings


def sensitive_features_used(features: list[str], sensitive: list[str]) -> list[str]:
    """The sensitive attributes of the config that the model takes as features."""
    return [f for f in sensitive if f in features]
