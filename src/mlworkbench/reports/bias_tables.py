"""The EDA report's section on bias in the data before training, as HTML: the findings in
words, the metric table per sensitive group, and what each metric says.

The numbers come from `mlworkbench.analysis.data_bias`; here they are only formatted.
"""

from __future__ import annotations

from mlworkbench.analysis.data_bias import DataBias
from mlworkbench.reports import elements

DECIMALS = {"target_mean": 2, "CI": 2, "DPL": 3, "KL": 4, "JS": 4, "KS": 3, "TVD": 3}
"""Decimals per metric column: JS and KL are small numbers, so they keep four."""

SMALL_NOTE = "too few rows to judge"


def caption_html(bias: DataBias) -> str:
    """The sentence above the table: what each row compares and, for a binary outcome, the
    positive label."""
    compared = "Each group (d) is compared with all other labelled rows (a)."
    if bias.kind == "binary":
        compared += f" Positive label: {bias.target} = {bias.positive_label}."
    elif bias.kind == "regression":
        compared += f" DPL is in standard deviations of {bias.target}."
    return f"<p>{elements.escape(compared)}</p>"


def bias_table_html(bias: DataBias) -> str:
    """The metric table: shares as percentages, metrics with `DECIMALS`, small groups noted
    (the note column only when there are any)."""
    shown = bias.table.copy()
    if shown["too_small"].any():
        shown["too_small"] = shown["too_small"].map({True: SMALL_NOTE, False: ""})
    else:
        shown = shown.drop(columns="too_small")
    return elements.table_html(
        shown,
        percent=[c for c in ("share", "positive_share") if c in shown],
        decimals={c: d for c, d in DECIMALS.items() if c in shown},
        headers={
            "positive_share": "positive share",
            "target_mean": f"mean {bias.target}",
            "too_small": "note",
        },
    )


def bias_outputs(bias: DataBias) -> list[str]:
    """The section's pieces in the order the notebook shows them: the findings, the metric
    table under its caption and the readings; only the findings when nothing was measured."""
    findings = elements.callout("Bias in the data before training", bias.sentences())
    if bias.table.empty:
        return [findings]
    return [
        findings,
        caption_html(bias) + bias_table_html(bias),
        elements.table_html(bias.readings),
    ]
