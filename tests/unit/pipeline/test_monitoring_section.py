"""The `monitoring:` section of a pipeline config: its problems (unknown keys and thresholds,
wrong shape) and the default drift thresholds."""

from __future__ import annotations

import dataclasses

import pytest

from mlworkbench.pipeline.monitoring_section import SECTION_KEYS, Thresholds, check_section

WHERE = "papermill_configs/c.yaml"
THRESHOLD_NAMES = (
    "psi_warn",
    "psi_alert",
    "distance_warn",
    "distance_alert",
    "missing_warn",
    "missing_alert",
    "unseen_warn",
    "unseen_alert",
)


def test_a_missing_section_has_no_problems():
    assert check_section(None, WHERE) == []


def test_a_complete_valid_section_has_no_problems():
    section = {
        "thresholds": {"psi_warn": 0.2, "psi_alert": 0.4, "unseen_alert": 0.1},
        "metric_warn": 0.01,
        "metric_alert": 0.03,
        "alert_command": "mail -s drift team@example.org",
        "after_score": True,
    }
    assert check_section(section, WHERE) == []


def test_empty_or_null_thresholds_are_accepted():
    assert check_section({}, WHERE) == []
    assert check_section({"thresholds": None}, WHERE) == []
    assert check_section({"thresholds": {}}, WHERE) == []


@pytest.mark.parametrize("section", [[], ["thresholds"], "psi_warn: 1", 3])
def test_a_section_that_is_not_a_mapping_is_one_problem(section):
    assert check_section(section, WHERE) == [f"{WHERE}: 'monitoring' must be a mapping."]


def test_each_unknown_key_is_named_with_the_allowed_keys():
    problems = check_section({"treshold": {}, "metric_warn": 0.1, "alerts": "x"}, WHERE)
    allowed = "thresholds, metric_warn, metric_alert, alert_command, after_score"
    assert problems == [
        f"{WHERE}: unknown key 'monitoring.treshold'. Allowed: {allowed}.",
        f"{WHERE}: unknown key 'monitoring.alerts'. Allowed: {allowed}.",
    ]


def test_each_unknown_threshold_is_named_with_every_allowed_threshold():
    problems = check_section({"thresholds": {"psi_warn": 0.1, "ks_alert": 0.3, "psi": 1}}, WHERE)
    allowed = ", ".join(THRESHOLD_NAMES)
    assert problems == [
        f"{WHERE}: unknown threshold 'monitoring.thresholds.ks_alert'. Allowed: {allowed}.",
        f"{WHERE}: unknown threshold 'monitoring.thresholds.psi'. Allowed: {allowed}.",
    ]


def test_unknown_keys_and_unknown_thresholds_are_reported_together():
    problems = check_section({"colour": 1, "thresholds": {"bogus": 1}}, "where")
    assert len(problems) == 2
    assert problems[0].startswith("where: unknown key 'monitoring.colour'")
    assert problems[1].startswith("where: unknown threshold 'monitoring.thresholds.bogus'")


def test_section_keys_are_the_documented_ones():
    assert SECTION_KEYS == (
        "thresholds",
        "metric_warn",
        "metric_alert",
        "alert_command",
        "after_score",
    )


def test_default_thresholds():
    thresholds = Thresholds()
    assert dataclasses.asdict(thresholds) == {
        "psi_warn": 0.1,
        "psi_alert": 0.25,
        "distance_warn": 0.15,
        "distance_alert": 0.3,
        "missing_warn": 0.05,
        "missing_alert": 0.2,
        "unseen_warn": 0.01,
        "unseen_alert": 0.05,
    }


def test_every_default_warn_level_is_below_its_alert_level():
    thresholds = Thresholds()
    for measure in ("psi", "distance", "missing", "unseen"):
        assert getattr(thresholds, f"{measure}_warn") < getattr(thresholds, f"{measure}_alert")


def test_thresholds_are_frozen_and_take_overrides_by_name():
    thresholds = Thresholds(psi_alert=0.5)
    assert thresholds.psi_alert == 0.5 and thresholds.psi_warn == 0.1
    with pytest.raises(dataclasses.FrozenInstanceError):
        thresholds.psi_warn = 0.2  # type: ignore[misc]
    with pytest.raises(TypeError):
        Thresholds(ks_alert=0.3)  # type: ignore[call-arg]
