"""What the train stage records in MLflow: metrics, the data it used, drift references and the
tags of the registered model version.

Kept out of the notebook so every training run logs the same names, and so the logging is
tested. Logging and registering the model itself is `production.models` (a lower layer may not
import it); this module gives it the tags to set.
"""

from __future__ import annotations

import pandas as pd

from mlworkbench.analysis import evaluation, personal_data, splits, train_stage, training
from mlworkbench.tracking import datasets, provenance, store

TRAINING_STATISTICS_ARTIFACT = "reference/training_statistics.json"
"""Artifact of a training run: the distributions of its training rows, the reference of the
drift checks, which `production.monitoring` reads."""


def log_evaluation(result: evaluation.Evaluation, threshold: float | None) -> None:
    """Log the test metrics, the baseline's (`baseline_*`), the lift (`lift_*`), the binary
    decision threshold (`decision_threshold`) and the primary metric as the key figure the
    report index shows, on the active run."""
    store.log_metrics(result.metrics)
    store.log_metrics(result.baseline, prefix="baseline_")
    store.log_metrics(result.lift(), prefix="lift_")
    if threshold is not None:
        store.log_metrics({"decision_threshold": threshold})
    store.log_key_figures({result.primary: result.metrics[result.primary]})


def log_split(
    split: splits.Split,
    frame: pd.DataFrame,
    source: str,
    target: str,
    personal: personal_data.PersonalData | None = None,
) -> str:
    """Log the training and test rows as dataset inputs of the active run, the training rows'
    distributions (the drift reference; of the personal columns only their missing share),
    the personal columns (names and reasons, never values) and the test rows' ids (for the
    explain stage).

    Args:
        split: the training and test rows.
        frame: every row of the source data, whose digest the test rows' record carries.
        source: the data source as configured (a bundled dataset name or a file path).
        target: the target column.
        personal: the personal columns found in `frame`.

    Returns:
        The digest of the training rows (tagged on the run and on the model version).
    """
    digest = datasets.log_dataset_input(split.train, source, target, "train", context="training")
    datasets.log_dataset_input(split.test, source, target, "test", context="test")
    personal = personal or personal_data.PersonalData([])
    statistics = training.reference_statistics(split.train, target, personal=personal.columns)
    store.log_json(statistics, TRAINING_STATISTICS_ARTIFACT)
    store.log_json(personal.as_dict(), personal_data.PRIVACY_ARTIFACT)
    store.log_json(train_stage.test_rows_record(split.test, frame), train_stage.TEST_ROWS_ARTIFACT)
    return digest


def log_outcome(
    outcome: train_stage.TrainingOutcome, frame: pd.DataFrame, source: str, target: str
) -> str:
    """Log what the train stage measured and used (`log_evaluation`, `log_split`) on the
    active run; returns the training rows' digest."""
    log_evaluation(outcome.evaluation, outcome.trained.threshold)
    return log_split(outcome.split, frame, source, target, outcome.personal)


def registry_tags(
    result: evaluation.Evaluation, digest: str, run_id: str, code_dir: str = "."
) -> dict[str, str]:
    """The tags of the registered model version: the training data's digest, the git commit
    of `code_dir`, the primary metric's name and value, and the training run, so a version
    can be judged and traced without opening its run."""
    return {
        "data_digest": digest,
        "git_commit": provenance.git_commit(code_dir),
        "primary_metric": result.primary,
        result.primary: f"{result.metrics[result.primary]:.6f}",
        "run_id": run_id,
    }


def registry_sentences(name: str, version: str) -> list[str]:
    """What registering did and how to load the model, for the report."""
    return [
        f"Registered as version {version} of '{name}', now the 'challenger'; "
        "the 'champion' alias is left as it was.",
        f"Load it with mlflow.pyfunc.load_model('models:/{name}@challenger').",
    ]
