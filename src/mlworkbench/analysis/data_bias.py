"""Pre-training bias: how the labels are spread over the groups of each sensitive feature,
before any model exists (SageMaker Clarify's pre-training metrics).

Each group of a sensitive feature (facet d) is compared with all other labelled rows (facet a):

- CI, class imbalance: (n_a - n_d) / (n_a + n_d); positive when the group is the smaller side.
- DPL, difference in positive proportions of labels: q_a - q_d, q the share of rows with the
  positive label. The positive label of a binary outcome is the second of its sorted classes,
  the class training encodes as 1 (`training.encode_target`). Regression: the difference of the
  target means divided by the target's standard deviation (all labelled rows, ddof 1).
  Multiclass: left empty (no class is "positive"); the distribution metrics compare classes.
- KL, Kullback-Leibler divergence KL(P_a‖P_d) over the label values (natural log; a value absent
  from d counts as a share of `EPSILON` there: finite but large). JS, Jensen-Shannon divergence
  ½[KL(P_a‖M) + KL(P_d‖M)], M = ½(P_a + P_d), at most ln 2. KS and TVD: see their functions;
  a regression target is cut into `REGRESSION_BINS` quantile bins first.

Groups come from `fairness.sensitive_groups`, as in the explain stage: numbers with more than
`bins` distinct values are cut into quantile groups, text keeps its 20 most common values (the
rest form `(other)`), missing values form `(missing)`, and two or more features add their
intersection as a feature of its own (as the explain stage does). A group
is `too_small` when it, or the rest, has fewer than `min_group_size` rows: shown, not judged.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from mlworkbench.analysis import data, training
from mlworkbench.analysis.explain.fairness import sensitive_groups
from mlworkbench.analysis.screening import is_numeric
from mlworkbench.tracking.store import safe_name

EPSILON = 1e-6
"""Share used for a label value absent from group d when computing KL(P_a‖P_d)."""

REGRESSION_BINS = 10
"""Quantile bins a regression target is cut into for the distribution metrics."""

METRICS = ("CI", "DPL", "KL", "JS", "KS", "TVD")
COLUMNS = ("feature", "group", "rows", "share", *METRICS, "too_small")
OWN_COLUMN = {"binary": ["positive_share"], "regression": ["target_mean"]}
"""The table's columns; the group's own positive share or target mean follows `share`."""
LARGEST = {"max_abs_ci": "CI", "max_abs_dpl": "DPL", "max_js": "JS", "max_tvd": "TVD"}
"""Metrics logged per feature: the largest absolute value of a column over the judged groups."""

TEXT_DISTINCT_SHARE = 0.5
"""Text columns with more distinct values than this share of their rows look like identifiers
or free text: their values would name people, so they are not grouped."""


@dataclass(frozen=True)
class Outcome:
    """The labelled rows' outcome as the metrics see it."""

    kind: str  # "binary", "multiclass" or "regression"
    codes: np.ndarray  # label value (class or quantile bin) per row, 0..K-1
    values: np.ndarray | None  # 1/0 positive label (binary), target (regression), else None
    positive_label: Any  # the positive class (binary), else None
    scale: float  # the target's standard deviation (regression), else 1


def label_outcome(labels: pd.Series, task: str) -> Outcome:
    """The outcome of labelled rows: class codes as training encodes them, or a regression
    target with its quantile bins."""
    if task == "regression":
        target = labels.to_numpy(dtype=float)
        if labels.nunique() <= REGRESSION_BINS:
            bins = labels.rank(method="dense") - 1
        else:
            bins = pd.qcut(labels, REGRESSION_BINS, labels=False, duplicates="drop")
        scale = float(np.std(target, ddof=1))
        return Outcome("regression", bins.to_numpy(dtype=int), target, None, scale)
    codes, classes = training.encode_target(labels, "classification")
    if len(classes) == 2:
        return Outcome("binary", codes, (codes == 1).astype(float), classes[1], 1.0)
    return Outcome("multiclass", codes, None, None, 1.0)


def class_imbalance(n_a: int, n_d: int) -> float:
    """CI: (n_a - n_d) / (n_a + n_d)."""
    return (n_a - n_d) / (n_a + n_d)


def kl_divergence(p: np.ndarray, q: np.ndarray) -> float:
    """KL(p‖q) in nats; values with p = 0 add nothing, a share q = 0 counts as `EPSILON`."""
    present = p > 0
    return float(np.sum(p[present] * np.log(p[present] / np.maximum(q[present], EPSILON))))


def js_divergence(p: np.ndarray, q: np.ndarray) -> float:
    """JS: ½[KL(p‖m) + KL(q‖m)], m = ½(p + q); between 0 and ln 2."""
    middle = (p + q) / 2
    return 0.5 * kl_divergence(p, middle) + 0.5 * kl_divergence(q, middle)


def ks_distance(p: np.ndarray, q: np.ndarray, ordered: bool = False) -> float:
    """KS: the largest difference in the share of one label value (Clarify's categorical
    definition), or of the cumulative shares of `ordered` values (a regression's bins)."""
    if ordered:
        p, q = np.cumsum(p), np.cumsum(q)
    return float(np.max(np.abs(p - q)))


def total_variation(p: np.ndarray, q: np.ndarray) -> float:
    """TVD: half the sum of the differences in the shares of the label values."""
    return float(0.5 * np.sum(np.abs(p - q)))


def _shares(codes: np.ndarray, categories: int) -> np.ndarray:
    """The share of each label value 0..categories-1 among `codes`."""
    return np.bincount(codes, minlength=categories) / len(codes)


def facet_metrics(in_group: np.ndarray, outcome: Outcome) -> dict[str, float]:
    """Rows, CI, DPL, KL, JS, KS and TVD of the rows in the group (d) against the rest (a);
    the comparisons are undefined (NaN) when there is no rest."""
    n_d, n_a = int(in_group.sum()), int((~in_group).sum())
    result: dict[str, float] = {"rows": n_d}
    if outcome.values is not None:
        own = float(np.mean(outcome.values[in_group]))
        result["positive_share" if outcome.kind == "binary" else "target_mean"] = own
    result["CI"] = class_imbalance(n_a, n_d)
    if n_a == 0:
        return result | dict.fromkeys(("DPL", "KL", "JS", "KS", "TVD"), np.nan)
    categories = int(outcome.codes.max()) + 1
    p_a = _shares(outcome.codes[~in_group], categories)
    p_d = _shares(outcome.codes[in_group], categories)
    dpl = np.nan
    if outcome.values is not None and outcome.scale > 0:
        dpl = (float(np.mean(outcome.values[~in_group])) - own) / outcome.scale
    return result | {
        "DPL": dpl,
        "KL": kl_divergence(p_a, p_d),
        "JS": js_divergence(p_a, p_d),
        "KS": ks_distance(p_a, p_d, ordered=outcome.kind == "regression"),
        "TVD": total_variation(p_a, p_d),
    }


def _group_order(labels: pd.Series, values: pd.Series | None) -> list[str]:
    """Groups in reading order: numeric bins from low to high, other groups largest first,
    `(missing)` last."""
    counts = labels.value_counts()
    if values is not None and is_numeric(values):
        lowest = values.groupby(labels).min()
        order = sorted(counts.index, key=lambda g: (pd.isna(lowest.get(g)), lowest.get(g, 0)))
    else:
        order = list(counts.index)
    return sorted(order, key=lambda g: g == "(missing)")


def feature_table(
    feature: str,
    labels: pd.Series,
    outcome: Outcome,
    min_group_size: int,
    values: pd.Series | None = None,
) -> pd.DataFrame:
    """One row per group of one sensitive feature: its size, share, metrics and whether it
    (or the rest of the rows) is too small to judge."""
    group_labels = labels.to_numpy()
    records = []
    for group in _group_order(labels, values):
        in_group = group_labels == group
        metrics = facet_metrics(in_group, outcome)
        small = min(in_group.sum(), (~in_group).sum()) < min_group_size
        records.append({"feature": feature, "group": group, **metrics, "too_small": small})
    table = pd.DataFrame.from_records(records)
    table.insert(3, "share", table["rows"] / len(labels))
    return table


READINGS = {
    "CI": "Whether the group is under-represented: positive when it has fewer rows than all "
    "others together, negative when more.",
    "binary DPL": "How much less often the group has the positive label than the others "
    "(0.10: 10 percentage points less); negative: more often.",
    "regression DPL": "How much lower the group's mean outcome is than the others', in "
    "standard deviations of the outcome; negative: higher.",
    "multiclass DPL": "Left empty: with more than two classes no class is the positive one.",
    "KL": "How different the others' spread over the {values} is from the group's; very large "
    "when a value never occurs in the group.",
    "JS": "The same comparison of the spread over the {values}, symmetric and bounded.",
    "KS": "The largest difference between the group and the others in the share of any one "
    "of the {values}.",
    "TVD": "The share of rows whose outcome would have to change for the group to look like "
    "the others (half the summed differences in the shares of the {values}).",
}
"""What each metric says to a domain expert; `{values}` names what the shares count."""

RANGES = {"CI": "-1 to 1", "KL": "0 and up", "JS": "0 to 0.69 (ln 2)", "KS": "0 to 1"}
DPL_RANGES = {"binary": "-1 to 1", "regression": "any number, 0: same mean", "multiclass": "–"}


def readings(kind: str) -> pd.DataFrame:
    """What each metric says to a domain expert, and its range, for this kind of outcome."""
    values = "outcome's ten quantile bins" if kind == "regression" else "outcome values"
    rows = [
        (
            metric,
            READINGS[f"{kind} DPL" if metric == "DPL" else metric].format(values=values),
            DPL_RANGES[kind] if metric == "DPL" else RANGES.get(metric, "0 to 1"),
        )
        for metric in METRICS
    ]
    return pd.DataFrame(rows, columns=["metric", "what it says", "range"])


def skip_reason(frame: pd.DataFrame, feature: str, target: str) -> str:
    """Why a sensitive feature cannot be grouped (empty when it can)."""
    if feature not in frame.columns:
        return f"Sensitive feature '{feature}' is not in the data; it is skipped."
    if feature == target:
        return f"Sensitive feature '{feature}' is the outcome itself; it is skipped."
    values = frame[feature].dropna()
    if values.empty:
        return f"Sensitive feature '{feature}' has no values; it is skipped."
    distinct = values.astype(str).nunique()
    if (
        not is_numeric(values)
        and len(values) >= 20
        and distinct > TEXT_DISTINCT_SHARE * len(values)
    ):
        return (
            f"Sensitive feature '{feature}' holds a value of its own in most rows (an "
            "identifier or free text), so it forms no groups; it is skipped."
        )
    return ""


@dataclass(frozen=True)
class DataBias:
    """Pre-training bias metrics of every group of every sensitive feature.

    `table`: one row per (feature, group): rows, share of the labelled rows, the group's
    positive share (binary) or target mean (regression), CI, DPL, KL, JS, KS, TVD and
    `too_small`. `readings`: what each metric says and its range. `notes`: rows left out and
    features skipped, in words.
    """

    table: pd.DataFrame
    readings: pd.DataFrame
    target: str
    kind: str
    positive_label: Any = None
    scale: float = 1.0
    min_group_size: int = 30
    notes: list[str] = field(default_factory=list)

    @property
    def features(self) -> list[str]:
        """The sensitive features (and their intersection) the table covers."""
        return list(dict.fromkeys(self.table["feature"])) if not self.table.empty else []

    def judged(self, feature: str) -> pd.DataFrame:
        """The groups of `feature` large enough (on both sides) to judge."""
        part = self.table[self.table["feature"] == feature]
        return part[~part["too_small"].astype(bool)]

    def metrics(self) -> dict[str, float]:
        """Largest values over the judged groups, `bias.<feature>.max_abs_ci`, `max_abs_dpl`,
        `max_js` and `max_tvd` (finite ones only; a multiclass outcome has no DPL)."""
        result = {}
        for feature in self.features:
            judged = self.judged(feature)
            for name, column in LARGEST.items():
                value = float(judged[column].abs().max())
                if np.isfinite(value):
                    result[f"bias.{safe_name(feature)}.{name}"] = value
        return result

    def sentences(self) -> list[str]:
        """The findings in words: the outcome and its positive label, rows and features left
        out, per feature the least represented group and the largest gap, small groups."""
        lines = ([self._outcome_sentence()] if self.features else []) + list(self.notes)
        for feature in self.features:
            lines += self._feature_sentences(feature)
        small = self.table[self.table["too_small"].astype(bool)] if self.features else []
        if len(small):
            names = [f"{row.feature}: {row.group}" for row in small.head(5).itertuples()]
            more = f" and {len(small) - 5} more" if len(small) > 5 else ""
            lines.append(
                f"{len(small)} group(s) ({'; '.join(names)}{more}) have fewer than "
                f"{self.min_group_size} rows, or leave fewer for the others: shown, not judged."
            )
        return lines

    def _outcome_sentence(self) -> str:
        """What the label metrics compare for this kind of outcome."""
        if self.kind == "binary":
            return (
                f"Positive label: {self.target} = {self.positive_label}, the second of its "
                "sorted values (the class training encodes as 1)."
            )
        if self.kind == "regression":
            return (
                f"{self.target} is a number: DPL is the difference of its means in standard "
                f"deviations ({self.scale:,.2f}); KL, JS, KS and TVD compare it cut into "
                f"{REGRESSION_BINS} quantile bins."
            )
        return (
            f"{self.target} has more than two classes: no class is the positive one, so DPL is "
            "left empty and KL, JS, KS and TVD compare the share of every class."
        )

    def _feature_sentences(self, feature: str) -> list[str]:
        """The least represented judged group of `feature` and its largest gap."""
        part, judged = self.table[self.table["feature"] == feature], self.judged(feature)
        if len(part) == 1:
            return [f"{feature}: a single group ({part['group'].iloc[0]}), nothing to compare."]
        if judged.empty:
            return [f"{feature}: no group is large enough to judge."]
        smallest = judged.loc[judged["CI"].idxmax()]
        first = (
            f"{feature}: {smallest['group']} are {smallest['share']:.1%} of the labelled rows "
            f"(class imbalance {smallest['CI']:.2f}); {self._gap(smallest)}."
        )
        gap = "JS" if self.kind == "multiclass" else "DPL"
        widest = judged.loc[judged[gap].abs().idxmax()]
        if np.isclose(abs(widest[gap]), abs(smallest[gap])):  # the same gap, or its mirror
            return [first]
        return [first, f"The largest gap is for {widest['group']}: {self._gap(widest)}."]

    def _gap(self, row: pd.Series) -> str:
        """How a group's outcome differs from the other rows', in words."""
        if self.kind == "binary":
            own, others = row["positive_share"], row["positive_share"] + row["DPL"]
            return (
                f"{own:.1%} of them have the positive label against {others:.1%} of the "
                f"others (DPL {row['DPL']:+.2f})"
            )
        if self.kind == "regression":
            own, others = row["target_mean"], row["target_mean"] + row["DPL"] * self.scale
            return (
                f"their mean {self.target} is {own:,.2f} against {others:,.2f} for "
                f"the others (DPL {row['DPL']:+.2f})"
            )
        return f"their spread over the classes differs by TVD {row['TVD']:.2f} (JS {row['JS']:.3f})"


def labelled_rows(frame: pd.DataFrame, target: str, task: str) -> pd.DataFrame:
    """The rows with a value of `target` (a finite number for regression), renumbered."""
    labels = frame[target]
    keep = labels.notna()
    if task == "regression":
        keep &= np.isfinite(labels.astype(float))
    return frame[keep].reset_index(drop=True)


def pretraining_bias(
    frame: pd.DataFrame,
    target: str,
    task: str,
    sensitive_features: Sequence[str],
    bins: int = 4,
    min_group_size: int = 30,
) -> DataBias:
    """Clarify's pre-training bias metrics for each group of each sensitive feature (and their
    intersection) against all other labelled rows; see the module docstring for definitions.

    Rows without a label are left out, features missing from the data or that form no groups
    are skipped; both are said in `DataBias.notes`.
    """
    data.check_dataset(frame, target, task)
    rows = labelled_rows(frame, target, task)
    outcome = label_outcome(rows[target], task)
    notes = []
    if missing := len(frame) - len(rows):
        row, verb = ("row", "is") if missing == 1 else ("rows", "are")
        notes.append(
            f"{missing:,} {row} without a value of {target} {verb} left out; the metrics use "
            f"the other {len(rows):,}."
        )
    reasons = {name: skip_reason(rows, name, target) for name in dict.fromkeys(sensitive_features)}
    notes += [reason for reason in reasons.values() if reason]
    kept = [name for name, reason in reasons.items() if not reason]
    if not kept:
        why = "was named" if not reasons else "forms groups"
        notes.append(f"No sensitive feature {why}, so there is no bias in the data to measure.")
    groups = sensitive_groups(rows, kept, bins) if kept else pd.DataFrame()
    tables = [
        feature_table(name, groups[name], outcome, min_group_size, rows.get(name))
        for name in groups.columns
    ]
    table = pd.concat(tables, ignore_index=True) if tables else pd.DataFrame()
    return DataBias(
        table.reindex(columns=[*COLUMNS[:4], *OWN_COLUMN.get(outcome.kind, []), *COLUMNS[4:]]),
        readings(outcome.kind),
        target,
        outcome.kind,
        outcome.positive_label,
        outcome.scale,
        min_group_size,
        notes,
    )
