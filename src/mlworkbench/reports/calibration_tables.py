"""The explain report's calibration section as HTML: the findings in words, then the expected
calibration error (ECE) of every group of each sensitive feature, small groups flagged.

The numbers come from `mlworkbench.analysis.explain.calibration`; here they are only
formatted. The reliability diagrams are `Calibration.figures()`, published by the notebook.
"""

from __future__ import annotations

import pandas as pd

from mlworkbench.analysis.explain.calibration import WELL_CALIBRATED, Calibration
from mlworkbench.reports import elements

HEADERS = {
    "ece": "calibration error (ECE)",
    "mean_score": "mean score",
    "observed_rate": "observed rate",
    "too_small": "note",
}
"""Readable column names of the per-group table."""


def calibration_tone(calibration: Calibration) -> str:
    """Callout tone: ok when well calibrated overall, a warning otherwise, info when the
    model has no probabilities to calibrate."""
    if not calibration.applicable:
        return "info"
    return "ok" if calibration.ece <= WELL_CALIBRATED else "warn"


def calibration_table_html(table: pd.DataFrame) -> str:
    """The per-group calibration table (see `calibration.calibration`): ECE with three
    decimals, mean score and observed rate as percentages, small groups marked."""
    shown = table.copy()
    shown["too_small"] = shown["too_small"].map({True: "too small to compare", False: ""})
    return elements.table_html(
        shown,
        percent=["mean_score", "observed_rate"],
        decimals={"ece": 3},
        headers=HEADERS,
    )


def calibration_outputs(calibration: Calibration) -> list[str]:
    """The calibration section: a callout with the findings, then the per-group table (when
    there are groups; nothing more for a regression model)."""
    outputs = [
        elements.callout("Calibration", calibration.sentences(), calibration_tone(calibration))
    ]
    if calibration.applicable and not calibration.table.empty:
        outputs.append(
            "<p>Expected calibration error per group: the mean gap between scores and observed "
            f"rates over {calibration.bins} equal-width score bins (0 is perfect). Groups "
            f"with fewer than {calibration.min_group_size} rows are shown but not compared."
            "</p>" + calibration_table_html(calibration.table)
        )
    return outputs
