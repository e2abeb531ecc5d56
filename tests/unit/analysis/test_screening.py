"""Column screening on messy tables: every decision, its reason, and the pipelines it builds."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from messy import messy_frame

from mlworkbench.analysis import screening, train_stage
from mlworkbench.analysis.explain import shapley
from mlworkbench.exceptions import UnknownColumnError


@pytest.fixture(scope="module")
def messy():
    return messy_frame()


def decisions(frame, **settings):
    screened = screening.screen_with(frame, "outcome", settings)
    return {d.column: d for d in screened.decisions}


def test_every_messy_column_gets_the_expected_action(messy):
    got = {name: d.action for name, d in decisions(messy).items()}
    assert got == {
        "customer_id": "drop",
        "Name": "drop",
        "notes": "drop",
        "signup date": "date",
        "income (€)": "number",
        "discount": "number",
        "age": "use",
        "région": "use",
        "empty": "drop",
        "country": "drop",
        "mixed": "number",
        "is_member": "use",
        "<script>alert(1)</script>": "use",
        "ratio": "use",
    }


def test_reasons_say_why_in_words(messy):
    got = decisions(messy)
    assert got["empty"].reason == "empty in every row"
    assert got["country"].reason == "a single value ('NL')"
    assert "free text" in got["notes"].reason
    assert "id-like name" in got["customer_id"].reason
    assert got["income (€)"].reason == "numbers written as text (thousands separators)"
    assert "5 infinite value(s) treated as missing" in got["ratio"].reason
    assert got["mixed"].reason.startswith("numbers written as text (plain); 1")
    assert got["mixed"].reason.endswith(
        "value(s) that are not numbers ('unknown') treated as missing"
    )


def test_overrides_drop_and_keep(messy):
    got = decisions(messy, drop_columns=["age"], keep_columns=["notes"], max_categories=10)
    assert got["age"].action == "drop" and got["age"].reason == "named in drop_columns"
    assert got["notes"].action == "use" and got["notes"].kind == "categorical"
    assert got["région"].action == "use"
    capped = decisions(
        messy.assign(code=[f"c{i % 40}" for i in range(len(messy))]), max_categories=10
    )
    assert capped["code"].action == "cap" and len(capped["code"].categories) == 10
    assert (
        capped["code"].reason
        == "40 distinct values: the 10 most frequent kept, the rest as 'other'"
    )


@pytest.mark.parametrize("setting", ["drop_columns", "keep_columns"])
def test_unknown_override_columns_are_named(messy, setting):
    with pytest.raises(UnknownColumnError, match=r"'nope', which is not a feature column"):
        screening.screen_with(messy, "outcome", {setting: ["nope"]})


def test_the_target_cannot_be_kept(messy):
    with pytest.raises(UnknownColumnError, match="'outcome'"):
        screening.screen_with(messy, "outcome", {"keep_columns": ["outcome"]})


@pytest.mark.parametrize(
    ("values", "fmt", "expected"),
    [
        (["32,220", "1,234,567.5", "12"], "thousands separators", [32220, 1234567.5, 12]),
        (["3,5", "1.234,75", "10"], "decimal commas", [3.5, 1234.75, 10]),
        (["12%", " 7 ", "€ 30"], "plain", [12, 7, 30]),
    ],
)
def test_numbers_written_as_text_are_parsed(values, fmt, expected):
    series = pd.Series(values * 10)
    assert screening.number_format(series) == fmt
    assert screening.parse_numbers(series, fmt).tolist()[:3] == expected


def test_dates_become_decimal_years():
    series = pd.Series(["2013-07-02", "2020-01-01", None, "2016-12-31 23:00"] * 10)
    assert screening.looks_like_dates(series)
    years = screening.decimal_years(series)
    assert years.iloc[0] == pytest.approx(2013 + 182 / 365)
    assert years.iloc[1] == 2020.0 and np.isnan(years.iloc[2])
    assert not screening.looks_like_dates(pd.Series(["A11", "A12", "12"] * 10))


def test_a_spread_out_integer_is_not_an_identifier():
    amounts = pd.Series(np.random.default_rng(0).integers(0, 10**7, 500))
    frame = pd.DataFrame({"amount": amounts, "y": [0, 1] * 250})
    assert decisions_of(frame)["amount"].action == "use"
    frame["row"] = np.arange(500)
    assert decisions_of(frame)["row"].action == "drop"


def decisions_of(frame):
    return {d.column: d for d in screening.screen_columns(frame, "y").decisions}


def test_the_screen_transforms_raw_rows_and_keeps_their_index(messy):
    screened = screening.screen_columns(messy, "outcome")
    step = screening.ColumnScreen(screened).fit(messy)
    rows = step.transform(messy.iloc[[5, 3]])
    assert list(rows.index) == [5, 3]
    assert "Name" not in rows and "empty" not in rows
    assert rows["income (€)"].dtype == float and rows["signup date"].between(2019, 2023).all()
    again = step.transform(pd.concat([rows, messy.iloc[[5, 3]].drop(columns=rows.columns)], axis=1))
    pd.testing.assert_frame_equal(again, rows)  # screened values pass through unchanged
    assert np.isnan(step.transform(messy)["ratio"]).sum() == 5  # inf as missing


def test_a_frame_with_nothing_left_to_train_on_is_refused():
    frame = pd.DataFrame({"id": range(100), "empty": np.nan, "y": [0, 1] * 50})
    with pytest.raises(Exception, match="No feature column is left") as caught:
        train_stage.train_and_evaluate(frame, "y", "classification", train_stage.TrainSettings())
    assert "id: identifier-like" in str(caught.value)


@pytest.mark.parametrize("model", ["xgboost", "linear", "random_forest", "hist_gradient_boosting"])
def test_every_model_trains_and_explains_additively_on_the_messy_table(messy, model):
    outcome = train_stage.train_and_evaluate(
        messy, "outcome", "classification", train_stage.TrainSettings(model=model)
    )
    assert outcome.evaluation.metrics["roc_auc"] > 0.8
    rows = outcome.split.test.drop(columns=["outcome"])
    attributions = shapley.compute(
        outcome.trained.pipeline, rows, outcome.kind, outcome.trained.classes, rows.head(40)
    )
    assert set(attributions.features) == {d.column for d in outcome.screening.used()}
    assert attributions.rows["income (€)"].dtype == float
    raw = shapley.raw_output(outcome.trained.pipeline, rows, attributions)[:, 0]
    total = attributions.base[0] + attributions.values[:, :, 0].sum(axis=1)
    assert np.abs(raw - total).max() < 1e-3


def test_a_column_empty_in_every_training_row_still_explains(messy):
    frame = messy.copy()
    frame["sparse"] = np.nan
    frame.loc[frame.index[:3], "sparse"] = [1.0, 2.0, 3.0]  # present in three rows only
    outcome = train_stage.train_and_evaluate(
        frame, "outcome", "classification", train_stage.TrainSettings(keep_columns=["empty"])
    )
    rows = outcome.split.test.drop(columns=["outcome"])
    attributions = shapley.compute(
        outcome.trained.pipeline, rows, outcome.kind, outcome.trained.classes
    )
    assert "empty" in attributions.features and "sparse" in attributions.features
    assert np.allclose(attributions.values[:, attributions.features.index("empty"), 0], 0)
