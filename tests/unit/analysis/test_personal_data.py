"""Personal data: found by name, by values or by the config; masked by stable keyed pseudonyms
whose key stays in the project folder; only counts reach a report."""

from __future__ import annotations

import stat

import numpy as np
import pandas as pd
import pytest
from messy import messy_frame, with_personal_data

from mlworkbench.analysis import personal_data
from mlworkbench.analysis.personal_data import (
    find_personal,
    mask,
    overview,
    personal_data_columns,
    project_key,
    pseudonym,
    searchable_values,
)
from mlworkbench.analysis.screening import screen_columns
from mlworkbench.exceptions import UnknownColumnError

ROWS = 40


@pytest.fixture
def people() -> pd.DataFrame:
    """Columns whose names say nothing: only their values show what they hold."""
    rng = np.random.default_rng(0)
    first = ["Anna", "Bram", "Chloé", "Daan", "Emma"]
    return pd.DataFrame(
        {
            "holder": [f"{first[i % 5]} van der Berg{'h' * (i // 5)}" for i in range(ROWS)],
            "account": [f"NL{10 + i}ABNA{rng.integers(10**9, 10**10)}" for i in range(ROWS)],
            "reference": [f"CR-2019-{i:06d}" for i in range(ROWS)],
            "city": ["Utrecht", "Den Haag", "Amsterdam", "Zwolle"] * (ROWS // 4),
            "product": [f"PLAN-{i % 3}" for i in range(ROWS)],
            "telephone": ["yes", "none"] * (ROWS // 2),
            "amount": rng.normal(100, 10, ROWS),
        }
    )


def kinds(frame: pd.DataFrame) -> dict[str, str]:
    return {f.column: f.kind for f in personal_data_columns(frame)}


def test_names_ibans_and_text_identifiers_are_found_by_their_values(people):
    assert kinds(people) == {
        "holder": "name",
        "account": "bank account (IBAN)",
        "reference": "identifier",
    }


def test_repeated_values_and_flag_columns_named_like_contact_data_are_not_personal(people):
    found = kinds(people)
    assert "city" not in found  # capitalised words, but a few places repeated
    assert "product" not in found  # letters and digits, but a code repeated
    assert "telephone" not in found  # named like a phone number, but a yes / no flag


def test_the_config_adds_and_overrides_and_order_follows_the_table(people):
    found = find_personal(
        people, "amount", {"personal_columns": ["city"], "not_personal": ["account"]}
    )
    assert found.columns == ["holder", "reference", "city"]
    assert found.kinds()["city"] == "named in the config"
    assert found.overridden == ["account"]
    assert "account" not in found.columns
    assert found.as_dict()["not_personal"] == ["account"]
    assert personal_data.PersonalData.from_dict(found.as_dict()) == found


def test_the_config_may_not_name_an_unknown_column_or_the_target(people):
    with pytest.raises(UnknownColumnError, match=r"privacy names 'nope', 'amount'"):
        find_personal(people, "amount", {"personal_columns": ["nope"], "not_personal": ["amount"]})


def test_pseudonyms_are_stable_keyed_and_keep_missing_values_and_number_types():
    frame = pd.DataFrame(
        {"name": ["Ana Silva", None, "Ana Silva"], "id": [101, 102, 101], "x": [1.0, 2.0, 3.0]}
    )
    masked = mask(frame, ["name", "id"], key=b"one")
    again = mask(frame, ["name", "id"], key=b"one")
    other = mask(frame, ["name", "id"], key=b"two")
    pd.testing.assert_frame_equal(masked, again)
    assert masked["name"][0] == masked["name"][2] == pseudonym("Ana Silva", b"one")
    assert masked["name"][0].startswith("anon-") and len(masked["name"][0]) == 15
    assert pd.isna(masked["name"][1])
    assert masked["id"].dtype == frame["id"].dtype and masked["id"][0] == masked["id"][2]
    assert masked["id"][0] != 101 and other["name"][0] != masked["name"][0]
    assert masked["x"].tolist() == [1.0, 2.0, 3.0]
    assert "Ana Silva" not in masked.to_csv()


def test_the_key_is_written_once_readable_by_its_owner_only(tmp_path, monkeypatch):
    monkeypatch.delenv(personal_data.KEY_ENV, raising=False)
    key = project_key(tmp_path)
    path = tmp_path / ".mlwb" / "pseudonym.key"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert (tmp_path / ".mlwb" / ".gitignore").read_text() == "*\n"
    assert project_key(tmp_path) == key and len(key) == 64
    monkeypatch.setenv(personal_data.KEY_ENV, "from the environment")
    assert project_key(tmp_path) == b"from the environment"
    monkeypatch.delenv(personal_data.KEY_ENV)
    monkeypatch.setenv(personal_data.PROJECT_ENV, str(tmp_path))
    assert project_key() == key  # the project mlwb names for its kernels


def test_searchable_values_leave_out_numbers_and_short_texts():
    frame = pd.DataFrame(
        {"a": ["Ana Silva", "Li", "12,345", "Ana Silva", None], "b": [1, 2, 3, 4, 5]}
    )
    assert searchable_values(frame, ["a", "b", "missing"]) == ["Ana Silva"]


def test_the_overview_gives_counts_and_never_a_value():
    frame = with_personal_data(messy_frame(120))
    frame.loc[:9, "email"] = None
    personal = find_personal(frame, "outcome", {"personal_columns": ["nickname"]})
    table = overview(frame, personal)
    email = table.set_index("column").loc["email"]
    assert (email["values"], email["missing_share"], email["distinct"]) == (110, 10 / 120, 110)
    assert list(table["column"]) == personal.columns
    for value in frame[personal.columns].astype(str).stack():
        assert value not in table.to_csv()


def test_screening_drops_personal_columns_and_refuses_to_keep_one():
    frame = with_personal_data(messy_frame(120))
    personal = find_personal(frame, "outcome", {"personal_columns": ["nickname"]})
    screened = screen_columns(frame, "outcome", personal=personal.kinds())
    dropped = {d.column: d.reason for d in screened.dropped()}
    assert dropped["nickname"].startswith("personal data (named in the config)")
    assert dropped["date_of_birth"].startswith("personal data (birth date)")  # not a date feature
    assert not set(personal.columns) & {d.column for d in screened.used()}
    with pytest.raises(UnknownColumnError, match="keep_columns names 'email'"):
        screen_columns(frame, "outcome", keep_columns=["email"], personal=personal.kinds())
