"""Leakage guards, proxies of sensitive features and waivers of checklist items."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from messy import leaky_frame, messy_frame, rare_class_frame

from mlworkbench.analysis import leakage, profiling, train_stage
from mlworkbench.analysis.explain import proxies
from mlworkbench.governance import checklist, promotion


@pytest.fixture(scope="module")
def leaky_outcome():
    return train_stage.train_and_evaluate(
        leaky_frame(), "outcome", "classification", train_stage.TrainSettings()
    )


def test_a_copy_of_the_target_is_a_suspect_and_too_good(leaky_outcome):
    table = leaky_outcome.single_feature
    assert table.iloc[0]["feature"] == "closing_status"
    assert table.iloc[0]["score"] == pytest.approx(1.0)
    assert leakage.suspects(table) == ["closing_status"]
    assert leaky_outcome.too_good()["roc_auc"] >= 0.99
    warning = leaky_outcome.leakage_warning()
    assert warning[0].startswith("Too good to be true")
    assert "closing_status (roc_auc 1.000 alone)" in warning[0]
    record = leaky_outcome.leakage_record()
    assert record["suspects"] == ["closing_status"] and record["limits"]["too_good"] == 0.99


def test_an_honest_table_raises_no_warning():
    outcome = train_stage.train_and_evaluate(
        messy_frame(), "outcome", "classification", train_stage.TrainSettings()
    )
    assert outcome.leakage_warning() == []
    assert outcome.single_feature["score"].max() < 0.8


def test_accuracy_of_a_rare_class_is_not_too_good():
    outcome = train_stage.train_and_evaluate(
        rare_class_frame(), "outcome", "classification", train_stage.TrainSettings()
    )
    assert outcome.evaluation.metrics["accuracy"] >= 0.99  # the majority class alone
    assert outcome.too_good() == {}


def test_a_regression_leak_is_found_by_r2():
    rng = np.random.default_rng(0)
    rows = pd.DataFrame({"x": rng.normal(size=800), "noise": rng.normal(size=800)})
    rows["y"] = rows["x"] * 3 + rng.normal(0, 0.05, 800)
    table = leakage.single_feature_check(rows[["x", "noise"]], rows["y"].to_numpy(), "regression")
    assert leakage.suspects(table) == ["x"] and table.iloc[0]["metric"] == "r2"


def test_eda_flags_a_probable_leak_and_a_check():
    frame = leaky_frame()
    noisy = frame["outcome"].where(np.random.default_rng(1).random(len(frame)) > 0.15, "no")
    frame["follow_up"] = noisy.map({"yes": "called", "no": "none"})
    result = profiling.analyse(frame, "outcome", "classification", "leaky.csv")
    flags = result.quality.set_index("column")["flags"]
    assert flags["closing_status"] == "probable leak"
    assert flags["follow_up"] == "check: possible leak"
    assert result.probable_leaks() == ["closing_status"]
    assert any(f.startswith("Why a leak matters") for f in result.findings)


def test_proxies_are_measured_against_each_sensitive_feature():
    rng = np.random.default_rng(0)
    sex = pd.Series(rng.choice(["f", "m"], 1000))
    features = pd.DataFrame(
        {
            "first_name_group": sex.map({"f": "A", "m": "B"}).where(rng.random(1000) > 0.05, "A"),
            "income": rng.normal(size=1000),
            "sex": sex,
        }
    )
    table = proxies.proxy_table(features, pd.DataFrame({"sex": sex}), threshold=0.5)
    assert table.iloc[0]["feature"] == "first_name_group" and table.iloc[0]["proxy"]
    assert not table.set_index("feature").loc["income", "proxy"]
    assert "sex" not in set(table["feature"])  # never against itself
    (sentence,) = proxies.sentences(table, 0.5, ["sex"])
    assert sentence.startswith("sex: first_name_group (0.9")


def item(item_id, status):
    return checklist.Item("integrity", item_id, status, "", checklist.Evidence(""), item_id)


def test_a_fail_item_blocks_unless_waived_with_a_reason():
    items = [item("no_leakage", "FAIL"), item("reproducible", "PASS")]
    blocked = promotion.checklist_check([], [i.check for i in items if i.blocks], True)
    assert not blocked.passed and "1 item(s) FAIL: no_leakage" in blocked.detail
    checklist.apply_waivers(items, {"no_leakage": " Recorded before the decision. "})
    assert items[0].waiver == "Recorded before the decision." and not items[0].blocks
    waived = [f"{i.check} ({i.id}): {i.waiver}" for i in items if i.waiver]
    check = promotion.checklist_check([], [i.check for i in items if i.blocks], True, waived)
    assert check.passed
    assert "waived: no_leakage (no_leakage): Recorded before the decision." in check.detail


def test_waivers_are_checked_in_the_config():
    problems = checklist.check_section(
        {"waivers": {"no_leakage": "", "typo_item": "because", "reproducible": "ok"}}, "c.yaml"
    )
    assert any("unknown checklist item 'typo_item'" in p for p in problems)
    assert any("waiver of 'no_leakage' needs a written reason" in p for p in problems)
    assert len(problems) == 2
    assert checklist.check_section({"waivers": ["no_leakage"]}, "c.yaml") == [
        "c.yaml: 'governance.waivers' must map checklist item ids to reasons."
    ]
