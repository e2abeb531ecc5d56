"""The explain stage's subject: its settings, and which model and rows are explained.

The model and its test rows come from a training run: the train stage records the row ids of
its test set and a digest of the data, so the explain stage picks exactly those rows from the
same data. A model given by URI (`models:/<name>@<alias>`, `models:/<name>/<version>`,
`runs:/<id>/model`) is explained on its training run's test rows when the data match, or
else on every row of the data given, and the report says which.

The analysis of the subject is in `assessment` and the report's sentences in `summary`; the
pipeline config checks settings with `check_settings`, and the governance stage reuses
`Subject`, `load_subject`, `load_workbench_model`, `predictions` and `sample`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from mlworkbench.analysis import evaluation, training
from mlworkbench.analysis.data import dataset_digest
from mlworkbench.analysis.explain import fairness, proxies
from mlworkbench.analysis.train_stage import TEST_ROWS_ARTIFACT
from mlworkbench.exceptions import DataError, ExplainInputError
from mlworkbench.tracking import requirements
from mlworkbench.tracking.store import artifact_dict, latest_stage_run
from mlworkbench.tracking.tags import TAG_EXPLAINED_MODEL, TAG_TRAIN_RUN

# Deferred imports: mlflow loads inside the functions that find and load the model, so that
# importing this module (the pipeline config checks settings with it) stays fast.


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
    immutable_features: list[str] = field(default_factory=list)
    counterfactual_seconds: float = 30.0
    counterfactual_change: float = 0.0
    error_tree_depth: int = 4
    calibration_bins: int = 10
    conformal_level: float = 0.9
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
    return problems + _check_extras(values)


def _check_extras(values: dict[str, Any]) -> list[str]:
    """Problems with the settings of counterfactuals, the error tree, calibration and
    conformal prediction."""
    problems = []
    immutable = values.get("immutable_features", [])
    if not isinstance(immutable, list) or not all(isinstance(f, str) for f in immutable):
        problems.append("'immutable_features' must be a list of column names.")
    for name in ("counterfactual_seconds", "counterfactual_change"):
        if isinstance(values.get(name), int | float) and values[name] < 0:
            problems.append(f"'{name}' must be 0 or more, got {values[name]}.")
    depth = values.get("error_tree_depth")
    if isinstance(depth, int) and not 1 <= depth <= 4:
        problems.append(f"'error_tree_depth' must be between 1 and 4, got {depth}.")
    bins = values.get("calibration_bins")
    if isinstance(bins, int) and bins < 2:
        problems.append(f"'calibration_bins' is too small: {bins}.")
    level = values.get("conformal_level")
    if isinstance(level, int | float) and not 0 <= level < 1:
        problems.append(
            f"'conformal_level' must be at least 0 (off) and below 1, got {level}; "
            "for example 0.9 for 90% prediction sets."
        )
    return problems


@dataclass
class Subject:
    """A fitted model and the labelled rows it is explained on; the training rows and their
    labels when the training run recorded its test rows (else None)."""

    pipeline: Any
    classes: list[Any] | None
    threshold: float | None
    kind: str
    rows: pd.DataFrame
    y: np.ndarray
    model_uri: str
    train_run_id: str
    description: str
    train_rows: pd.DataFrame | None = None
    train_y: np.ndarray | None = None


def latest_training_run(experiment: str) -> str:
    """The newest finished train-stage run of `experiment`."""
    import mlflow

    run_id = latest_stage_run(mlflow.MlflowClient(), experiment, "train")
    if not run_id:
        raise ExplainInputError(
            f"Experiment '{experiment}' has no finished training run to explain: run the train "
            "stage first (mlwb run CONFIG --stage train) or set model_uri."
        )
    return run_id


def load_workbench_model(model_uri: str) -> tuple[Any, str]:
    """The workbench model behind `model_uri` (pipeline, classes, threshold) and its run id."""

    try:
        loaded = requirements.load_model(model_uri)
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
    train_rows, train_y = None, None
    if record is not None:
        rows = frame.loc[record["row_ids"]]
        description = f"the {len(rows):,} test rows of training run {train_run_id[:8]}"
        train = frame.drop(index=record["row_ids"]).dropna(subset=[target])
        train_y, _ = training.encode_target(train[target], task, model.classes)
        train_rows = train.drop(columns=[target])
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
        train_rows,
        train_y,
    )


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


def subject_tags(subject: Subject) -> dict[str, str]:
    """Tags naming what an explain run explained: the model URI and its training run, which
    the governance and monitoring stages search by."""
    return {TAG_EXPLAINED_MODEL: subject.model_uri, TAG_TRAIN_RUN: subject.train_run_id}
