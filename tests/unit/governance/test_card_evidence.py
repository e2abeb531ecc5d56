"""The card's evidence read from a real MLflow store in tmp_path: which runs it describes, the
version their training registered, and what those runs logged."""

from __future__ import annotations

import pandas as pd
import pytest

from mlworkbench.analysis.explain import fairness
from mlworkbench.analysis.personal_data import PRIVACY_ARTIFACT, Finding, PersonalData
from mlworkbench.exceptions import ExplainInputError
from mlworkbench.governance import card_evidence
from mlworkbench.governance.checklist import Evidence
from mlworkbench.tracking.tags import TAG_REPORT, TAG_STAGE, TAG_TRAIN_RUN


def make_run(store, stage, started, tags=None, metrics=None, params=None, finished=True):
    """A run of `stage` started at `started` (ms), FINISHED unless told otherwise."""
    client = store.client
    run = client.create_run(store.experiment_id, started, {TAG_STAGE: stage, **(tags or {})})
    for key, value in (metrics or {}).items():
        client.log_metric(run.info.run_id, key, value)
    for key, value in (params or {}).items():
        client.log_param(run.info.run_id, key, value)
    if finished:
        client.set_terminated(run.info.run_id)
    return client.get_run(run.info.run_id)


def test_given_run_ids_are_the_runs_described(store):
    client, experiment = store.client, store.experiment
    eda, train, explain = (make_run(store, s, t) for s, t in (("eda", 1), ("train", 2), ("x", 3)))
    make_run(store, "train", 10)  # newer, but not the one asked for
    ids = {"eda": eda.info.run_id, "train": train.info.run_id, "explain": explain.info.run_id}
    runs = card_evidence.stage_runs(client, experiment, ids)
    assert {stage: run.info.run_id for stage, run in runs.items()} == ids


def test_without_ids_the_newest_finished_runs_and_an_explain_run_of_that_training(store):
    client, experiment = store.client, store.experiment
    make_run(store, "eda", 1)
    eda = make_run(store, "eda", 2)
    make_run(store, "eda", 3, finished=False)
    train = make_run(store, "train", 4)
    make_run(store, "train", 9, finished=False)
    mine = make_run(store, "explain", 5, {TAG_TRAIN_RUN: train.info.run_id})
    make_run(store, "explain", 6, {TAG_TRAIN_RUN: "another training run"})
    runs = card_evidence.stage_runs(client, experiment, {"eda": "", "train": "", "explain": ""})
    assert runs["eda"].info.run_id == eda.info.run_id
    assert runs["train"].info.run_id == train.info.run_id
    assert runs["explain"].info.run_id == mine.info.run_id


def test_missing_eda_and_explain_runs_are_none_and_a_missing_training_run_is_an_error(store):
    client, experiment = store.client, store.experiment
    with pytest.raises(ExplainInputError, match="has no finished training run to describe"):
        card_evidence.stage_runs(client, experiment, {})
    train = make_run(store, "train", 1)
    runs = card_evidence.stage_runs(client, experiment, {})
    assert runs == {"eda": None, "train": runs["train"], "explain": None}
    assert runs["train"].info.run_id == train.info.run_id


def test_the_model_version_is_the_one_the_training_run_registered(store, tmp_path):
    client = store.client
    train, other = make_run(store, "train", 1), make_run(store, "train", 2)
    client.create_registered_model("registered")
    source = (tmp_path / "model").as_uri()
    client.create_model_version("registered", source, run_id=other.info.run_id)
    client.create_model_version("registered", source, run_id=train.info.run_id)
    version = card_evidence.model_version(client, train)
    assert (version.name, str(version.version)) == ("registered", "2")


def test_evidence_links_the_runs_report_relative_to_the_cards_report(store, tmp_path):
    train = make_run(store, "train", 1, {TAG_REPORT: "exp/20260101-000000-aaaa/02-train.html"})
    card_dir = tmp_path / "reports" / "exp" / "20260102-000000-bbbb"
    found = card_evidence.evidence(train, "leakage/check.json", card_dir)
    assert found == Evidence(
        f"runs:/{train.info.run_id}/leakage/check.json", "../20260101-000000-aaaa/02-train.html"
    )
    unreported = make_run(store, "eda", 2)
    assert card_evidence.evidence(unreported, "eda/quality.csv", card_dir).href == ""
    assert card_evidence.evidence(None, "eda/quality.csv", card_dir) is None


def test_report_artifact_is_the_reports_file_name_under_report(store):
    train = make_run(store, "train", 1, {TAG_REPORT: "exp/20260101-000000-aaaa/02-train.html"})
    assert card_evidence.report_artifact(train) == "report/02-train.html"
    assert card_evidence.report_artifact(make_run(store, "eda", 2)) == "report/report.html"


def test_eda_findings_are_the_logged_ones_or_the_count_of_an_older_run(store):
    client = store.client
    eda = make_run(store, "eda", 1)
    findings = {"findings": ["age: 3% missing", "job: rare"]}
    client.log_dict(eda.info.run_id, findings, "eda/findings.json")
    assert card_evidence.eda_findings(eda) == ["age: 3% missing", "job: rare"]
    older = make_run(store, "eda", 2, metrics={"quality_findings": 3})
    assert card_evidence.eda_findings(older) == ["3 finding(s); see the EDA report"]
    assert card_evidence.eda_findings(make_run(store, "eda", 3)) == []


def test_the_primary_metric_of_an_untagged_run_is_the_first_it_logged_of_three(store):
    assert card_evidence.primary_metric(make_run(store, "t", 1, metrics={"rmse": 3.0})) == "rmse"
    both = make_run(store, "t", 2, metrics={"roc_auc_ovr": 0.9, "rmse": 3.0, "roc_auc": 0.8})
    assert card_evidence.primary_metric(both) == "roc_auc"
    assert card_evidence.primary_metric(make_run(store, "t", 3, metrics={"r2": 0.5})) == ""


def test_fairness_gates_and_thresholds_of_the_explain_run(store):
    client = store.client
    gates = [{"feature": "sex", "gate": "demographic_parity_ratio", "status": "PASS"}]
    explained = make_run(
        store, "explain", 1, params={"fairness_thresholds.demographic_parity_ratio": "0.9"}
    )
    client.log_dict(explained.info.run_id, gates, "fairness/gates.json")
    assert card_evidence.fairness_gates(explained) == gates
    assert card_evidence.fairness_gates(None) == []
    assert card_evidence.fairness_thresholds(explained) == {"demographic_parity_ratio": 0.9}
    assert card_evidence.fairness_thresholds(make_run(store, "explain", 2)) == dict(
        fairness.DEFAULT_THRESHOLDS
    )
    assert card_evidence.fairness_thresholds(None) == dict(fairness.DEFAULT_THRESHOLDS)


def test_logged_top_features_are_the_first_five_of_the_shap_ranking(store):
    client = store.client
    explained = make_run(store, "explain", 1)
    ranking = "feature,importance\n" + "".join(f"f{i},{10 - i}\n" for i in range(7))
    client.log_text(explained.info.run_id, ranking, "tables/shap_importance.csv")
    assert card_evidence.logged_top_features(explained) == ["f0", "f1", "f2", "f3", "f4"]
    assert card_evidence.logged_top_features(None) == []


def test_personal_columns_are_the_training_runs_record_else_the_check_of_the_data(store):
    client = store.client
    frame = pd.DataFrame(
        {"email": [f"user{i}@example.org" for i in range(8)], "ref": list("abcdefgh"),
         "y": [0, 1] * 4}
    )  # fmt: skip
    settings = {"personal_columns": ["ref"]}
    older = make_run(store, "train", 1)
    personal, recorded = card_evidence.personal_columns(client, older, frame, "y", settings)
    assert (personal.columns, recorded) == (["email", "ref"], False)
    train = make_run(store, "train", 2)
    logged = PersonalData([Finding("email", "e-mail address", "column name 'email'")], ["x"])
    client.log_dict(train.info.run_id, logged.as_dict(), PRIVACY_ARTIFACT)
    personal, recorded = card_evidence.personal_columns(client, train, frame, "y", settings)
    assert (personal, recorded) == (logged, True)


def test_published_texts_are_every_text_artifact_params_tags_and_artifact_names(store, tmp_path):
    client = store.client
    eda = make_run(store, "eda", 1, params={"data.source": "customers.csv"})
    run_id = eda.info.run_id
    client.log_text(run_id, "<td>anon-3f2a9c1b7e</td>", "report/01-eda.html")
    client.log_text(run_id, "flavors: {}", "model/MLmodel")
    client.log_dict(run_id, {"columns": []}, "deep/er/sample.json")
    for name, content in (("model.pkl", b"\x80\x04text"), ("plot.png", b"\x89PNG"),
                          ("binary.json", b"{\x00}"), ("rows.csv", b"a,b\n1,2\n")):  # fmt: skip
        (tmp_path / name).write_bytes(content)
        client.log_artifact(run_id, str(tmp_path / name), "files")
    texts = card_evidence.published_texts(client, {"eda": eda, "train": None})
    assert not isinstance(texts, list)  # lazy: nothing is downloaded until read
    read = dict(texts)
    assert list(read) == [
        "params of eda run", "tags of eda run", "artifact names of eda run",
        "eda run deep/er/sample.json", "eda run files/rows.csv", "eda run model/MLmodel",
        "eda run report/01-eda.html",
    ]  # fmt: skip
    assert read["params of eda run"] == "data.source=customers.csv"
    assert "mlwb.stage=eda" in read["tags of eda run"].splitlines()
    assert "files/model.pkl" in read["artifact names of eda run"].splitlines()
    assert read["eda run report/01-eda.html"] == "<td>anon-3f2a9c1b7e</td>"
    assert card_evidence.is_text_artifact("a/input_example.parquet", 10)
    assert not card_evidence.is_text_artifact("rows.csv", card_evidence.MAX_TEXT_BYTES + 1)
    assert not card_evidence.is_text_artifact("model/model.skops", 10)
