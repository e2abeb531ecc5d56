"""Tracking helpers against a real MLflow store in a temporary folder."""

from __future__ import annotations

import mlflow
import pytest

from mlworkbench.tracking import store


def test_default_store_is_sqlite_in_the_project_root(tmp_path):
    assert store.tracking_uri(tmp_path) == f"sqlite:///{tmp_path / 'mlflow.db'}"


def test_environment_variable_switches_the_store(tmp_path, monkeypatch):
    monkeypatch.setenv("MLFLOW_TRACKING_URI", "http://127.0.0.1:5999")
    assert store.tracking_uri(tmp_path) == "http://127.0.0.1:5999"


def test_project_root_is_found_from_the_notebooks_folder(project):
    assert store.find_project_root(project / "notebooks") == project
    assert store.find_project_root(project) == project


def test_new_experiments_keep_artifacts_beside_the_database(tmp_path):
    uri = store.tracking_uri(tmp_path)
    client = mlflow.MlflowClient(uri)
    experiment_id = store.get_or_create_experiment(client, "a b/c")
    location = client.get_experiment(experiment_id).artifact_location
    assert location == (tmp_path / "mlruns" / "a_b_c").as_uri()
    assert store.get_or_create_experiment(client, "a b/c") == experiment_id
    assert store.default_artifact_location("http://server", "x") is None


def test_flatten_nested_parameters():
    assert store.flatten({"a": {"b": 1, "c": {"d": 2}}, "e": {}}) == {
        "a.b": 1,
        "a.c.d": 2,
        "e": {},
    }


@pytest.fixture
def client(tmp_path, monkeypatch):
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    monkeypatch.setenv("MLFLOW_TRACKING_URI", uri)
    monkeypatch.chdir(tmp_path)
    yield mlflow.MlflowClient(uri)
    while mlflow.active_run():
        mlflow.end_run()


def test_a_notebook_on_its_own_starts_and_finishes_its_run(client):
    run_id = store.start_stage_run(
        "", "interactive", "eda", "01-eda.ipynb", params={"data": {"target": "y"}, "cols": ["a"]}
    )
    store.log_key_figures({"rows": 10})
    store.end_stage_run()
    run = client.get_run(run_id)
    assert run.info.status == "FINISHED"
    assert run.data.params == {"data.target": "y", "cols": '["a"]'}
    assert run.data.tags["mlwb.stage"] == "eda"
    assert run.data.tags["mlwb.key_figures"] == "rows"
    assert run.data.metrics["rows"] == 10


def test_a_notebook_under_the_runner_leaves_the_status_to_it(client):
    experiment_id = store.get_or_create_experiment(client, "pipeline")
    created = client.create_run(experiment_id).info.run_id
    assert store.start_stage_run(created, "ignored", "eda", "01-eda.ipynb") == created
    store.end_stage_run()
    assert client.get_run(created).info.status == "RUNNING"
