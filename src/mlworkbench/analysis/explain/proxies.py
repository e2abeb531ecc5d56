"""Proxies of sensitive attributes: features that carry the same information.

Leaving a sensitive attribute out of the model is not enough when another feature stands in
for it (a postcode for ethnicity, a first name for sex). Every feature the model uses is
measured against each sensitive attribute with the association of the EDA's table (absolute
Spearman correlation between numbers, else bias-corrected Cramér's V, from 0 to 1); those at
or above a threshold are listed as proxies beside the fairness tables.
"""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from mlworkbench.analysis.profiling import target_association

THRESHOLD = 0.5
"""Association from which a feature is listed as a proxy."""


def proxy_table(
    features: pd.DataFrame, sensitive: pd.DataFrame, threshold: float = THRESHOLD
) -> pd.DataFrame:
    """Association of every feature with every sensitive attribute, strongest first; a
    feature is never measured against itself. Column `proxy` is True at or above
    `threshold`."""
    rows = []
    for attribute in sensitive.columns:
        for feature in features.columns:
            if str(feature) == str(attribute):
                continue
            value = target_association(features[feature], sensitive[attribute])
            rows.append(
                {"sensitive": str(attribute), "feature": str(feature), "association": value}
            )
    table = pd.DataFrame(rows, columns=["sensitive", "feature", "association"])
    table["proxy"] = table["association"] >= threshold
    return table.sort_values("association", ascending=False).reset_index(drop=True)


def sentences(table: pd.DataFrame, threshold: float, attributes: Sequence[str]) -> list[str]:
    """The proxies in words, one sentence per sensitive attribute that has any."""
    if not len(attributes):
        return ["No sensitive feature is named, so no proxy was looked for."]
    lines = []
    for attribute in attributes:
        found = table[(table["sensitive"] == attribute) & table["proxy"]]
        if len(found):
            named = ", ".join(f"{r.feature} ({r.association:.2f})" for r in found.itertuples())
            lines.append(
                f"{attribute}: {named} carr{'ies' if len(found) == 1 else 'y'} much of the same "
                "information, so the model can use it even where the attribute itself is not "
                "a feature."
            )
    return lines or [
        f"No feature is associated with a sensitive attribute at {threshold:g} or more."
    ]
