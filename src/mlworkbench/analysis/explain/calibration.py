"""Calibration: does a score of 0.7 mean 70%? Overall and per group of each sensitive feature.

Scores are cut into `bins` equal-width bins over [0, 1]; in each bin the mean score is
compared with the observed rate. The expected calibration error (ECE) is the mean gap
|observed rate - mean score| over the bins, weighted by their share of rows: 0 for perfect
calibration, 0.05 when scores are off by five percentage points on average.

Binary models: the positive-class probability against the 0/1 label. Multiclass models: the
confidence of the most likely class against whether that class is right. Regression models
have no probabilities, so calibration does not apply (the report says so).

Per group (see `fairness.sensitive_groups`), groups with fewer than `min_group_size` rows are
shown and flagged but left out of the gaps: ECE on a few rows is mostly noise (it is biased
upwards on small samples, even for a perfectly calibrated model).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from mlworkbench.exceptions import DataError
from mlworkbench.tracking.store import safe_name

# Deferred imports: matplotlib loads inside the plotting functions, so that importing this
# module (fairness imports it for its per-group calibration error) stays fast.

OVERALL = "all"
"""The `feature` and `group` of the whole model's rows in `Calibration.curves`."""

WELL_CALIBRATED = 0.05
"""ECE up to which scores read as well calibrated; up to twice that, as roughly calibrated."""

MAX_LINES = 6
"""Groups drawn at most in one reliability diagram (the largest with enough rows)."""


def _checked(outcome: Any, confidence: Any) -> tuple[np.ndarray, np.ndarray]:
    """Outcomes as 0/1 floats and confidences as floats in [0, 1], or a clear DataError."""
    hits = np.asarray(outcome, dtype=float).ravel()
    scores = np.asarray(confidence, dtype=float).ravel()
    if len(hits) != len(scores):
        raise DataError(
            f"calibration needs one score per outcome, got {len(scores)} scores for "
            f"{len(hits)} outcomes."
        )
    if not np.all(np.isfinite(scores)) or np.any((scores < -1e-6) | (scores > 1 + 1e-6)):
        raise DataError("calibration needs probabilities between 0 and 1, without missing values.")
    if not np.all(np.isin(hits, (0.0, 1.0))):
        raise DataError("calibration needs outcomes of 0 or 1 (positive label, or right class).")
    return hits, np.clip(scores, 0.0, 1.0)


def reliability(outcome: Any, confidence: Any, bins: int = 10) -> pd.DataFrame:
    """The reliability curve: per non-empty equal-width bin of [0, 1] (the last one closed),
    its number, mean score (`mean_predicted`), observed rate (`observed`) and `rows`."""
    hits, scores = _checked(outcome, confidence)
    codes = np.minimum((scores * bins).astype(int), bins - 1)
    rows = np.bincount(codes, minlength=bins)
    filled = rows > 0
    with np.errstate(invalid="ignore", divide="ignore"):
        mean_predicted = np.bincount(codes, scores, minlength=bins) / rows
        observed = np.bincount(codes, hits, minlength=bins) / rows
    return pd.DataFrame(
        {
            "bin": np.arange(bins)[filled],
            "mean_predicted": mean_predicted[filled],
            "observed": observed[filled],
            "rows": rows[filled],
        }
    )


def _ece(curve: pd.DataFrame) -> float:
    """ECE of a reliability curve: |observed - mean_predicted| weighted by bin rows."""
    total = curve["rows"].sum()
    if total == 0:
        return np.nan
    gaps = (curve["observed"] - curve["mean_predicted"]).abs()
    return float((gaps * curve["rows"]).sum() / total)


def expected_calibration_error(outcome: Any, confidence: Any, bins: int = 10) -> float:
    """ECE of `confidence` (probabilities) against `outcome` (1 when the event happened: the
    positive label, or the top class being right); NaN when there are no rows."""
    return _ece(reliability(outcome, confidence, bins))


def outcomes(kind: str, y: np.ndarray, scores: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """What calibration compares for a classifier: (outcome, confidence). Binary: the 0/1
    label and the positive-class probability (`scores` one column per class, or that
    probability alone). Multiclass: whether the most likely class is right, and its
    probability."""
    scores = np.asarray(scores, dtype=float)
    y = np.asarray(y)
    if kind == "binary":
        positive = scores[:, 1] if scores.ndim == 2 else scores
        return (y == 1).astype(float), positive
    if kind == "multiclass":
        return (scores.argmax(axis=1) == y).astype(float), scores.max(axis=1)
    raise DataError(f"calibration applies to binary and multiclass models, not to {kind!r}.")


@dataclass
class Calibration:
    """Calibration of a model, overall and per group of each sensitive feature.

    `curves`: feature ("all" for the whole model), group, bin, mean_predicted, observed, rows.
    `table`: feature, group, rows, ece, mean_score, observed_rate, too_small.
    `gaps`: per feature, the largest minus the smallest ECE among groups with enough rows
    (`ece_difference`, NaN with fewer than two such groups) and which groups those are.
    `mean_score` and `observed_rate`: over all rows.
    """

    kind: str
    ece: float
    curves: pd.DataFrame
    table: pd.DataFrame
    gaps: pd.DataFrame
    mean_score: float
    observed_rate: float
    bins: int = 10
    min_group_size: int = 30

    @property
    def applicable(self) -> bool:
        """Whether the model has probabilities to calibrate (not a regression model)."""
        return self.kind in ("binary", "multiclass")

    def sentences(self) -> list[str]:
        """The findings in words, for the report's callout."""
        return calibration_sentences(self)

    def metrics(self) -> dict[str, float]:
        """`calibration.ece` and `calibration.<feature>.ece_difference` (when measured)."""
        if not self.applicable:
            return {}
        values = {"calibration.ece": self.ece}
        for row in self.gaps.itertuples():
            values[f"calibration.{safe_name(row.feature)}.ece_difference"] = row.ece_difference
        return {name: float(v) for name, v in values.items() if np.isfinite(v)}

    def figures(self) -> list[tuple[Any, str]]:
        """The reliability diagram of the whole model, then one per sensitive feature with a
        line per group large enough, each with its artifact file `plots/calibration_*.png`.
        Intersections of features ("sex & age") are left to the table: their many small
        groups make unreadable curves."""
        if not self.applicable:
            return []
        pairs = [(plot_overall(self), "plots/calibration_overall.png")]
        features = list(self.table["feature"].unique())
        for feature in features:
            parts = feature.split(" & ")
            if len(parts) > 1 and all(part in features for part in parts):
                continue  # an intersection of features shown on their own
            pairs.append(
                (plot_feature(self, feature), f"plots/calibration_by_{safe_name(feature)}.png")
            )
        return pairs


def _group_rows(
    feature: str, labels: np.ndarray, hits: np.ndarray, scores: np.ndarray, bins: int
) -> tuple[list[pd.DataFrame], list[dict[str, Any]]]:
    """Reliability curves and table rows of every group of one sensitive feature."""
    curves, rows = [], []
    for group in pd.Series(labels).value_counts(sort=True).index:  # largest group first
        mine = labels == group
        curve = reliability(hits[mine], scores[mine], bins)
        curves.append(curve.assign(feature=feature, group=str(group)))
        rows.append(
            {
                "feature": feature,
                "group": str(group),
                "rows": int(mine.sum()),
                "ece": _ece(curve),
                "mean_score": float(scores[mine].mean()),
                "observed_rate": float(hits[mine].mean()),
            }
        )
    return curves, rows


def _gaps(table: pd.DataFrame) -> pd.DataFrame:
    """Per feature, the ECE gap between the worst and best calibrated groups large enough."""
    records = []
    for feature, part in table.groupby("feature", sort=False):
        judged = part[~part["too_small"]].dropna(subset=["ece"])
        record = {"feature": feature, "ece_difference": np.nan, "groups_judged": len(judged)}
        if len(judged) >= 2:
            best, worst = judged.loc[judged["ece"].idxmin()], judged.loc[judged["ece"].idxmax()]
            record |= {
                "ece_difference": worst["ece"] - best["ece"],
                "lowest_group": best["group"],
                "lowest_ece": best["ece"],
                "highest_group": worst["group"],
                "highest_ece": worst["ece"],
            }
        records.append(record)
    columns = ["feature", "ece_difference", "lowest_group", "lowest_ece", "highest_group"]
    return pd.DataFrame(records).reindex(columns=[*columns, "highest_ece", "groups_judged"])


def calibration(
    kind: str,
    y: np.ndarray,
    scores: np.ndarray,
    groups: pd.DataFrame,
    min_group_size: int = 30,
    bins: int = 10,
) -> Calibration:
    """Calibration of a model's scores on rows with labels `y`, overall and per group.

    `groups` holds a group label per row (positionally aligned with `y` and `scores`), one
    column per sensitive feature, as `fairness.sensitive_groups` returns. A regression model
    gets an empty, not applicable result.
    """
    curve_columns = ["feature", "group", "bin", "mean_predicted", "observed", "rows"]
    table_columns = ["feature", "group", "rows", "ece", "mean_score", "observed_rate"]
    if kind not in ("binary", "multiclass"):
        empty = pd.DataFrame(columns=curve_columns)
        table = pd.DataFrame(columns=[*table_columns, "too_small"])
        return Calibration(kind, np.nan, empty, table, _gaps(table), np.nan, np.nan, bins)
    if len(y) == 0:
        raise DataError("calibration needs at least one row with a label.")
    if len(groups.columns) and len(groups) != len(y):
        raise DataError(f"calibration got {len(groups)} group labels for {len(y)} rows.")
    hits, confidence = _checked(*outcomes(kind, y, scores))
    overall = reliability(hits, confidence, bins).assign(feature=OVERALL, group=OVERALL)
    curves, rows = [overall], []
    for feature in groups.columns:
        labels = groups[feature].astype(str).to_numpy()
        more_curves, more_rows = _group_rows(str(feature), labels, hits, confidence, bins)
        curves, rows = curves + more_curves, rows + more_rows
    table = pd.DataFrame(rows, columns=table_columns)
    table["too_small"] = table["rows"] < min_group_size
    return Calibration(
        kind,
        _ece(overall),
        pd.concat(curves, ignore_index=True)[curve_columns],
        table,
        _gaps(table),
        float(confidence.mean()),
        float(hits.mean()),
        bins,
        min_group_size,
    )


def _quality(ece: float) -> str:
    """An ECE in words."""
    if ece <= WELL_CALIBRATED:
        return "well calibrated"
    return "roughly calibrated" if ece <= 2 * WELL_CALIBRATED else "poorly calibrated"


def overall_sentence(result: Calibration) -> str:
    """How well the scores are calibrated overall, and in which direction they err."""
    what = "Scores are" if result.kind == "binary" else "Top-class confidences are"
    mean, rate = result.mean_score, result.observed_rate
    text = f"{what} {_quality(result.ece)} overall (ECE {result.ece:.3f})"
    if abs(mean - rate) >= 0.01:
        direction = "above" if mean > rate else "below"
        text += f"; on average they are {abs(mean - rate):.2f} {direction} the observed rate"
    return text + "."


def feature_sentence(gap: Any, small: int, min_group_size: int) -> str:
    """The ECE gap across one sensitive feature's groups, in words."""
    if gap.groups_judged < 2:
        text = (
            f"Across {gap.feature}, fewer than two groups have {min_group_size} rows or more: "
            "no gap measured."
        )
    else:
        text = (
            f"Across {gap.feature}, ECE ranges from {gap.lowest_ece:.3f} ({gap.lowest_group}) "
            f"to {gap.highest_ece:.3f} ({gap.highest_group}): a gap of {gap.ece_difference:.3f}."
        )
    if small:
        groups = f"{small} group{'s' if small > 1 else ''}"
        text += f" {groups} with fewer than {min_group_size} rows left out."
    return text


def calibration_sentences(result: Calibration) -> list[str]:
    """The overall calibration and the gap across each sensitive feature, in words."""
    if not result.applicable:
        return [
            "Calibration does not apply to a regression model: it compares predicted "
            "probabilities with observed rates."
        ]
    sentences = [overall_sentence(result)]
    small = result.table.groupby("feature", sort=False)["too_small"].sum()
    return sentences + [
        feature_sentence(gap, int(small.get(gap.feature, 0)), result.min_group_size)
        for gap in result.gaps.itertuples()
    ]


def _axis_labels(kind: str) -> dict[str, str]:
    """What the scores on the x axis and the rates on the y axis are."""
    if kind == "binary":
        return {"xlabel": "predicted probability of the positive class", "ylabel": "observed rate"}
    return {
        "xlabel": "confidence of the most likely class",
        "ylabel": "share where the most likely class is right",
    }


def _diagonal(ax: Any) -> None:
    """The line of perfect calibration, and the unit square around it."""
    ax.plot([0, 1], [0, 1], color="#57606a", linestyle="--", linewidth=1, label="perfect")
    ax.scatter([], [], s=60, color="#8c959f", label="point size: rows in the score bin")
    ax.set(xlim=(0, 1), ylim=(-0.02, 1.02))
    ax.grid(alpha=0.3)


def _marker_sizes(rows: pd.Series, largest: float) -> np.ndarray:
    """Marker areas growing with a bin's rows, so sparse bins read as less certain."""
    return 15 + 235 * rows.to_numpy(dtype=float) / max(largest, 1.0)


def plot_overall(result: Calibration) -> Any:
    """Reliability diagram of the whole model: observed rate against mean score per bin
    (point size by rows), the diagonal of perfect calibration, and the rows per bin below."""
    from matplotlib.figure import Figure

    curve = result.curves[result.curves["feature"] == OVERALL]
    figure = Figure(figsize=(10, 7.5), layout="constrained")
    top, bottom = figure.subplots(2, 1, sharex=True, height_ratios=[3, 1])
    _diagonal(top)
    top.plot(curve["mean_predicted"], curve["observed"], color="#1f6feb", linewidth=2)
    sizes = _marker_sizes(curve["rows"], curve["rows"].max())
    top.scatter(curve["mean_predicted"], curve["observed"], s=sizes, color="#1f6feb", zorder=3)
    labels = _axis_labels(result.kind)
    top.set(ylabel=labels["ylabel"], title=f"Calibration of the model (ECE {result.ece:.3f})")
    top.legend(loc="upper left")
    width = 1 / result.bins
    bottom.bar((curve["bin"] + 0.5) * width, curve["rows"], width=width * 0.9, color="#8c959f")
    bottom.set(xlabel=labels["xlabel"], ylabel="rows")
    return figure


def _left_out(part: pd.DataFrame, drawn: pd.DataFrame, min_group_size: int) -> list[str]:
    """Legend notes on the groups of `part` that are not drawn, and why."""
    notes = []
    small = part.loc[part["too_small"], "group"].tolist()
    if small:
        named = f": {', '.join(small)}" if len(small) <= 3 else ""
        notes.append(f"not drawn, under {min_group_size} rows: {len(small)}{named}")
    crowded = len(part) - len(small) - len(drawn)
    if crowded:
        notes.append(f"not drawn, {crowded} smaller group{'s' if crowded > 1 else ''}")
    return notes


def plot_feature(result: Calibration, feature: str) -> Any:
    """Reliability diagram of one sensitive feature: a line per group with enough rows (the
    `MAX_LINES` largest), point size by rows; the groups left out are noted in the legend."""
    from matplotlib.figure import Figure

    part = result.table[result.table["feature"] == feature]
    drawn = part[~part["too_small"]].head(MAX_LINES)
    curves = result.curves[result.curves["feature"] == feature]
    figure = Figure(figsize=(10, 7), layout="constrained")
    ax = figure.subplots()
    _diagonal(ax)
    largest = curves["rows"].max() if len(curves) else 1
    for row in drawn.itertuples():
        curve = curves[curves["group"] == row.group]
        label = f"{row.group} ({row.rows:,} rows, ECE {row.ece:.3f})"
        (line,) = ax.plot(curve["mean_predicted"], curve["observed"], linewidth=2, label=label)
        sizes = _marker_sizes(curve["rows"], largest)
        ax.scatter(curve["mean_predicted"], curve["observed"], s=sizes, color=line.get_color())
    for note in _left_out(part, drawn, result.min_group_size):
        ax.plot([], [], linestyle="none", label=note)
    ax.legend(loc="upper left", fontsize=10)
    ax.set(title=f"Calibration by {feature}", **_axis_labels(result.kind))
    return figure
