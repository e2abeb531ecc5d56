"""Conformal uncertainty: prediction intervals (regression) and prediction sets
(classification) that hold the true value for a chosen share of rows, overall and per group.

The logged model has seen every training row, so calibrating it on them would overstate
coverage. Instead a copy of the pipeline (`sklearn.base.clone`) is refit on part of the
training rows and calibrated with MAPIE's split-conformal method on the rest
(`calibration_share`, stratified for classification, seeded), then measured on the test rows.
Classification uses the LAC score (a class is in the set when its probability is high
enough), regression the absolute residual (every interval has the same width).
"""

from __future__ import annotations

import math
import time
import warnings
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from mlworkbench.exceptions import ConfigError, DataError
from mlworkbench.tracking.store import safe_name

# Deferred imports: scikit-learn and MAPIE load inside the functions that use them,
# so that importing this module (the explain stage's settings checks) stays fast.

GROUP_SHORTFALL = 0.05
"""A group is named when its coverage is this far below the level or more (at most
`GROUP_NOTES` groups, the worst first)."""
GROUP_NOTES = 5

FEWER_LABELS = "WARNING: your conformalization dataset has less labels"
"""MAPIE's one expected, harmless warning, silenced: a rare class missed the calibration split."""


@dataclass
class Uncertainty:
    """Conformal prediction sets or intervals measured on the test rows.

    `status`: "computed", "off" (level 0) or "not computed" (`reason` says why). `size`: the
    mean interval width or number of classes per set. `table`: per group of each sensitive
    feature, its rows, coverage, size (`mean_width` or `mean_set_size`) and too_small.
    """

    level: float
    kind: str
    status: str
    reason: str = ""
    rows: int = 0
    coverage: float = math.nan
    size: float = math.nan
    empty_share: float = math.nan
    multi_share: float = math.nan
    table: pd.DataFrame = field(default_factory=pd.DataFrame)
    method: str = ""
    seconds: float = 0.0

    @property
    def computed(self) -> bool:
        """Whether sets or intervals were computed."""
        return self.status == "computed"

    @property
    def size_column(self) -> str:
        """The name of the size measure: mean_width or mean_set_size."""
        return "mean_width" if self.kind == "regression" else "mean_set_size"

    def sentences(self) -> list[str]:
        """The section's summary in plain words (see `summary_sentences`)."""
        return summary_sentences(self)

    def metrics(self) -> dict[str, float]:
        """Metrics to log (see `conformal_metrics`)."""
        return conformal_metrics(self)


def check_level(level: float, calibration_share: float) -> None:
    """Refuse a level outside [0, 1) and a calibration share outside (0, 1)."""
    problems = []
    if not 0 <= level < 1:
        problems.append(f"The conformal level must be 0 (off) or between 0 and 1, got {level}.")
    if not 0 < calibration_share < 1:
        problems.append(f"calibration_share must be between 0 and 1, got {calibration_share}.")
    if problems:
        raise ConfigError(problems)


def calibration_split(
    train_rows: pd.DataFrame, train_y: np.ndarray, kind: str, share: float, seed: int
) -> tuple[pd.DataFrame, pd.DataFrame, np.ndarray, np.ndarray]:
    """Training rows split into rows to refit on and rows to calibrate on (stratified by class
    for classification): fit rows, calibration rows, fit labels, calibration labels."""
    from sklearn.model_selection import train_test_split

    stratify = None if kind == "regression" else train_y
    fit_rows, cal_rows, fit_y, cal_y = train_test_split(
        train_rows, train_y, test_size=share, stratify=stratify, random_state=seed
    )
    return fit_rows, cal_rows, np.asarray(fit_y), np.asarray(cal_y)


def unusable(
    train_rows: pd.DataFrame | None,
    train_y: np.ndarray | None,
    kind: str,
    classes: list[Any] | None,
    level: float,
    share: float,
) -> str:
    """Why the training rows cannot be split to calibrate at `level` with a `share` of them
    ('' when they can): unknown rows, fewer than 2 / (1 - level) calibration rows, or a class
    with fewer than two rows."""
    if train_rows is None or train_y is None:
        return (
            "the model's training rows are not known, so no copy of the model can be refit "
            "and calibrated on rows the model has not seen"
        )
    needed, calibration = math.ceil(round(2 / (1 - level), 6)), math.ceil(share * len(train_y))
    if calibration < needed:
        return (
            f"the calibration split would hold {calibration:,} of the {len(train_y):,} training "
            f"rows; a {level:.0%} level needs at least {needed:,}"
        )
    if kind == "regression":
        return ""
    counts = np.bincount(np.asarray(train_y, dtype=int), minlength=len(classes or []))
    thin = [str(c) for c, n in zip(classes or range(len(counts)), counts, strict=False) if n < 2]
    return f"class {', '.join(thin)} has fewer than two training rows" if thin else ""


def conformalize(pipeline: Any, kind: str, parts: tuple[Any, ...], level: float, seed: int) -> Any:
    """A clone of `pipeline` refit on the fit part and conformalized on the calibration part
    (`parts` as `calibration_split` returns them), as a MAPIE split-conformal estimator."""
    from mapie.classification import SplitConformalClassifier
    from mapie.regression import SplitConformalRegressor
    from sklearn.base import clone

    fit_rows, cal_rows, fit_y, cal_y = parts
    model = clone(pipeline).fit(fit_rows, fit_y)
    if kind == "regression":
        estimator = SplitConformalRegressor(
            model, confidence_level=level, conformity_score="absolute", prefit=True
        )
    else:
        estimator = SplitConformalClassifier(
            model, confidence_level=level, conformity_score="lac", prefit=True, random_state=seed
        )
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=FEWER_LABELS, category=UserWarning)
        return estimator.conformalize(cal_rows, cal_y)


def measure(
    estimator: Any, kind: str, rows: pd.DataFrame, y: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Per row of `rows`: whether its set or interval holds the true value `y`, and the
    interval's width or the set's number of classes."""
    if kind == "regression":
        bounds, y = estimator.predict_interval(rows)[1][:, :, 0], np.asarray(y, dtype=float)
        return (bounds[:, 0] <= y) & (y <= bounds[:, 1]), bounds[:, 1] - bounds[:, 0]
    sets, y = estimator.predict_set(rows)[1][:, :, 0], np.asarray(y, dtype=int)
    return sets[np.arange(len(y)), y], sets.sum(axis=1).astype(float)


def group_coverage(
    covered: np.ndarray,
    sizes: np.ndarray,
    groups: pd.DataFrame,
    size_column: str,
    min_group_size: int = 30,
) -> pd.DataFrame:
    """Coverage and mean size per group of each column of `groups` (labels per row, in the
    order of `covered`): feature, group, rows, coverage, `size_column`, too_small."""
    columns = ["feature", "group", "rows", "coverage", size_column, "too_small"]
    parts = []
    for feature in groups.columns:
        rows = pd.DataFrame(
            {"group": groups[feature].astype(str).to_numpy(), "covered": covered, "size": sizes}
        )
        part = rows.groupby("group").agg(
            rows=("covered", "size"), coverage=("covered", "mean"), size=("size", "mean")
        )
        parts.append(part.reset_index().assign(feature=feature))
    if not parts:
        return pd.DataFrame(columns=columns)
    table = pd.concat(parts, ignore_index=True).rename(columns={"size": size_column})
    table["too_small"] = table["rows"] < min_group_size
    return table[columns]


def _method(kind: str, share: float, fit_rows: int, calibration_rows: int) -> str:
    """How the sets or intervals were made, in one sentence."""
    what = "Intervals" if kind == "regression" else "Prediction sets"
    return (
        f"{what} from a copy of the model refit on {1 - share:.0%} of the training rows "
        f"({fit_rows:,}) and calibrated on the other {share:.0%} ({calibration_rows:,}); the "
        "logged model has seen every training row, so calibrating it on them would overstate "
        "coverage."
    )


def conformal(
    pipeline: Any,
    kind: str,
    classes: list[Any] | None,
    train_rows: pd.DataFrame | None,
    train_y: np.ndarray | None,
    test_rows: pd.DataFrame,
    test_y: np.ndarray,
    groups: pd.DataFrame,
    level: float = 0.9,
    calibration_share: float = 0.25,
    min_group_size: int = 30,
    seed: int = 42,
) -> Uncertainty:
    """Conformal sets (classification) or intervals (regression) at `level` from a clone of
    `pipeline` (raw rows in, encoded labels out) refit on the training rows less a
    `calibration_share` split that calibrates it, measured on the test rows overall and per
    group of `groups` (`fairness.sensitive_groups` of the test rows). Level 0 switches it off;
    unknown or too few training rows leave it not computed, with the reason.

    Raises:
        ConfigError: a level outside [0, 1) or a calibration share outside (0, 1).
        DataError: training rows and labels, or test rows and groups, of different lengths.
    """
    start = time.perf_counter()
    check_level(level, calibration_share)
    if level == 0:
        return Uncertainty(level, kind, "off")
    lengths = [len(train_rows if train_rows is not None else [])]
    lengths += [len(train_y if train_y is not None else []), len(test_rows), len(test_y)]
    if lengths[0] != lengths[1] or len({lengths[2], lengths[3], len(groups)}) > 1:
        raise DataError(
            "Rows and labels differ in length: {:,} training rows, {:,} training labels, {:,} "
            "test rows, {:,} test labels, {:,} group labels.".format(*lengths, len(groups))
        )
    reason = unusable(train_rows, train_y, kind, classes, level, calibration_share)
    if reason or len(test_rows) == 0:
        return Uncertainty(level, kind, "not computed", reason or "there are no test rows")
    parts = calibration_split(train_rows, train_y, kind, calibration_share, seed)
    if kind != "regression" and len(np.unique(parts[2])) < len(np.unique(train_y)):
        reason = "a class is missing from the rows left to refit on after the calibration split"
        return Uncertainty(level, kind, "not computed", reason)
    estimator = conformalize(pipeline, kind, parts, level, seed)
    covered, sizes = measure(estimator, kind, test_rows, test_y)
    result = Uncertainty(level, kind, "computed", rows=len(test_rows))
    result.coverage, result.size = float(covered.mean()), float(sizes.mean())
    if kind != "regression":
        result.empty_share = float(np.mean(sizes == 0))
        result.multi_share = float(np.mean(sizes > 1))
    result.table = group_coverage(covered, sizes, groups, result.size_column, min_group_size)
    result.method = _method(kind, calibration_share, len(parts[0]), len(parts[1]))
    result.seconds = time.perf_counter() - start
    return result


def _percent(share: float) -> str:
    """A share in words: one decimal below 1% so that a few rows do not read as none."""
    return f"{share:.1%}" if 0 < share < 0.01 else f"{share:.0%}"


def _number(value: float) -> str:
    """A value in the target's units, readable at any scale (45,231, 182, 0.348)."""
    return f"{value:,.0f}" if abs(value) >= 100 else f"{value:.3g}"


def judgement(result: Uncertainty) -> str:
    """Coverage against the level: "below", "in line" or "above", allowing for the chance
    variation of the number of test rows (two standard errors, at least 2 points)."""
    level = result.level
    tolerance = max(0.02, 2 * math.sqrt(level * (1 - level) / max(result.rows, 1)))
    if result.coverage < level - tolerance:
        return "below"
    return "above" if result.coverage > level + tolerance else "in line"


def short_groups(result: Uncertainty) -> pd.DataFrame:
    """Groups with enough rows, coverage over `GROUP_SHORTFALL` below the level; worst first."""
    table = result.table
    short = table[~table["too_small"] & (table["coverage"] < result.level - GROUP_SHORTFALL)]
    return short.sort_values("coverage")


def _verdict(result: Uncertainty) -> str:
    """Coverage against the level in words."""
    aimed = f"the {result.level:.0%} aimed for"
    return {
        "below": f"below {aimed}: the ranges are too narrow for these rows",
        "above": f"above {aimed}: the ranges err on the safe side",
        "in line": f"in line with {aimed}",
    }[judgement(result)]


def _headline(result: Uncertainty) -> str:
    """The overall coverage and size in one sentence."""
    level, coverage = f"{result.level:.0%}", f"{result.coverage:.1%}"
    opening = f"Across the {result.rows:,} test rows, the {level} prediction"
    verdict = _verdict(result)
    if result.kind == "regression":
        return (
            f"{opening} intervals contained the true value for {coverage} of rows "
            f"({verdict}); an interval is the prediction ± {_number(result.size / 2)} "
            f"({_number(result.size)} wide) on average."
        )
    return (
        f"{opening} sets contained the true class for {coverage} of rows ({verdict}); sets "
        f"hold {result.size:.2f} classes on average."
    )


def _set_notes(result: Uncertainty) -> list[str]:
    """What the multi-class and empty sets mean, when there are any."""
    notes = []
    if result.multi_share > 0:
        both = "both classes" if result.kind == "binary" else "more than one class"
        notes.append(
            f"{_percent(result.multi_share)} of rows get {both}: the model cannot tell them apart."
        )
    if result.empty_share > 0:
        notes.append(
            f"{_percent(result.empty_share)} of rows get an empty set: no class is likely "
            f"enough at {result.level:.0%} (they count as misses)."
        )
    return notes


def _group_notes(result: Uncertainty) -> list[str]:
    """The worst `GROUP_NOTES` of the `short_groups`, in words."""
    short = short_groups(result)
    notes = [
        f"For {row.feature} = {row.group} ({row.rows:,} rows) coverage is only "
        f"{row.coverage:.1%}, more than {GROUP_SHORTFALL * 100:.0f} points below the "
        f"{result.level:.0%} aimed for: its ranges understate the uncertainty."
        for row in short.head(GROUP_NOTES).itertuples()
    ]
    if len(short) > GROUP_NOTES:
        notes.append(f"{len(short) - GROUP_NOTES} more groups fall short too (see the table).")
    return notes


def summary_sentences(result: Uncertainty) -> list[str]:
    """The section's summary: coverage against the level, size, what multi-class and empty
    sets mean, the groups left short, and how the ranges were made; or why there are none."""
    if result.status == "off":
        return ["Conformal prediction is switched off (level 0)."]
    if not result.computed:
        return [f"Conformal prediction was not computed: {result.reason}."]
    sentences = [_headline(result)]
    if result.kind != "regression":
        sentences += _set_notes(result)
    return sentences + _group_notes(result) + [result.method]


def conformal_metrics(result: Uncertainty) -> dict[str, float]:
    """MLflow metrics: `conformal.level`; when computed also `conformal.coverage`,
    `conformal.mean_width` or `conformal.mean_set_size` (with `conformal.empty_share` and
    `conformal.multi_share`), and `conformal.<feature>.<group>.coverage` and its size."""
    metrics = {"conformal.level": result.level}
    if not result.computed:
        return metrics
    size = result.size_column
    metrics |= {"conformal.coverage": result.coverage, f"conformal.{size}": result.size}
    if result.kind != "regression":
        metrics |= {"conformal.empty_share": result.empty_share}
        metrics |= {"conformal.multi_share": result.multi_share}
    for row in result.table.itertuples():
        prefix = f"conformal.{safe_name(str(row.feature))}.{safe_name(str(row.group))}"
        metrics[f"{prefix}.coverage"] = float(row.coverage)
        metrics[f"{prefix}.{size}"] = float(getattr(row, size))
    return metrics
