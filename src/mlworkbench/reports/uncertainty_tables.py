"""The explain report's conformal uncertainty section as HTML: a callout with the summary
sentences, then coverage and interval width or set size per group of each sensitive feature.

The numbers come from `mlworkbench.analysis.explain.uncertainty`; here they are only
formatted.
"""

from __future__ import annotations

from mlworkbench.analysis.explain import uncertainty
from mlworkbench.analysis.explain.uncertainty import Uncertainty
from mlworkbench.reports import elements

HEADERS = {
    "coverage": "coverage (true value in range)",
    "mean_width": "mean interval width",
    "mean_set_size": "mean classes per set",
    "too_small": "note",
}
"""Readable column names of the per-group table."""


def uncertainty_tone(result: Uncertainty) -> str:
    """The callout's tone: a warning when coverage falls short overall or in a group, or
    when it could not be computed; neutral when switched off."""
    if result.status == "off":
        return "info"
    if not result.computed:
        return "warn"
    short = uncertainty.judgement(result) == "below" or not uncertainty.short_groups(result).empty
    return "warn" if short else "ok"


def group_table_html(result: Uncertainty) -> str:
    """Coverage and mean width or set size per group, as percentages and numbers; groups with
    too few rows to judge are flagged."""
    shown = result.table.copy()
    shown["too_small"] = shown["too_small"].map({True: "too few rows", False: ""})
    decimals = {"mean_set_size": 2} if result.size_column == "mean_set_size" else {}
    return elements.table_html(shown, percent=["coverage"], decimals=decimals, headers=HEADERS)


def uncertainty_outputs(result: Uncertainty) -> list[str]:
    """The section: the callout, then the per-group table (when computed and there are
    sensitive groups)."""
    level = f" {result.level:.0%}" if result.level else ""
    title = f"Uncertainty:{level} conformal prediction"
    outputs = [elements.callout(title, result.sentences(), uncertainty_tone(result))]
    if result.computed and not result.table.empty:
        outputs.append(group_table_html(result))
    return outputs
