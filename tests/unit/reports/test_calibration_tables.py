"""The explain report's calibration section as HTML, on synthetic scores of known calibration."""

from __future__ import annotations

import numpy as np
import pandas as pd

from mlworkbench.analysis.explain import calibration
from mlworkbench.reports import calibration_tables, elements


def synthetic(shift: float) -> calibration.Calibration:
    """Scores `shift` above the true probability for 3,000 rows in three groups, one tiny."""
    rng = np.random.default_rng(5)
    n = 3_000
    truth = rng.uniform(0.1, 0.85, n)
    y = (rng.random(n) < truth).astype(int)
    group = np.where(np.arange(n) < 10, "<b>tiny</b>", rng.choice(["north", "south"], n))
    return calibration.calibration("binary", y, truth + shift, pd.DataFrame({"region": group}))


def test_outputs_are_the_callout_then_the_group_table_with_small_groups_flagged():
    result = synthetic(0.0)
    callout, table = calibration_tables.calibration_outputs(result)
    assert "Calibration" in callout and "#1a7f37" in callout  # well calibrated: ok tone
    for sentence in result.sentences():
        assert elements.escape(sentence) in callout
    assert "<th>calibration error (ECE)</th>" in table and "<th>observed rate</th>" in table
    assert table.count("too small to compare") == 1
    assert "&lt;b&gt;tiny&lt;/b&gt;" in table and "<b>tiny</b>" not in table
    north = result.table.set_index("group").loc["north"]
    assert f"{north['ece']:.3f}" in table and f"{north['observed_rate']:.1%}" in table
    assert "fewer than 30 rows are shown but not compared" in table


def test_poorly_calibrated_scores_get_a_warning():
    result = synthetic(0.12)
    (callout, _) = calibration_tables.calibration_outputs(result)
    assert "#9a6700" in callout and "poorly calibrated" in callout
    assert "above the observed rate" in callout


def test_a_regression_model_gets_only_the_not_applicable_callout():
    y = np.linspace(0, 1, 50)
    result = calibration.calibration("regression", y, y, pd.DataFrame({"g": ["a"] * 50}))
    (callout,) = calibration_tables.calibration_outputs(result)
    assert "does not apply to a regression model" in callout and "#1f6feb" in callout
