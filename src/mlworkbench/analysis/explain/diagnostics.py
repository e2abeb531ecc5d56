"""The explain stage's diagnostics beyond attributions and fairness gates: counterfactuals for
the rows explained one by one, the error-analysis tree, calibration overall and per group,
and conformal prediction sets or intervals.

`diagnose` computes all four for an explain subject, on the rows and groups the rest of the
analysis uses; each part says in words when it could not be computed.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from mlworkbench.analysis.explain import calibration, counterfactuals, error_tree, uncertainty
from mlworkbench.analysis.explain.explanation import ExplainSettings, Subject
from mlworkbench.exceptions import DataError


@dataclass
class Diagnostics:
    """Counterfactuals, the error tree, calibration and conformal uncertainty of a subject."""

    counterfactuals: counterfactuals.CounterfactualResult
    error_tree: error_tree.ErrorTree
    calibration: calibration.Calibration
    uncertainty: uncertainty.Uncertainty

    def metrics(self) -> dict[str, float]:
        """The MLflow metrics of all four parts."""
        return {
            **self.counterfactuals.metrics(),
            **tree_metrics(self.error_tree),
            **self.calibration.metrics(),
            **self.uncertainty.metrics(),
        }


def tree_metrics(tree: error_tree.ErrorTree) -> dict[str, float]:
    """The error tree's leaves and its worst leaf as metrics `error_tree.*`."""
    worst = tree.leaves.iloc[0]
    metrics = {
        "error_tree.leaves": len(tree.leaves),
        "error_tree.worst_error_rate": worst["error_rate"],
        "error_tree.worst_rows": worst["rows"],
        "error_tree.worst_times_overall": worst["times_overall"],
    }
    return {name: float(value) for name, value in metrics.items() if np.isfinite(value)}


def check_immutable(subject: Subject, immutable: list[str]) -> None:
    """Refuse `immutable_features` that are not columns of the explained rows."""
    unknown = [f for f in immutable if f not in subject.rows.columns]
    if unknown:
        raise DataError(
            f"immutable_features {unknown} are not columns of the data. "
            f"Columns: {', '.join(map(str, subject.rows.columns))}."
        )


@dataclass
class Inputs:
    """What the diagnostics need from the rest of the analysis."""

    scores: np.ndarray
    predicted: np.ndarray
    local_ids: list[Any]
    local_reasons: list[str]
    features: pd.DataFrame  # the rows as the model sees them, with the sensitive columns
    groups: pd.DataFrame  # group labels per sensitive feature (and their intersection)
    sensitive: list[str]


def diagnose(subject: Subject, inputs: Inputs, settings: ExplainSettings) -> Diagnostics:
    """All four diagnostics of `subject` with the explain stage's `settings`."""
    check_immutable(subject, settings.immutable_features)
    frozen = list(dict.fromkeys([*inputs.sensitive, *settings.immutable_features]))
    found = counterfactuals.explain(
        subject,
        inputs.local_ids,
        inputs.local_reasons,
        frozen,
        seconds=settings.counterfactual_seconds,
        change=settings.counterfactual_change,
        seed=settings.seed,
    )
    wrong = error_tree.wrong_predictions(subject.kind, subject.y, inputs.predicted)
    tree = error_tree.fit_error_tree(
        inputs.features, wrong, settings.min_group_size, settings.error_tree_depth, settings.seed
    )
    calibrated = calibration.calibration(
        subject.kind,
        subject.y,
        inputs.scores,
        inputs.groups,
        settings.min_group_size,
        settings.calibration_bins,
    )
    sets = uncertainty.conformal(
        subject.pipeline,
        subject.kind,
        subject.classes,
        subject.train_rows,
        subject.train_y,
        subject.rows,
        subject.y,
        inputs.groups,
        level=settings.conformal_level,
        min_group_size=settings.min_group_size,
        seed=settings.seed,
    )
    return Diagnostics(found, tree, calibrated, sets)
