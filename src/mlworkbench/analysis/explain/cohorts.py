"""Error cohorts: where the model fails. Every feature is cut into cohorts (quantile bins for
numbers, categories otherwise) and the model's error is measured in each; the worst cohorts
with enough rows to judge come first."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd

from mlworkbench.analysis.explain.shapley import is_numeric

MISSING = "(missing)"
OTHER = "(other)"


def _bin_name(low: float, high: float, integers: bool, last: bool) -> str:
    """A bin [low, high) (the last one closed) in words: `19-26` for whole numbers."""
    if integers:
        bottom, top = np.ceil(low), np.floor(high) if last else np.ceil(high) - 1
        return f"{bottom:.0f}" if top <= bottom else f"{bottom:.0f}-{top:.0f}"
    return f"{low:.3g} to {high:.3g}" + ("" if last else " (excl.)")


def cohort_labels(values: pd.Series, bins: int = 5, top: int = 20) -> pd.Series:
    """A readable cohort label per row: a quantile bin such as `19-26` for a numeric column
    with more than `bins` distinct values, else the value itself (the `top` most common,
    the rest as `(other)`); missing values form their own cohort."""
    if is_numeric(values) and values.nunique() > bins:
        present = values.dropna()
        edges = np.unique(np.quantile(present, np.linspace(0, 1, bins + 1)))
        integers = bool(np.all(np.mod(present, 1) == 0))
        names = [
            _bin_name(lo, hi, integers, last=i == len(edges) - 2)
            for i, (lo, hi) in enumerate(_pairs(edges))
        ]
        codes = np.clip(np.searchsorted(edges, values, side="right") - 1, 0, len(names) - 1)
        labels = pd.Series(np.asarray(names, dtype=object)[codes], index=values.index)
    else:
        labels = values.astype(str)
        common = labels.value_counts().index[:top]
        labels = labels.where(labels.isin(common), OTHER)
    return labels.where(values.notna(), MISSING)


def _pairs(edges: np.ndarray) -> list[tuple[float, float]]:
    """Consecutive pairs of bin edges."""
    return list(itertools.pairwise(edges))


def row_errors(y_true: np.ndarray, y_pred: np.ndarray, kind: str) -> np.ndarray:
    """Per-row error: 1 for a wrong class, else 0 (classification); absolute error otherwise."""
    if kind == "regression":
        return np.abs(np.asarray(y_true, dtype=float) - np.asarray(y_pred, dtype=float))
    return (np.asarray(y_true) != np.asarray(y_pred)).astype(float)


def error_cohorts(
    rows: pd.DataFrame,
    y_true: np.ndarray,
    y_pred: np.ndarray,
    kind: str,
    bins: int = 5,
    min_size: int = 30,
) -> pd.DataFrame:
    """The model's error in every cohort of every feature, worst first.

    Columns: feature, cohort, rows, error (error rate, or mean absolute error for
    regression), overall (the error on all rows), ratio (error / overall) and
    `enough_rows` (at least `min_size` rows). Cohorts with enough rows come first.
    """
    errors = pd.Series(row_errors(y_true, y_pred, kind), index=rows.index)
    overall = float(errors.mean())
    parts = []
    for feature in rows.columns:
        grouped = errors.groupby(cohort_labels(rows[feature], bins))
        part = grouped.agg(["size", "mean"]).reset_index()
        part.columns = ["cohort", "rows", "error"]
        part.insert(0, "feature", feature)
        parts.append(part)
    table = pd.concat(parts, ignore_index=True)
    table["overall"] = overall
    table["ratio"] = table["error"] / overall if overall > 0 else np.nan
    table["enough_rows"] = table["rows"] >= min_size
    return table.sort_values(
        ["enough_rows", "error", "rows"], ascending=[False, False, False], ignore_index=True
    )


def worst_sentence(table: pd.DataFrame, kind: str) -> str:
    """Where the model is weakest, in one sentence."""
    judged = table[table["enough_rows"]]
    if judged.empty:
        return "No cohort has enough rows to say where the model is weakest."
    worst = judged.iloc[0]
    measure = "mean absolute error" if kind == "regression" else "error rate"
    value = (lambda v: f"{v:.3g}") if kind == "regression" else (lambda v: f"{v:.0%}")
    return (
        f"The model is weakest where {worst['feature']} is {worst['cohort']}: {measure} "
        f"{value(worst['error'])} over {int(worst['rows']):,} rows, against "
        f"{value(worst['overall'])} on all rows."
    )
