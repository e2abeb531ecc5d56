"""The Dask executor's pieces that need no cluster: worker checks, attempts, returned files."""

from __future__ import annotations

import json

import mlflow
import pytest
from helpers import sqlite_uri

from mlworkbench.exceptions import ClusterError
from mlworkbench.pipeline import cluster
from mlworkbench.reports.index import collect_runs, render_index
from mlworkbench.tracking.store import open_client, store_problem
from mlworkbench.tracking.tags import TAG_ATTEMPTS, TAG_RETRY_OF, TAG_WORKER

EXPECTED = {"version": "0.1.0", "code": "abc", "packages": {"mlflow": "3.17.2", "shap": "0.51.0"}}


def facts(**changes):
    return {**EXPECTED, "missing": [], "tracking": "", **changes}


def test_a_worker_like_the_client_has_no_problems():
    assert cluster.worker_problems("tcp://w:1", facts(), EXPECTED) == []


def test_worker_problems_name_the_worker_and_what_is_missing():
    problems = cluster.worker_problems(
        "tcp://w:1",
        facts(
            missing=["/data/adult.csv"],
            tracking="tracking server http://x:5000 not reachable: refused",
            code="other",
            packages={"mlflow": "3.16.0", "shap": "0.51.0"},
        ),
        EXPECTED,
    )
    assert problems == [
        "tcp://w:1: data file /data/adult.csv not found",
        "tcp://w:1: tracking server http://x:5000 not reachable: refused",
        "tcp://w:1: mlworkbench 0.1.0 with other code than this client's 0.1.0 "
        "(install the same commit on every worker and restart it)",
        "tcp://w:1: other package versions: mlflow 3.16.0 (here 3.17.2)",
    ]


def test_a_worker_without_the_project_is_told_to_install_it():
    error = ModuleNotFoundError("No module named 'mlworkbench'")
    (problem,) = cluster.worker_problems("tcp://w:1", error, EXPECTED)
    assert problem.startswith("tcp://w:1: the workbench is not installed")
    assert "No module named 'mlworkbench'" in problem


def test_tracking_problem_never_creates_a_store(tmp_path):
    db = tmp_path / "mlflow.db"
    assert store_problem(f"sqlite:///{db}") == f"tracking store {db} does not exist here"
    assert not db.exists()
    open_client(sqlite_uri(tmp_path))
    assert store_problem(sqlite_uri(tmp_path)) == ""


def test_tracking_problem_for_a_server_that_does_not_answer():
    problem = store_problem("http://127.0.0.1:9")
    assert problem.startswith("tracking server http://127.0.0.1:9 not reachable:")


def test_execution_writes_the_notebook_and_its_pages(tmp_path):
    output = tmp_path / "reports" / "exp" / "run" / "01-eda.ipynb"
    cluster.Execution(
        "FINISHED",
        "r1",
        notebook=b'{"cells": []}',
        pages={"01-eda-profile.html": b"<html>", "figures/a.png": b"png"},
    ).write(output)
    assert output.read_bytes() == b'{"cells": []}'
    assert (output.parent / "01-eda-profile.html").read_bytes() == b"<html>"
    assert (output.parent / "figures" / "a.png").read_bytes() == b"png"


def test_a_stage_whose_worker_died_is_retried_once_as_a_new_run(tmp_path):
    client = open_client(sqlite_uri(tmp_path))
    experiment = client.create_experiment("e")
    parent = client.create_run(experiment).info.run_id
    tags = {"mlflow.parentRunId": parent, "mlwb.stage": "train"}
    first = client.create_run(experiment, run_name="train", tags=tags).info.run_id

    assert cluster._claim_attempt(client, first, "tcp://a:1") == first
    assert cluster.current_run(sqlite_uri(tmp_path), first) == first

    # Worker a died: the next attempt fails its run and logs into a new one.
    retry = cluster._claim_attempt(client, first, "tcp://b:1")
    assert retry != first
    dead = client.get_run(first)
    assert dead.info.status == "FAILED"
    assert dead.data.tags["mlwb.error"] == "Worker tcp://a:1 died during the stage."
    assert json.loads(dead.data.tags[TAG_ATTEMPTS]) == [
        ["tcp://a:1", first],
        ["tcp://b:1", retry],
    ]
    again = client.get_run(retry)
    assert again.info.status == "RUNNING" and again.info.run_name == "train"
    assert again.data.tags["mlflow.parentRunId"] == parent
    assert again.data.tags[TAG_RETRY_OF] == first
    assert again.data.tags[TAG_WORKER] == "tcp://b:1"
    assert cluster.current_run(sqlite_uri(tmp_path), first) == retry

    # Worker b died too: no third attempt, and no run is left RUNNING.
    with pytest.raises(ClusterError, match="died 2 times"):
        cluster._claim_attempt(client, first, "tcp://c:1")
    assert client.get_run(retry).info.status == "FAILED"
    statuses = {r.info.status for r in client.search_runs([experiment])}
    assert statuses == {"FAILED", "RUNNING"}  # the parent is the runner's to end
    assert mlflow.MlflowClient(sqlite_uri(tmp_path)).get_run(parent).info.status == "RUNNING"


def test_the_index_shows_the_attempt_that_counts(tmp_path):

    client = open_client(sqlite_uri(tmp_path))
    experiment = client.create_experiment("e")
    parent = client.create_run(experiment, tags={"mlwb.pipeline": "true"}).info.run_id
    tags = {"mlflow.parentRunId": parent, "mlwb.pipeline": "stage", "mlwb.stage": "train"}
    first = client.create_run(experiment, run_name="train", tags=tags).info.run_id
    cluster._claim_attempt(client, first, "tcp://a:1")
    retry = cluster._claim_attempt(client, first, "tcp://b:1")
    client.set_terminated(retry, "FINISHED")

    (entry,) = collect_runs(client, tmp_path)
    (stage,) = entry.stages
    assert (stage.name, stage.status, stage.retried) == ("train", "FINISHED", True)
    page = render_index([entry], sqlite_uri(tmp_path), tmp_path / "index.html", [])
    assert "run again: the Dask worker running it died" in page.read_text()
