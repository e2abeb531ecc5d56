"""The error-analysis tree in the explain report: a callout and the leaves, worst first."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest

from mlworkbench.analysis.explain.error_tree import fit_error_tree
from mlworkbench.reports.error_tree_tables import error_tree_outputs


@pytest.fixture(scope="module")
def tree():
    """600 rows, wrong mostly where the plan is <b>basic</b> and the duration above 24."""
    rng = np.random.default_rng(0)
    frame = pd.DataFrame(
        {
            "duration": rng.integers(1, 61, 600),
            "plan": rng.choice(["<b>basic</b>", "plus"], 600),
        }
    )
    pocket = (frame["duration"] > 24) & (frame["plan"] == "<b>basic</b>")
    wrong = rng.random(600) < np.where(pocket, 0.7, 0.1)
    return fit_error_tree(frame, wrong)


def test_outputs_are_a_callout_then_the_leaves_worst_first(tree):
    callout, table = error_tree_outputs(tree, "binary")
    assert "Where the model is wrong" in callout
    assert f"on {tree.error_rate:.0%} of the 600 rows" in callout
    headers = ["rows where", "rows", "share wrong", "times overall"]
    assert [f"<th>{h}</th>" in table for h in headers] == [True] * 4
    assert table.count("<tr") == len(tree.leaves) + 1
    worst = tree.leaves.iloc[0]
    assert f"{worst['error_rate']:.1%}" in table and f"{worst['times_overall']:.1f}" in table
    first_row = table.split("<tr")[2]
    assert "<b>" not in table + callout
    assert re.search(r"plan = &lt;b&gt;basic&lt;/b&gt; and duration &gt; \d+</td>", first_row)


def test_regression_wording_speaks_of_errors_above_the_median(tree):
    callout, table = error_tree_outputs(tree, "regression")
    assert "error is above the median" in callout and " wrong" not in callout
    assert "<th>share with error above the median</th>" in table
    assert "wrong" not in table


def test_a_tree_without_split_shows_only_the_callout_saying_why():
    single = fit_error_tree(pd.DataFrame({"x": range(40)}), np.arange(40) % 4 == 0)
    (callout,) = error_tree_outputs(single, "multiclass")
    assert "single leaf" in callout and "25% of the 40 rows" in callout
