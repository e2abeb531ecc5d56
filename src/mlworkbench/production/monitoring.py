"""Monitoring one batch: data drift, prediction drift and, with labels, performance drift
against what the model's training run recorded, with one status: OK, WARN or ALERT.

Personal columns (`scoring.personal_columns`: the training run's record, the privacy check on
the batch, pseudonymised columns) and the id column are named but never compared, so no table,
sentence, metric or artifact of a monitor run holds one of their values.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from mlworkbench.analysis import data, evaluation, training
from mlworkbench.analysis.explain import fairness
from mlworkbench.analysis.train_logging import TRAINING_STATISTICS_ARTIFACT
from mlworkbench.exceptions import ExplainInputError, ScoringInputError
from mlworkbench.production import drift, scoring
from mlworkbench.tracking import requirements
from mlworkbench.tracking.store import artifact_dict, tracking_uri
from mlworkbench.tracking.tags import TAG_MONITOR_STATUS, TAG_STAGE, TAG_SUMMARY, TAG_TRAIN_RUN

# Deferred imports: mlflow and production.jobs (which loads Papermill and the runner) load inside
# the functions that use them, so that importing this module in a notebook stays fast.

ALERT_EXIT_CODE = 4
"""Exit code of `mlwb monitor` for an ALERT (0 for OK and WARN)."""

PREDICTION_COLUMNS = ("prediction", "model_name", "model_version", "scored_at", scoring.ROW_KEY)

TRAINING_STATISTICS = TRAINING_STATISTICS_ARTIFACT
"""The train run's artifact of per-feature statistics of its training rows."""

PREDICTION_STATISTICS = "reference/prediction_statistics.json"
"""The train run's artifact of statistics of its predictions on the test rows."""


def prediction_frame(predictions: pd.DataFrame) -> pd.DataFrame:
    """What prediction drift compares: the positive-class score (binary), the predicted class
    (multiclass) or the predicted value (regression), from the model's prediction columns."""
    probabilities = [c for c in predictions.columns if c.startswith("probability_")]
    if len(probabilities) == 2:
        return pd.DataFrame({"score": predictions[probabilities[1]].astype(float)})
    if probabilities:
        return pd.DataFrame({"predicted_class": predictions["prediction"].astype(str)})
    return pd.DataFrame({"prediction": predictions["prediction"].astype(float)})


def prediction_reference(predictions: pd.DataFrame) -> dict[str, Any]:
    """Reference statistics of the test-set predictions, logged by the train stage."""
    return training.reference_statistics(prediction_frame(predictions), target="")


@dataclass
class MonitorSettings:
    """The monitor stage's thresholds (see notebooks/06-monitor.ipynb)."""

    thresholds: drift.Thresholds = field(default_factory=drift.Thresholds)
    metric_warn: float = 0.02
    metric_alert: float = 0.05


@dataclass
class MonitorResult:
    """Everything one monitoring run found."""

    status: str
    features: pd.DataFrame
    schema: list[dict[str, str]]
    predictions: pd.DataFrame
    performance: pd.DataFrame
    fairness_gaps: pd.DataFrame
    rows: int
    summary: list[str]
    personal: list[str] = field(default_factory=list)
    """The batch's personal columns, left out of every comparison (`drift.feature_table`)."""


def split_batch(batch: pd.DataFrame, labels: str, id_column: str = "") -> tuple:
    """The batch's feature columns (without its id column), its prediction columns (a scored
    batch keeps them), and its labels (or None)."""
    kept = [c for c in batch.columns if c.startswith("probability_") or c in PREDICTION_COLUMNS]
    dropped = [c for c in (labels, id_column) if c and c in batch.columns]
    features = batch.drop(columns=[*kept, *dropped])
    return (
        features,
        batch[kept] if "prediction" in kept else None,
        batch[labels] if labels else None,
    )


def performance_table(
    kind: str, y: np.ndarray, predictions: pd.DataFrame, trained: dict[str, float], threshold
) -> pd.DataFrame:
    """The training metrics again on the labelled batch, and their change."""
    if kind == "regression":
        now = evaluation.regression_metrics(y, predictions["prediction"].to_numpy(dtype=float))
    else:
        proba = predictions[[c for c in predictions if c.startswith("probability_")]].to_numpy()
        now = evaluation.classification_metrics(y, proba, threshold or 0.5)
    rows = [{"metric": k, "training": trained.get(k, np.nan), "batch": v} for k, v in now.items()]
    table = pd.DataFrame(rows)
    table["change"] = table["batch"] - table["training"]
    return table


def performance_status(table: pd.DataFrame, primary: str, settings: MonitorSettings) -> str:
    """WARN or ALERT when the primary metric got worse by the configured amounts."""
    if table.empty or primary not in set(table["metric"]):
        return "OK"
    change = float(table.set_index("metric").loc[primary, "change"])
    worse = change if primary in evaluation.LOWER_IS_BETTER else -change
    return (
        "ALERT"
        if worse >= settings.metric_alert
        else "WARN"
        if worse >= settings.metric_warn
        else "OK"
    )


def fairness_gaps(
    features: pd.DataFrame, y: np.ndarray, predicted: np.ndarray, kind: str, sensitive: list[str]
) -> pd.DataFrame:
    """The explain stage's gap measures recomputed on the labelled batch."""
    present = [f for f in sensitive if f in features.columns]
    if not present:
        return pd.DataFrame()
    groups = fairness.sensitive_groups(features, present)
    tables = {
        name: fairness.group_table(y, predicted, None, groups[name], kind)
        for name in groups.columns
    }
    return fairness.disparities(tables, kind)


def summary_sentences(result: MonitorResult, model: str) -> list[str]:
    """The plain-language verdict at the top of the report."""
    verdict = {
        "OK": "The model still sees data like its training data: fit for use.",
        "WARN": "Some inputs moved: the model is probably still fit for use; watch the "
        "features below.",
        "ALERT": "The inputs or the results moved a lot: check whether the model is still "
        "fit for use before relying on it.",
    }[result.status]
    sentences = [f"Status {result.status} for {model} on {result.rows:,} rows. {verdict}"]
    moved = result.features[result.features["status"] != "OK"] if not result.features.empty else []
    if len(moved):
        sentences.append(
            "Features that moved: "
            + "; ".join(
                f"{r.feature} ({r.status}, PSI {r.psi:.2f}, {r.distance_kind} {r.distance:.2f})"
                for r in moved.head(5).itertuples()
            )
            + "."
        )
    else:
        sentences.append("No feature moved beyond the warning thresholds.")
    sentences += [f"Schema: column '{c['column']}' {c['change']}." for c in result.schema]
    if result.personal:
        sentences.append(
            f"Not compared, as they hold personal data (values never shown): "
            f"{', '.join(result.personal)}."
        )
    if not result.predictions.empty:
        p = result.predictions.iloc[0]
        sentences.append(f"Predictions: PSI {p.psi:.2f} against the test set ({p.status}).")
    else:
        sentences.append(
            "Prediction drift not measured: the training run recorded no prediction "
            "statistics, or the batch could not be scored."
        )
    if result.performance.empty:
        sentences.append(
            "No labels in this batch: performance is not measured; input drift is the early "
            "warning."
        )
    else:
        perf = result.performance.iloc[0]
        sentences.append(
            f"With labels: {perf.metric} {perf.batch:.3f} on this batch against "
            f"{perf.training:.3f} in training ({perf.change:+.3f})."
        )
    return sentences


def _sensitive_features(client: Any, train: Any) -> list[str]:
    """The sensitive features the explain stage judged for this training run: those of the
    explain run of the same pipeline run, else of its newest explain run."""
    runs = client.search_runs(
        [train.info.experiment_id],
        f"tags.`{TAG_STAGE}` = 'explain' and tags.`{TAG_TRAIN_RUN}` = '{train.info.run_id}'",
        order_by=["attributes.start_time DESC"],
    )
    parent = train.data.tags.get("mlflow.parentRunId")
    same = [r for r in runs if parent and r.data.tags.get("mlflow.parentRunId") == parent]
    chosen = (same or runs)[:1]
    return json.loads(chosen[0].data.params.get("sensitive_features", "[]")) if chosen else []


def _training_statistics(run_id: str) -> dict[str, Any]:
    """The reference statistics the train run logged; monitoring has nothing to compare with
    without them."""
    statistics = artifact_dict(run_id, TRAINING_STATISTICS)
    if statistics is None:
        raise ExplainInputError(f"Training run {run_id} logged no reference statistics.")
    return statistics


def _personal_columns(run_id: str, features: pd.DataFrame, statistics: dict[str, Any]) -> list[str]:
    """The batch's personal feature columns: the model's (`scoring.personal_columns`) and
    those its training reference keeps as personal."""
    referenced = [c for c, e in statistics["features"].items() if e.get("kind") == drift.PERSONAL]
    found = [*scoring.personal_columns(run_id, features), *referenced]
    return [c for c in dict.fromkeys(found) if c in features.columns]


def _batch_predictions(
    loaded: Any,
    features: pd.DataFrame,
    predictions: pd.DataFrame | None,
    statistics: dict[str, Any],
    schema: list[dict[str, str]],
) -> pd.DataFrame | None:
    """The batch's own prediction columns (a scored batch), else the model's predictions on
    the columns it knows (the id column too, when its training data had it); None when a
    schema change alerts (the model cannot score it)."""
    if predictions is None and not any(c["status"] == "ALERT" for c in schema):
        known = [c for c in features.columns if c in statistics["features"]]
        predictions = loaded.predict(features[known])
    return predictions


def _prediction_drift(
    run_id: str, predictions: pd.DataFrame | None, thresholds: drift.Thresholds
) -> pd.DataFrame:
    """The drift of the predictions from those on the training test set; empty when the train
    run recorded no prediction statistics or the batch has no predictions."""
    reference = artifact_dict(run_id, PREDICTION_STATISTICS)
    if not reference or predictions is None:
        return pd.DataFrame()
    return drift.feature_table(reference, prediction_frame(predictions), thresholds)


def _labelled_checks(
    client: Any,
    train: Any,
    loaded: Any,
    features: pd.DataFrame,
    y_raw: pd.Series | None,
    predictions: pd.DataFrame | None,
    settings: MonitorSettings,
    personal: Sequence[str] = (),
) -> tuple[pd.DataFrame, pd.DataFrame, str]:
    """With labels: the training metrics on the batch, the fairness gaps of the explain stage
    recomputed (never over a `personal` column, whose groups would show its values), and the
    status of the primary metric's change. Without: empty tables, OK."""
    if y_raw is None or predictions is None:
        return pd.DataFrame(), pd.DataFrame(), "OK"
    model = loaded.unwrap_python_model()
    task = train.data.params.get("data.task", "classification")
    y, _ = training.encode_target(y_raw, task, model.classes)
    kind = evaluation.problem_kind(task, len(model.classes or []))
    performance = performance_table(kind, y, predictions, train.data.metrics, model.threshold)
    level = performance_status(performance, evaluation.PRIMARY_METRIC[kind], settings)
    predicted = (
        predictions["prediction"].to_numpy(dtype=float)
        if kind == "regression"
        else training.encode_target(predictions["prediction"], task, model.classes)[0]
    )
    sensitive = [f for f in _sensitive_features(client, train) if f not in personal]
    gaps = fairness_gaps(features, y, predicted, kind, sensitive)
    return performance, gaps, level


def _overall_status(
    features: pd.DataFrame,
    schema: list[dict[str, str]],
    predictions: pd.DataFrame,
    performance_level: str,
) -> str:
    """The worst status of the features, the schema changes, the predictions and the
    performance."""
    statuses = [
        *(features["status"] if not features.empty else []),
        *(c["status"] for c in schema),
        *(predictions["status"] if not predictions.empty else []),
        performance_level,
    ]
    return drift.overall(statuses)


def analyse(
    client: Any,
    reference: str,
    batch: pd.DataFrame,
    labels: str,
    settings: MonitorSettings,
    id_column: str = "",
) -> tuple[scoring.ResolvedModel, MonitorResult]:
    """Monitor `batch` for the model `reference` against its training run's statistics.

    Raises:
        ScoringInputError: unknown model, or a labels column the batch does not have.
        ExplainInputError: the training run logged no reference statistics.
    """

    resolved = scoring.resolve(client, reference)
    train = client.get_run(resolved.run_id)
    statistics = _training_statistics(resolved.run_id)
    if labels and labels not in batch.columns:
        raise ScoringInputError(f"Labels column '{labels}' is not in the batch.")
    features, predictions, y_raw = split_batch(batch, labels, id_column)
    personal = _personal_columns(resolved.run_id, features, statistics)
    inputs = features.join(batch[[id_column]]) if id_column in batch.columns else features
    schema = drift.schema_changes(statistics, inputs, (id_column,), [*personal, id_column])
    loaded = requirements.load_model(resolved.uri)
    predictions = _batch_predictions(loaded, inputs, predictions, statistics, schema)
    table = drift.feature_table(statistics, features, settings.thresholds, personal)
    predicted_table = _prediction_drift(resolved.run_id, predictions, settings.thresholds)
    performance, gaps, level = _labelled_checks(
        client, train, loaded, features, y_raw, predictions, settings, personal
    )
    status = _overall_status(table, schema, predicted_table, level)
    result = MonitorResult(
        status, table, schema, predicted_table, performance, gaps, len(batch), [], personal
    )
    result.summary = summary_sentences(result, f"'{resolved.name}' version {resolved.version}")
    return resolved, result


def run_job(
    reference: str,
    batch_path: Any,
    labels: str,
    batch_date: str,
    section: dict[str, Any],
    root: Any,
    echo: Any = print,
    progress: bool = True,
    id_column: str = "",
) -> tuple[Any, str, str]:
    """Run notebooks/06-monitor.ipynb on a batch as a tracked run in the experiment
    `monitoring-<model name>`; return the runner's result, the status and the summary.

    Raises:
        ScoringInputError: unknown model, or a labels column the batch does not have; found
            before any run is created.
    """
    import mlflow  # deferred: heavy

    from mlworkbench.production.jobs import run_job_stage  # deferred: the runner is heavy

    mlflow.set_tracking_uri(tracking_uri(root))
    client = mlflow.MlflowClient()
    resolved = scoring.resolve(client, reference)
    source = str(Path(batch_path).resolve())
    batch = data.read_source(source)
    if labels and labels not in batch.columns:
        raise ScoringInputError(f"Labels column '{labels}' is not in {batch_path}.")
    parameters = {
        "model": resolved.uri,
        "batch_path": source,
        "batch_date": batch_date,
        "labels_column": labels,
        "id_column": id_column,
        "thresholds": dict(section.get("thresholds") or {}),
        **{k: section[k] for k in ("metric_warn", "metric_alert") if k in section},
    }
    experiment = f"monitoring-{resolved.name or 'model'}"
    result = run_job_stage("monitor", experiment, parameters, source, batch, root, echo, progress)
    tags = client.get_run(result.stages[0].run_id).data.tags
    return result, tags.get(TAG_MONITOR_STATUS, "OK"), tags.get(TAG_SUMMARY, "")


def run_alert_command(command: str, summary: str) -> int:
    """Run the config's alert command with the summary on its standard input."""
    return subprocess.run(command, shell=True, input=summary, text=True, check=False).returncode
