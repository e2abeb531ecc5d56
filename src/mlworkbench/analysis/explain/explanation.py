"""The explain stage's computation: which model and rows are explained, and the whole
Responsible-AI analysis of them (SHAP, PDP/ICE, fairness, error cohorts) with its summary.

The model and its test rows come from a training run: the train stage records the row ids of
its test set and a digest of the data, so the explain stage picks exactly those rows from the
same data. A model given by URI (`models:/<name>@<alias>`, `models:/<name>/<version>`,
`runs:/<id>/model`) is explained on its training run's test rows when the data match, or
else on every row of the data given, and the report says which.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from mlworkbench.analysis import screening
from mlworkbench.analysis.explain import cohorts, dependence, fairness, proxies, shapley
from mlworkbench.analysis.train_stage import TEST_ROWS_ARTIFACT
from mlworkbench.exceptions import DataError, ExplainInputError
from mlworkbench.tracking.store import artifact_dict


@dataclass(frozen=True)
class ExplainSettings:
    """The explain stage's parameters (see notebooks/03-explain.ipynb)."""

    explain_rows: int = 2000
    background_rows: int = 200
    top_features: int = 4
    local_rows: list[Any] = field(default_factory=list)
    pdp_rows: int = 1000
    ice_lines: int = 100
    grid_points: int = 10
    continuous_bins: int = 4
    min_group_size: int = 30
    fairness_thresholds: dict[str, float] = field(
        default_factory=lambda: dict(fairness.DEFAULT_THRESHOLDS)
    )
    cohort_bins: int = 5
    proxy_threshold: float = proxies.THRESHOLD
    seed: int = 42


def check_settings(values: dict[str, Any]) -> list[str]:
    """Problems with an explain stage's settings beyond their types."""
    problems = fairness.check_thresholds(values.get("fairness_thresholds", {}))
    for name in ("explain_rows", "background_rows", "pdp_rows", "ice_lines", "min_group_size"):
        if isinstance(values.get(name), int) and values[name] < 0:
            problems.append(f"'{name}' must be 0 or more, got {values[name]}.")
    for name in ("grid_points", "continuous_bins", "cohort_bins", "top_features"):
        if isinstance(values.get(name), int) and values[name] < 2 - (name == "top_features"):
            problems.append(f"'{name}' is too small: {values[name]}.")
    return problems


@dataclass
class Subject:
    """A fitted model and the labelled rows it is explained on."""

    pipeline: Any
    classes: list[Any] | None
    threshold: float | None
    kind: str
    rows: pd.DataFrame
    y: np.ndarray
    model_uri: str
    train_run_id: str
    description: str


def latest_training_run(experiment: str) -> str:
    """The newest finished train-stage run of `experiment`."""
    import mlflow

    from mlworkbench.tracking.store import latest_stage_run

    run_id = latest_stage_run(mlflow.MlflowClient(), experiment, "train")
    if not run_id:
        raise ExplainInputError(
            f"Experiment '{experiment}' has no finished training run to explain: run the train "
            "stage first (mlwb run CONFIG --stage train) or set model_uri."
        )
    return run_id


def load_workbench_model(model_uri: str) -> tuple[Any, str]:
    """The workbench model behind `model_uri` (pipeline, classes, threshold) and its run id."""
    import mlflow

    try:
        loaded = mlflow.pyfunc.load_model(model_uri)
    except Exception as exc:
        raise ExplainInputError(f"Cannot load model '{model_uri}': {exc}") from exc
    inner = loaded.unwrap_python_model() if hasattr(loaded, "unwrap_python_model") else None
    if not hasattr(inner, "pipeline"):
        raise ExplainInputError(
            f"'{model_uri}' is not a model logged by mlworkbench's train stage."
        )
    return inner, loaded.metadata.run_id


def load_subject(
    frame: pd.DataFrame,
    target: str,
    task: str,
    train_run_id: str = "",
    model_uri: str = "",
    experiment: str = "",
) -> Subject:
    """The model to explain and its labelled rows.

    The model is `model_uri` when given, else that of `train_run_id`, else that of the
    newest training run of `experiment`. Rows: the training run's test rows when the run
    recorded them for these data, else all rows of `frame`.

    Raises:
        ExplainInputError: no model, or one the workbench did not log.
        DataError: the training run's data differ from `frame`.
    """
    from mlworkbench.analysis import evaluation, training
    from mlworkbench.analysis.data import dataset_digest

    if not model_uri:
        train_run_id = train_run_id or latest_training_run(experiment)
        model_uri = f"runs:/{train_run_id}/model"
    model, model_run = load_workbench_model(model_uri)
    train_run_id = train_run_id or model_run or ""
    record = artifact_dict(train_run_id, TEST_ROWS_ARTIFACT) if train_run_id else None
    if record is not None and record["data_digest"] != dataset_digest(frame):
        raise DataError(
            f"The data differ from those of training run {train_run_id} (digest "
            f"{record['data_digest']}, now {dataset_digest(frame)}), so its test rows cannot be "
            "found. Explain with the data the model was trained on, or give a model_uri."
        )
    if record is not None:
        rows = frame.loc[record["row_ids"]]
        description = f"the {len(rows):,} test rows of training run {train_run_id[:8]}"
    else:
        rows = frame
        description = (
            f"all {len(rows):,} rows of the data given (the model's training run recorded no "
            "test rows, so these may include rows it was trained on)"
        )
    y, _ = training.encode_target(rows[target], task, model.classes)
    kind = evaluation.problem_kind(task, len(model.classes or []))
    return Subject(
        model.pipeline,
        model.classes,
        model.threshold,
        kind,
        rows.drop(columns=[target]),
        y,
        model_uri,
        train_run_id,
        description,
    )


# --- the analysis -----------------------------------------------------------------------------


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


def predictions(subject: Subject) -> tuple[np.ndarray, np.ndarray]:
    """Scores ((rows, classes) probabilities, or values) and predicted encoded labels, with
    the training run's decision threshold for binary models."""
    if subject.kind == "regression":
        values = subject.pipeline.predict(subject.rows)
        return values, values
    proba = subject.pipeline.predict_proba(subject.rows)
    if subject.kind == "binary" and subject.threshold is not None:
        return proba, (proba[:, 1] >= subject.threshold).astype(int)
    return proba, proba.argmax(axis=1)


def sample(rows: pd.DataFrame, count: int, seed: int) -> pd.DataFrame:
    """`count` random rows (all when `count` is 0 or covers them), in their original order."""
    if count <= 0 or count >= len(rows):
        return rows
    return rows.sample(n=count, random_state=seed).sort_index()


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


def local_title(analysis: Analysis, position: int) -> str:
    """Title of a waterfall chart: the row id, why it was chosen and, for multiclass, the
    class explained."""
    local = analysis.local
    title = f"Row {local.attributions.rows.index[position]}: {local.reasons[position]}"
    if analysis.subject.kind == "multiclass":
        title += f" (class {local.attributions.outputs[local.outputs[position]]})"
    return title


def _score_function(pipeline: Any, kind: str) -> Any:
    return pipeline.predict if kind == "regression" else pipeline.predict_proba


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
    ids, reasons, outputs = pick_local_rows(subject, scores, predicted, settings.local_rows)
    local_rows = subject.rows.loc[ids]
    local = LocalExplanation(
        reasons,
        shapley.compute(subject.pipeline, local_rows, subject.kind, subject.classes, background),
        outputs,
    )
    top = list(attributions.importance().index[: settings.top_features])
    model, view = screening.model_view(subject.pipeline, subject.rows)
    pdp_rows, plots, interactions, interaction = _dependence(
        model, view, top, subject.kind, subject.classes, settings
    )
    present = [f for f in sensitive_features if f in subject.rows.columns]
    groups = fairness.sensitive_groups(subject.rows, present, settings.continuous_bins)
    positive = scores[:, 1] if subject.kind == "binary" else None
    tables = {
        name: fairness.group_table(
            subject.y, predicted, positive, groups[name], subject.kind, settings.min_group_size
        )
        for name in groups.columns
    }
    sensitive = subject.rows[[f for f in present if f not in view.columns]]
    cohort_table = cohorts.error_cohorts(
        pd.concat([view, sensitive], axis=1),
        subject.y,
        predicted,
        subject.kind,
        settings.cohort_bins,
        settings.min_group_size,
    )
    sizes = (len(explained), len(background), len(pdp_rows))
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
    )


def output_phrase(analysis: Analysis) -> str:
    """What the explained output is, in words."""
    subject = analysis.subject
    if subject.kind == "binary":
        return f"the predicted chance of '{subject.classes[1]}'"
    if subject.kind == "multiclass":
        return "the predicted class"
    return "the prediction"


def summary_sentences(analysis: Analysis) -> list[str]:
    """The report's summary for domain experts, generated from the numbers."""
    attributions = analysis.attributions
    sentences = [
        f"Predictions are driven most by {', '.join(analysis.top[:3])} "
        f"(average effect on {output_phrase(analysis)}, by SHAP)."
    ]
    if analysis.subject.kind != "multiclass":
        words = shapley.directions(attributions)
        sentences += [f"{feature}: {words[feature]}." for feature in analysis.top[:3]]
    if analysis.gates:
        counts = fairness.gate_counts(analysis.gates)
        sentences.append(
            f"Fairness: {counts['fairness_gates_passed']} of {len(analysis.gates)} gates pass, "
            f"{counts['fairness_gates_failed']} fail (limits from the config)."
        )
        sentences += fairness.feature_sentences(analysis.gates, analysis.groups)
    elif analysis.sensitive_features:
        sentences.append("Fairness: no gate applies to this kind of model.")
    else:
        sentences.append("Fairness: the config names no sensitive features, so none was judged.")
    sentences.append(cohorts.worst_sentence(analysis.cohorts, analysis.subject.kind))
    return sentences + analysis.sampling
