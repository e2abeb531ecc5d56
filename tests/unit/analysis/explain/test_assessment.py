"""The Responsible-AI assessment of a small real subject: what `analyse` computes, and the
rows it picks for waterfall charts."""

from __future__ import annotations

import numpy as np
import pytest
from helpers import fit_small as fitted

from mlworkbench.analysis import data, screening, training
from mlworkbench.analysis.explain import (
    assessment,
    explanation,
)
from mlworkbench.exceptions import DataError


def test_shap_is_computed_on_the_sample_and_the_top_features_lead_the_importance(analysis):
    attributions = analysis.attributions
    assert len(attributions.rows) == 120 and attributions.explainer == "tree"
    assert analysis.top == list(attributions.importance().index[:2])
    assert analysis.scores.shape == (300, 2) and len(analysis.predicted) == 300


def test_local_rows_start_with_the_requested_row_then_the_automatic_picks(analysis):
    local = analysis.local
    assert local.reasons == [
        "row 703 (requested)",
        "highest score",
        "lowest score",
        "most confident mistake",
    ]
    rows = local.attributions.rows.index
    assert rows[0] == 703
    scores = analysis.scores[:, 1]
    assert scores[rows[1] - 700] == scores.max() and scores[rows[2] - 700] == scores.min()
    assert local.outputs == [0, 0, 0, 0]


def test_only_sensitive_features_present_are_judged_with_their_intersection(analysis):
    assert analysis.sensitive_features == ["sex", "age"]
    assert list(analysis.groups) == ["sex", "age", "sex & age"]
    assert sum(analysis.groups["sex"]["rows"]) == 300
    gated = {(g["feature"], g["gate"]) for g in analysis.gates}
    assert ("sex", "demographic_parity_ratio") in gated and len(gated) == 9
    assert set(analysis.disparities["feature"]) <= {"sex", "age", "sex & age"}


def test_dependence_covers_the_top_features_and_their_interaction(analysis):
    plots = analysis.dependence_plots()
    assert [p.features for p in plots] == [(f,) for f in analysis.top] + [tuple(analysis.top)]
    assert list(analysis.interactions.columns) == ["feature_1", "feature_2", "h_squared"]
    assert 0 <= analysis.interactions["h_squared"].iloc[0] <= 1


def test_cohorts_and_proxies_cover_every_feature_the_model_sees(analysis, subject):
    _, view = screening.model_view(subject.pipeline, subject.rows)
    assert set(analysis.cohorts["feature"]) == set(view.columns) | {"sex"}
    per_feature = analysis.cohorts.groupby("feature")["rows"].sum()
    assert (per_feature == 300).all()
    assert set(analysis.proxies["sensitive"]) == {"sex", "age"}


def test_sampling_is_stated_in_words(analysis):
    assert analysis.sampling == [
        "Explained: the last 300 rows.",
        "SHAP values for a random sample of 120 of 300 rows (explain_rows=120), with the "
        "tree explainer.",
        "PDP/ICE averaged over 80 rows (pdp_rows=80) with 4 grid points; 10 ICE lines drawn.",
        "Fairness and error cohorts on all 300 rows.",
    ]


def test_unknown_local_rows_are_refused(subject):
    scores, predicted = explanation.predictions(subject)
    with pytest.raises(DataError, match=r"local_rows \[5\] are not among the explained rows"):
        assessment.pick_local_rows(subject, scores, predicted, [5])


def test_regression_picks_the_extremes_and_the_largest_error():
    diabetes = data.read_source("sklearn:diabetes").head(200)
    screened = screening.screen_columns(diabetes, "target")
    pipeline = training.make_pipeline(screened, "linear", "regression", {}, seed=0)
    trained = training.fit(pipeline, diabetes, "target", "regression")
    rows = diabetes.drop(columns=["target"])
    y = diabetes["target"].to_numpy(dtype=float)
    subject = explanation.Subject(
        trained.pipeline, None, None, "regression", rows, y, "", "", "200 rows"
    )
    scores, predicted = explanation.predictions(subject)
    ids, reasons, outputs = assessment.pick_local_rows(subject, scores, predicted, [])
    assert reasons == ["highest prediction", "lowest prediction", "largest error"]
    assert ids == [scores.argmax(), scores.argmin(), np.abs(scores - y).argmax()]
    assert outputs == [0, 0, 0]


def test_requested_rows_outside_the_explained_rows_are_refused(german_checked):
    trained = fitted(german_checked, "linear")
    subject = explanation.Subject(
        trained.pipeline,
        trained.classes,
        0.5,
        "binary",
        german_checked.drop(columns=["risk"]).head(50),
        german_checked["risk"].head(50).to_numpy(),
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
