"""Leakage guards: features that alone predict the target, and results too good to be true.

A leak is a column that carries the outcome itself, usually because it was recorded after the
outcome was known (a closing date, a final status, a payment made). A model trained with it
scores brilliantly on historical rows and fails in production, where that column is not
known yet when the prediction is made.

The single-feature check predicts the target from every feature alone, out of fold on the
training rows (three folds): a shallow decision tree (depth 3) for a number, the mean target
of each category learnt on the other folds for a category. It scores those predictions with
ROC AUC for classification, R² for regression. A feature at or above the limit predicts
the target almost perfectly on its own and is named as a suspected leak.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

# Deferred imports: sklearn loads inside the functions that use them, so that importing this
# module (from the command line or a notebook) stays fast.

LIMITS = {"roc_auc": 0.95, "r2": 0.9}
"""Single-feature scores from which a feature is a suspected leak."""
TOO_GOOD = 0.99
"""Test metrics (ROC AUC, accuracy, R²) from which a result is too good to be true."""
TOO_GOOD_METRICS = ("roc_auc", "roc_auc_ovr", "accuracy", "r2")
WHY = (
    "A leak is a column that carries the outcome itself, usually because it is recorded after "
    "the outcome is known. A model trained with it looks excellent on historical rows and is "
    "useless in production, where that column is not known when the prediction is made."
)


@dataclass(frozen=True)
class LeakageSettings:
    """Limits of the leakage guard (train stage parameters)."""

    single_feature_auc: float = LIMITS["roc_auc"]
    single_feature_r2: float = LIMITS["r2"]
    too_good: float = TOO_GOOD
    max_rows: int = 20000


def _tree(task: str, seed: int) -> Any:
    from sklearn.tree import DecisionTreeClassifier, DecisionTreeRegressor

    tree = DecisionTreeClassifier if task == "classification" else DecisionTreeRegressor
    return tree(max_depth=3, min_samples_leaf=20, random_state=seed)


def _targets(y: np.ndarray, task: str) -> np.ndarray:
    """The target as columns to average: one indicator per class, or the value itself."""
    if task == "regression":
        return np.asarray(y, dtype=float).reshape(-1, 1)
    return (np.asarray(y).reshape(-1, 1) == np.unique(y).reshape(1, -1)).astype(float)


def _category_means(codes: np.ndarray, targets: np.ndarray, fit: np.ndarray) -> np.ndarray:
    """Per category, the mean target of the `fit` rows (the overall mean for a category
    that does not occur there), for every row."""
    n = codes.max() + 1
    sums = np.zeros((n, targets.shape[1]))
    np.add.at(sums, codes[fit], targets[fit])
    counts = np.bincount(codes[fit], minlength=n).reshape(-1, 1)
    prior = targets[fit].mean(axis=0)
    means = np.where(counts > 0, sums / np.maximum(counts, 1), prior)
    return means[codes]


def _out_of_fold(values: pd.Series, y: np.ndarray, task: str, seed: int) -> np.ndarray:
    """Out-of-fold predictions of one feature alone: a shallow tree for numbers, the mean
    target of each category (learnt on the other folds) for categories."""
    from sklearn.model_selection import KFold, StratifiedKFold

    splitter = (
        KFold(n_splits=3, shuffle=True, random_state=seed)
        if task == "regression"
        else StratifiedKFold(n_splits=3, shuffle=True, random_state=seed)
    )
    targets = _targets(y, task)
    predicted = np.zeros_like(targets)
    numeric = pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values)
    data = values.to_numpy(dtype=float).reshape(-1, 1) if numeric else None
    codes = None if numeric else pd.factorize(values.astype(str).where(values.notna(), ""))[0]
    for fit, held in splitter.split(np.zeros(len(y)), y):
        if numeric:
            tree = _tree(task, seed).fit(data[fit], y[fit])
            if task == "regression":
                predicted[held, 0] = tree.predict(data[held])
            else:
                proba = tree.predict_proba(data[held])
                columns = np.searchsorted(np.unique(y), tree.classes_)
                predicted[np.ix_(held, columns)] = proba
        else:
            predicted[held] = _category_means(codes, targets, fit)[held]
    return predicted


def single_feature_score(values: pd.Series, y: np.ndarray, task: str, seed: int = 0) -> float:
    """Out-of-fold ROC AUC (classification) or R² (regression) of one feature alone."""
    from sklearn.metrics import r2_score, roc_auc_score

    predicted = _out_of_fold(values, y, task, seed)
    if task == "regression":
        return float(r2_score(y, predicted[:, 0]))
    if predicted.shape[1] == 2:
        return float(roc_auc_score(y, predicted[:, 1]))
    predicted = predicted / np.maximum(predicted.sum(axis=1, keepdims=True), 1e-12)
    return float(roc_auc_score(y, predicted, multi_class="ovr"))


def single_feature_check(
    rows: pd.DataFrame,
    y: np.ndarray,
    task: str,
    settings: LeakageSettings | None = None,
    seed: int = 0,
) -> pd.DataFrame:
    """Every feature of `rows` (as the model sees them) scored alone, strongest first, with
    `suspect` True where it predicts the target almost perfectly by itself."""
    settings = settings or LeakageSettings()
    if len(rows) > settings.max_rows:
        picked = np.random.default_rng(seed).choice(len(rows), settings.max_rows, replace=False)
        rows, y = rows.iloc[np.sort(picked)], y[np.sort(picked)]
    metric = "r2" if task == "regression" else "roc_auc"
    limit = settings.single_feature_r2 if task == "regression" else settings.single_feature_auc
    scores = []
    for column in rows.columns:
        try:
            score = single_feature_score(rows[column], y, task, seed)
        except ValueError:  # a class too rare for three folds: nothing to judge
            score = float("nan")
        scores.append({"feature": str(column), "metric": metric, "score": score})
    table = pd.DataFrame(scores, columns=["feature", "metric", "score"])
    table["suspect"] = table["score"] >= limit
    return table.sort_values("score", ascending=False, na_position="last").reset_index(drop=True)


def suspects(table: pd.DataFrame) -> list[str]:
    """Features the single-feature check names as suspected leaks."""
    return table.loc[table["suspect"], "feature"].tolist() if len(table) else []


def too_good(
    metrics: Mapping[str, float],
    limit: float = TOO_GOOD,
    baseline: Mapping[str, float] | None = None,
) -> dict[str, float]:
    """Test metrics at or above `limit` (ROC AUC, accuracy, R²): too good to be true.

    A metric the naive baseline already reaches (accuracy 0.99 when 99% of rows are one
    class) says nothing about leakage and is left out.
    """
    baseline = baseline or {}
    return {
        name: float(metrics[name])
        for name in TOO_GOOD_METRICS
        if name in metrics
        and np.isfinite(metrics[name])
        and metrics[name] >= limit
        and not baseline.get(name, 0.0) >= limit
    }


def warning_sentences(
    table: pd.DataFrame, high: Mapping[str, float], strongest: int = 3
) -> list[str]:
    """The warning at the top of the train report; empty when nothing looks like a leak."""
    named = suspects(table)
    if not high and not named:
        return []
    top = ", ".join(
        f"{row.feature} ({row.metric} {row.score:.3f} alone)"
        for row in table.head(strongest).itertuples()
        if np.isfinite(row.score)
    )
    lines = []
    if high:
        figures = ", ".join(f"{k} {v:.3f}" for k, v in high.items())
        lines.append(
            f"Too good to be true: the test result ({figures}) is nearly perfect, which real "
            f"outcomes rarely allow. The strongest features: {top}."
        )
    if named:
        lines.append(
            f"Suspected leak: {', '.join(named)} alone predict(s) the target almost perfectly."
        )
    lines.append(WHY)
    lines.append(
        "Check when each column is recorded; drop the leaking ones with drop_columns, or waive "
        "the card's leakage check (governance.waivers.no_leakage) with a written reason."
    )
    return lines


def record(table: pd.DataFrame, high: Mapping[str, float], settings: LeakageSettings) -> dict:
    """The check as JSON-ready data (`leakage/check.json`), which the card reads."""
    return {
        "suspects": suspects(table),
        "too_good": dict(high),
        "limits": settings.__dict__,
        "features": [
            {k: (None if isinstance(v, float) and not np.isfinite(v) else v) for k, v in r.items()}
            for r in table.to_dict("records")
        ],
    }


def summary(record_: Mapping[str, Any]) -> str:
    """One line for the card: what the leakage check found."""
    parts: Sequence[str] = []
    if record_.get("suspects"):
        parts = [*parts, f"alone predicting the target: {', '.join(record_['suspects'])}"]
    if record_.get("too_good"):
        figures = ", ".join(f"{k} {v:.3f}" for k, v in record_["too_good"].items())
        parts = [*parts, f"too good to be true: {figures}"]
    return "; ".join(parts) or "no feature predicts the target alone; test result plausible"
