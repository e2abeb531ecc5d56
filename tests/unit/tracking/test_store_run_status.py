"""How a cell's error ends the notebook's own run (IPython's real `ExecutionResult`, a real
SQLite store); tests/notebooks/test_own_run_status.py checks the same in a real kernel."""

from __future__ import annotations

import mlflow
import pytest
from IPython.core.interactiveshell import ExecutionResult

from mlworkbench.tracking import store


@pytest.fixture
def client(tmp_path, monkeypatch):
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    monkeypatch.setenv("MLFLOW_TRACKING_URI", uri)
    monkeypatch.chdir(tmp_path)
    yield mlflow.MlflowClient(uri)
    while mlflow.active_run():
        mlflow.end_run()


def cell(error: BaseException | None = None) -> ExecutionResult:
    result = ExecutionResult(None)
    result.error_in_exec = error
    return result


@pytest.mark.parametrize(
    ("error", "status"), [(ValueError("bad"), "FAILED"), (KeyboardInterrupt(), "KILLED")]
)
def test_a_failing_cell_ends_the_notebooks_own_run(client, error, status):
    run_id = store.start_stage_run("", "interactive", "eda", "01-eda.ipynb")
    store.end_failed_run(cell())
    assert mlflow.active_run().info.run_id == run_id, "a cell without error changes nothing"
    store.end_failed_run(cell(error))
    assert mlflow.active_run() is None
    run = client.get_run(run_id)
    assert run.info.status == status
    assert run.data.tags["mlwb.error"] == f"{type(error).__name__}: {error}"


def test_a_failing_cell_leaves_the_runners_run_alone(client):
    experiment_id = store.get_or_create_experiment(client, "pipeline")
    created = client.create_run(experiment_id).info.run_id
    store.start_stage_run(created, "ignored", "eda", "01-eda.ipynb")
    store.end_failed_run(cell(ValueError("bad")))
    assert mlflow.active_run().info.run_id == created
    run = client.get_run(created)
    assert run.info.status == "RUNNING" and "mlwb.error" not in run.data.tags
