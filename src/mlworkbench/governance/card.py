"""The model card: evidence gathered from the pipeline's runs in MLflow, the Responsible-AI
checklist, the comparison with the current champion and the promotion decision, as sections
that render to the HTML report and to Markdown alike (`reports.card_page`).

`build` composes the parts: `card_evidence` finds the runs and what they logged,
`card_checklist` judges the checklist, `champion` compares with the champion, `card_sections`
writes each section. `publish` records the card and the decision in MLflow.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from mlworkbench.analysis.explain import explanation, fairness
from mlworkbench.governance import card_evidence, card_sections, checklist, privacy, promotion
from mlworkbench.governance.card_checklist import card_items, checklist_table, model_features
from mlworkbench.governance.card_types import CardInputs, CardSettings, ModelCard
from mlworkbench.governance.champion import Challenge, challenge
from mlworkbench.governance.checklist import Item
from mlworkbench.tracking import store
from mlworkbench.tracking.tags import TAG_DECISION, TAG_FAIRNESS, TAG_MODEL, TAG_SUMMARY


def decide(
    version: Any,
    runs: dict[str, Any],
    quality: list[promotion.Check],
    items: list[Item],
    gates: list[dict[str, Any]],
    challenged: Challenge,
    settings: CardSettings,
    answers: dict[str, Any],
) -> promotion.Decision:
    """Approve `version` or not: its quality thresholds, its fairness gates, its checklist
    (FAIL items block unless waived, MISSING ones when `settings.missing_blocks`) and the
    champion on its primary metric. An approved version needs a person's sign-off before it
    becomes champion when the config's risk category is high or `settings.require_signoff`."""
    train, explained = runs["train"], runs["explain"]
    primary = version.tags.get("primary_metric", card_evidence.primary_metric(train))
    waived = [f"{i.check} ({i.id}): {i.waiver}" for i in items if i.status == "FAIL" and i.waiver]
    return promotion.Decision(
        version.version,
        [
            *quality,
            promotion.fairness_check(
                explained.data.tags.get(TAG_FAIRNESS, "") if explained else "",
                [fairness.gate_sentence(g) for g in gates if g["status"] == "FAIL"],
            ),
            promotion.checklist_check(
                [i.check for i in items if i.status == "MISSING"],
                [i.check for i in items if i.blocks],
                settings.missing_blocks,
                waived,
            ),
            challenged.champion_check(
                primary, train.data.metrics.get(primary, np.nan), settings.champion_margin
            ),
        ],
        signoff=promotion.signoff_reason(answers, settings.require_signoff),
    )


def privacy_review(
    client: Any, runs: dict[str, Any], inputs: CardInputs, features: list[str]
) -> privacy.Review:
    """The personal columns (the training run's record, else the check of the data with the
    config's `privacy` section), those the model uses, and the search for their values in
    everything the runs published."""
    personal, recorded = card_evidence.personal_columns(
        client, runs["train"], inputs.frame, inputs.target, inputs.privacy
    )
    stages = [stage for stage, run in runs.items() if run is not None]
    texts = card_evidence.published_texts(client, runs)
    return privacy.review(personal, inputs.privacy, recorded, features, inputs.frame, texts, stages)


def build(client: Any, inputs: CardInputs, settings: CardSettings) -> ModelCard:
    """Gather the evidence, judge the checklist, compare with the champion and decide."""
    runs = card_evidence.stage_runs(client, inputs.experiment, inputs.run_ids)
    train, explained = runs["train"], runs["explain"]
    version = card_evidence.model_version(client, train)
    subject = explanation.load_subject(inputs.frame, inputs.target, inputs.task, train.info.run_id)
    reviewed = privacy_review(client, runs, inputs, model_features(subject))
    quality = promotion.quality_checks(train.data.metrics, settings.quality_thresholds)
    items = card_items(runs, inputs, subject, reviewed, quality)
    gates = card_evidence.fairness_gates(explained)
    thresholds = card_evidence.fairness_thresholds(explained)
    challenged = challenge(client, version, subject, inputs.sensitive, thresholds, settings)
    decision = decide(version, runs, quality, items, gates, challenged, settings, inputs.answers)
    test_rows = len(subject.rows)
    sections = [
        card_sections.decision(version, decision),
        card_sections.model(version, train),
        card_sections.intended_use(inputs.answers),
        card_sections.training_data(version, train, inputs.target, len(inputs.frame), test_rows),
        card_sections.evaluation(train.data.metrics),
        card_sections.data_quality(runs["eda"]),
        card_sections.explanations(card_evidence.logged_top_features(explained), gates),
        card_sections.risk(inputs.answers),
        card_sections.privacy_findings(reviewed),
        card_sections.checklist_summary(items),
        card_sections.champion(version, challenged, test_rows),
        card_sections.production(version, settings.production_thresholds),
        card_sections.lineage(runs, inputs.card_run_id),
    ]
    return ModelCard(version.name, version.version, sections, items, decision, reviewed)


def key_figures(model_card: ModelCard) -> dict[str, int]:
    """The card's figures in the report index: checklist counts and the decision."""
    counts = checklist.counts(model_card.items)
    return {
        "checklist_pass": counts["PASS"],
        "checklist_fail": counts["FAIL"],
        "checklist_missing": counts["MISSING"],
        "promoted": int(model_card.decision.moves_champion),
        "awaiting_signoff": int(model_card.decision.label == promotion.AWAITING),
    }


def summary(model_card: ModelCard) -> str:
    """The decision in a few lines, for `mlwb run` to print."""
    decision = model_card.decision
    head = f"Decision: '{model_card.name}' version {model_card.version} {decision.label}" + (
        promotion.outcome(decision)
    )
    return "\n".join([head, *(f"  {r}" for r in decision.reasons()), *signoff_hint(model_card)])


def signoff_hint(model_card: ModelCard) -> list[str]:
    """How a reviewer signs an approved version off, when it awaits one."""
    if model_card.decision.label != promotion.AWAITING:
        return []
    return [
        "  A reviewer signs it off: mlwb promote "
        f"{model_card.name} {model_card.version} --reason 'why it may be used'"
    ]


def privacy_record(model_card: ModelCard) -> dict[str, Any]:
    """The privacy review as logged in `card/privacy.json` (the privacy item's evidence): the
    findings, their treatment, the config's overrides and the scan's outcome, never a value."""
    return model_card.privacy_review.as_dict()


def run_tags(model_card: ModelCard) -> dict[str, str]:
    """The tags of the card run: its decision, the summary `mlwb run` prints, the model."""
    return {
        TAG_DECISION: model_card.decision.label,
        TAG_SUMMARY: summary(model_card),
        TAG_MODEL: f"{model_card.name}/{model_card.version}",
    }


def publish(client: Any, model_card: ModelCard, markdown: str, card_run_id: str) -> None:
    """Record the card in MLflow: its Markdown and checklist on the active (card) run, the
    decision on the model version (moving `champion` only when promoted without a sign-off,
    `candidate` when approved and awaiting one), the card attached
    to the version, and the run's tags and key figures."""
    store.log_text_artifact(markdown, "card/model_card.md")
    store.log_table(checklist_table(model_card.items), "card/checklist.csv")
    promotion.apply(client, model_card.name, model_card.decision, card_run_id)
    promotion.attach_card(client, model_card.name, model_card.version, markdown, card_run_id)
    store.set_tags(run_tags(model_card))
    store.log_key_figures(key_figures(model_card))
