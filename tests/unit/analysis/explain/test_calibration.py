"""Calibration against hand computations, scikit-learn and synthetic scores of known error."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from messy import messy_frame
from sklearn.calibration import calibration_curve

from mlworkbench.analysis.explain import calibration, explanation, fairness
from mlworkbench.exceptions import DataError


def test_ece_equals_a_hand_computation():
    outcome = np.array([0, 1, 1, 0, 1, 1])
    confidence = np.array([0.05, 0.15, 0.12, 0.95, 0.9, 1.0])
    # bins [0, .1): .05 vs 0; [.1, .2): .135 vs 1; [.9, 1]: .95 vs 2/3 (1.0 in the last bin)
    expected = (0.05 + 2 * 0.865 + 3 * abs(0.95 - 2 / 3)) / 6
    assert calibration.expected_calibration_error(outcome, confidence) == pytest.approx(expected)
    curve = calibration.reliability(outcome, confidence)
    assert curve["bin"].tolist() == [0, 1, 9] and curve["rows"].tolist() == [1, 2, 3]
    two_bins = (abs((0.05 + 0.15 + 0.12) / 3 - 2 / 3) * 3 + abs(0.95 - 2 / 3) * 3) / 6
    assert calibration.expected_calibration_error(outcome, confidence, bins=2) == pytest.approx(
        two_bins
    )


def test_reliability_curve_matches_scikit_learn_uniform_bins():
    rng = np.random.default_rng(0)
    confidence = rng.beta(2, 3, 5_000)
    outcome = rng.random(5_000) < confidence**1.3
    observed, predicted = calibration_curve(outcome, confidence, n_bins=10, strategy="uniform")
    curve = calibration.reliability(outcome, confidence, bins=10)
    np.testing.assert_allclose(curve["observed"], observed)
    np.testing.assert_allclose(curve["mean_predicted"], predicted)


def test_calibrated_scores_have_ece_near_zero_and_shifted_ones_the_shift():
    rng = np.random.default_rng(1)
    truth = rng.uniform(0.1, 0.85, 200_000)
    outcome = rng.random(len(truth)) < truth
    assert calibration.expected_calibration_error(outcome, truth) < 0.005
    shifted = calibration.expected_calibration_error(outcome, truth + 0.08)
    assert shifted == pytest.approx(0.08, abs=0.005)


def test_bad_inputs_get_clear_errors():
    with pytest.raises(DataError, match="one score per outcome"):
        calibration.expected_calibration_error([0, 1], [0.5])
    with pytest.raises(DataError, match="between 0 and 1"):
        calibration.expected_calibration_error([0, 1], [0.5, 1.7])
    with pytest.raises(DataError, match="between 0 and 1"):
        calibration.expected_calibration_error([0, 1], [0.5, np.nan])
    with pytest.raises(DataError, match="outcomes of 0 or 1"):
        calibration.expected_calibration_error([0, 2], [0.5, 0.5])
    assert np.isnan(calibration.expected_calibration_error([], []))


def test_multiclass_uses_the_top_class_confidence():
    rng = np.random.default_rng(2)
    scores = rng.dirichlet([1, 2, 3], 3_000)
    y = np.array([rng.choice(3, p=p) for p in scores])
    groups = pd.DataFrame({"g": rng.choice(["a", "b"], len(y))})
    result = calibration.calibration("multiclass", y, scores, groups)
    right = scores.argmax(axis=1) == y
    assert result.ece == pytest.approx(
        calibration.expected_calibration_error(right, scores.max(axis=1))
    )
    assert result.ece < 0.05  # labels drawn from the scores: calibrated up to noise
    assert result.observed_rate == pytest.approx(right.mean())
    assert result.sentences()[0].startswith("Top-class confidences are well calibrated")


def test_regression_is_not_applicable():
    y = np.array([1.0, 2.0, 3.0])
    result = calibration.calibration("regression", y, y, pd.DataFrame({"g": ["a", "b", "a"]}))
    assert not result.applicable and np.isnan(result.ece)
    assert result.sentences() == [
        "Calibration does not apply to a regression model: it compares predicted "
        "probabilities with observed rates."
    ]
    assert result.metrics() == {} and result.figures() == [] and result.table.empty


@pytest.fixture(scope="module")
def german_calibration(subject):
    scores, _ = explanation.predictions(subject)
    groups = fairness.sensitive_groups(subject.rows, ["sex", "age"], bins=4)
    return scores, groups, calibration.calibration("binary", subject.y, scores, groups)


def test_per_group_ece_matches_the_subset_and_gaps_use_large_groups(subject, german_calibration):
    scores, groups, result = german_calibration
    assert result.ece == pytest.approx(
        calibration.expected_calibration_error(subject.y == 1, scores[:, 1])
    )
    assert list(result.table["feature"].unique()) == ["sex", "age", "sex & age"]
    for row in result.table.itertuples():
        mine = (groups[row.feature] == row.group).to_numpy()
        assert row.rows == mine.sum()
        assert row.ece == pytest.approx(
            calibration.expected_calibration_error(subject.y[mine] == 1, scores[mine, 1])
        )
        assert row.too_small == (row.rows < 30)
    assert result.table.groupby("feature")["rows"].sum().eq(300).all()
    gaps = result.gaps.set_index("feature")
    judged = result.table[(result.table["feature"] == "sex & age") & ~result.table["too_small"]]
    assert gaps.loc["sex & age", "ece_difference"] == pytest.approx(
        judged["ece"].max() - judged["ece"].min()
    )
    assert gaps.loc["sex & age", "groups_judged"] == len(judged) < 8


def test_sentences_and_metrics_name_the_groups_and_gaps(german_calibration):
    _, _, result = german_calibration
    sentences = result.sentences()
    assert sentences[0].startswith("Scores are") and f"(ECE {result.ece:.3f})" in sentences[0]
    sex = result.gaps.set_index("feature").loc["sex"]
    assert sentences[1] == (
        f"Across sex, ECE ranges from {sex.lowest_ece:.3f} ({sex.lowest_group}) to "
        f"{sex.highest_ece:.3f} ({sex.highest_group}): a gap of {sex.ece_difference:.3f}."
    )
    assert "with fewer than 30 rows left out" in sentences[3]
    metrics = result.metrics()
    assert set(metrics) == {
        "calibration.ece",
        "calibration.sex.ece_difference",
        "calibration.age.ece_difference",
        "calibration.sex___age.ece_difference",
    }
    assert metrics["calibration.sex.ece_difference"] == pytest.approx(sex.ece_difference)


def test_figures_render_with_one_line_per_large_group(german_calibration, tmp_path):
    _, _, result = german_calibration
    pairs = result.figures()
    assert [name for _, name in pairs] == [
        "plots/calibration_overall.png",
        "plots/calibration_by_sex.png",
        "plots/calibration_by_age.png",
    ]  # the intersection "sex & age" is left to the table
    for figure, name in pairs:
        path = tmp_path / name.split("/")[1]
        figure.savefig(path)
        assert path.stat().st_size > 10_000
    overall = pairs[0][0]
    assert len(overall.axes) == 2 and overall.get_size_inches()[0] * overall.dpi >= 900
    intersection = calibration.plot_feature(result, "sex & age")
    legend = [t.get_text() for t in intersection.axes[0].get_legend().get_texts()]
    drawn = result.table[(result.table["feature"] == "sex & age") & ~result.table["too_small"]]
    assert len(legend) == 2 + len(drawn) + 1
    assert legend[-1].startswith("not drawn, under 30 rows")


def test_at_most_six_groups_are_drawn_and_the_rest_noted():
    rng = np.random.default_rng(3)
    n = 4_000
    groups = pd.DataFrame({"region": rng.choice(list("abcdefgh"), n)})
    scores = rng.random(n)
    y = (rng.random(n) < scores).astype(int)
    result = calibration.calibration("binary", y, scores, groups)
    legend = [t.get_text() for t in result.figures()[1][0].axes[0].get_legend().get_texts()]
    assert len(legend) == 2 + 6 + 1 and legend[-1] == "not drawn, 2 smaller groups"


def test_a_messy_table_groups_without_crashing():
    frame = messy_frame(300)
    groups = fairness.sensitive_groups(frame, ["région", "mixed", "empty"], bins=4)
    rng = np.random.default_rng(4)
    scores = rng.random(len(frame))
    y = (frame["outcome"] == "yes").astype(int).to_numpy()
    result = calibration.calibration("binary", y, scores, groups)
    table = result.table.set_index(["feature", "group"])
    assert table.loc[("empty", "(missing)"), "rows"] == 300
    assert np.isnan(result.gaps.set_index("feature").loc["empty", "ece_difference"])
    assert "fewer than two groups" in " ".join(result.sentences())
    with pytest.raises(DataError, match="group labels"):
        calibration.calibration("binary", y, scores, groups.iloc[:10])
