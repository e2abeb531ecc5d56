"""The EDA report's personal-data section: which columns hold personal data and why, with
counts only (`analysis.personal_data.overview`), never a value."""

from __future__ import annotations

import pandas as pd

from mlworkbench.analysis.personal_data import PersonalData, overview
from mlworkbench.reports import elements

HEADERS = {"missing_share": "missing", "values": "values present"}


def personal_outputs(frame: pd.DataFrame, personal: PersonalData) -> list[str]:
    """HTML blocks: what was found and how it is treated, then one row per personal column."""
    tone = "warn" if personal.findings else "ok"
    outputs = [elements.callout("Personal data", personal.sentences(), tone=tone)]
    if personal.findings:
        table = overview(frame, personal)
        outputs.append(elements.table_html(table, percent=["missing_share"], headers=HEADERS))
    return outputs
