"""The card's Responsible-AI checklist: one item per check judged from the runs' evidence, the
privacy review's item, and the human answers, with their waivers; and the checklist as a table.

The items keep the order of `checklist.RUN_ITEM_IDS` then the human items: the decision's
reasons and the card's tables list them in that order.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

from mlworkbench.analysis import leakage
from mlworkbench.analysis.explain import explanation, shapley
from mlworkbench.governance import checklist, privacy, promotion
from mlworkbench.governance.card_evidence import (
    eda_findings,
    evidence,
    primary_metric,
    report_artifact,
)
from mlworkbench.governance.card_types import CardInputs
from mlworkbench.governance.checklist import Evidence, Item, run_item
from mlworkbench.tracking import store as tr
from mlworkbench.tracking.tags import TAG_FAIRNESS, TAG_GIT, TAG_PRIMARY_METRIC


def fairness_item(explained: Any, report_dir: Path) -> Item:
    """Every fairness gate of the explain run passes (MISSING when none was judged)."""
    status = explained.data.tags.get(TAG_FAIRNESS, "") if explained else ""
    return run_item(
        "fairness_gates",
        "discrimination",
        "Fairness gates pass for every sensitive feature and their intersection",
        {"PASS": "PASS", "FAIL": "FAIL"}.get(status, "MISSING"),
        f"explain stage: {status or 'no gate judged'}",
        evidence(explained, "fairness/gates.json", report_dir),
    )


def sensitive_item(train: Any, sensitive_used: list[str], report_dir: Path) -> Item:
    """No sensitive attribute is a model feature."""
    return run_item(
        "sensitive_features_unused",
        "discrimination",
        "Sensitive attributes are not used as model features",
        "FAIL" if sensitive_used else "PASS",
        f"used as features: {', '.join(sensitive_used)}" if sensitive_used else "none used",
        evidence(train, "model/MLmodel", report_dir),
    )


def baseline_item(train: Any, report_dir: Path) -> Item:
    """The model's lift over the naive baseline on its primary metric is positive."""
    primary = train.data.tags.get(TAG_PRIMARY_METRIC) or primary_metric(train)
    lift = train.data.metrics.get(f"lift_{primary}")
    return run_item(
        "beats_baseline",
        "integrity",
        "The model beats the naive baseline on the test rows",
        "PASS" if lift is not None and lift > 0 else "FAIL",
        f"lift on {primary}: {lift:+.4f}" if lift is not None else "no lift logged",
        evidence(train, report_artifact(train), report_dir),
    )


def quality_item(train: Any, quality: list[promotion.Check], report_dir: Path) -> Item:
    """Every configured quality threshold is met (MISSING when none is configured)."""
    return run_item(
        "quality_thresholds",
        "integrity",
        "Quality thresholds are met",
        "MISSING" if not quality else "PASS" if all(c.passed for c in quality) else "FAIL",
        "; ".join(c.detail for c in quality) or "no quality_thresholds set in the config",
        evidence(train, report_artifact(train), report_dir),
    )


def data_checked_item(eda: Any, report_dir: Path) -> Item:
    """The data went through the EDA stage (MISSING without an EDA run); its findings are
    the detail."""
    findings = eda_findings(eda) if eda else []
    return run_item(
        "data_checked",
        "integrity",
        "The data were checked before training (EDA)",
        "PASS",
        "; ".join(findings) or "no data-quality findings",
        evidence(eda, "eda/quality.csv", report_dir),
    )


def leakage_item(train: Any, eda: Any, features: list[str], report_dir: Path) -> Item:
    """No suspected leakage: no feature predicts the target alone, the test result is
    plausible, and no column the EDA called a probable leak is a feature."""
    record = tr.artifact_dict(train.info.run_id, "leakage/check.json")
    logged = tr.artifact_dict(eda.info.run_id, "eda/findings.json") if eda else None
    eda_leaks = [c for c in (logged or {}).get("probable_leaks", []) if c in features]
    if record is None:
        return run_item("no_leakage", "integrity", "No suspected leakage", "MISSING",
                        "the training run logged no leakage check", None)  # fmt: skip
    detail = leakage.summary(record)
    if eda_leaks:
        detail += f"; probable leaks in the EDA used as features: {', '.join(eda_leaks)}"
    failed = bool(record["suspects"] or record["too_good"] or eda_leaks)
    return run_item(
        "no_leakage",
        "integrity",
        "No suspected leakage",
        "FAIL" if failed else "PASS",
        detail,
        evidence(train, "leakage/check.json", report_dir),
    )


def reproducible_item(train: Any, report_dir: Path) -> Item:
    """The training run's code was committed (a clean git commit) and its data recorded."""
    commit = train.data.tags.get(TAG_GIT, "")
    return run_item(
        "reproducible",
        "integrity",
        "Training is reproducible: committed code, recorded data digest",
        "PASS" if commit and commit != "unknown" and not commit.endswith("-dirty") else "FAIL",
        f"git commit {commit or 'unknown'}; test rows and data digest recorded",
        evidence(train, "split/test_rows.json", report_dir),
    )


def explained_item(explained: Any, report_dir: Path) -> Item:
    """The explain stage explained the model (MISSING without an explain run)."""
    return run_item(
        "explained",
        "transparency",
        "Predictions are explained (SHAP, PDP/ICE) in a report",
        "PASS",
        f"explain run {explained.info.run_id[:8]}" if explained else "",
        evidence(explained, "tables/shap_importance.csv", report_dir),
    )


def run_checklist(
    runs: dict[str, Any],
    report_dir: Path,
    features: list[str],
    sensitive_used: list[str],
    quality: list[promotion.Check],
) -> list[Item]:
    """The checklist items judged from the runs' evidence, in the order of
    `checklist.RUN_ITEM_IDS` (without the personal-data item)."""
    train, eda, explained = runs["train"], runs["eda"], runs["explain"]
    return [
        fairness_item(explained, report_dir),
        sensitive_item(train, sensitive_used, report_dir),
        baseline_item(train, report_dir),
        quality_item(train, quality, report_dir),
        data_checked_item(eda, report_dir),
        leakage_item(train, eda, features, report_dir),
        reproducible_item(train, report_dir),
        explained_item(explained, report_dir),
    ]


def privacy_item(review: privacy.Review, card_run_id: str) -> Item:
    """No personal value published: none of the personal columns' values appears in what
    the pipeline's runs published, and no personal column is a model feature. The detail
    names columns and sources, never a value."""
    return Item(
        "privacy",
        "No personal value published",
        "PASS" if review.passed else "FAIL",
        review.detail(),
        Evidence(f"runs:/{card_run_id}/card/privacy.json", "#privacy"),
        "no_personal_data",
    )


def model_features(subject: explanation.Subject) -> list[str]:
    """The dataset columns the model takes as input, sorted."""
    return sorted(set(shapley.encoded_sources(subject.pipeline.named_steps["preprocess"])))


def card_items(
    runs: dict[str, Any],
    inputs: CardInputs,
    subject: explanation.Subject,
    review: privacy.Review,
    quality: list[promotion.Check],
) -> list[Item]:
    """The whole checklist: the items judged from the runs, the personal-data item and the
    human answers, with the config's waivers attached."""
    features = model_features(subject)
    used = privacy.sensitive_features_used(features, inputs.sensitive)
    human_evidence = Evidence(f"runs:/{inputs.card_run_id}/card/governance.json", "#intended")
    return checklist.apply_waivers(
        [
            *run_checklist(runs, inputs.report_dir, features, used, quality),
            privacy_item(review, inputs.card_run_id),
            *checklist.human_items(inputs.answers, human_evidence),
        ],
        inputs.answers.get("waivers") or {},
    )


def checklist_table(items: list[Item]) -> pd.DataFrame:
    """The checklist as a table, by theme."""
    order = {t: i for i, t in enumerate(checklist.THEMES)}
    rows = [
        {
            "theme": i.theme,
            "check": i.check,
            "status": i.status,
            "detail": i.detail,
            "waiver": i.waiver,
            "evidence": i.evidence.uri,
            "report": i.evidence.href,
        }
        for i in sorted(items, key=lambda i: order[i.theme])
    ]
    return pd.DataFrame(rows)
