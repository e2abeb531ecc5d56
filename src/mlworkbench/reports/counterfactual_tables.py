"""The explain report's counterfactuals as HTML: for each row explained one by one, a heading,
the simplest counterfactual in a sentence, and a table of the original row and its
counterfactuals with the changed cells marked.

The counterfactuals come from `mlworkbench.analysis.explain.counterfactuals`; here they are only
formatted. A table shows only the features some counterfactual changes, plus the prediction and
the score, so it stays as narrow as the page (it turns on its side when many features change).
"""

from __future__ import annotations

from mlworkbench.analysis.explain.counterfactuals import CounterfactualResult, RowCounterfactuals
from mlworkbench.reports import elements
from mlworkbench.reports.formatting import format_fixed, format_number

CHANGED_STYLE = "font-weight:700;background:#fff3b0"
"""Inline style of a changed cell (the report's stylesheet may not know the `changed` class)."""
WIDE = 6
"""Above this many columns a table is shown on its side: features as rows."""
TONES = {"cut": "warn", "skipped": "warn", "none": "info", "failed": "bad", "fixed": "info"}
TITLES = {
    "cut": "The time cap cut the search short",
    "skipped": "Skipped: the time cap was used up",
    "none": "No counterfactual within the cap",
    "failed": "DiCE could not handle the model",
    "fixed": "Nothing may change",
}


def _score_text(result: CounterfactualResult, score: float) -> str:
    """A score as the table shows it: probabilities with two decimals, predictions as numbers."""
    return format_number(score) if result.kind == "regression" else format_fixed(score, ".2f")


def _grid(
    result: CounterfactualResult, row: RowCounterfactuals
) -> tuple[list[str], list[str], list[list[tuple[str, bool]]]]:
    """Column headers, row labels and cells (text, changed) of a row's table: the original,
    then each counterfactual; the changed features, the prediction and the score."""
    features = [f for f in row.original if any(f in cf.changed for cf in row.counterfactuals)]
    headers = [*features, "prediction", result.score_name]
    labels = ["original"] + [f"counterfactual {i}" for i in range(1, len(row.counterfactuals) + 1)]
    cells = [
        [(format_number(row.original[f]), False) for f in features]
        + [(row.prediction, False), (_score_text(result, row.score), False)]
    ]
    for cf in row.counterfactuals:
        cells.append(
            [(format_number(cf.values[f]), f in cf.changed) for f in features]
            + [
                (cf.prediction, cf.prediction != row.prediction),
                (_score_text(result, cf.score), True),
            ]
        )
    return headers, labels, cells


def _cell(text: str, changed: bool) -> str:
    """One escaped table cell, marked when changed."""
    if changed:
        return f'<td class="changed" style="{CHANGED_STYLE}">{elements.escape(text)}</td>'
    return f"<td>{elements.escape(text)}</td>"


def row_table_html(result: CounterfactualResult, row: RowCounterfactuals) -> str:
    """The original row and its counterfactuals with the changed cells marked; features as
    columns, or as rows when more than `WIDE` columns would be shown."""
    headers, labels, cells = _grid(result, row)
    if len(headers) > WIDE:  # on its side: one line per feature, one column per version
        headers, labels, cells = (
            labels,
            headers,
            [list(column) for column in zip(*cells, strict=True)],
        )
    head = "".join(f"<th>{elements.escape(h)}</th>" for h in ["", *headers])
    body = "".join(
        f"<tr><th>{elements.escape(label)}</th>{''.join(_cell(*c) for c in line)}</tr>"
        for label, line in zip(labels, cells, strict=True)
    )
    return (
        '<table border="0" class="dataframe mlwb-table mlwb-counterfactuals">'
        f"<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"
    )


def row_html(result: CounterfactualResult, row: RowCounterfactuals) -> str:
    """A row's heading, its sentence, its table (when it has counterfactuals) and a callout
    when the search was cut short, found nothing or failed."""
    parts = [f"<h3>{elements.escape(row.name.capitalize())}</h3>"]
    parts.append(f"<p>{elements.escape(row.sentence)}</p>")
    if row.counterfactuals:
        parts.append(row_table_html(result, row))
    if row.status in TITLES:
        said = [row.message] if row.message else []
        if row.status in ("cut", "skipped", "none"):
            said.append(f"All rows together had {result.seconds:g} seconds.")
        parts.append(elements.callout(TITLES[row.status], said, TONES[row.status]))
    return "".join(parts)


def counterfactual_outputs(result: CounterfactualResult) -> list[str]:
    """The counterfactual section's pieces in the order the notebook shows them: what never
    changes and the time taken, then each row, then the notes."""
    if not result.enabled:
        return [elements.callout("Counterfactuals switched off", result.notes, "info")]
    outputs = [f"<p>{elements.escape(' '.join(result.sentences()))}</p>"]
    outputs += [row_html(result, row) for row in result.rows]
    if result.notes:
        outputs.append(elements.callout("How the search went", result.notes, "info"))
    return outputs
