"""Drift of a batch against the training data's reference statistics, vectorised.

The reference is what the train stage logged (`reference/training_statistics.json`):
quantile bin edges and shares for numeric features, category shares for the others, and the
missing share. So the training data is never needed again, and a batch of a million rows is
a handful of numpy histograms and value counts.

Per feature: the population stability index (PSI) for every feature; the Kolmogorov-Smirnov
distance (numeric, measured at the reference's bin edges) or the Jensen-Shannon distance
(categorical, base 2, 0 to 1); the change in missing share; categories never seen in
training. Decisions use effect sizes against thresholds, not p-values, which flag everything
on large samples.

Personal columns (a reference entry of kind `personal`, or a column the caller names as
personal) are not compared at all: they are never features of the model, and the only thing a
comparison could show about them is their values. Their reference holds no values either
(`training.reference_statistics`), and the schema check does not judge their type.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np
import pandas as pd

from mlworkbench.pipeline.monitoring_section import Thresholds

# Deferred imports: scipy loads inside the functions that use them, so that importing this module
# (from the command line or a notebook) stays fast.

EPSILON = 1e-4
"""Floor of a bin share in the PSI, so an empty bin does not make it infinite."""

STATUSES = ("OK", "WARN", "ALERT")
UNSEEN = "(unseen)"
OTHER = "(other)"
PERSONAL = "personal"
"""The kind of a reference entry of a personal column: its missing share and dtype only."""


def psi(reference: np.ndarray, current: np.ndarray) -> float:
    """Population stability index of two share vectors over the same bins."""
    ref = np.clip(np.asarray(reference, dtype=float), EPSILON, None)
    cur = np.clip(np.asarray(current, dtype=float), EPSILON, None)
    return float(np.sum((cur - ref) * np.log(cur / ref)))


def js_distance(reference: np.ndarray, current: np.ndarray) -> float:
    """Jensen-Shannon distance (base 2: 0 identical, 1 disjoint) of two share vectors."""
    from scipy.spatial.distance import jensenshannon

    if not np.sum(reference) or not np.sum(current):
        return 0.0
    return float(jensenshannon(reference, current, base=2))


def numeric_shares(values: np.ndarray, edges: list[float]) -> np.ndarray:
    """Shares of `values` in the reference bins; values outside the training range count in
    the first or last bin."""
    if len(edges) < 2 or not len(values):
        return np.array([])
    clipped = np.clip(values, edges[0], edges[-1])
    return np.histogram(clipped, bins=np.asarray(edges))[0] / len(values)


def numeric_drift(reference: Mapping[str, Any], values: pd.Series) -> dict[str, Any]:
    """PSI and KS distance of a numeric feature against its reference bins."""
    present = pd.to_numeric(values, errors="coerce").dropna().to_numpy(dtype=float)
    ref = np.asarray(reference.get("bin_shares", []), dtype=float)
    cur = numeric_shares(present, reference.get("bin_edges", []))
    if not len(ref) or len(cur) != len(ref):  # a constant feature in training
        return {"psi": 0.0, "distance": 0.0, "unseen_share": 0.0, "unseen": []}
    ks = float(np.max(np.abs(np.cumsum(ref) - np.cumsum(cur))))
    return {"psi": psi(ref, cur), "distance": ks, "unseen_share": 0.0, "unseen": []}


def categorical_drift(reference: Mapping[str, Any], values: pd.Series) -> dict[str, Any]:
    """PSI and Jensen-Shannon distance of a categorical feature, and its unseen categories
    (values that were not among the training categories kept in the reference)."""
    shares = dict(reference.get("categories", {}))
    text = values.dropna().astype(str)
    counts = text.value_counts()
    known = counts.index.isin(list(shares))
    unseen = [str(c) for c in counts.index[~known]]
    bucket = OTHER if OTHER in shares else UNSEEN
    current = counts[known].to_dict()
    if unseen:
        current[bucket] = current.get(bucket, 0) + int(counts[~known].sum())
    keys = sorted(set(shares) | set(current))
    total = max(len(text), 1)
    ref = np.array([shares.get(k, 0.0) for k in keys])
    cur = np.array([current.get(k, 0) / total for k in keys])
    unseen_share = float(counts[~known].sum() / total) if bucket == UNSEEN else 0.0
    return {
        "psi": psi(ref, cur),
        "distance": js_distance(ref, cur),
        "unseen_share": unseen_share,
        "unseen": unseen if bucket == UNSEEN else [],
    }


def _level(value: float, warn: float, alert: float) -> int:
    return 2 if value >= alert else 1 if value >= warn else 0


def _personal(entry: Mapping[str, Any], column: str, personal: Iterable[str]) -> bool:
    return entry.get("kind") == PERSONAL or column in personal


def feature_table(
    reference: Mapping[str, Any],
    frame: pd.DataFrame,
    thresholds: Thresholds,
    personal: Iterable[str] = (),
) -> pd.DataFrame:
    """One row per reference feature present in `frame`: kind, psi, distance (KS or JS),
    missing share and its change, unseen categories, status; most drifted first.

    Personal columns (reference kind `personal`, or named in `personal`) get no row: they are
    not features, and their unseen values would be personal data."""
    personal = {str(c) for c in personal}
    rows = []
    for feature, entry in reference["features"].items():
        if feature not in frame.columns or _personal(entry, feature, personal):
            continue
        values = frame[feature]
        numeric = entry.get("kind") == "numeric"
        found = numeric_drift(entry, values) if numeric else categorical_drift(entry, values)
        missing = float(values.isna().mean())
        change = missing - float(entry.get("missing_share", 0.0))
        level = max(
            _level(found["psi"], thresholds.psi_warn, thresholds.psi_alert),
            _level(found["distance"], thresholds.distance_warn, thresholds.distance_alert),
            _level(abs(change), thresholds.missing_warn, thresholds.missing_alert),
            _level(found["unseen_share"], thresholds.unseen_warn, thresholds.unseen_alert),
        )
        rows.append(
            {
                "feature": feature,
                "kind": "numeric" if numeric else "categorical",
                "psi": found["psi"],
                "distance": found["distance"],
                "distance_kind": "KS" if numeric else "JS",
                "missing_share": missing,
                "missing_change": change,
                "unseen": ", ".join(found["unseen"][:10]),
                "unseen_share": found["unseen_share"],
                "status": STATUSES[level],
            }
        )
    table = pd.DataFrame(rows)
    if table.empty:
        return table
    order = table["status"].map({s: i for i, s in enumerate(STATUSES)})
    return (
        table.assign(_order=order)
        .sort_values(["_order", "psi"], ascending=[False, False], ignore_index=True)
        .drop(columns="_order")
    )


def _kind_of(values: pd.Series) -> str:
    numeric = pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values)
    return "numeric" if numeric else "categorical"


def schema_changes(
    reference: Mapping[str, Any],
    frame: pd.DataFrame,
    ignore: tuple[str, ...] = (),
    personal: Iterable[str] = (),
) -> list[dict[str, str]]:
    """Columns removed, added, or of another kind (numeric against categorical) than in
    training. Removed and retyped columns are ALERT, added ones WARN. A personal column
    (reference kind `personal`, or named in `personal`) matches any kind: its values may be
    pseudonyms, as in a scored batch's artifact."""
    personal = {str(c) for c in personal}
    features = reference["features"]
    changes = [
        {"column": c, "change": "removed", "status": "ALERT"}
        for c in features
        if c not in frame.columns
    ]
    changes += [
        {"column": c, "change": "added", "status": "WARN"}
        for c in frame.columns
        if c not in features and c not in ignore
    ]
    changes += [
        {
            "column": c,
            "change": f"type changed: {entry.get('kind')} in training, now {_kind_of(frame[c])}",
            "status": "ALERT",
        }
        for c, entry in features.items()
        if c in frame.columns
        and not _personal(entry, c, personal)
        and entry.get("kind") != _kind_of(frame[c])
    ]
    return changes


def overall(statuses: list[str]) -> str:
    """The worst of `statuses` (OK when empty)."""
    return STATUSES[max((STATUSES.index(s) for s in statuses), default=0)]
