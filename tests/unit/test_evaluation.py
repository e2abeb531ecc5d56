"""Metrics, baseline, threshold rules and the plain-language verdict."""

from __future__ import annotations

import numpy as np
import pytest

from mlworkbench.analysis import evaluation


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
