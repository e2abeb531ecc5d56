"""Model evaluation: metrics, the naive baseline, the decision threshold, plots and the
plain-language verdict. Pure computation on labels, scores and predictions."""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from mlworkbench.exceptions import DataError

# Deferred imports: matplotlib and sklearn load inside the functions that use them, so that
# importing this module (from the command line or a notebook) stays fast.

THRESHOLDS = ("fixed", "max_f1", "cost")
PRIMARY_METRIC = {"binary": "roc_auc", "multiclass": "roc_auc_ovr", "regression": "rmse"}
LOWER_IS_BETTER = {"rmse", "mae", "mape", "log_loss", "brier"}


def problem_kind(task: str, n_classes: int) -> str:
    """`binary`, `multiclass` or `regression`."""
    if task == "regression":
        return "regression"
    return "binary" if n_classes == 2 else "multiclass"


def choose_threshold(
    y_true: np.ndarray,
    positive_score: np.ndarray,
    rule: str,
    fixed: float = 0.5,
    cost_ratio: float = 1.0,
) -> float:
    """The probability above which a row is called positive (binary classification).

    `fixed` uses `fixed`; `max_f1` the threshold with the best F1; `cost` the one with the
    lowest total cost when a missed positive costs `cost_ratio` times a false alarm.
    """
    if rule not in THRESHOLDS:
        raise DataError(f"Unknown threshold rule '{rule}'. Rules: {', '.join(THRESHOLDS)}.")
    if rule == "fixed":
        return float(fixed)
    candidates = np.unique(np.round(positive_score, 4))
    if candidates.size == 0:
        return float(fixed)
    positives = np.sort(positive_score[y_true == 1])
    negatives = np.sort(positive_score[y_true == 0])
    # Rows called positive at each candidate (score >= threshold), counted by binary search.
    tp = positives.size - np.searchsorted(positives, candidates, side="left")
    fp = negatives.size - np.searchsorted(negatives, candidates, side="left")
    fn = positives.size - tp
    if rule == "max_f1":
        values = 2 * tp / np.maximum(2 * tp + fp + fn, 1)
    else:
        values = -(fp + cost_ratio * fn)
    return float(candidates[int(np.argmax(values))])  # the lowest of equally good ones


def classification_metrics(
    y_true: np.ndarray, proba: np.ndarray, threshold: float = 0.5
) -> dict[str, float]:
    """Metrics of encoded labels 0..K-1 against class probabilities (one column per class)."""
    from sklearn import metrics  # deferred: sklearn is heavy to import

    n_classes = proba.shape[1]
    labels = np.arange(n_classes)
    if n_classes == 2:
        predicted = (proba[:, 1] >= threshold).astype(int)
        onehot = (y_true == 1).astype(float)
        return {
            "roc_auc": metrics.roc_auc_score(y_true, proba[:, 1]),
            "pr_auc": metrics.average_precision_score(y_true, proba[:, 1]),
            "accuracy": metrics.accuracy_score(y_true, predicted),
            "balanced_accuracy": metrics.balanced_accuracy_score(y_true, predicted),
            "f1": metrics.f1_score(y_true, predicted, zero_division=0),
            "precision": metrics.precision_score(y_true, predicted, zero_division=0),
            "recall": metrics.recall_score(y_true, predicted, zero_division=0),
            "log_loss": metrics.log_loss(y_true, proba, labels=labels),
            "brier": float(np.mean((proba[:, 1] - onehot) ** 2)),
        }
    predicted = proba.argmax(axis=1)
    onehot = np.eye(n_classes)[y_true]
    return {
        "roc_auc_ovr": metrics.roc_auc_score(y_true, proba, multi_class="ovr", labels=labels),
        "pr_auc": metrics.average_precision_score(onehot, proba, average="macro"),
        "accuracy": metrics.accuracy_score(y_true, predicted),
        "balanced_accuracy": metrics.balanced_accuracy_score(y_true, predicted),
        "f1": metrics.f1_score(y_true, predicted, average="macro", zero_division=0),
        "precision": metrics.precision_score(y_true, predicted, average="macro", zero_division=0),
        "recall": metrics.recall_score(y_true, predicted, average="macro", zero_division=0),
        "log_loss": metrics.log_loss(y_true, proba, labels=labels),
        "brier": float(np.mean(np.sum((proba - onehot) ** 2, axis=1))),
    }


def regression_metrics(y_true: np.ndarray, predicted: np.ndarray) -> dict[str, float]:
    """RMSE, MAE, R² and MAPE (MAPE over rows whose true value is not zero)."""
    from sklearn import metrics  # deferred: sklearn is heavy to import

    nonzero = y_true != 0
    return {
        "rmse": float(np.sqrt(metrics.mean_squared_error(y_true, predicted))),
        "mae": metrics.mean_absolute_error(y_true, predicted),
        "r2": metrics.r2_score(y_true, predicted),
        "mape": float(np.mean(np.abs((y_true[nonzero] - predicted[nonzero]) / y_true[nonzero])))
        if nonzero.any()
        else float("nan"),
    }


def baseline_scores(y_train: np.ndarray, n_rows: int, n_classes: int) -> np.ndarray:
    """The naive model: class shares of the training set (classification) or its mean."""
    if n_classes:
        shares = np.bincount(y_train, minlength=n_classes) / len(y_train)
        return np.tile(shares, (n_rows, 1))
    return np.full(n_rows, float(np.mean(y_train)))


@dataclass
class Evaluation:
    """Test-set metrics of the model and of the naive baseline."""

    kind: str
    metrics: dict[str, float]
    baseline: dict[str, float]
    threshold: float | None

    @property
    def primary(self) -> str:
        """The metric models are ranked by."""
        return PRIMARY_METRIC[self.kind]

    def lift(self) -> dict[str, float]:
        """Improvement over the baseline per metric (positive = better than the baseline)."""
        return {
            k: (self.baseline[k] - v) if k in LOWER_IS_BETTER else (v - self.baseline[k])
            for k, v in self.metrics.items()
            if k in self.baseline and np.isfinite(v) and np.isfinite(self.baseline[k])
        }

    def table(self) -> pd.DataFrame:
        """Model, baseline and lift side by side."""
        lift = self.lift()
        return pd.DataFrame(
            [
                {
                    "metric": k,
                    "model": v,
                    "baseline": self.baseline.get(k, np.nan),
                    "lift": lift.get(k, np.nan),
                }
                for k, v in self.metrics.items()
            ]
        )


def evaluate(
    kind: str,
    y_true: np.ndarray,
    scores: np.ndarray,
    baseline: np.ndarray,
    threshold: float | None,
) -> Evaluation:
    """Score the model and the baseline on the same test rows."""
    if kind == "regression":
        return Evaluation(
            kind, regression_metrics(y_true, scores), regression_metrics(y_true, baseline), None
        )
    cut = threshold if threshold is not None else 0.5
    return Evaluation(
        kind,
        classification_metrics(y_true, scores, cut),
        classification_metrics(y_true, baseline, cut),
        threshold,
    )


def summary_sentences(evaluation: Evaluation, model: str, n_test: int) -> list[str]:
    """How good the model is, compared with guessing, in words a domain expert understands."""
    m, b = evaluation.metrics, evaluation.baseline
    if evaluation.kind == "regression":
        better = (1 - m["rmse"] / b["rmse"]) if b["rmse"] else 0.0
        return [
            f"On {n_test:,} test rows the {model} model's predictions are off by "
            f"{m['mae']:,.3g} on average (typical error {m['rmse']:,.3g}).",
            f"Always predicting the average would be off by {b['mae']:,.3g} on average: the "
            f"model's typical error is {better:.0%} smaller.",
            f"It explains {max(m['r2'], 0):.0%} of the variation in the outcome (R²).",
        ]
    auc = m.get("roc_auc", m.get("roc_auc_ovr"))
    quality = (
        "very well"
        if auc >= 0.9
        else "well"
        if auc >= 0.8
        else "moderately well"
        if auc >= 0.7
        else "poorly"
    )
    sentences = [
        f"On {n_test:,} test rows the {model} model ranks cases {quality}: picking one case "
        f"of each kind at random, it scores the right one higher {auc:.0%} of the time "
        "(ROC AUC; 50% is guessing).",
        f"It labels {m['accuracy']:.0%} of the rows correctly, against {b['accuracy']:.0%} "
        "for always answering the most common class; balanced accuracy (every class counted "
        f"equally) is {m['balanced_accuracy']:.0%} against {b['balanced_accuracy']:.0%}.",
    ]
    if evaluation.kind == "binary":
        sentences.append(
            f"With the decision threshold at {evaluation.threshold:.2f}, it finds "
            f"{m['recall']:.0%} of the positive cases, and {m['precision']:.0%} of the cases it "
            "flags are truly positive."
        )
    return sentences


def plot_diagnostics(
    kind: str,
    y_true: np.ndarray,
    scores: np.ndarray,
    classes: list | None,
    threshold: float | None,
) -> Any:
    """ROC, precision-recall, confusion matrix and calibration (classification), or predicted
    against actual and residuals (regression), as one figure."""
    import matplotlib.pyplot as plt  # deferred: heavy, and only figures need it

    if kind == "regression":
        return plot_regression(y_true, scores)
    fig, axes = plt.subplots(1, 4, figsize=(17, 4))
    plot_curves(axes[0], axes[1], kind, y_true, scores, classes)
    plot_confusion(axes[2], kind, y_true, scores, classes, threshold)
    plot_calibration(axes[3], kind, y_true, scores)
    fig.tight_layout()
    return fig


def plot_regression(y_true: np.ndarray, predicted: np.ndarray) -> Any:
    """Predicted against actual (on the diagonal when right) and the residuals, side by
    side: where and how far a regression model is off."""
    import matplotlib.pyplot as plt  # deferred: heavy, and only figures need it

    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 4))
    left.scatter(y_true, predicted, s=8, alpha=0.5, color="#1f6feb")
    low = float(min(y_true.min(), predicted.min()))
    high = float(max(y_true.max(), predicted.max()))
    left.plot([low, high], [low, high], color="#57606a", linestyle="--", linewidth=1)
    left.set(title="Predicted against actual", xlabel="actual", ylabel="predicted")
    right.scatter(predicted, y_true - predicted, s=8, alpha=0.5, color="#1f6feb")
    right.axhline(0, color="#57606a", linestyle="--", linewidth=1)
    right.set(title="Residuals", xlabel="predicted", ylabel="actual - predicted")
    fig.tight_layout()
    return fig


def plot_curves(
    roc: Any, pr: Any, kind: str, y_true: np.ndarray, scores: np.ndarray, classes: list | None
) -> None:
    """The ROC curve on axes `roc` and the precision-recall curve on axes `pr`: one curve
    for a binary model, one per class (against the rest) for a multiclass one."""
    from sklearn import metrics  # deferred: sklearn is heavy to import

    curves = (
        [("", y_true == 1, scores[:, 1])]
        if kind == "binary"
        else [(f"class {c}", y_true == i, scores[:, i]) for i, c in enumerate(classes or [])]
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # a class predicted perfectly has no false positives
        for label, hits, score in curves:
            fpr, tpr, _ = metrics.roc_curve(hits, score)
            roc.plot(fpr, tpr, label=label or None)
            precision, recall, _ = metrics.precision_recall_curve(hits, score)
            pr.plot(recall, precision, label=label or None)
    roc.plot([0, 1], [0, 1], color="#57606a", linestyle="--", linewidth=1)
    roc.set(
        title="ROC curve" + ("" if kind == "binary" else " (each class against the rest)"),
        xlabel="false positive rate",
        ylabel="true positive rate",
    )
    pr.set(title="Precision-recall", xlabel="recall", ylabel="precision")
    if kind != "binary":
        roc.legend(fontsize=8)


def plot_confusion(
    ax: Any,
    kind: str,
    y_true: np.ndarray,
    scores: np.ndarray,
    classes: list | None,
    threshold: float | None,
) -> None:
    """The confusion matrix of the test rows on axes `ax`, with the decision threshold
    applied (binary) or the most likely class predicted (multiclass)."""
    from sklearn import metrics  # deferred: sklearn is heavy to import

    predicted = (
        (scores[:, 1] >= threshold).astype(int) if kind == "binary" else scores.argmax(axis=1)
    )
    labels = [str(c) for c in classes] if classes else None
    metrics.ConfusionMatrixDisplay.from_predictions(
        y_true, predicted, display_labels=labels, ax=ax, colorbar=False, cmap="Blues"
    )
    ax.set_title("Confusion matrix (test rows)")


def plot_calibration(ax: Any, kind: str, y_true: np.ndarray, scores: np.ndarray) -> None:
    """Observed share against predicted probability (in ten quantile bins) on axes `ax`: of
    the positive class (binary) or of the most likely class being right (multiclass)."""
    from sklearn.calibration import calibration_curve  # deferred: sklearn is heavy to import

    positive = scores[:, 1] if kind == "binary" else scores.max(axis=1)
    hits = (y_true == 1) if kind == "binary" else (scores.argmax(axis=1) == y_true)
    observed, expected = calibration_curve(hits, positive, n_bins=10, strategy="quantile")
    ax.plot(expected, observed, marker="o", color="#1f6feb")
    ax.plot([0, 1], [0, 1], color="#57606a", linestyle="--", linewidth=1)
    ax.set(
        title="Calibration" + ("" if kind == "binary" else " (most likely class)"),
        xlabel="predicted probability",
        ylabel="observed share",
    )
