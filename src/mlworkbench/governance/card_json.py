"""The model card as machine-readable JSON, in the field layout of the Model Card Toolkit:
`model_details`, `model_parameters`, `quantitative_analysis` and `considerations`, plus the
promotion `decision` and the human `signoff`.

Every document is checked against the JSON Schema shipped in the package
(`governance/schemas/model_card.schema.json`) before anyone writes it: `card_document` never
returns a document that does not match. Numbers that are not defined (NaN) are `null`.
"""

from __future__ import annotations

import functools
import json
import math
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd

from mlworkbench.analysis.explain import fairness
from mlworkbench.analysis.profiling import source_label
from mlworkbench.exceptions import CardExportError
from mlworkbench.governance import checklist
from mlworkbench.governance.card_record import CardRecord
from mlworkbench.tracking.tags import (
    SIGNED_OFF,
    SIGNOFF_AWAITING,
    TAG_DECIDED_AT,
    TAG_DECISION,
    TAG_FAIRNESS,
    TAG_REASONS,
    TAG_SIGNOFF,
    TAG_SIGNOFF_AT,
    TAG_SIGNOFF_BY,
    TAG_SIGNOFF_IDENTITY,
    TAG_SIGNOFF_REASON,
)

# Deferred imports: jsonschema loads inside `validate` only, so that importing this module
# stays fast.

SCHEMA_FILE = Path(__file__).parent / "schemas" / "model_card.schema.json"
SCHEMA_VERSION = "1.1"
"""Version of the workbench's model card schema (`schema_version` of every document); 1.1 added
the `signoff`."""

"""The version tag `mlwb.signoff` of a version approved and awaiting a reviewer's sign-off."""

GROUP_RATES = (
    "selection_rate",
    "true_positive_rate",
    "false_positive_rate",
    "precision",
    "accuracy",
    "auc",
    "calibration_error",
)
"""Columns of the explain run's group tables exported as performance per group."""

RISK_KEYS = ("affected_people", "worst_case", "misuse", "legal_and_ethical", "data_protection")
"""Governance answers exported as ethical considerations (human oversight mitigates them)."""


def number(value: Any) -> float | None:
    """A finite float, or None for what JSON cannot hold (NaN, infinity, no value)."""
    try:
        value = float(value)
    except (TypeError, ValueError):
        return None
    return value if math.isfinite(value) else None


def described(*texts: str) -> list[dict[str, str]]:
    """MCT's `[{"description": ...}]` list of the non-empty texts."""
    return [{"description": t} for t in texts if t]


def model_details(record: CardRecord) -> dict[str, Any]:
    """Name, version, overview, owners, references and the regulatory risk category."""
    answers, version = record.answers, record.version
    created = datetime.fromtimestamp(version.creation_timestamp / 1000, tz=UTC)
    params = record.train_run.data.params
    overview = (
        f"{params.get('model', 'unknown')} {params.get('data.task', '')} model predicting "
        f"'{params.get('data.target', '?')}' from {len(record.features)} columns of "
        f"{source_label(params.get('data.source', '?'))}."
    ).replace("  ", " ")
    use = checklist.answer(answers, "intended_use")
    owner, contact = checklist.answer(answers, "owner"), checklist.answer(answers, "contact")
    category = checklist.answer(answers, "eu_ai_act_risk_category")
    details = {
        "name": record.name,
        "version": {"name": record.number, "date": created.strftime("%Y-%m-%dT%H:%M:%SZ")},
        "overview": f"{overview} Intended use: {use}" if use else overview,
        "owners": [{"name": owner, "contact": contact}] if owner or contact else [],
        "references": [
            {"reference": f"models:/{record.name}/{record.number}"},
            {"reference": f"runs:/{record.card_run.info.run_id}/card/model_card.md"},
            {"reference": f"runs:/{record.train_run.info.run_id}"},
        ],
    }
    if category:
        details["regulatory_requirements"] = f"EU AI Act risk category: {category}"
    return details


def datasets(record: CardRecord) -> list[dict[str, Any]]:
    """The training and test rows the training run logged, with digests and row counts."""
    source = source_label(record.train_run.data.params.get("data.source", "?"))
    found = []
    for logged in record.train_run.inputs.dataset_inputs:
        dataset = logged.dataset
        profile = json.loads(dataset.profile or "{}")
        columns = json.loads(dataset.schema or "{}").get("mlflow_colspec", [])
        context = {t.key: t.value for t in logged.tags}.get("mlflow.data.context", "")
        found.append(
            {
                "name": dataset.name,
                "context": context,
                "source": source,
                "digest": dataset.digest,
                "rows": int(profile.get("num_rows", 0)),
                "columns": len(columns),
            }
        )
    return found


def model_parameters(record: CardRecord) -> dict[str, Any]:
    """The model type, its hyperparameters, the columns it uses and the data it saw."""
    params, metrics = record.train_run.data.params, record.train_run.data.metrics
    chosen = {k.split(".", 1)[1]: v for k, v in params.items() if k.startswith("hyperparameters.")}
    return {
        "model_architecture": params.get("model", "unknown"),
        "task": params.get("data.task", ""),
        "target": params.get("data.target", ""),
        "hyperparameters": dict(sorted(chosen.items())),
        "decision_threshold": number(metrics.get("decision_threshold")),
        "input_features": record.features,
        "data": datasets(record),
    }


def overall_metrics(metrics: Mapping[str, float]) -> list[dict[str, Any]]:
    """Every test metric that has a baseline, with the baseline's value."""
    return [
        {
            "type": name,
            "value": number(value),
            "slice": "overall",
            "baseline": number(metrics[f"baseline_{name}"]),
        }
        for name, value in metrics.items()
        if f"baseline_{name}" in metrics
    ]


def group_metrics(feature: str, table: pd.DataFrame) -> list[dict[str, Any]]:
    """The rates of every group of one sensitive feature, as metrics sliced by the group."""
    rates = [c for c in GROUP_RATES if c in table.columns]
    return [
        {
            "type": rate,
            "value": number(row[rate]),
            "slice": f"{feature} = {row['group']}",
            "rows": int(row.get("rows", 0)),
            "too_small": bool(row.get("too_small", False)),
        }
        for row in table.to_dict("records")
        for rate in rates
    ]


def gate_record(gate: Mapping[str, Any]) -> dict[str, Any]:
    """A fairness gate as logged, with JSON-safe numbers."""
    return {
        **{k: gate[k] for k in ("feature", "gate", "rule", "status")},
        "threshold": number(gate["threshold"]),
        "value": number(gate.get("value")),
        "lowest_group": str(gate.get("lowest_group") or ""),
        "highest_group": str(gate.get("highest_group") or ""),
        "groups_too_small": [str(g) for g in gate.get("groups_too_small", [])],
    }


def quantitative_analysis(record: CardRecord) -> dict[str, Any]:
    """Test metrics overall and per group of each sensitive feature, and the fairness gates."""
    explained = record.explain_run
    return {
        "performance_metrics": [
            *overall_metrics(record.train_run.data.metrics),
            *(m for f, t in record.groups.items() for m in group_metrics(f, t)),
        ],
        "fairness_gates": [gate_record(g) for g in record.gates],
        "fairness_status": explained.data.tags.get(TAG_FAIRNESS, "") if explained else "",
    }


def fairness_assessment(gates: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Per sensitive feature: FAIL when a gate fails, the group at risk, each gate in words."""
    by_feature: dict[str, list[dict[str, Any]]] = {}
    for gate in gates:
        by_feature.setdefault(gate["feature"], []).append(gate)
    assessed = []
    for feature, judged in by_feature.items():
        statuses = {g["status"] for g in judged}
        status = "FAIL" if "FAIL" in statuses else "PASS" if "PASS" in statuses else "SKIPPED"
        worst = next((g for g in judged if g["status"] == "FAIL"), judged[0])
        assessed.append(
            {
                "feature": feature,
                "status": status,
                "group_at_risk": str(worst.get("lowest_group") or ""),
                "description": " ".join(fairness.gate_sentence(g) for g in judged),
            }
        )
    return assessed


def considerations(record: CardRecord) -> dict[str, Any]:
    """Intended use and users, limitations, ethical considerations and fairness, from the
    governance answers and the fairness gates."""
    answers = record.answers
    oversight = checklist.answer(answers, "human_oversight")
    out_of_scope = checklist.answer(answers, "out_of_scope_uses")
    failing = [fairness.gate_sentence(g) for g in record.gates if g["status"] == "FAIL"]
    questions = {**checklist.QUESTIONS, **checklist.RISK_QUESTIONS}
    return {
        "users": described(checklist.answer(answers, "intended_users")),
        "use_cases": described(checklist.answer(answers, "intended_use")),
        "limitations": described(
            f"Not fit for: {out_of_scope}" if out_of_scope else "",
            *(f"Fairness gate failed: {s}" for s in failing),
        ),
        "ethical_considerations": [
            {
                "name": f"{questions[k]}: {checklist.answer(answers, k)}",
                "mitigation_strategy": oversight,
            }
            for k in RISK_KEYS
            if checklist.answer(answers, k)
        ],
        "fairness_assessment": fairness_assessment(record.gates),
    }


def decision(record: CardRecord) -> dict[str, Any]:
    """The promotion decision recorded on the version, with its reasons."""
    tags = record.version.tags
    return {
        "label": tags.get(TAG_DECISION, ""),
        "reasons": [r for r in tags.get(TAG_REASONS, "").splitlines() if r.strip()],
        "decided_at": tags.get(TAG_DECIDED_AT, ""),
    }


def signoff(record: CardRecord) -> dict[str, str]:
    """The human sign-off recorded on the version: its state, `awaiting` (approved, alias
    `candidate`), `signed off` or `none`, and for a signed-off version who signed, how their
    identity is known (`authenticated`, `unauthenticated`), when and why."""
    tags = record.version.tags
    state = tags.get(TAG_SIGNOFF, "")
    signed = state == SIGNED_OFF
    fields = {
        "by": TAG_SIGNOFF_BY,
        "identity": TAG_SIGNOFF_IDENTITY,
        "at": TAG_SIGNOFF_AT,
        "reason": TAG_SIGNOFF_REASON,
    }
    return {
        "state": state if state in (SIGNOFF_AWAITING, SIGNED_OFF) else "none",
        **{key: tags.get(tag, "") if signed else "" for key, tag in fields.items()},
    }


def card_document(record: CardRecord) -> dict[str, Any]:
    """The model card of `record` as a schema-valid JSON document.

    Raises:
        CardExportError: the document does not match the schema.
    """
    document = {
        "schema_version": SCHEMA_VERSION,
        "model_details": model_details(record),
        "model_parameters": model_parameters(record),
        "quantitative_analysis": quantitative_analysis(record),
        "considerations": considerations(record),
        "decision": decision(record),
        "signoff": signoff(record),
    }
    validate(document)
    return document


@functools.cache
def schema() -> dict[str, Any]:
    """The model card's JSON Schema, shipped in the package."""
    return json.loads(SCHEMA_FILE.read_text(encoding="utf-8"))


def validate(document: Mapping[str, Any]) -> None:
    """Check `document` against the schema.

    Raises:
        CardExportError: naming every place where the document does not match.
    """
    import jsonschema

    validator = jsonschema.Draft202012Validator(schema())
    problems = [
        f"{'/'.join(map(str, e.absolute_path)) or '(document)'}: {e.message}"
        for e in sorted(validator.iter_errors(document), key=lambda e: e.json_path)
    ]
    if problems:
        raise CardExportError(
            "The model card does not match its schema: " + "; ".join(problems[:10])
        )
