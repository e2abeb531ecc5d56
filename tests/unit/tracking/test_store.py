"""Tracking helpers against a real MLflow store in a temporary folder."""

from __future__ import annotations

import getpass
import shutil
import subprocess

import mlflow
import pytest
from mlflow.entities import SourceType
from mlflow.utils.mlflow_tags import (
    MLFLOW_GIT_COMMIT,
    MLFLOW_RUN_NOTE,
    MLFLOW_SOURCE_NAME,
    MLFLOW_SOURCE_TYPE,
    MLFLOW_USER,
)

from mlworkbench.tracking import provenance, store


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
def client(tmp_path, monkeypatch, empty_store):
    shutil.copy(empty_store, tmp_path / "mlflow.db")
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


def test_a_notebook_on_its_own_fills_mlflows_source_user_and_commit(
    project, monkeypatch, empty_store
):
    def git(*args):
        subprocess.run(["git", "-C", str(project), *args], check=True, capture_output=True)

    git("init", "-q")
    git("add", "notebooks")
    git("-c", "user.email=t@t", "-c", "user.name=t", "commit", "-qm", "m")
    (project / "notebooks" / "01-eda.ipynb").write_text("{}")  # uncommitted: dirty
    shutil.copy(empty_store, project / "mlflow.db")
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{project / 'mlflow.db'}")
    monkeypatch.chdir(project / "notebooks")  # where Jupyter runs a notebook
    run_id = store.start_stage_run("", "interactive", "eda", "01-eda.ipynb")
    store.end_stage_run()
    tags = mlflow.MlflowClient().get_run(run_id).data.tags
    commit = provenance.git_commit(project)
    assert commit.endswith("-dirty")
    assert tags[MLFLOW_SOURCE_NAME] == "notebooks/01-eda.ipynb"
    assert tags[MLFLOW_SOURCE_TYPE] == SourceType.to_string(SourceType.NOTEBOOK)
    assert tags[MLFLOW_GIT_COMMIT] == commit.removesuffix("-dirty")
    assert tags[MLFLOW_USER] == getpass.getuser()
    assert tags["mlwb.git_commit"] == commit


def test_system_tags_leave_out_what_is_unknown():
    tags = provenance.system_tags("mlwb run papermill_configs/x.yaml", provenance.COMMAND, "")
    assert tags == {
        MLFLOW_SOURCE_NAME: "mlwb run papermill_configs/x.yaml",
        MLFLOW_SOURCE_TYPE: SourceType.to_string(SourceType.LOCAL),
        MLFLOW_USER: getpass.getuser(),
    }


def test_notebook_source_is_relative_to_the_project(project, tmp_path):
    assert store.notebook_source("02-train.ipynb", project / "notebooks") == (
        "notebooks/02-train.ipynb"
    )
    assert store.notebook_source("02-train.ipynb", project) == "notebooks/02-train.ipynb"
    assert store.notebook_source("no-such.ipynb", project) == "no-such.ipynb"
    assert store.notebook_source("02-train.ipynb", tmp_path / "elsewhere") == "02-train.ipynb"


def test_the_note_is_the_reports_summary_as_markdown(client):
    run_id = store.start_stage_run("", "interactive", "train", "02-train.ipynb")
    store.set_note([], "Too good to be true.", ["It beats guessing.", " ", "Lift 0.2."])
    store.end_stage_run()
    note = client.get_run(run_id).data.tags[MLFLOW_RUN_NOTE]
    assert note == "- Too good to be true.\n- It beats guessing.\n- Lift 0.2."


def test_a_runner_run_gets_its_note_without_being_active(client):
    experiment_id = store.get_or_create_experiment(client, "pipeline")
    run_id = client.create_run(experiment_id).info.run_id
    store.write_note(client, run_id, ["`train`: FINISHED.", "`explain`: FAILED."])
    store.write_note(client, run_id, [])  # nothing to say: the note stays
    assert client.get_run(run_id).data.tags[MLFLOW_RUN_NOTE] == (
        "- `train`: FINISHED.\n- `explain`: FAILED."
    )
    assert mlflow.active_run() is None


def test_a_long_note_is_cut_to_what_mlflow_keeps(client):
    run_id = client.create_run(store.get_or_create_experiment(client, "long")).info.run_id
    store.write_note(client, run_id, ["x" * 9000])
    note = client.get_run(run_id).data.tags[MLFLOW_RUN_NOTE]
    assert len(note) == store.NOTE_LIMIT and note.endswith("…")
