"""The explain report's error-analysis tree as HTML: a callout saying where the model is
wrong most, then the tree's leaves as a table, worst first.

The tree comes from `mlworkbench.analysis.explain.error_tree`; here it is only formatted.
"""

from __future__ import annotations

from mlworkbench.analysis.explain.error_tree import ErrorTree
from mlworkbench.reports import elements


def _headers(kind: str) -> dict[str, str]:
    """Readable column names of the leaves table, worded for the kind of model."""
    share = "share with error above the median" if kind == "regression" else "share wrong"
    return {
        "rule": "rows where",
        "rows": "rows",
        "error_rate": share,
        "times_overall": "times overall",
    }


def leaves_table_html(tree: ErrorTree, kind: str) -> str:
    """The tree's leaves, worst first: rule, rows, share wrong (percent) and times overall."""
    shown = tree.leaves[["rule", "rows", "error_rate", "times_overall"]]
    return elements.table_html(
        shown, percent=["error_rate"], decimals={"times_overall": 1}, headers=_headers(kind)
    )


def error_tree_outputs(tree: ErrorTree, kind: str) -> list[str]:
    """The error-tree section: a callout with the tree's sentences, then the leaves table
    (only when the tree has split the rows)."""
    title = (
        "Where the model's error is above the median"
        if kind == "regression"
        else "Where the model is wrong"
    )
    outputs = [elements.callout(title, tree.sentences(kind), tone="info")]
    if len(tree.leaves) > 1:
        outputs.append(leaves_table_html(tree, kind))
    return outputs
