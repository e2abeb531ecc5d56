"""Monitoring one batch (`monitoring.analyse`) and what the monitor stage shows and records
(`monitor_report`), with a small Titanic model in a real MLflow store."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import mlflow
import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import roc_auc_score

from mlworkbench.exceptions import ExplainInputError, ScoringInputError
from mlworkbench.production import drift, monitor_report, monitoring, scoring
from mlworkbench.reports import elements
from mlworkbench.tracking import store
from mlworkbench.tracking.tags import (
    TAG_BATCH_DATE,
    TAG_KEY_FIGURES,
    TAG_MODEL,
    TAG_MONITOR_BATCH_DATE,
    TAG_MONITOR_RUN,
    TAG_MONITOR_STATUS,
    TAG_SUMMARY,
)


def analyse(trained, batch, labels="", reference="", **thresholds):
    settings = monitoring.MonitorSettings(drift.Thresholds(**thresholds))
    client = mlflow.MlflowClient()
    return monitoring.analyse(
        client, reference or f"{trained.name}@challenger", batch, labels, settings
    )


def shifted(trained):
    """The held-out rows with the documented kind of shift: 15 years older, and 60% of the
    passengers moved to first class."""
    batch = trained.test.drop(columns=[trained.target])
    batch["age"] = batch["age"] + 15
    batch.loc[np.random.default_rng(0).random(len(batch)) < 0.6, "class"] = "1st"
    return batch


def test_the_held_out_rows_are_ok_and_their_predictions_did_not_move(tracked):
    batch = tracked.test.drop(columns=[tracked.target])
    resolved, result = analyse(tracked, batch)
    assert (resolved.name, resolved.version) == (tracked.name, tracked.version)
    assert result.status == "OK" and result.rows == len(batch)
    assert set(result.features["feature"]) == set(batch.columns)
    assert set(result.features["status"]) == {"OK"} and result.schema == []
    (predictions,) = result.predictions.itertuples()  # the same rows as the reference
    assert predictions.feature == "score" and predictions.psi == pytest.approx(0, abs=1e-12)
    assert result.performance.empty and result.fairness_gaps.empty
    assert result.summary[0] == (
        f"Status OK for '{tracked.name}' version {tracked.version} on {len(batch):,} rows. "
        "The model still sees data like its training data: fit for use."
    )
    assert "No feature moved beyond the warning thresholds." in result.summary
    assert result.summary[-1].startswith("No labels in this batch")


def test_a_shift_in_two_features_alerts_on_exactly_those(tracked):
    _, result = analyse(tracked, shifted(tracked))
    flagged = result.features[result.features["status"] != "OK"]
    assert result.status == "ALERT"
    assert set(flagged["feature"]) == {"age", "class"} and set(flagged["status"]) == {"ALERT"}
    assert result.predictions["psi"].iloc[0] > 0.1  # older first-class passengers survive more
    metrics = monitor_report.metrics(result)
    table = result.features.set_index("feature")
    assert metrics["psi.age"] == table.loc["age", "psi"]
    assert metrics["distance.class"] == table.loc["class", "distance"]
    assert metrics["max_psi"] == table["psi"].max()
    assert (metrics["features_ok"], metrics["features_alert"]) == (len(table) - 2, 2)
    assert metrics["prediction_psi"] == result.predictions["psi"].iloc[0]
    assert monitor_report.key_figures(result) == {
        "rows": len(tracked.test),
        "status_level": 2,
        "max_psi": table["psi"].max(),
    }


def test_with_labels_performance_equals_a_direct_computation_and_gaps_are_measured(tracked):
    _, result = analyse(tracked, tracked.test, labels=tracked.target)
    model = mlflow.pyfunc.load_model(f"models:/{tracked.name}/{tracked.version}")
    proba = model.predict(tracked.test.drop(columns=[tracked.target]))["probability_1"]
    direct = roc_auc_score(tracked.test[tracked.target], proba)
    performance = result.performance.set_index("metric")
    assert performance.loc["roc_auc", "batch"] == pytest.approx(direct, abs=1e-12)
    assert performance.loc["roc_auc", "training"] == tracked.metrics["roc_auc"]
    assert performance.loc["roc_auc", "change"] == pytest.approx(0, abs=1e-12)  # the same rows
    assert set(result.fairness_gaps["feature"]) == {"gender"}  # the explain run's choice
    assert result.status == "OK"
    assert result.summary[-1] == (
        f"With labels: roc_auc {direct:.3f} on this batch against "
        f"{tracked.metrics['roc_auc']:.3f} in training (+0.000)."
    )
    metrics = monitor_report.metrics(result)
    assert metrics["batch_roc_auc"] == performance.loc["roc_auc", "batch"]


def test_a_missing_column_alerts_and_leaves_the_predictions_unmeasured(tracked):
    batch = tracked.test.drop(columns=[tracked.target, "class"]).assign(channel="web")
    _, result = analyse(tracked, batch)
    assert result.status == "ALERT"
    changes = {(c["column"], c["change"], c["status"]) for c in result.schema}
    assert ("class", "removed", "ALERT") in changes
    assert ("channel", "added", "WARN") in changes or ("channel", "added", "OK") in changes
    assert result.predictions.empty
    assert "Schema: column 'class' removed." in result.summary
    assert any(s.startswith("Prediction drift not measured") for s in result.summary)


def test_a_labels_column_not_in_the_batch_or_a_run_without_statistics_is_refused(tracked):
    batch = tracked.test.drop(columns=[tracked.target])
    with pytest.raises(ScoringInputError, match="Labels column 'outcome' is not in the batch"):
        analyse(tracked, batch, labels="outcome")
    client = mlflow.MlflowClient()
    version = client.get_model_version(tracked.name, tracked.version)
    bare = client.create_run(client.get_run(tracked.run_id).info.experiment_id).info.run_id
    client.create_registered_model("no-statistics")
    client.create_model_version("no-statistics", version.source, bare)
    with pytest.raises(ExplainInputError, match=f"Training run {bare} logged no reference"):
        analyse(tracked, batch, reference="models:/no-statistics/1")


def test_the_report_tables_show_only_what_there_is_as_the_notebook_did(tracked):
    _, ok = analyse(tracked, tracked.test.drop(columns=[tracked.target]))
    percent = ["missing_share", "missing_change", "unseen_share"]
    features = elements.table_html(ok.features, percent, {"psi": 3, "distance": 3})
    assert monitor_report.feature_tables(ok) == [features]  # no schema change: one table
    decimals = {"psi": 3, "distance": 3, "missing_share": 3, "missing_change": 3}
    decimals |= {"unseen_share": 3}
    assert list(ok.predictions.select_dtypes("number")) == list(decimals)
    predictions = elements.table_html(ok.predictions, decimals=decimals)
    assert monitor_report.result_tables(ok) == [f"<h3>Prediction drift</h3>{predictions}"]
    batch = tracked.test.drop(columns=["class"])
    _, changed = analyse(tracked, batch, labels=tracked.target)
    tables = monitor_report.feature_tables(changed)
    schema = elements.table_html(monitor_report.schema_frame(changed.schema))
    assert len(tables) == 2 and tables[1] == f"<p>Schema changes:</p>{schema}"
    assert monitor_report.result_tables(changed) == []  # not scored, so nothing measured
    assert [monitor_report.status_tone(s) for s in drift.STATUSES] == ["ok", "warn", "bad"]


def test_the_batch_date_is_the_given_one_else_today():
    assert monitor_report.batch_day("2026-11-12") == "2026-11-12"
    assert monitor_report.batch_day("") == datetime.now(tz=UTC).strftime("%Y-%m-%d")


def test_log_run_records_tables_metrics_tags_and_the_status_on_the_version(tracked, tmp_path):
    resolved, result = analyse(tracked, shifted(tracked).assign(deck="C"))
    client = mlflow.MlflowClient()
    experiment = store.get_or_create_experiment(client, "monitoring")
    with mlflow.start_run(experiment_id=experiment) as run:
        monitor_report.publish_psi(result, drift.Thresholds())
        monitor_report.log_run(client, resolved, result, "2026-11-12", run.info.run_id)
    run_id = run.info.run_id
    logged = client.get_run(run_id).data
    figures = monitor_report.key_figures(result)
    assert logged.metrics == pytest.approx({**monitor_report.metrics(result), **figures})
    assert logged.tags[TAG_KEY_FIGURES] == "rows,status_level,max_psi"
    assert logged.tags[TAG_MONITOR_STATUS] == "ALERT"
    assert logged.tags[TAG_BATCH_DATE] == "2026-11-12"
    assert logged.tags[TAG_MODEL] == f"{tracked.name}/{tracked.version}"
    assert logged.tags[TAG_SUMMARY] == "\n".join(result.summary)
    version = client.get_model_version(tracked.name, tracked.version).tags
    assert version[TAG_MONITOR_STATUS] == "ALERT" and version[TAG_MONITOR_RUN] == run_id
    assert version[TAG_MONITOR_BATCH_DATE] == "2026-11-12"
    folder = mlflow.artifacts.download_artifacts(run_id=run_id, dst_path=str(tmp_path))
    features = pd.read_csv(f"{folder}/monitoring/features.csv")
    assert list(features["feature"]) == list(result.features["feature"])
    np.testing.assert_allclose(features["psi"], result.features["psi"], rtol=1e-12)
    for name in ("predictions", "performance", "fairness"):
        assert (tmp_path / "monitoring" / f"{name}.csv").is_file()
    schema = json.loads((tmp_path / "monitoring" / "schema.json").read_text())
    assert schema == result.schema and {c["column"] for c in schema} == {"deck"}
    assert (tmp_path / "plots" / "psi.png").read_bytes().startswith(b"\x89PNG")


def published_text(client, run_id: str, folder) -> str:
    """Everything a run published as text: its params, tags, metric names and artifacts."""
    run = client.get_run(run_id).data
    parts = [*run.params.items(), *run.tags.items(), *run.metrics]
    downloaded = Path(mlflow.artifacts.download_artifacts(run_id=run_id, dst_path=str(folder)))
    parts += [p.read_bytes().decode("utf-8", "replace") for p in downloaded.rglob("*.*")]
    return "\n".join(map(str, parts))


def monitor_and_log(trained, batch, folder, id_column="", labels=""):
    """`analyse` and `monitor_report.log_run` as the notebook runs them, in a run of its own;
    the result, every table and sentence the report shows, and all the run published."""
    settings = monitoring.MonitorSettings()
    client = mlflow.MlflowClient()
    resolved, result = monitoring.analyse(
        client, f"{trained.name}@challenger", batch, labels, settings, id_column
    )
    with mlflow.start_run(experiment_id=store.get_or_create_experiment(client, "monitor")) as run:
        monitor_report.publish_psi(result, settings.thresholds)
        monitor_report.log_run(client, resolved, result, "2026-11-12", run.info.run_id)
        store.set_note(result.summary)
    shown = [*result.summary, *monitor_report.feature_tables(result)]
    shown += monitor_report.result_tables(result)
    return result, "\n".join([*shown, published_text(client, run.info.run_id, folder)])


def test_personal_and_id_columns_are_named_but_no_value_is_shown_or_logged(
    personal_titanic, tracked, tmp_path, planted
):
    _, values_of, columns = planted
    batch = personal_titanic.test.drop(columns=[personal_titanic.target])
    result, text = monitor_and_log(personal_titanic, batch, tmp_path / "ok", "case_ref")
    assert result.status == "OK" and result.schema == []
    assert result.personal == columns[:-1]  # the id column is no feature at all
    assert set(result.features["feature"]) == set(batch.columns) - set(columns)
    assert (
        "Not compared, as they hold personal data (values never shown): "
        "name, email, phone, iban, date_of_birth." in result.summary
    )
    values = values_of(batch, columns)
    assert len(values) > 5 * len(batch) and not [v for v in values if v in text]
    _, plain = analyse(tracked, batch.drop(columns=columns))  # the model without personal data
    pd.testing.assert_frame_equal(result.features, plain.features)
    older = shifted(personal_titanic).drop(columns=["case_ref"])
    moved, text = monitor_and_log(personal_titanic, older, tmp_path / "shifted")
    flagged = moved.features[moved.features["status"] != "OK"]
    assert set(flagged["feature"]) == {"age", "class"} and moved.status == "ALERT"
    assert not [v for v in values_of(older, columns) if v in text]


def test_a_scored_batch_read_back_with_its_pseudonyms_monitors_as_the_batch(
    personal_titanic, tracked, tmp_path, planted
):
    _, values_of, columns = planted
    batch = personal_titanic.test.drop(columns=[personal_titanic.target])
    source = tmp_path / "batch.csv"
    batch.to_csv(source, index=False)
    scored = scoring.score_batch(
        mlflow.MlflowClient(),
        f"models:/{personal_titanic.name}@challenger",
        str(source),
        tmp_path / "out.csv",
        "case_ref",
    )
    kept = scoring.kept_batch(scored)
    assert scoring.pseudonymised(kept) == columns
    result, text = monitor_and_log(personal_titanic, kept, tmp_path / "kept", "case_ref")
    direct, _ = monitor_and_log(personal_titanic, batch, tmp_path / "direct", "case_ref")
    assert result.status == "OK" and result.schema == [] and result.personal == columns[:-1]
    pd.testing.assert_frame_equal(result.features, direct.features)
    pd.testing.assert_frame_equal(result.predictions, direct.predictions)
    without_id, _ = monitor_and_log(personal_titanic, kept, tmp_path / "no-id")
    assert without_id.schema == [] and without_id.personal == columns
    assert not [v for v in values_of(batch, columns) if v in text]


def test_a_model_without_a_privacy_record_still_shows_no_personal_value(tracked, tmp_path, planted):
    plant, values_of, columns = planted
    batch = plant(tracked.test, seed=3)
    batch.loc[batch.index[:5], "class"] = [f"Stowaway-{i}" for i in range(5)]
    result, text = monitor_and_log(tracked, batch, tmp_path, "", tracked.target)
    assert {(c["column"], c["change"]) for c in result.schema} == {(c, "added") for c in columns}
    assert result.personal == columns
    table = result.features.set_index("feature")
    assert table.loc["class", "unseen"].startswith("Stowaway-")  # other features: as before
    assert not set(columns) & set(table.index) and not result.fairness_gaps.empty
    assert not [v for v in values_of(batch, columns) if v in text]
