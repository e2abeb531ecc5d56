"""Failure semantics with real kernels: a raising cell, Ctrl-C, and bad input."""

from __future__ import annotations

import os
import signal
import subprocess
import time

import mlflow
import nbformat
import pytest
from helpers import CONFIGS, MLWB, PAPERMILL, mlwb, sqlite_uri

pytestmark = pytest.mark.notebook


def runs_by_name(root, experiment):
    client = mlflow.MlflowClient(sqlite_uri(root))
    exp = client.get_experiment_by_name(experiment)
    return client, {r.info.run_name: r for r in client.search_runs([exp.experiment_id])}


def test_a_raising_cell_keeps_the_partial_notebook_and_fails_the_runs(tmp_path):
    result = mlwb(
        "run", str(CONFIGS / "test_failing.yaml"), "--project-dir", str(tmp_path), "--no-progress"
    )
    assert result.returncode == 1
    message = result.stderr
    assert "error: Stage 'boom' failed in notebook 01-boom.ipynb, code cell In [" in message
    assert "(which starts `if fail:`)" in message
    assert "ValueError: deliberate failure for the test" in message
    assert "Traceback (most recent call last)" not in message

    client, runs = runs_by_name(tmp_path, "test-failing")
    parent = next(r for name, r in runs.items() if name.startswith("test-failing-"))
    boom = runs["boom"]
    assert "after" not in runs, "later stages must not run"
    assert parent.info.status == "FAILED" and boom.info.status == "FAILED"
    assert boom.data.metrics == {"before_failure": 1.0}
    assert "deliberate failure" in boom.data.tags["mlwb.error"]

    partial = tmp_path / "reports" / boom.data.tags["mlwb.report"].replace(".html", ".ipynb")
    assert f"kept at {partial}" in message
    nb = nbformat.read(partial, as_version=4)
    errors = [o for c in nb.cells for o in c.get("outputs", []) if o.output_type == "error"]
    assert [e.ename for e in errors] == ["ValueError"]
    page = partial.with_suffix(".html").read_text()
    assert "deliberate failure for the test" in page
    logged = {
        f.path for d in ("notebook", "report") for f in client.list_artifacts(boom.info.run_id, d)
    }
    assert logged == {"notebook/01-boom.ipynb", "report/01-boom.html"}
    assert "FAILED" in (tmp_path / "reports" / "index.html").read_text()


def test_earlier_runs_survive_a_failing_run(tmp_path):
    config = CONFIGS / "test_failing.yaml"
    first = mlwb(
        "run", str(config), "--stage", "after", "--project-dir", str(tmp_path), "--no-progress"
    )
    assert first.returncode == 0, first.stderr[-2000:]
    assert mlwb("run", str(config), "--project-dir", str(tmp_path), "--no-progress").returncode == 1
    _, runs = runs_by_name(tmp_path, "test-failing")
    assert runs["after"].info.status == "FINISHED" and runs["after"].data.metrics == {"ran": 1.0}
    assert (tmp_path / "reports" / runs["after"].data.tags["mlwb.report"]).is_file()


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_interrupt_marks_runs_killed_and_keeps_the_partial_notebook(tmp_path, sig):
    process = subprocess.Popen(
        [
            MLWB,
            "run",
            str(CONFIGS / "test_slow.yaml"),
            "--project-dir",
            str(tmp_path),
            "--no-progress",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=os.environ.copy(),
    )
    client = None
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:  # wait until the notebook has logged into its run
        time.sleep(1)
        # The output notebook appears once the store exists and the stage has started.
        if list(tmp_path.glob("reports/test-slow/*/03-slow.ipynb")):
            client = mlflow.MlflowClient(sqlite_uri(tmp_path))
            exp = client.get_experiment_by_name("test-slow")
            runs = client.search_runs([exp.experiment_id]) if exp else []
            if any(r.data.params.get("seconds") for r in runs):
                break
    time.sleep(2)
    process.send_signal(sig)
    _, stderr = process.communicate(timeout=120)
    assert process.returncode == 130, stderr[-2000:]
    assert "Interrupted; the runs are marked KILLED" in stderr
    _, runs = runs_by_name(tmp_path, "test-slow")
    assert {r.info.status for r in runs.values()} == {"KILLED"}
    assert (tmp_path / "reports" / runs["slow"].data.tags["mlwb.report"]).is_file()


def test_plain_papermill_run_is_tracked_in_the_project_store(project):
    """A notebook run on its own (JupyterLab, plain papermill) starts and finishes its own run."""
    output = project / "out.ipynb"
    result = subprocess.run(
        [
            PAPERMILL,
            "notebooks/01-eda.ipynb",
            str(output),
            "-p",
            "profile_sample_rows",
            "300",
            "--cwd",
            "notebooks",
        ],
        cwd=project,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    client = mlflow.MlflowClient(sqlite_uri(project))
    experiment = client.get_experiment_by_name("german-credit")
    (run,) = client.search_runs([experiment.experiment_id])
    assert run.info.status == "FINISHED"
    assert run.data.tags["mlwb.stage"] == "eda"
    assert run.data.metrics["rows"] == 1000
    assert run.data.params["profile_rows"] == "300"
    profile = project / "reports" / "interactive" / run.info.run_id[:8] / "01-eda-profile.html"
    assert profile.is_file()
