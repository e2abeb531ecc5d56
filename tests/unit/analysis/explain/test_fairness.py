"""Fairness tables and gates against direct pandas and fairlearn computations."""

from __future__ import annotations

import fairlearn.metrics as fm
import numpy as np
import pandas as pd
import pytest
from helpers import fit_small as fitted

from mlworkbench.analysis import screening, training
from mlworkbench.analysis.explain import calibration, fairness


def direct_rates(y, predicted, groups):
    frame = pd.DataFrame({"y": y, "p": predicted, "g": groups})
    rows = {}
    for name, part in frame.groupby("g"):
        positives, negatives = part[part.y == 1], part[part.y == 0]
        rows[name] = {
            "rows": len(part),
            "positives": len(positives),
            "selection_rate": part.p.mean(),
            "true_positive_rate": positives.p.mean(),
            "false_positive_rate": negatives.p.mean(),
            "precision": part[part.p == 1].y.mean(),
            "accuracy": (part.p == part.y).mean(),
        }
    return pd.DataFrame(rows).T


def test_fairness_table_equals_a_direct_pandas_computation(german_checked):
    trained = fitted(german_checked, "xgboost")
    test = german_checked.sample(400, random_state=3)
    rows = test.drop(columns=["risk"])
    proba = trained.pipeline.predict_proba(rows)
    predicted = (proba[:, 1] >= 0.5).astype(int)
    y = test["risk"].to_numpy()
    groups = fairness.sensitive_groups(rows, ["sex", "age"], bins=4)
    assert list(groups.columns) == ["sex", "age", "sex & age"]
    assert groups["age"].nunique() == 4
    for name in groups.columns:
        table = fairness.group_table(y, predicted, proba[:, 1], groups[name], "binary", 30)
        expected = direct_rates(y, predicted, groups[name].to_numpy())
        shown = table.set_index("group")
        for column in expected.columns:
            np.testing.assert_allclose(
                shown[column].astype(float), expected.loc[shown.index, column].astype(float)
            )
        np.testing.assert_array_equal(shown["too_small"], shown["rows"] < 30)


def test_gates_match_fairlearn_and_an_impossible_threshold_fails(german_checked):
    trained = fitted(german_checked, "xgboost")
    rows = german_checked.drop(columns=["risk"])
    predicted = trained.pipeline.predict(rows)
    y = german_checked["risk"].to_numpy()
    table = fairness.group_table(y, predicted, None, rows["sex"], "binary", 30)
    gates = fairness.evaluate_gates(
        {"sex": table},
        "binary",
        {"demographic_parity_ratio": 1.01, "equalized_odds_difference": 0.5},
    )
    by_name = {g["gate"]: g for g in gates}
    ratio = by_name["demographic_parity_ratio"]
    assert ratio["value"] == pytest.approx(
        fm.demographic_parity_ratio(y, predicted, sensitive_features=rows["sex"]), abs=1e-6
    )
    assert ratio["status"] == "FAIL"
    odds = by_name["equalized_odds_difference"]
    assert odds["value"] == pytest.approx(
        fm.equalized_odds_difference(y, predicted, sensitive_features=rows["sex"]), abs=1e-6
    )
    assert odds["status"] == "PASS"
    assert fairness.overall_status(gates) == "FAIL"
    assert fairness.gate_tags(gates)["mlwb.gate.sex.demographic_parity_ratio"] == "FAIL"
    measures = fairness.disparities({"sex": table}, "binary").set_index("measure")["value"]
    assert measures["demographic_parity_difference"] == pytest.approx(
        fm.demographic_parity_difference(y, predicted, sensitive_features=rows["sex"]), abs=1e-6
    )
    assert set(measures.index) >= {"demographic_parity_ratio", "equalized_odds_difference"}
    metrics = fairness.disparity_metrics(fairness.disparities({"sex": table}, "binary"))
    assert metrics["fairness.sex.equalized_odds_difference"] == pytest.approx(
        odds["value"], abs=1e-6
    )


def test_a_model_blind_to_the_sensitive_feature_on_fair_data_passes():
    rng = np.random.default_rng(7)
    n = 20_000
    frame = pd.DataFrame(
        {
            "group": rng.choice(["a", "b", "c"], size=n),
            "x1": rng.normal(size=n),
            "x2": rng.normal(size=n),
        }
    )
    frame["label"] = (frame.x1 + 0.5 * frame.x2 + rng.normal(scale=0.5, size=n) > 0).astype(int)
    train, test = frame.iloc[:15_000], frame.iloc[15_000:]
    screened = screening.screen_columns(train, "label", drop_columns=["group"])
    pipeline = training.make_pipeline(screened, "linear", "classification", {}, 0)
    pipeline.fit(train.drop(columns=["label"]), train["label"])
    predicted = pipeline.predict(test.drop(columns=["label"]))
    table = fairness.group_table(
        test["label"].to_numpy(), predicted, None, test["group"], "binary", 30
    )
    gates = fairness.evaluate_gates(
        {"group": table},
        "binary",
        {
            "demographic_parity_ratio": 0.9,
            "equalized_odds_difference": 0.05,
            "accuracy_difference": 0.05,
        },
    )
    assert [g["status"] for g in gates] == ["PASS", "PASS", "PASS"]


def test_small_groups_are_flagged_and_left_out_of_the_gaps():
    y = np.array([1, 0] * 50 + [1, 1, 1, 1, 0])
    predicted = np.array([1, 0] * 50 + [0, 0, 0, 0, 0])
    groups = pd.Series(["big"] * 50 + ["other"] * 50 + ["tiny"] * 5, name="g")
    table = fairness.group_table(y, predicted, None, groups, "binary", 30)
    assert table.set_index("group").loc["tiny", "too_small"]
    (gate,) = fairness.evaluate_gates({"g": table}, "binary", {"demographic_parity_ratio": 0.8})
    assert gate["groups_too_small"] == ["tiny"] and gate["groups_judged"] == 2
    assert gate["status"] == "PASS" and gate["value"] == pytest.approx(1.0)


def test_regression_groups_report_error_and_mean_prediction():
    y = np.array([1.0, 2.0, 3.0, 10.0, 20.0, 30.0])
    predicted = np.array([1.5, 2.5, 3.5, 9.0, 18.0, 33.0])
    groups = pd.Series(["a", "a", "a", "b", "b", "b"], name="g")
    table = fairness.group_table(y, predicted, None, groups, "regression", 2).set_index("group")
    assert table.loc["a", "mean_absolute_error"] == pytest.approx(0.5)
    assert table.loc["b", "mean_prediction"] == pytest.approx(20.0)
    (gate,) = fairness.evaluate_gates({"g": table.reset_index()}, "regression", {"error_ratio": 3})
    assert gate["value"] == pytest.approx(2.0 / 0.5) and gate["status"] == "FAIL"


def test_binary_tables_hold_each_groups_calibration_error_and_its_gate_is_opt_in():
    rng = np.random.default_rng(11)
    n = 6_000
    groups = pd.Series(rng.choice(["a", "b", "c"], n), name="g")
    truth = rng.uniform(0.05, 0.9, n)
    y = (rng.random(n) < truth).astype(int)
    score = np.where(groups == "c", truth + 0.08, truth)  # group c's scores are 0.08 too high
    predicted = (score >= 0.5).astype(int)
    table = fairness.group_table(y, predicted, score, groups, "binary", 30).set_index("group")
    for group in ("a", "b", "c"):
        mine = (groups == group).to_numpy()
        assert table.loc[group, "calibration_error"] == pytest.approx(
            calibration.expected_calibration_error(y[mine], score[mine])
        )
    assert table.loc["c", "calibration_error"] == pytest.approx(0.08, abs=0.02)
    tables = {"g": table.reset_index()}
    difference = table["calibration_error"].max() - table["calibration_error"].min()
    (loose,) = fairness.evaluate_gates(tables, "binary", {"calibration_difference": 0.2})
    (strict,) = fairness.evaluate_gates(tables, "binary", {"calibration_difference": 0.02})
    assert loose["value"] == pytest.approx(difference, abs=1e-6) and loose["status"] == "PASS"
    assert strict["status"] == "FAIL" and strict["highest_group"] == "c"
    assert "calibration_difference" not in fairness.DEFAULT_THRESHOLDS
    assert fairness.check_thresholds({"calibration_difference": 0.05}) == []
    metrics = fairness.disparity_metrics(fairness.disparities(tables, "binary"))
    assert metrics["fairness.g.calibration_difference"] == pytest.approx(difference)


def test_without_scores_there_is_no_calibration_gap_and_its_gate_is_skipped():
    y = np.array([1, 0] * 50)
    groups = pd.Series(["a", "b"] * 50, name="g")
    table = fairness.group_table(y, y, None, groups, "binary", 30)
    assert "calibration_error" not in table and "auc" not in table
    measures = fairness.disparities({"g": table}, "binary")["measure"].tolist()
    assert "calibration_difference" not in measures and "accuracy_difference" in measures
    (gate,) = fairness.evaluate_gates({"g": table}, "binary", {"calibration_difference": 0.05})
    assert gate["status"] == "SKIPPED" and gate["value"] is None
