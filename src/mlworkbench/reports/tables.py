"""The explain report's tables as HTML: fairness groups and gates, gaps, proxies,
interactions and error cohorts, with the short texts that introduce or judge them.

The numbers come from `mlworkbench.analysis.explain`; here they are only formatted. A
function ending in `_outputs` returns the section's pieces in the order the notebook shows
them, one notebook output each, and nothing for what there is nothing to show.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd

from mlworkbench.analysis.explain import fairness, proxies
from mlworkbench.analysis.explain.assessment import Analysis
from mlworkbench.reports import elements

GATE_TONES = {"PASS": "ok", "FAIL": "bad"}
"""Callout tone of an overall fairness status (SKIPPED: a warning)."""


def cohort_table_html(table: pd.DataFrame, kind: str, top: int = 15) -> str:
    """The worst `top` error cohorts (see `cohorts.error_cohorts`) as a report table."""
    measure = "mean absolute error" if kind == "regression" else "error rate"
    shown = table.head(top).copy()
    shown["enough_rows"] = shown["enough_rows"].map({True: "", False: "too few rows"})
    headers = {
        "error": measure,
        "overall": f"{measure} on all rows",
        "ratio": "times overall",
        "enough_rows": "note",
    }
    if kind == "regression":
        return elements.table_html(
            shown, decimals={"error": 3, "overall": 3, "ratio": 2}, headers=headers
        )
    return elements.table_html(
        shown, percent=["error", "overall"], decimals={"ratio": 2}, headers=headers
    )


def fairness_table_html(table: pd.DataFrame) -> str:
    """A fairness group table (see `fairness.group_table`): rates as percentages, small
    groups marked."""
    shown = table.copy()
    shown["too_small"] = shown["too_small"].map({True: "too small to judge", False: ""})
    numbers = ("auc", "calibration_error", "mean_prediction", "mean_actual", "mean_absolute_error")
    return elements.table_html(
        shown,
        percent=[c for c in fairness.RATE_COLUMNS if c in shown],
        decimals={c: 3 for c in numbers if c in shown},
        headers={c: c.replace("_", " ") for c in shown.columns},
    )


def group_table_html(name: str, table: pd.DataFrame) -> str:
    """A sensitive feature's group table under its name as a heading."""
    return f"<h3>{elements.escape(name)}</h3>" + fairness_table_html(table)


def gates_table_html(gates: Sequence[Mapping[str, Any]]) -> str:
    """The fairness gates, one row each, with value, limit and status."""
    return elements.table_html(fairness.gates_frame(gates), decimals={"value": 3})


def gates_callout_html(gates: Sequence[Mapping[str, Any]]) -> str:
    """The overall gate status as a callout coloured by it, one sentence per gate."""
    status = fairness.overall_status(gates)
    return elements.callout(
        f"Fairness gates: {status}",
        [fairness.gate_sentence(g) for g in gates],
        tone=GATE_TONES.get(status, "warn"),
    )


def disparities_html(disparities: pd.DataFrame) -> str:
    """Every gap measure over the groups with enough rows, gated or not."""
    return (
        "<p>Every gap measure over the groups with enough rows, gated or not:</p>"
        + elements.table_html(disparities, decimals={"value": 3})
    )


def fairness_outputs(analysis: Analysis) -> list[str]:
    """The fairness section: the gates and their verdict (when any gate applies), the gaps
    (when any group could be judged), then one table per sensitive feature."""
    outputs = []
    if analysis.gates:
        outputs += [gates_table_html(analysis.gates), gates_callout_html(analysis.gates)]
    if not analysis.disparities.empty:
        outputs.append(disparities_html(analysis.disparities))
    return outputs + [group_table_html(name, table) for name, table in analysis.groups.items()]


def proxy_outputs(analysis: Analysis, top: int = 15) -> list[str]:
    """The proxies section: a callout naming the proxies of each sensitive feature, then the
    `top` strongest associations (when any feature was measured)."""
    table = analysis.proxies
    sentences = proxies.sentences(
        table, analysis.settings.proxy_threshold, analysis.sensitive_features
    )
    outputs = [elements.callout("Proxies", sentences)]
    if not table.empty:
        outputs.append(elements.table_html(table.head(top), decimals={"association": 2}))
    return outputs


def interaction_outputs(interactions: pd.DataFrame) -> list[str]:
    """Friedman's H² of the top feature pairs (see `dependence.strongest_pair`), when there
    were two features or more to pair."""
    if interactions.empty:
        return []
    return [
        "<p>Interaction strength of the top features (Friedman's H², 0 none, 1 all):</p>"
        + elements.table_html(interactions, decimals={"h_squared": 3})
    ]
