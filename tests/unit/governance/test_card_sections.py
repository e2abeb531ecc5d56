"""Each section of the model card, written from real runs and a registered version in a SQLite
store in tmp_path: the exact sentences and tables the card shows."""

from __future__ import annotations

from typing import Any, NamedTuple

import mlflow
import pandas as pd
import pytest

from mlworkbench.analysis.explain import fairness
from mlworkbench.governance import card_sections, privacy, promotion
from mlworkbench.governance.card_checklist import checklist_table
from mlworkbench.governance.champion import Challenge
from mlworkbench.governance.checklist import Evidence, Item
from mlworkbench.tracking.tags import (
    TAG_CONFIG,
    TAG_GIT,
    TAG_LOADTEST_PREFIX,
    TAG_PACKAGES,
    TAG_STAGE,
)

STARTED = 1767270600000  # 2026-01-01 12:30 UTC, in ms

ANSWERS = {
    "owner": "Risk team",
    "contact": "risk@example.org",
    "intended_use": "Prioritise manual review of loan applications.",
    "intended_users": "Credit officers",
    "eu_ai_act_risk_category": "high",
    "risk_assessment": {"worst_case": "Denial of credit.", "misuse": "  "},
}


class Store(NamedTuple):
    client: Any
    experiment_id: str


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    """One real SQLite store with an experiment for the module."""
    folder = tmp_path_factory.mktemp("store")
    uri = f"sqlite:///{folder}/mlflow.db"
    mlflow.set_tracking_uri(uri)
    client = mlflow.MlflowClient(uri)
    yield Store(client, client.create_experiment("exp", (folder / "artifacts").as_uri()))
    mlflow.set_tracking_uri(None)


def make_run(store, stage, tags=None, metrics=None, params=None, findings=None):
    client = store.client
    run = client.create_run(store.experiment_id, STARTED, {TAG_STAGE: stage, **(tags or {})})
    for key, value in (metrics or {}).items():
        client.log_metric(run.info.run_id, key, value)
    for key, value in (params or {}).items():
        client.log_param(run.info.run_id, key, value)
    if findings is not None:
        client.log_dict(run.info.run_id, {"findings": findings}, "eda/findings.json")
    client.set_terminated(run.info.run_id)
    return client.get_run(run.info.run_id)


@pytest.fixture(scope="module")
def train(store):
    return make_run(
        store,
        "train",
        {TAG_GIT: "3f2a9c1", TAG_CONFIG: "/project/papermill_configs/german.yaml",
         TAG_PACKAGES: "mlflow 3.17.2, xgboost 3.2.0"},
        {"roc_auc": 0.78, "baseline_roc_auc": 0.5, "lift_roc_auc": 0.28, "accuracy": 0.75,
         "baseline_accuracy": 0.7, "lift_accuracy": 0.05, "decision_threshold": 0.42},
        {"model": "xgboost", "hyperparameters.n_estimators": "100",
         "hyperparameters.max_depth": "3", "data.source": "data/german.csv"},
    )  # fmt: skip


@pytest.fixture(scope="module")
def version(store, train, tmp_path_factory):
    client = store.client
    client.create_registered_model("credit")
    source = tmp_path_factory.mktemp("model").as_uri()
    tags = {"data_digest": "7be1c501", f"{TAG_LOADTEST_PREFIX}p95_ms": "12.50"}
    return client.create_model_version("credit", source, run_id=train.info.run_id, tags=tags)


def test_answers_are_the_questions_and_the_teams_answers_missing_when_empty():
    questions = {"owner": "Who owns it", "misuse": "How it could be misused"}
    assert card_sections.answers(ANSWERS, questions) == [
        "Who owns it: Risk team.",
        "How it could be misused: MISSING.",
    ]


def test_hyperparameters_by_name_or_the_defaults(train):
    assert card_sections.hyperparameters(train.data.params) == "max_depth=3, n_estimators=100"
    assert card_sections.hyperparameters({"model": "linear"}) == "the defaults"


def test_metrics_table_shows_every_metric_with_a_baseline():
    metrics = {"roc_auc": 0.78123, "baseline_roc_auc": 0.5, "lift_roc_auc": 0.28123,
               "recall": 0.9, "baseline_recall": 1.0, "f1": 0.8}  # fmt: skip
    assert card_sections.metrics_table(metrics).to_dict("records") == [
        {"metric": "roc_auc", "model": "0.7812", "baseline": "0.5000", "lift": "+0.2812"},
        {"metric": "recall", "model": "0.9000", "baseline": "1.0000", "lift": "+nan"},
    ]


def test_decision_section_says_what_happened_and_why(version):
    checks = [promotion.Check("fairness gates", True, "every gate passes")]
    promoted = card_sections.decision(version, promotion.Decision("1", checks))
    assert (promoted.title, promoted.anchor) == ("Decision", "decision")
    assert promoted.sentences == [
        "Version 1 of 'credit' is promoted (now the champion).",
        "PASS: fairness gates: every gate passes",
    ]
    blocked = [promotion.Check("champion", False, "worse")]
    rejected = card_sections.decision(version, promotion.Decision("1", blocked))
    assert rejected.sentences == [
        "Version 1 of 'credit' is rejected; champion unchanged.",
        "BLOCKS: champion: worse",
    ]


def test_model_section_names_the_version_run_model_and_threshold(version, train):
    section = card_sections.model(version, train)
    assert section.sentences == [
        f"Registered model 'credit', version 1 (training run {train.info.run_id}).",
        "Model: xgboost; hyperparameters: max_depth=3, n_estimators=100; decision threshold 0.420.",
    ]


def test_intended_use_and_risk_sections_answer_their_questions():
    intended = card_sections.intended_use(ANSWERS)
    assert (intended.title, intended.anchor) == ("Intended use", "intended")
    assert intended.sentences == [
        "Who owns the model (team or person) and answers for it: Risk team.",
        "How to reach the owner: risk@example.org.",
        "What the model is for: the decision it supports: Prioritise manual review of loan "
        "applications.",
        "Who uses its predictions: Credit officers.",
        "Uses the model is not fit for: MISSING.",
        "People affected by decisions made with it: MISSING.",
    ]
    risk = card_sections.risk(ANSWERS)
    assert risk.sentences == [
        "What is the worst that could happen: Denial of credit.",
        "How the model could be misused: MISSING.",
        "Legal and ethical questions and their answers: MISSING.",
        "How humans oversee decisions (human in the loop): MISSING.",
        "Data protection and retention: MISSING.",
        "EU AI Act risk category the team assigns: high.",
    ]


def test_training_data_section(version, train):
    section = card_sections.training_data(version, train, "risk", 1000, 250)
    assert section.sentences == [
        "Source: german.csv; target 'risk'; data digest 7be1c501.",
        "1,000 rows, of which 250 held out for testing; trained 2026-01-01 12:30 UTC.",
    ]


def test_evaluation_section_is_the_metrics_table(train):
    section = card_sections.evaluation(train.data.metrics)
    assert (section.title, section.sentences, section.anchor) == (
        "Evaluation on the test rows", [], "evaluation"
    )  # fmt: skip
    rows = section.table.set_index("metric").to_dict("index")
    assert rows == {
        "roc_auc": {"model": "0.7800", "baseline": "0.5000", "lift": "+0.2800"},
        "accuracy": {"model": "0.7500", "baseline": "0.7000", "lift": "+0.0500"},
    }


def test_data_quality_section(store):
    found = card_sections.data_quality(make_run(store, "eda", findings=["age: 3% missing"]))
    assert (found.sentences, found.anchor) == (["age: 3% missing"], "eda")
    clean = card_sections.data_quality(make_run(store, "eda", findings=[]))
    assert clean.sentences == ["No data-quality findings."]
    assert card_sections.data_quality(None).sentences == ["MISSING: no EDA run."]


def test_explanations_section_shows_top_features_and_the_gates():
    table = pd.DataFrame(
        {"group": ["female", "male"], "rows": [80, 170], "selection_rate": [0.6, 0.75],
         "too_small": [False, False]}
    )  # fmt: skip
    gates = fairness.evaluate_gates({"sex": table}, "binary", {"demographic_parity_ratio": 0.9})
    section = card_sections.explanations(["duration", "age"], gates)
    assert section.sentences == ["Top features by SHAP: duration, age."]
    row = section.table.iloc[0]
    assert (row["feature"], row["gate"], row["value"], row["required"], row["status"]) == (
        "sex", "demographic parity ratio", 0.8, ">= 0.9", "FAIL"
    )  # fmt: skip
    empty = card_sections.explanations([], [])
    assert (empty.sentences, empty.table) == (["Top features by SHAP: MISSING."], None)


def test_privacy_section_lists_findings_treatment_overrides_and_the_scans_outcome():
    finding = privacy.Finding("email", "e-mail address", "column name 'email'")
    frame = pd.DataFrame({"email": ["ana.silva@example.org"], "note": ["n"]})
    reviewed = privacy.review(
        privacy.PersonalData([finding], ["note"]), {"not_personal": ["note"]}, False, [], frame,
        [("train run report/02-train.html", "ana.silva@example.org")], ["train"],
    )  # fmt: skip
    section = card_sections.privacy_findings(reviewed)
    assert (section.title, section.anchor) == ("Privacy", "privacy")
    assert section.sentences == [
        "1 column(s) hold personal data, as the card's check of the data finds them (the "
        "training run recorded none):",
        "email: e-mail address (column name 'email').",
        "Treatment: dropped from the features, masked in reports (their values appear only as "
        "pseudonyms).",
        "Declared not personal in the config (privacy.not_personal), so treated as any other "
        "column: note, overriding the check's finding for note.",
        "Published values: values of personal columns appear: email in train run "
        "report/02-train.html.",
    ]
    assert card_sections.privacy_findings(privacy.Review()).sentences == [
        "No column looks like personal data by name or content.",
        "The config overrides nothing (no privacy.personal_columns or privacy.not_personal).",
    ]


def test_checklist_section_counts_the_items_and_shows_the_table():
    items = [
        Item("privacy", "a", "PASS", "", Evidence("x")),
        Item("integrity", "b", "FAIL", "", Evidence("y")),
        Item("integrity", "c", "PASS", "", Evidence("z")),
    ]
    section = card_sections.checklist_summary(items)
    assert section.sentences == ["2 PASS, 1 FAIL, 0 MISSING."]
    pd.testing.assert_frame_equal(section.table, checklist_table(items))
    assert (section.title, section.anchor) == ("Responsible-AI checklist", "checklist")


def test_champion_section_compared_unreadable_or_no_champion(store, version, tmp_path):
    champion = store.client.create_model_version("credit", tmp_path.as_uri())
    table = pd.DataFrame(
        {"measure": ["metric: roc_auc"], "challenger": ["0.78"], "champion": ["0.7"]}
    )
    compared = card_sections.champion(version, Challenge(champion, table, {"roc_auc": 0.7}), 250)
    assert compared.sentences == [
        "Challenger version 1 against champion version 2, both on the challenger's 250 test rows."
    ]
    assert compared.table is table
    blocked = promotion.Check("champion", False, "cannot be compared with the champion: gone")
    unreadable = card_sections.champion(version, Challenge(unreadable=blocked), 250)
    assert unreadable.sentences == ["BLOCKS: champion: cannot be compared with the champion: gone"]
    assert card_sections.champion(version, Challenge(), 250).sentences == [
        "No champion yet: nothing to compare with."
    ]


def test_production_section_judges_the_load_test_figures(version):
    section = card_sections.production(version, {"p95_ms": 10.0})
    assert (section.title, section.anchor) == ("Production readiness", "production")
    assert section.sentences[1] == "p95_ms 12.5 <= 10 required: FAIL."


def test_lineage_section_names_commit_config_runs_and_packages(train):
    runs = {"eda": None, "train": train, "explain": None}
    section = card_sections.lineage(runs, "card1")
    assert section.sentences == [
        "git commit 3f2a9c1; config german.yaml.",
        f"Runs: train {train.info.run_id}, card card1.",
        "Packages: mlflow 3.17.2, xgboost 3.2.0.",
    ]
