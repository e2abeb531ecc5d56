"""Conformal uncertainty on real models and data: German credit (binary), wine (multiclass),
diabetes (regression) and the messy table, checked against independent counts."""

from __future__ import annotations

import math
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from messy import messy_frame
from sklearn.base import clone
from sklearn.model_selection import train_test_split

from mlworkbench.analysis import data, screening, splits, training
from mlworkbench.analysis.explain import fairness, uncertainty
from mlworkbench.exceptions import ConfigError, DataError


def fitted(train: pd.DataFrame, target: str, task: str, model: str, hyperparameters: dict):
    """A workbench pipeline fitted on `train`, with its encoded labels and classes."""
    screened = screening.screen_columns(train, target)
    pipeline = training.make_pipeline(screened, model, task, hyperparameters, seed=0)
    trained = training.fit(pipeline, train, target, task)
    y, _ = training.encode_target(train[target], task, trained.classes)
    return trained, y


def run(frame: pd.DataFrame, target: str, task: str, kind: str, sensitive: list[str], **kw):
    """Conformal prediction of a small model trained on the first 70% of `frame`."""
    model, hyperparameters = kw.pop("model", ("linear", {}))
    cut = int(len(frame) * 0.7)
    train, test = frame.iloc[:cut], frame.iloc[cut:]
    trained, train_y = fitted(train, target, task, model, hyperparameters)
    test_y, _ = training.encode_target(test[target], task, trained.classes)
    rows = test.drop(columns=[target])
    groups = fairness.sensitive_groups(rows, sensitive, 4)
    result = uncertainty.conformal(
        trained.pipeline, kind, trained.classes, train.drop(columns=[target]), train_y, rows,
        test_y, groups, **kw,
    )  # fmt: skip
    return result, trained, (train.drop(columns=[target]), train_y, rows, test_y, groups)


@pytest.fixture(scope="module")
def binary(german):
    """German credit, a small xgboost model, sensitive sex and age."""
    return run(german, "risk", "classification", "binary", ["sex", "age"], model=XGB)


XGB = ("xgboost", {"n_estimators": 30, "max_depth": 3})


def test_group_coverage_equals_a_count_from_sets_built_independently(binary):
    result, trained, (train_rows, train_y, rows, test_y, groups) = binary
    from mapie.classification import SplitConformalClassifier

    fit_rows, cal_rows, fit_y, cal_y = train_test_split(
        train_rows, train_y, test_size=0.25, stratify=train_y, random_state=42
    )
    model = clone(trained.pipeline).fit(fit_rows, fit_y)
    mapie = SplitConformalClassifier(model, confidence_level=0.9, prefit=True)
    _, sets = mapie.conformalize(cal_rows, cal_y).predict_set(rows)
    hits = {}
    for i, (label, truth) in enumerate(zip(groups["sex"], test_y, strict=True)):
        hits.setdefault(label, []).append(bool(sets[i, truth, 0]))
    table = result.table[result.table["feature"] == "sex"].set_index("group")
    for label, flags in hits.items():
        assert table.loc[label, "rows"] == len(flags)
        assert table.loc[label, "coverage"] == pytest.approx(sum(flags) / len(flags))
    assert result.coverage == pytest.approx(np.mean(sets[np.arange(len(test_y)), test_y, 0]))
    assert result.size == pytest.approx(sets[:, :, 0].sum(axis=1).mean())
    assert result.multi_share == pytest.approx(np.mean(sets[:, :, 0].sum(axis=1) == 2))
    assert set(result.table["feature"]) == {"sex", "age", "sex & age"}


def test_binary_sentences_metrics_and_figures(binary):
    result = binary[0]
    assert result.computed and result.rows == 300 and 0.8 <= result.coverage <= 1
    headline, *rest = result.sentences()
    assert headline.startswith("Across the 300 test rows, the 90% prediction sets contained")
    assert f"{result.coverage:.1%}" in headline
    assert any("get both classes: the model cannot tell them apart" in s for s in rest)
    assert (
        "refit on 75% of the training rows (525) and calibrated on the other 25% (175)"
        in (rest[-1])
    )
    metrics = result.metrics()
    assert metrics["conformal.level"] == 0.9
    assert metrics["conformal.coverage"] == result.coverage
    assert metrics["conformal.mean_set_size"] == result.size
    assert metrics["conformal.sex.female.coverage"] == pytest.approx(
        result.table.set_index(["feature", "group"]).loc[("sex", "female"), "coverage"]
    )
    assert all(" " not in name and "&" not in name for name in metrics)


def test_regression_intervals_cover_about_the_level_with_the_calibrated_width():
    diabetes = data.read_source("sklearn:diabetes").sample(frac=1, random_state=0)
    result, trained, (train_rows, train_y, *_) = run(
        diabetes, "target", "regression", "regression", ["sex", "age"]
    )
    assert result.computed and result.rows == 133
    assert abs(result.coverage - 0.9) < 0.06
    fit_rows, cal_rows, fit_y, cal_y = uncertainty.calibration_split(
        train_rows, train_y, "regression", 0.25, 42
    )
    residuals = np.abs(cal_y - clone(trained.pipeline).fit(fit_rows, fit_y).predict(cal_rows))
    quantile = np.sort(residuals)[math.ceil((len(residuals) + 1) * 0.9) - 1]
    assert result.size == pytest.approx(2 * quantile)
    assert "conformal.mean_width" in result.metrics()
    assert "intervals contained the true value for" in result.sentences()[0]
    assert set(result.table.columns) >= {"mean_width", "coverage", "too_small"}


def test_multiclass_wine_sets():
    wine = data.read_source("sklearn:wine").sample(frac=1, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        result, *_ = run(wine, "target", "classification", "multiclass", ["alcohol"], model=XGB)
    assert result.computed and result.rows == 54
    assert result.coverage >= 0.85 and 0.5 <= result.size <= 3
    assert 0 <= result.empty_share <= 1 and 0 <= result.multi_share <= 1
    assert result.table["rows"].sum() == 54 and len(result.table) == 4
    assert result.table["too_small"].all()  # 13-14 rows per alcohol bin, fewer than 30


def test_unknown_training_rows_leave_it_not_computed(subject):
    groups = fairness.sensitive_groups(subject.rows, ["sex"], 4)
    result = uncertainty.conformal(
        subject.pipeline, "binary", subject.classes, None, None, subject.rows, subject.y, groups
    )
    assert result.status == "not computed" and not result.computed
    assert "training rows are not known" in result.reason
    assert result.sentences() == [f"Conformal prediction was not computed: {result.reason}."]
    assert result.metrics() == {"conformal.level": 0.9}


def test_level_zero_switches_it_off_and_bad_levels_are_refused(subject):
    groups = fairness.sensitive_groups(subject.rows, [], 4)
    args = (subject.pipeline, "binary", subject.classes, None, None, subject.rows, subject.y)
    result = uncertainty.conformal(*args, groups, level=0)
    assert result.status == "off" and result.sentences() == [
        "Conformal prediction is switched off (level 0)."
    ]
    with pytest.raises(ConfigError, match="level must be 0"):
        uncertainty.conformal(*args, groups, level=1.5)
    with pytest.raises(ConfigError, match="calibration_share"):
        uncertainty.conformal(*args, groups, calibration_share=1)


def test_too_few_training_rows_or_a_lone_class_leave_it_not_computed(german, subject):
    train = german.iloc[:100]
    y, _ = training.encode_target(train["risk"], "classification", subject.classes)
    groups = fairness.sensitive_groups(subject.rows, ["sex"], 4)
    rows = train.drop(columns=["risk"])
    args = (subject.pipeline, "binary", subject.classes, rows, y, subject.rows, subject.y, groups)
    few = uncertainty.conformal(*args, level=0.95)
    assert few.status == "not computed" and few.reason == (
        "the calibration split would hold 25 of the 100 training rows; a 95% level needs at "
        "least 40"
    )
    lone = y.copy()
    lone[:] = 0
    lone[0] = 1
    alone = uncertainty.conformal(*args[:4], lone, *args[5:])
    assert "class 1 has fewer than two training rows" in alone.reason
    with pytest.raises(DataError, match="differ in length"):
        uncertainty.conformal(*args[:4], y[:10], *args[5:])


def test_a_rare_class_missing_from_the_calibration_split_raises_no_warning():
    wine = data.read_source("sklearn:wine").sample(frac=1, random_state=0)
    rare = wine[wine["target"] != 2]
    wine = pd.concat([rare, wine[wine["target"] == 2].head(2)]).sample(frac=1, random_state=1)
    train, test = wine.iloc[:100], wine.iloc[100:]
    trained, train_y = fitted(train, "target", "classification", "linear", {})
    test_y, _ = training.encode_target(test["target"], "classification", trained.classes)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        result = uncertainty.conformal(
            trained.pipeline, "multiclass", trained.classes, train.drop(columns=["target"]),
            train_y, test.drop(columns=["target"]), test_y, pd.DataFrame(index=test.index),
        )  # fmt: skip
    assert result.computed and result.table.empty


def test_messy_table():
    frame = messy_frame()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        result, *_ = run(frame, "outcome", "classification", "binary", ["région", "age"])
    assert result.computed and result.rows == 180 and result.coverage >= 0.85
    assert set(result.table["feature"]) == {"région", "age", "région & age"}
    assert "conformal.région.Zuid.coverage" in result.metrics()
    assert not any("Anna" in s or "100001" in s for s in result.sentences())


ADULT = Path(__file__).resolve().parents[4].parent / "shared" / "data" / "adult.csv"


@pytest.mark.skipif(not ADULT.is_file(), reason="the shared datasets are not beside the project")
def test_adult_sets_cover_the_test_rows_within_three_points_of_the_level():
    frame = pd.read_csv(ADULT, na_values=["?"])
    split = splits.split_data(frame, "income", "classification", "stratified", 0.25, 42)
    trained, train_y = fitted(split.train, "income", "classification", "xgboost", {})
    test_y, _ = training.encode_target(split.test["income"], "classification", trained.classes)
    rows = split.test.drop(columns=["income"])
    result = uncertainty.conformal(
        trained.pipeline,
        "binary",
        trained.classes,
        split.train.drop(columns=["income"]),
        train_y,
        rows,
        test_y,
        fairness.sensitive_groups(rows, ["sex", "race", "age"], 4),
        level=0.9,
    )
    assert result.rows == len(split.test) == 12211
    assert abs(result.coverage - 0.9) <= 0.03
    assert 1 <= result.size < 1.3
