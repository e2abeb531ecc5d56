"""Drift against training reference statistics, on the shared adult census data."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from helpers import REPO

from mlworkbench.analysis import training
from mlworkbench.production import drift

ADULT = REPO.parent / "shared" / "data" / "adult.csv"


@pytest.fixture(scope="module")
def halves():
    frame = pd.read_csv(ADULT, na_values=["?"]).sample(frac=1.0, random_state=0)
    middle = len(frame) // 2
    train, batch = frame.iloc[:middle], frame.iloc[middle:].drop(columns=["income"])
    return training.reference_statistics(train, "income"), batch.reset_index(drop=True)


def test_a_batch_drawn_like_the_training_data_is_ok(halves):
    reference, batch = halves
    table = drift.feature_table(reference, batch, drift.Thresholds())
    assert set(table["status"]) == {"OK"}, table[table.status != "OK"]
    assert table["psi"].max() < 0.02
    assert drift.schema_changes(reference, batch) == []


def test_an_injected_shift_alerts_on_exactly_the_shifted_features(halves):
    reference, batch = halves
    shifted = batch.copy()
    shifted["age"] = shifted["age"] + 15
    rng = np.random.default_rng(1)
    changed = rng.random(len(shifted)) < 0.6
    shifted.loc[changed, "occupation"] = "Exec-managerial"
    table = drift.feature_table(reference, shifted, drift.Thresholds())
    flagged = table[table["status"] != "OK"]
    assert set(flagged["feature"]) == {"age", "occupation"}
    assert set(flagged["status"]) == {"ALERT"}
    assert list(table["feature"][:2]) in (["age", "occupation"], ["occupation", "age"])
    age = table.set_index("feature").loc["age"]
    assert age["distance_kind"] == "KS" and age["distance"] > 0.3


def test_psi_and_js_match_their_definitions():
    ref, cur = np.array([0.5, 0.3, 0.2]), np.array([0.3, 0.3, 0.4])
    expected = sum((c - r) * np.log(c / r) for r, c in zip(ref, cur, strict=True))
    assert drift.psi(ref, cur) == pytest.approx(expected)
    m = (ref + cur) / 2
    kl = lambda p, q: np.sum(p * np.log2(p / q))  # noqa: E731
    assert drift.js_distance(ref, cur) == pytest.approx(np.sqrt((kl(ref, m) + kl(cur, m)) / 2))


def test_unseen_categories_missing_values_and_schema_changes_are_reported(halves):
    reference, batch = halves
    changed = batch.drop(columns=["race"]).assign(score_card=1)
    changed["hours-per-week"] = changed["hours-per-week"].astype(str) + "h"
    changed.loc[: len(changed) // 10, "workclass"] = "Gig-economy"
    changed.loc[: len(changed) // 4, "education-num"] = np.nan
    table = drift.feature_table(reference, changed, drift.Thresholds()).set_index("feature")
    assert table.loc["workclass", "unseen"] == "Gig-economy"
    assert table.loc["workclass", "unseen_share"] == pytest.approx(0.1, abs=0.01)
    assert table.loc["workclass", "status"] == "ALERT"
    assert table.loc["education-num", "missing_change"] == pytest.approx(0.25, abs=0.01)
    changes = {c["column"]: c for c in drift.schema_changes(reference, changed)}
    assert changes["race"]["change"] == "removed" and changes["race"]["status"] == "ALERT"
    assert changes["score_card"]["change"] == "added" and changes["score_card"]["status"] == "WARN"
    assert changes["hours-per-week"]["change"].startswith("type changed: numeric in training")
    assert drift.overall(["OK", "WARN"]) == "WARN" and drift.overall([]) == "OK"


@pytest.fixture(scope="module")
def planted_halves(planted):
    """The halves of `halves` with personal columns planted: the reference as the train stage
    logs it (personal entries), the reference of a run from before (every column described; of
    40 rows, so that its categories are every value and none is `(other)`), the batch, and the
    planted columns."""
    plant, _, columns = planted
    frame = plant(pd.read_csv(ADULT, na_values=["?"])).sample(frac=1.0, random_state=0)
    middle = len(frame) // 2
    train, batch = frame.iloc[:middle], frame.iloc[middle:].drop(columns=["income"])
    reference = training.reference_statistics(train, "income", personal=columns)
    older = training.reference_statistics(train.head(40), "income")
    return reference, older, batch.reset_index(drop=True), columns


def test_personal_columns_are_not_compared_and_the_rest_drift_checks_as_before(
    halves, planted_halves, planted
):
    reference, batch = halves
    with_personal, _, planted_batch, columns = planted_halves
    assert {c: with_personal["features"][c]["kind"] for c in columns} == dict.fromkeys(
        columns, "personal"
    )
    table = drift.feature_table(with_personal, planted_batch, drift.Thresholds())
    pd.testing.assert_frame_equal(table, drift.feature_table(reference, batch, drift.Thresholds()))
    shifted = planted_batch.assign(age=planted_batch["age"] + 15)
    flagged = drift.feature_table(with_personal, shifted, drift.Thresholds())
    assert set(flagged.loc[flagged["status"] != "OK", "feature"]) == {"age"}
    assert drift.schema_changes(with_personal, planted_batch) == []
    retyped = planted_batch.assign(phone=np.arange(len(planted_batch)), email=pd.NA)
    retyped["date_of_birth"] = pd.to_datetime(retyped["date_of_birth"])
    assert drift.schema_changes(with_personal, retyped) == []
    values = planted[1](planted_batch, columns)
    text = table.to_csv() + flagged.to_csv()
    assert len(values) > 20_000 and not [v for v in values if v in text]


def test_a_reference_from_before_shows_no_personal_value_once_the_columns_are_named(
    planted_halves, planted
):
    _, older, batch, columns = planted_halves
    unprotected = drift.feature_table(older, batch, drift.Thresholds()).set_index("feature")
    assert unprotected.loc["email", "unseen"].count("@example.org") == 10  # what naming prevents
    table = drift.feature_table(older, batch, drift.Thresholds(), personal=columns)
    assert not set(columns) & set(table["feature"])
    retyped = batch.assign(phone=np.arange(len(batch)))
    assert drift.schema_changes(older, retyped, personal=columns) == []
    assert [c["column"] for c in drift.schema_changes(older, retyped)] == ["phone"]
    text = table.to_csv()
    assert not [v for v in planted[1](batch, columns) if v in text]
