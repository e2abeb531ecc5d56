"""Fairness: how the model treats the groups of each sensitive feature, and gates on the gaps.

Per-group rates come from fairlearn's `MetricFrame`. Continuous sensitive features (such as
age) are cut into quantile bins; with two or more sensitive features their intersection is
judged too. Groups with fewer rows than `min_group_size` are shown and flagged but left out
of the gaps, so three people cannot decide a gate.

Gate results have a stable format that the governance stage reads (artifact
`fairness/gates.json`, a list of records):

    {"feature": "sex", "gate": "demographic_parity_ratio", "rule": ">=", "threshold": 0.8,
     "value": 0.91, "status": "PASS", "lowest_group": "female", "highest_group": "male",
     "groups_judged": 2, "groups_too_small": []}

`status` is PASS, FAIL, or SKIPPED (fewer than two groups large enough, or the rate is
undefined in every group). Every gap measure, gated or not, is a metric
`fairness.<feature>.<measure>`; each gate is a tag `mlwb.gate.<feature>.<gate>` = status; tag
`mlwb.fairness` holds the overall PASS / FAIL.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from mlworkbench.analysis.explain.calibration import expected_calibration_error
from mlworkbench.analysis.explain.cohorts import cohort_labels
from mlworkbench.tracking.store import safe_name
from mlworkbench.tracking.tags import TAG_FAIRNESS, TAG_GATE_PREFIX

# Deferred imports: fairlearn and scikit-learn's metrics load inside the functions that use them,
# so that importing this module (the pipeline config checks gates with it) stays fast.


@dataclass(frozen=True)
class GateRule:
    """A gate: which table column it compares, how, and for which kinds of model."""

    column: str
    measure: str  # "ratio" (lowest / highest), "difference" (highest - lowest), "max_range"
    rule: str  # ">=" or "<="
    kinds: tuple[str, ...]
    columns: tuple[str, ...] = ()


GATES: dict[str, GateRule] = {
    "demographic_parity_ratio": GateRule("selection_rate", "ratio", ">=", ("binary",)),
    "demographic_parity_difference": GateRule("selection_rate", "difference", "<=", ("binary",)),
    "equalized_odds_difference": GateRule(
        "", "max_range", "<=", ("binary",), ("true_positive_rate", "false_positive_rate")
    ),
    "equal_opportunity_difference": GateRule("true_positive_rate", "difference", "<=", ("binary",)),
    "calibration_difference": GateRule("calibration_error", "difference", "<=", ("binary",)),
    "accuracy_difference": GateRule("accuracy", "difference", "<=", ("binary", "multiclass")),
    "mean_prediction_ratio": GateRule("mean_prediction", "ratio", ">=", ("regression",)),
    "error_ratio": GateRule("mean_absolute_error", "inverse_ratio", "<=", ("regression",)),
}
"""Gates a config can set under the explain stage's `fairness_thresholds`."""

DEFAULT_THRESHOLDS = {
    "demographic_parity_ratio": 0.8,
    "equalized_odds_difference": 0.2,
    "accuracy_difference": 0.1,
    "mean_prediction_ratio": 0.8,
}


def check_thresholds(thresholds: Mapping[str, Any]) -> list[str]:
    """Problems with a `fairness_thresholds` mapping: unknown gates, values not numbers."""
    problems = [
        f"unknown fairness gate '{name}'. Gates: {', '.join(GATES)}."
        for name in thresholds
        if name not in GATES
    ]
    problems += [
        f"fairness gate '{name}' needs a number, got {value!r}."
        for name, value in thresholds.items()
        if name in GATES and (isinstance(value, bool) or not isinstance(value, int | float))
    ]
    return problems


def sensitive_groups(rows: pd.DataFrame, features: Sequence[str], bins: int = 4) -> pd.DataFrame:
    """Group label per row for each sensitive feature (continuous ones binned into `bins`
    quantile groups) and, for two or more features, their intersection."""
    groups = pd.DataFrame(index=rows.index)
    for feature in features:
        groups[feature] = cohort_labels(rows[feature], bins)
    if len(features) > 1:
        groups[" & ".join(features)] = groups[list(features)].astype(str).agg(", ".join, axis=1)
    return groups


def _share(flags: np.ndarray) -> float:
    """The share of true values; undefined (NaN) when there are none to count, so a group
    without actual positives has no true positive rate rather than a rate of 0."""
    return float(np.mean(flags)) if len(flags) else np.nan


def _auc(y_true: np.ndarray, score: np.ndarray) -> float:
    """ROC AUC of `score`; undefined (NaN) unless both classes occur."""
    from sklearn.metrics import roc_auc_score

    return float(roc_auc_score(y_true, score)) if len(np.unique(y_true)) == 2 else np.nan


def _calibration_error(y_true: np.ndarray, score: np.ndarray) -> float:
    """Expected calibration error of `score`, the positive-class probability (see
    `calibration.expected_calibration_error`, ten equal-width bins)."""
    return expected_calibration_error(np.asarray(y_true) == 1, score)


def group_table(
    y_true: np.ndarray,
    y_pred: np.ndarray,
    score: np.ndarray | None,
    groups: pd.Series,
    kind: str,
    min_group_size: int = 30,
) -> pd.DataFrame:
    """Per-group metrics with fairlearn's MetricFrame, one row per group.

    Binary: rows, positives (actual), selection_rate (share predicted positive),
    true_positive_rate, false_positive_rate, precision, accuracy, and, when `score` (the
    positive-class probability) is given, auc and calibration_error (expected calibration
    error of `score`); a rate without rows to count from is NaN.
    Multiclass: rows, accuracy. Regression: rows, mean_prediction, mean_actual,
    mean_absolute_error. Every table has `too_small` (fewer than `min_group_size` rows).
    """
    from fairlearn import metrics as fm
    from sklearn import metrics

    if kind == "binary":
        functions = {
            "rows": fm.count,
            "positives": lambda t, p: int(np.sum(np.asarray(t) == 1)),
            "selection_rate": fm.selection_rate,
            "true_positive_rate": lambda t, p: _share(np.asarray(p)[np.asarray(t) == 1] == 1),
            "false_positive_rate": lambda t, p: _share(np.asarray(p)[np.asarray(t) == 0] == 1),
            "precision": lambda t, p: _share(np.asarray(t)[np.asarray(p) == 1] == 1),
            "accuracy": metrics.accuracy_score,
        }
    elif kind == "multiclass":
        functions = {"rows": fm.count, "accuracy": metrics.accuracy_score}
    else:
        functions = {
            "rows": fm.count,
            "mean_prediction": lambda t, p: float(np.mean(p)),
            "mean_actual": lambda t, p: float(np.mean(t)),
            "mean_absolute_error": metrics.mean_absolute_error,
        }
    frame = fm.MetricFrame(
        metrics=functions, y_true=y_true, y_pred=y_pred, sensitive_features=groups
    ).by_group
    if kind == "binary" and score is not None:
        scored = fm.MetricFrame(
            metrics={"auc": _auc, "calibration_error": _calibration_error},
            y_true=y_true,
            y_pred=score,
            sensitive_features=groups,
        ).by_group
        frame[["auc", "calibration_error"]] = scored[["auc", "calibration_error"]]
    table = frame.reset_index().rename(columns={groups.name: "group"})
    table["rows"] = table["rows"].astype(int)
    if "positives" in table:
        table["positives"] = table["positives"].astype(int)
    table["too_small"] = table["rows"] < min_group_size
    return table.sort_values("rows", ascending=False, ignore_index=True)


def _measurable(table: pd.DataFrame, rule: GateRule) -> bool:
    """Whether `table` has the columns a gate compares (no scores: no calibration error)."""
    return all(column in table for column in rule.columns or (rule.column,))


def _gate_value(judged: pd.DataFrame, rule: GateRule) -> tuple[float, str, str]:
    """The gap a gate measures over the judged groups, with the lowest and highest group
    (NaN when the table lacks the columns it compares)."""
    if not _measurable(judged, rule):
        return np.nan, "", ""
    if rule.measure == "max_range":
        ranges = [judged[c].max() - judged[c].min() for c in rule.columns]
        value = float(np.nanmax(ranges)) if not np.all(np.isnan(ranges)) else np.nan
        column = rule.columns[int(np.nanargmax(ranges))] if not np.isnan(value) else rule.columns[0]
    else:
        column = rule.column
    values = judged[column].dropna()
    if len(values) < 2:
        return np.nan, "", ""
    low, high = values.idxmin(), values.idxmax()
    lo, hi = values[low], values[high]
    if rule.measure == "ratio":
        value = lo / hi if hi > 0 else np.nan
    elif rule.measure == "inverse_ratio":
        value = hi / lo if lo > 0 else np.inf
    elif rule.measure == "difference":
        value = hi - lo
    return float(value), str(judged.loc[low, "group"]), str(judged.loc[high, "group"])


def evaluate_gates(
    tables: Mapping[str, pd.DataFrame], kind: str, thresholds: Mapping[str, float]
) -> list[dict[str, Any]]:
    """Every gate of `thresholds` that applies to `kind`, for every sensitive feature."""
    results = []
    for feature, table in tables.items():
        judged = table[~table["too_small"]]
        small = table.loc[table["too_small"], "group"].astype(str).tolist()
        for name, threshold in thresholds.items():
            rule = GATES[name]
            if kind not in rule.kinds:
                continue
            value, lowest, highest = _gate_value(judged, rule)
            if np.isnan(value):
                status = "SKIPPED"
            elif rule.rule == ">=":
                status = "PASS" if value >= threshold else "FAIL"
            else:
                status = "PASS" if value <= threshold else "FAIL"
            results.append(
                {
                    "feature": feature,
                    "gate": name,
                    "rule": rule.rule,
                    "threshold": float(threshold),
                    "value": None if np.isnan(value) else round(value, 6),
                    "status": status,
                    "lowest_group": lowest,
                    "highest_group": highest,
                    "groups_judged": len(judged),
                    "groups_too_small": small,
                }
            )
    return results


def disparities(tables: Mapping[str, pd.DataFrame], kind: str) -> pd.DataFrame:
    """Every gap measure that applies to `kind` (for binary models: demographic-parity
    difference and ratio, equalized-odds and equal-opportunity difference, accuracy
    difference, and calibration difference when the tables have scores), per sensitive
    feature over the groups with enough rows, whether or not the config sets a gate on it."""
    rows = []
    for feature, table in tables.items():
        judged = table[~table["too_small"]]
        for name, rule in GATES.items():
            if kind in rule.kinds and _measurable(table, rule):
                value, lowest, highest = _gate_value(judged, rule)
                rows.append(
                    {
                        "feature": feature,
                        "measure": name,
                        "value": value,
                        "lowest_group": lowest,
                        "highest_group": highest,
                    }
                )
    return pd.DataFrame(rows)


def overall_status(gates: Sequence[Mapping[str, Any]]) -> str:
    """FAIL if any gate failed, PASS if at least one passed and none failed, else SKIPPED."""
    statuses = {g["status"] for g in gates}
    if "FAIL" in statuses:
        return "FAIL"
    return "PASS" if "PASS" in statuses else "SKIPPED"


def gate_sentence(gate: Mapping[str, Any]) -> str:
    """One gate in words, with its numbers."""
    label = gate["gate"].replace("_", " ")
    if gate["status"] == "SKIPPED":
        return (
            f"{gate['feature']}: {label} not judged (fewer than two groups with enough rows "
            "or no defined rate)."
        )
    return (
        f"{gate['feature']}: {label} is {gate['value']:.3f}, required {gate['rule']} "
        f"{gate['threshold']:g}: {gate['status']} (lowest group {gate['lowest_group']}, "
        f"highest {gate['highest_group']})."
    )


def feature_sentences(
    gates: Sequence[Mapping[str, Any]], tables: Mapping[str, pd.DataFrame]
) -> list[str]:
    """Per sensitive feature, one short sentence: its failing gates with their numbers (or
    that all pass), and how many groups were too small to judge."""
    sentences = []
    for feature, table in tables.items():
        mine = [g for g in gates if g["feature"] == feature]
        failed = [g for g in mine if g["status"] == "FAIL"]
        if failed:
            worst = failed[0]
            text = (
                f"{feature}: {len(failed)} of {len(mine)} gates fail, e.g. "
                f"{worst['gate'].replace('_', ' ')} {worst['value']:.3f} (required "
                f"{worst['rule']} {worst['threshold']:g}; lowest group {worst['lowest_group']}, "
                f"highest {worst['highest_group']})."
            )
        else:
            text = f"{feature}: every gate passes." if mine else f"{feature}: no gate judged."
        small = table.loc[table["too_small"], "group"].astype(str).tolist()
        if small:
            named = f" ({', '.join(small)})" if len(small) <= 3 else ""
            text += (
                f" {len(small)} of {len(table)} groups{named} are too small to judge and are "
                "flagged in the tables."
            )
        sentences.append(text)
    return sentences


def disparity_metrics(table: pd.DataFrame) -> dict[str, float]:
    """Gap measures as MLflow metrics `fairness.<feature>.<measure>` (gated or not)."""
    return {
        f"fairness.{safe_name(row.feature)}.{row.measure}": float(row.value)
        for row in table.itertuples()
        if np.isfinite(row.value)
    }


def gate_tags(gates: Sequence[Mapping[str, Any]]) -> dict[str, str]:
    """Gate statuses as tags `mlwb.gate.<feature>.<gate>`, plus `mlwb.fairness` overall."""
    tags = {f"{TAG_GATE_PREFIX}{safe_name(g['feature'])}.{g['gate']}": g["status"] for g in gates}
    tags[TAG_FAIRNESS] = overall_status(gates)
    return tags


def gate_counts(gates: Sequence[Mapping[str, Any]]) -> dict[str, int]:
    """How many gates passed and failed: the key figures of the report index."""
    statuses = [g["status"] for g in gates]
    return {
        "fairness_gates_passed": statuses.count("PASS"),
        "fairness_gates_failed": statuses.count("FAIL"),
    }


def gates_frame(gates: Sequence[Mapping[str, Any]]) -> pd.DataFrame:
    """The gates as a table for the report."""
    return pd.DataFrame(
        [
            {
                "feature": g["feature"],
                "gate": g["gate"].replace("_", " "),
                "value": np.nan if g["value"] is None else g["value"],
                "required": f"{g['rule']} {g['threshold']:g}",
                "status": g["status"],
                "lowest group": g["lowest_group"],
                "highest group": g["highest_group"],
                "groups too small": len(g["groups_too_small"]) or "-",
            }
            for g in gates
        ]
    )


RATE_COLUMNS = (
    "selection_rate",
    "true_positive_rate",
    "false_positive_rate",
    "precision",
    "accuracy",
)
