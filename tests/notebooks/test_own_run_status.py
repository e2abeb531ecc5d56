"""A notebook that owns its MLflow run (JupyterLab, plain papermill) ends it FAILED when a cell
raises and KILLED on a kernel interrupt, in a real kernel; a run the runner owns is left to the
runner."""

from __future__ import annotations

import os
import subprocess

import mlflow
import pytest
from helpers import FIXTURE_NOTEBOOKS, PAPERMILL, sqlite_uri

pytestmark = pytest.mark.notebook


def run_notebook(tmp_path, **params: str) -> subprocess.CompletedProcess:
    """Execute tests/fixtures/notebooks/own-run.ipynb with plain papermill into tmp_path."""
    notebook, output = FIXTURE_NOTEBOOKS / "own-run.ipynb", tmp_path / "out.ipynb"
    options = [arg for name, value in params.items() for arg in ("-p", name, value)]
    return subprocess.run(
        [PAPERMILL, str(notebook), str(output), *options, "--cwd", str(tmp_path)],
        env={**os.environ, "MLFLOW_TRACKING_URI": sqlite_uri(tmp_path)},
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )


def the_run(tmp_path):
    client = mlflow.MlflowClient(sqlite_uri(tmp_path))
    experiment = client.get_experiment_by_name("fixtures")
    (run,) = client.search_runs([experiment.experiment_id])
    return run


@pytest.mark.parametrize(
    ("interrupt", "status", "error"),
    [
        ("False", "FAILED", "ValueError: deliberate failure for the test"),
        ("True", "KILLED", "KeyboardInterrupt: "),
    ],
)
def test_a_raising_cell_ends_the_notebooks_own_run(tmp_path, interrupt, status, error):
    result = run_notebook(tmp_path, interrupt=interrupt)
    assert result.returncode == 1 and "PapermillExecutionError" in result.stderr
    run = the_run(tmp_path)
    assert run.info.status == status
    assert run.info.end_time is not None
    assert run.data.tags["mlwb.stage"] == "own"
    assert run.data.tags["mlwb.error"] == error
    assert run.data.metrics == {"before_failure": 1.0}


def test_a_run_the_runner_owns_is_left_to_the_runner(tmp_path):
    client = mlflow.MlflowClient(sqlite_uri(tmp_path))
    experiment_id = client.create_experiment("fixtures")
    created = client.create_run(experiment_id).info.run_id
    result = run_notebook(tmp_path, mlflow_run_id=created)
    assert result.returncode == 1
    run = the_run(tmp_path)
    assert run.info.run_id == created
    # as before: nothing failed it; MLflow's exit handler ended it as the kernel stopped, and
    # the runner sets the final status of the runs it owns
    assert run.info.status == "FINISHED"
    assert "mlwb.error" not in run.data.tags
    assert run.data.metrics == {"before_failure": 1.0}
