"""The model card rendered: sections to Markdown and HTML, the checklist with its evidence.

The card's data (`Section`, `ModelCard`) is built in `mlworkbench.governance`; this module
only renders it.
"""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

import pandas as pd

from mlworkbench.governance import checklist
from mlworkbench.governance.card_types import ModelCard, Section
from mlworkbench.governance.checklist import Item
from mlworkbench.reports import elements


def _escape_cell(value: Any) -> str:
    return str(value).replace("|", "\\|").replace("\n", " ")


def markdown_table(table: pd.DataFrame) -> str:
    """A DataFrame as a Markdown table."""
    lines = [
        "| " + " | ".join(map(_escape_cell, table.columns)) + " |",
        "|" + "---|" * len(table.columns),
    ]
    lines += [
        "| " + " | ".join(map(_escape_cell, row)) + " |" for row in table.itertuples(index=False)
    ]
    return "\n".join(lines)


def to_markdown(title: str, sections: list[Section]) -> str:
    """The card as Markdown."""
    parts = [f"# {title}"]
    for section in sections:
        parts.append(f"## {section.title}")
        if section.sentences:
            parts.append("\n".join(f"- {s}" for s in section.sentences))
        if section.table is not None and not section.table.empty:
            parts.append(markdown_table(section.table))
    return "\n\n".join(parts) + "\n"


def to_html(section: Section) -> str:
    """One section as HTML for the report (every string escaped)."""
    anchor = f' id="{elements.escape(section.anchor)}"' if section.anchor else ""
    html = f"<h2{anchor}>{elements.escape(section.title)}</h2>"
    if section.sentences:
        html += (
            "<ul>" + "".join(f"<li>{elements.escape(s)}</li>" for s in section.sentences) + "</ul>"
        )
    if section.table is not None and not section.table.empty:
        html += elements.table_html(section.table)
    return html


LEFT = "text-align:left;vertical-align:top"


def checklist_html(items: list[Item]) -> str:
    """The checklist with a status badge and evidence links per item."""
    colours = {"PASS": "#1a7f37", "FAIL": "#cf222e", "MISSING": "#9a6700"}
    rows = []
    for theme, members in checklist.by_theme(items).items():
        for i, item in enumerate(members):
            badge = (
                f'<span style="background:{colours[item.status]};color:#fff;padding:1px 8px;'
                f'border-radius:10px;font-size:12px;font-weight:600">{item.status}</span>'
            )
            text = "report" if item.evidence.href.split("#")[0].endswith(".html") else "above"
            link = elements.link(item.evidence.href, text) if item.evidence.href else ""
            waiver = (
                f"<br><strong>Waived</strong> ({elements.escape(item.id)}): "
                f"{elements.escape(item.waiver)}"
                if item.waiver
                else ""
            )
            cells = [
                elements.escape(theme) if i == 0 else "",
                elements.escape(item.check),
                badge,
                elements.escape(item.detail) + waiver,
                f"<code>{elements.escape(item.evidence.uri)}</code> {link}",
            ]
            rows.append("<tr>" + "".join(f'<td style="{LEFT}">{c}</td>' for c in cells) + "</tr>")
    head = "".join(
        f'<th style="{LEFT}">{h}</th>' for h in ("theme", "check", "status", "detail", "evidence")
    )
    return (
        f'<table class="dataframe mlwb-table"><thead><tr>{head}</tr></thead>'
        f"<tbody>{''.join(rows)}</tbody></table>"
    )


def governance_record(section: dict[str, Any], config_file: str) -> dict[str, Any]:
    """The human answers the card used, logged as `card/governance.json`."""
    return {"config_file": config_file, "governance": json.loads(json.dumps(section or {}))}


def card_title(model_card: ModelCard) -> str:
    """The card's title: the registered model and its version."""
    return f"Model card: {model_card.name} version {model_card.version}"


def card_markdown(model_card: ModelCard) -> str:
    """The whole card as Markdown, as logged and attached to the model version."""
    return to_markdown(card_title(model_card), model_card.sections)


def decision_html(model_card: ModelCard) -> str:
    """The card's first section, the decision and its reasons, as a callout at the top of the
    report: green when the version is promoted, red when it is rejected."""
    decision = model_card.decision
    tone = "ok" if decision.promote else "bad"
    return elements.callout(f"Decision: {decision.label}", model_card.sections[0].sentences, tone)


def sections_html(model_card: ModelCard) -> list[str]:
    """The HTML of every section after the decision, one piece per notebook output: the
    checklist section shows its counts, then the checklist with badges and evidence links in
    place of its plain table."""
    pieces = []
    for section in model_card.sections[1:]:
        if section.anchor == "checklist":
            pieces.append(to_html(replace(section, table=None)))
            pieces.append(checklist_html(model_card.items))
        else:
            pieces.append(to_html(section))
    return pieces
