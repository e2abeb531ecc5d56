"""The model card's sections, one function each, in the order the card shows them: decision,
model, intended use, training data, evaluation, data quality, explanations and fairness, risk
assessment, privacy, checklist, champion against challenger, production readiness, lineage.

Each turns evidence already gathered into sentences and a table; none reads the store except
`data_quality`, which reads the EDA run's findings.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from mlworkbench.analysis.explain import fairness
from mlworkbench.analysis.profiling import source_label
from mlworkbench.governance import checklist, privacy, promotion
from mlworkbench.governance.card_checklist import checklist_table
from mlworkbench.governance.card_evidence import eda_findings
from mlworkbench.governance.card_types import Section
from mlworkbench.governance.champion import Challenge
from mlworkbench.governance.checklist import Item
from mlworkbench.governance.readiness import readiness
from mlworkbench.tracking.tags import TAG_CONFIG, TAG_GIT, TAG_PACKAGES


def answers(section: Mapping[str, Any], questions: Mapping[str, str]) -> list[str]:
    """One sentence per question: the question and the team's answer, MISSING when none."""
    return [
        f"{questions[key]}: {checklist.answer(section, key).rstrip('.') or 'MISSING'}."
        for key in questions
    ]


def hyperparameters(params: Mapping[str, str]) -> str:
    """The hyperparameters a training run logged, as `name=value` by name."""
    chosen = {k.split(".", 1)[1]: v for k, v in params.items() if k.startswith("hyperparameters.")}
    return ", ".join(f"{k}={v}" for k, v in sorted(chosen.items())) or "the defaults"


def metrics_table(metrics: Mapping[str, float]) -> pd.DataFrame:
    """Every test metric that has a baseline: the model's value, the baseline's and the lift."""
    names = [k for k in metrics if f"baseline_{k}" in metrics]
    return pd.DataFrame(
        [
            {
                "metric": k,
                "model": f"{metrics[k]:.4f}",
                "baseline": f"{metrics[f'baseline_{k}']:.4f}",
                "lift": f"{metrics.get(f'lift_{k}', np.nan):+.4f}",
            }
            for k in names
        ]
    )


def decision(version: Any, result: promotion.Decision) -> Section:
    """The promotion decision and every reason."""
    return Section(
        "Decision",
        [
            f"Version {version.version} of '{version.name}' is {result.label}"
            f"{promotion.outcome(result)}",
            *result.reasons(),
        ],
        anchor="decision",
    )


def model(version: Any, train: Any) -> Section:
    """The registered version, its training run, the model type and its settings."""
    threshold = train.data.metrics.get("decision_threshold", float("nan"))
    return Section(
        "Model",
        [
            f"Registered model '{version.name}', version {version.version} (training run "
            f"{train.info.run_id}).",
            f"Model: {train.data.params.get('model', '?')}; hyperparameters: "
            f"{hyperparameters(train.data.params)}; decision threshold {threshold:.3f}.",
        ],
        anchor="model",
    )


def intended_use(section: Mapping[str, Any]) -> Section:
    """The team's answers on what the model is for (the risk category is under risk)."""
    questions = {k: v for k, v in checklist.QUESTIONS.items() if k != "eu_ai_act_risk_category"}
    return Section("Intended use", answers(section, questions), anchor="intended")


def training_data(version: Any, train: Any, target: str, rows: int, test_rows: int) -> Section:
    """Where the training data came from, its size and the held-out share."""
    trained = pd.Timestamp(train.info.start_time, unit="ms")
    return Section(
        "Training data",
        [
            f"Source: {source_label(train.data.params.get('data.source', '?'))}; target "
            f"'{target}'; data digest {version.tags.get('data_digest', '?')}.",
            f"{rows:,} rows, of which {test_rows:,} held out for testing; trained "
            f"{trained:%Y-%m-%d %H:%M} UTC.",
        ],
        anchor="data",
    )


def evaluation(metrics: Mapping[str, float]) -> Section:
    """The test metrics against the naive baseline."""
    return Section("Evaluation on the test rows", [], metrics_table(metrics), "evaluation")


def data_quality(eda: Any) -> Section:
    """The EDA run's data-quality findings (MISSING without an EDA run)."""
    if eda is None:
        return Section("Data quality (EDA)", ["MISSING: no EDA run."], anchor="eda")
    findings = eda_findings(eda) or ["No data-quality findings."]
    return Section("Data quality (EDA)", findings, anchor="eda")


def explanations(top_features: list[str], gates: list[dict[str, Any]]) -> Section:
    """The top features by SHAP and the fairness gates of the explain run."""
    return Section(
        "Explanations and fairness",
        [f"Top features by SHAP: {', '.join(top_features) or 'MISSING'}."],
        fairness.gates_frame(gates) if gates else None,
        "fairness",
    )


def risk(section: Mapping[str, Any]) -> Section:
    """The team's risk assessment and the EU AI Act risk category."""
    questions = {
        **checklist.RISK_QUESTIONS,
        "eu_ai_act_risk_category": checklist.QUESTIONS["eu_ai_act_risk_category"],
    }
    return Section("Risk assessment", answers(section, questions), anchor="risk")


def privacy_findings(review: privacy.Review) -> Section:
    """The personal columns (column, kind, evidence), how they are treated, the config's
    overrides and whether any of their values was published."""
    return Section("Privacy", review.sentences(), anchor="privacy")


def checklist_summary(items: list[Item]) -> Section:
    """The checklist's counts by status and the checklist as a table."""
    counts = checklist.counts(items)
    return Section(
        "Responsible-AI checklist",
        [f"{counts['PASS']} PASS, {counts['FAIL']} FAIL, {counts['MISSING']} MISSING."],
        checklist_table(items),
        "checklist",
    )


def champion(version: Any, challenge: Challenge, test_rows: int) -> Section:
    """The challenger against the champion, or why they were not compared."""
    if challenge.table is None:
        unreadable = challenge.unreadable
        sentences = [
            unreadable.sentence() if unreadable else "No champion yet: nothing to compare with."
        ]
    else:
        sentences = [
            f"Challenger version {version.version} against champion version "
            f"{challenge.champion.version}, both on the challenger's {test_rows:,} test rows."
        ]
    return Section("Champion versus challenger", sentences, challenge.table, "champion")


def production(version: Any, thresholds: Mapping[str, float]) -> Section:
    """The version's load-test figures against the production thresholds."""
    return Section(
        "Production readiness", readiness(version.tags, dict(thresholds)), anchor="production"
    )


def lineage(runs: Mapping[str, Any], card_run_id: str) -> Section:
    """The code, config, runs and package versions the card's model came from."""
    train = runs["train"]
    stages = ", ".join(
        f"{stage} {run.info.run_id}" for stage, run in runs.items() if run is not None
    )
    return Section(
        "Lineage",
        [
            f"git commit {train.data.tags.get(TAG_GIT) or 'unknown'}; config "
            f"{Path(train.data.tags.get(TAG_CONFIG, '-')).name}.",
            f"Runs: {stages}, card {card_run_id}.",
            f"Packages: {train.data.tags.get(TAG_PACKAGES, '-')}.",
        ],
        anchor="lineage",
    )
