"""The explain stage's Responsible-AI assessment of a subject: SHAP attributions, waterfall
rows, PDP/ICE and interactions, fairness groups and gates, proxies and error cohorts, with
what was sampled stated in words.

`analyse` computes everything the explain report shows and logs, in one `Analysis`; the
subject (model and rows) comes from `explanation.load_subject`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from mlworkbench.analysis import screening
from mlworkbench.analysis.explain import cohorts, dependence, fairness, proxies, shapley
from mlworkbench.analysis.explain.diagnostics import Diagnostics, Inputs, diagnose
from mlworkbench.analysis.explain.explanation import (
    ExplainSettings,
    Subject,
    predictions,
    sample,
)
from mlworkbench.exceptions import DataError


@dataclass
class LocalExplanation:
    """Rows picked for waterfall charts, why, and their attributions."""

    reasons: list[str]
    attributions: shapley.Attributions
    outputs: list[int]


@dataclass
class Analysis:
    """Everything the explain report shows and logs."""

    subject: Subject
    settings: ExplainSettings
    sensitive_features: list[str]
    scores: np.ndarray
    predicted: np.ndarray
    attributions: shapley.Attributions
    local: LocalExplanation
    top: list[str]
    pdp: list[dependence.DependencePlot]
    interactions: pd.DataFrame
    interaction: dependence.DependencePlot | None
    groups: dict[str, pd.DataFrame]
    gates: list[dict[str, Any]]
    disparities: pd.DataFrame
    cohorts: pd.DataFrame
    sampling: list[str]
    proxies: pd.DataFrame
    diagnostics: Diagnostics

    def dependence_plots(self) -> list[dependence.DependencePlot]:
        """The PDP/ICE plots of the top features, then the interaction plot if there is one."""
        return self.pdp + ([self.interaction] if self.interaction else [])


def pick_local_rows(
    subject: Subject, scores: np.ndarray, predicted: np.ndarray, requested: list[Any]
) -> tuple[list[Any], list[str], list[int]]:
    """Rows for waterfall charts: those requested by id, then the highest and lowest score
    and the most confident mistake. Returns row ids, the reason for each and the output
    (class) to show."""
    missing = [r for r in requested if r not in subject.rows.index]
    if missing:
        raise DataError(
            f"local_rows {missing} are not among the explained rows ({subject.description}); "
            "row ids are the 0-based row numbers of the source data."
        )
    index = subject.rows.index
    ids, reasons, outputs = [], [], []

    def add(row_id: Any, reason: str, output: int) -> None:
        ids.append(row_id)
        reasons.append(reason)
        outputs.append(output)

    # the output to show: the predicted class for multiclass; binary and regression have one
    chosen = predicted.astype(int) if subject.kind == "multiclass" else np.zeros(len(index), int)
    for row_id in requested:
        add(row_id, f"row {row_id} (requested)", chosen[index.get_loc(row_id)])
    if subject.kind == "regression":
        error = np.abs(scores - subject.y)
        add(index[scores.argmax()], "highest prediction", 0)
        add(index[scores.argmin()], "lowest prediction", 0)
        add(index[error.argmax()], "largest error", 0)
        return ids, reasons, outputs
    positive = scores[:, 1] if subject.kind == "binary" else scores.max(axis=1)
    label = "highest score" if subject.kind == "binary" else "most confident prediction"
    add(index[positive.argmax()], label, chosen[positive.argmax()])
    if subject.kind == "binary":
        add(index[positive.argmin()], "lowest score", 0)
    wrong = np.flatnonzero(predicted != subject.y)
    if len(wrong):
        worst = wrong[scores[wrong, predicted[wrong].astype(int)].argmax()]
        add(index[worst], "most confident mistake", chosen[worst])
    return ids, reasons, outputs


def _score_function(pipeline: Any, kind: str) -> Any:
    """The pipeline's prediction function: values for regression, else probabilities."""
    return pipeline.predict if kind == "regression" else pipeline.predict_proba


def _local(
    subject: Subject,
    scores: np.ndarray,
    predicted: np.ndarray,
    settings: ExplainSettings,
    background: pd.DataFrame,
) -> LocalExplanation:
    """The waterfall rows (see `pick_local_rows`) with their SHAP attributions."""
    ids, reasons, outputs = pick_local_rows(subject, scores, predicted, settings.local_rows)
    attributions = shapley.compute(
        subject.pipeline, subject.rows.loc[ids], subject.kind, subject.classes, background
    )
    return LocalExplanation(reasons, attributions, outputs)


def _dependence(
    model: Any, view: pd.DataFrame, top: list[str], kind: str, classes: Any, settings: Any
) -> tuple[pd.DataFrame, list[dependence.DependencePlot], pd.DataFrame, Any]:
    """PDP/ICE of the top features and the strongest interaction, on rows as the model sees
    them: the rows averaged over, the plots, the interaction table and its plot."""
    pdp_rows = sample(view, settings.pdp_rows, settings.seed + 2)
    plots = [
        dependence.pdp_ice(
            model, pdp_rows, feature, kind, classes, settings.grid_points, settings.ice_lines
        )
        for feature in top
    ]
    interactions, interaction = pd.DataFrame(), None
    if len(top) >= 2:
        pair, interactions = dependence.strongest_pair(
            _score_function(model, kind), sample(pdp_rows, 200, settings.seed), top
        )
        interaction = dependence.interaction_plot(
            model, pdp_rows, pair, kind, classes, settings.grid_points
        )
    return pdp_rows, plots, interactions, interaction


def _group_tables(
    subject: Subject,
    groups: pd.DataFrame,
    scores: np.ndarray,
    predicted: np.ndarray,
    settings: ExplainSettings,
) -> dict[str, pd.DataFrame]:
    """One fairness table per sensitive feature (and their intersection), by raw column."""
    positive = scores[:, 1] if subject.kind == "binary" else None
    return {
        name: fairness.group_table(
            subject.y, predicted, positive, groups[name], subject.kind, settings.min_group_size
        )
        for name in groups.columns
    }


def _sampling(
    subject: Subject, settings: ExplainSettings, sizes: tuple[int, int, int], explainer: str
) -> list[str]:
    """What was sampled, in words (`sizes`: explained, background and PDP rows)."""
    explained, background, pdp_rows = sizes
    shap_rows = (
        f"SHAP values for all {explained:,} rows"
        if explained == len(subject.rows)
        else f"SHAP values for a random sample of {explained:,} of "
        f"{len(subject.rows):,} rows (explain_rows={settings.explain_rows})"
    )
    shap_rows += f", with the {explainer} explainer" + (
        f" and a background of {background:,} rows." if explainer != "tree" else "."
    )
    return [
        f"Explained: {subject.description}.",
        shap_rows,
        f"PDP/ICE averaged over {pdp_rows:,} rows (pdp_rows={settings.pdp_rows}) with "
        f"{settings.grid_points} grid points; {min(settings.ice_lines, pdp_rows)} ICE "
        "lines drawn.",
        f"Fairness and error cohorts on all {len(subject.rows):,} rows.",
    ]


def analyse(subject: Subject, sensitive_features: list[str], settings: ExplainSettings) -> Analysis:
    """SHAP, PDP/ICE, fairness, proxies and error cohorts of `subject`, with sampling stated.

    Dependence plots, cohorts and proxies use the rows as the model sees them (after the
    pipeline's column screening); fairness groups use the raw sensitive columns.
    """
    scores, predicted = predictions(subject)
    explained = sample(subject.rows, settings.explain_rows, settings.seed)
    background = sample(subject.rows, settings.background_rows, settings.seed + 1)
    attributions = shapley.compute(
        subject.pipeline, explained, subject.kind, subject.classes, background
    )
    local = _local(subject, scores, predicted, settings, background)
    top = list(attributions.importance().index[: settings.top_features])
    model, view = screening.model_view(subject.pipeline, subject.rows)
    pdp_rows, plots, interactions, interaction = _dependence(
        model, view, top, subject.kind, subject.classes, settings
    )
    present = [f for f in sensitive_features if f in subject.rows.columns]
    groups = fairness.sensitive_groups(subject.rows, present, settings.continuous_bins)
    tables = _group_tables(subject, groups, scores, predicted, settings)
    sensitive = subject.rows[[f for f in present if f not in view.columns]]
    features = pd.concat([view, sensitive], axis=1)
    cohort_table = cohorts.error_cohorts(
        features,
        subject.y,
        predicted,
        subject.kind,
        settings.cohort_bins,
        settings.min_group_size,
    )
    sizes = (len(explained), len(background), len(pdp_rows))
    local_ids = list(local.attributions.rows.index)
    inputs = Inputs(scores, predicted, local_ids, local.reasons, features, groups, present)
    return Analysis(
        subject,
        settings,
        present,
        scores,
        predicted,
        attributions,
        local,
        top,
        plots,
        interactions,
        interaction,
        tables,
        fairness.evaluate_gates(tables, subject.kind, settings.fairness_thresholds),
        fairness.disparities(tables, subject.kind),
        cohort_table,
        _sampling(subject, settings, sizes, attributions.explainer),
        proxies.proxy_table(view, subject.rows[present], settings.proxy_threshold),
        diagnose(subject, inputs, settings),
    )
