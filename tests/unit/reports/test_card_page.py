"""The model card rendered (`reports.card_page`): the Markdown that is logged and attached to
the version, the decision callout and the sections of the report, on a small real card."""

from __future__ import annotations

import pandas as pd

from mlworkbench.governance import promotion
from mlworkbench.governance.card_types import ModelCard, Section
from mlworkbench.governance.checklist import Evidence, Item
from mlworkbench.reports import card_page


def small_card(promote: bool) -> ModelCard:
    decision = promotion.Decision("3", [promotion.Check("checklist", promote, "complete")])
    items = [Item("privacy", "No personal data", "PASS", "none", Evidence("runs:/c/x", "#p"))]
    sections = [
        Section("Decision", ["Version 3 of 'credit' is promoted.", *decision.reasons()]),
        Section("Evaluation", [], pd.DataFrame({"metric": ["roc_auc"], "model": ["0.78|0.8"]})),
        Section("Responsible-AI checklist", ["1 PASS, 0 FAIL, 0 MISSING."],
                pd.DataFrame({"theme": ["privacy"]}), "checklist"),
        Section("Lineage", ["git commit abc."], anchor="lineage"),
    ]  # fmt: skip
    return ModelCard("credit", "3", sections, items, decision)


def test_card_markdown_is_the_title_and_every_section():
    assert card_page.card_title(small_card(True)) == "Model card: credit version 3"
    assert card_page.card_markdown(small_card(True)) == (
        "# Model card: credit version 3\n\n"
        "## Decision\n\n"
        "- Version 3 of 'credit' is promoted.\n- PASS: checklist: complete\n\n"
        "## Evaluation\n\n"
        "| metric | model |\n|---|---|\n| roc_auc | 0.78\\|0.8 |\n\n"
        "## Responsible-AI checklist\n\n"
        "- 1 PASS, 0 FAIL, 0 MISSING.\n\n| theme |\n|---|\n| privacy |\n\n"
        "## Lineage\n\n"
        "- git commit abc.\n"
    )


def test_decision_html_is_a_green_or_red_callout_of_the_first_section():
    promoted = card_page.decision_html(small_card(True))
    assert "Decision: promoted" in promoted and "#1a7f37" in promoted
    assert "<li>Version 3 of &#x27;credit&#x27; is promoted.</li>" in promoted
    rejected = card_page.decision_html(small_card(False))
    assert "Decision: rejected" in rejected and "#cf222e" in rejected
    assert "<li>BLOCKS: checklist: complete</li>" in rejected


def test_sections_html_shows_the_checklist_with_badges_instead_of_its_table():
    model_card = small_card(True)
    pieces = card_page.sections_html(model_card)
    assert len(pieces) == 4  # the decision is the callout; the checklist takes two outputs
    assert pieces[0] == card_page.to_html(model_card.sections[1])
    assert pieces[1] == (
        '<h2 id="checklist">Responsible-AI checklist</h2><ul><li>1 PASS, 0 FAIL, 0 MISSING.</li>'
        "</ul>"
    )
    assert pieces[2] == card_page.checklist_html(model_card.items)
    assert pieces[3] == '<h2 id="lineage">Lineage</h2><ul><li>git commit abc.</li></ul>'
    assert model_card.sections[2].table is not None, "the card's own section is unchanged"
