"""What the explain stage records, written into a real MLflow store and read back."""

from __future__ import annotations

import mlflow
import pandas as pd
import pytest

from mlworkbench.analysis.explain import records
from mlworkbench.tracking import store
from mlworkbench.tracking.tags import TAG_FAIRNESS, TAG_KEY_FIGURES


@pytest.fixture
def client(tmp_path, monkeypatch):
    uri = f"sqlite:///{tmp_path}/mlflow.db"
    monkeypatch.setenv("MLFLOW_TRACKING_URI", uri)
    monkeypatch.chdir(tmp_path)
    mlflow.set_tracking_uri(uri)
    yield mlflow.MlflowClient(uri)
    while mlflow.active_run():
        mlflow.end_run()
    mlflow.set_tracking_uri(None)


def test_log_analysis_records_tables_gates_metrics_and_tags(client, analysis):
    run_id = store.start_stage_run("", "explain-records", "explain", "03-explain.ipynb")
    records.log_analysis(analysis)
    store.end_stage_run()
    run = client.get_run(run_id)
    files = {a.path for d in ("tables", "fairness") for a in client.list_artifacts(run_id, d)}
    assert files == {
        "tables/shap_importance.csv",
        "tables/interactions.csv",
        "tables/error_cohorts.csv",
        "tables/counterfactuals.csv",
        "tables/error_tree_leaves.csv",
        "tables/calibration.csv",
        "tables/conformal.csv",
        "fairness/proxies.csv",
        "fairness/groups_sex.csv",
        "fairness/groups_age.csv",
        "fairness/groups_sex___age.csv",
        "fairness/gates.json",
        "fairness/disparities.csv",
    }
    assert mlflow.artifacts.load_dict(f"runs:/{run_id}/fairness/gates.json") == analysis.gates
    importance = pd.read_csv(
        mlflow.artifacts.download_artifacts(f"runs:/{run_id}/tables/shap_importance.csv")
    )
    assert list(importance["feature"][:2]) == analysis.top
    failed = sum(g["status"] == "FAIL" for g in analysis.gates)
    assert run.data.metrics["fairness_gates_failed"] == failed
    assert run.data.metrics["fairness.sex.demographic_parity_ratio"] == pytest.approx(
        next(g["value"] for g in analysis.gates if g["gate"] == "demographic_parity_ratio")
    )
    assert run.data.tags[TAG_FAIRNESS] == ("FAIL" if failed else "PASS")
    assert run.data.tags["mlwb.gate.sex.demographic_parity_ratio"] == "PASS"
    assert "fairness_gates_passed" in run.data.tags[TAG_KEY_FIGURES]


def test_log_analysis_records_the_diagnostics_tables_and_metrics(client, analysis):
    run_id = store.start_stage_run("", "explain-records", "explain", "03-explain.ipynb")
    records.log_analysis(analysis)
    store.end_stage_run()
    metrics = client.get_run(run_id).data.metrics
    diagnostics = analysis.diagnostics
    assert metrics["calibration.ece"] == pytest.approx(diagnostics.calibration.ece)
    assert metrics["error_tree.leaves"] == len(diagnostics.error_tree.leaves)
    assert metrics["counterfactuals.rows"] == len(diagnostics.counterfactuals.rows)
    assert metrics["conformal.level"] == 0.9  # no training rows in this subject: not computed
    assert "conformal.coverage" not in metrics
    changes = pd.read_csv(
        mlflow.artifacts.download_artifacts(f"runs:/{run_id}/tables/counterfactuals.csv")
    )
    assert len(changes) == len(diagnostics.counterfactuals.table)
    leaves = pd.read_csv(
        mlflow.artifacts.download_artifacts(f"runs:/{run_id}/tables/error_tree_leaves.csv")
    )
    assert leaves["rows"].sum() == len(analysis.subject.rows)
