"""Monitoring one batch: data drift, prediction drift and, with labels, performance drift
against what the model's training run recorded, with one status: OK, WARN or ALERT."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from mlworkbench.analysis import evaluation, training
from mlworkbench.analysis.explain import fairness
from mlworkbench.exceptions import ExplainInputError, ScoringInputError
from mlworkbench.production import drift, scoring
from mlworkbench.tracking.tags import (
    TAG_MONITOR_BATCH_DATE,
    TAG_MONITOR_RUN,
    TAG_MONITOR_STATUS,
    TAG_SUMMARY,
)

ALERT_EXIT_CODE = 4
"""Exit code of `mlwb monitor` for an ALERT (0 for OK and WARN)."""

PREDICTION_COLUMNS = ("prediction", "model_name", "model_version", "scored_at", scoring.ROW_KEY)


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
    import json

    runs = client.search_runs(
        [train.info.experiment_id],
        f"tags.`mlwb.stage` = 'explain' and tags.`mlwb.train_run` = '{train.info.run_id}'",
        order_by=["attributes.start_time DESC"],
    )
    parent = train.data.tags.get("mlflow.parentRunId")
    same = [r for r in runs if parent and r.data.tags.get("mlflow.parentRunId") == parent]
    chosen = (same or runs)[:1]
    return json.loads(chosen[0].data.params.get("sensitive_features", "[]")) if chosen else []


def analyse(
    client: Any,
    reference: str,
    batch: pd.DataFrame,
    labels: str,
    settings: MonitorSettings,
    id_column: str = "",
) -> tuple[scoring.ResolvedModel, MonitorResult]:
    """Monitor `batch` for the model `reference` against its training run's statistics."""
    import mlflow

    from mlworkbench.tracking.store import artifact_dict

    resolved = scoring.resolve(client, reference)
    train = client.get_run(resolved.run_id)
    statistics = artifact_dict(resolved.run_id, "reference/training_statistics.json")
    if statistics is None:
        raise ExplainInputError(f"Training run {resolved.run_id} logged no reference statistics.")
    if labels and labels not in batch.columns:
        raise ScoringInputError(f"Labels column '{labels}' is not in the batch.")
    features, predictions, y_raw = split_batch(batch, labels, id_column)
    schema = drift.schema_changes(statistics, features)
    loaded = mlflow.pyfunc.load_model(resolved.uri)
    if predictions is None and not any(c["status"] == "ALERT" for c in schema):
        known = [c for c in features.columns if c in statistics["features"]]
        predictions = loaded.predict(features[known])
    table = drift.feature_table(statistics, features, settings.thresholds)
    reference_predictions = artifact_dict(resolved.run_id, "reference/prediction_statistics.json")
    predicted_table = (
        drift.feature_table(
            reference_predictions, prediction_frame(predictions), settings.thresholds
        )
        if reference_predictions and predictions is not None
        else pd.DataFrame()
    )
    performance, gaps, performance_level = pd.DataFrame(), pd.DataFrame(), "OK"
    if y_raw is not None and predictions is not None:
        model = loaded.unwrap_python_model()
        task = train.data.params.get("data.task", "classification")
        y, _ = training.encode_target(y_raw, task, model.classes)
        kind = evaluation.problem_kind(task, len(model.classes or []))
        performance = performance_table(kind, y, predictions, train.data.metrics, model.threshold)
        performance_level = performance_status(
            performance, evaluation.PRIMARY_METRIC[kind], settings
        )
        predicted = (
            predictions["prediction"].to_numpy(dtype=float)
            if kind == "regression"
            else training.encode_target(predictions["prediction"], task, model.classes)[0]
        )
        sensitive = _sensitive_features(client, train)
        gaps = fairness_gaps(features, y, predicted, kind, sensitive)
    statuses = [
        *(table["status"] if not table.empty else []),
        *(c["status"] for c in schema),
        *(predicted_table["status"] if not predicted_table.empty else []),
        performance_level,
    ]
    result = MonitorResult(
        drift.overall(list(statuses)),
        table,
        schema,
        predicted_table,
        performance,
        gaps,
        len(batch),
        [],
    )
    result.summary = summary_sentences(result, f"'{resolved.name}' version {resolved.version}")
    return resolved, result


def schema_frame(changes: list[dict[str, str]]) -> pd.DataFrame:
    """Schema changes as a table."""
    return pd.DataFrame(changes, columns=["column", "change", "status"])


def plot_psi(table: pd.DataFrame, thresholds: drift.Thresholds, top: int = 15) -> Any:
    """PSI per feature as bars, with the warn and alert lines."""
    import matplotlib.pyplot as plt

    shown = table.head(top).iloc[::-1]
    colours = shown["status"].map({"OK": "#1a7f37", "WARN": "#9a6700", "ALERT": "#cf222e"})
    fig, ax = plt.subplots(figsize=(8, 0.35 * len(shown) + 1.3))
    ax.barh(shown["feature"], shown["psi"], color=list(colours))
    for value, label in ((thresholds.psi_warn, "warn"), (thresholds.psi_alert, "alert")):
        ax.axvline(value, color="grey", linestyle="--", linewidth=0.8)
        ax.text(value, len(shown) - 0.4, f" {label}", fontsize=8, color="grey")
    ax.set_xlabel("population stability index (PSI) against training")
    ax.set_title("How far each feature moved")
    fig.tight_layout()
    return fig


def metrics(result: MonitorResult) -> dict[str, float]:
    """MLflow metrics of a monitoring run: PSI and distance per feature, the largest PSI,
    counts by status and the batch metrics with labels."""
    from mlworkbench.tracking.store import safe_name

    values: dict[str, float] = {"rows": float(result.rows)}
    if not result.features.empty:
        for row in result.features.itertuples():
            values[f"psi.{safe_name(row.feature)}"] = row.psi
            values[f"distance.{safe_name(row.feature)}"] = row.distance
        values["max_psi"] = float(result.features["psi"].max())
        for status in drift.STATUSES:
            values[f"features_{status.lower()}"] = float(
                (result.features["status"] == status).sum()
            )
    if not result.predictions.empty:
        values["prediction_psi"] = float(result.predictions["psi"].iloc[0])
    for row in result.performance.itertuples():
        values[f"batch_{row.metric}"] = row.batch
        values[f"change_{row.metric}"] = row.change
    return {k: float(v) for k, v in values.items() if np.isfinite(v)}


def key_figures(result: MonitorResult) -> dict[str, float]:
    """The figures the report index shows for a monitoring run."""
    figures = {"rows": result.rows, "status_level": drift.STATUSES.index(result.status)}
    if not result.features.empty:
        figures["max_psi"] = float(result.features["psi"].max())
    return figures


def tag_version(client: Any, resolved: scoring.ResolvedModel, status: str, date: str, run_id: str):
    """The latest monitoring status on the model version."""
    for key, value in (
        (TAG_MONITOR_STATUS, status),
        (TAG_MONITOR_BATCH_DATE, date),
        (TAG_MONITOR_RUN, run_id),
    ):
        client.set_model_version_tag(resolved.name, resolved.version, key, value)


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
    `monitoring-<model name>`; return the runner's result, the status and the summary."""
    from pathlib import Path

    import mlflow

    from mlworkbench.analysis import data
    from mlworkbench.production.jobs import run_job_stage
    from mlworkbench.tracking.store import tracking_uri

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
    import subprocess

    return subprocess.run(command, shell=True, input=summary, text=True, check=False).returncode
