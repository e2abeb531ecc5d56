"""Governance: the human answers of a config's `governance:` section and the Responsible-AI
checklist built from them and from the evidence of the pipeline's runs.

Every checklist item is PASS, FAIL or MISSING and names its evidence: an artifact of a run
(`runs:/<id>/<path>`) and, where there is one, the report that shows it. A human answer that
is absent or empty is MISSING; nothing is filled in by default.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from mlworkbench.exceptions import unknown_keys

QUESTIONS: dict[str, str] = {
    "owner": "Who owns the model (team or person) and answers for it",
    "contact": "How to reach the owner",
    "intended_use": "What the model is for: the decision it supports",
    "intended_users": "Who uses its predictions",
    "out_of_scope_uses": "Uses the model is not fit for",
    "affected_people": "People affected by decisions made with it",
    "eu_ai_act_risk_category": "EU AI Act risk category the team assigns",
}
"""Top-level keys of `governance:` and what each answers."""

RISK_QUESTIONS: dict[str, str] = {
    "worst_case": "What is the worst that could happen",
    "misuse": "How the model could be misused",
    "legal_and_ethical": "Legal and ethical questions and their answers",
    "human_oversight": "How humans oversee decisions (human in the loop)",
    "data_protection": "Data protection and retention",
}
"""Keys of `governance.risk_assessment`."""

RISK_CATEGORIES = ("unacceptable", "high", "limited", "minimal")
THEMES = ("discrimination", "integrity", "transparency", "privacy", "accountability")
STATUSES = ("PASS", "FAIL", "MISSING")


def check_section(section: Any, where: str) -> list[str]:
    """Problems with a config's `governance:` section: unknown keys, values not text, an
    unknown risk category. Absent answers are not problems here; the checklist reports them
    as MISSING."""
    if section is None:
        return []
    if not isinstance(section, dict):
        return [f"{where}: 'governance' must be a mapping of answers."]
    allowed = [*QUESTIONS, "risk_assessment", "waivers"]
    problems = unknown_keys(section, allowed, "governance", where)
    risk = section.get("risk_assessment", {})
    if not isinstance(risk, dict):
        problems.append(f"{where}: 'governance.risk_assessment' must be a mapping of answers.")
        risk = {}
    problems += unknown_keys(risk, list(RISK_QUESTIONS), "governance.risk_assessment", where)
    problems += check_waivers(section.get("waivers"), where)
    answers = {**{k: v for k, v in section.items() if k in QUESTIONS}, **risk}
    problems += [
        f"{where}: 'governance' answer '{k}' must be text, got {type(v).__name__}."
        for k, v in answers.items()
        if v is not None and not isinstance(v, str)
    ]
    category = section.get("eu_ai_act_risk_category")
    if isinstance(category, str) and category and category not in RISK_CATEGORIES:
        problems.append(
            f"{where}: 'governance.eu_ai_act_risk_category' is '{category}'; use one of "
            f"{', '.join(RISK_CATEGORIES)}."
        )
    return problems


def answer(section: Mapping[str, Any], key: str) -> str:
    """The human answer for `key` (top level or risk assessment), empty when missing."""
    value = section.get(key, (section.get("risk_assessment") or {}).get(key))
    return value.strip() if isinstance(value, str) else ""


@dataclass
class Evidence:
    """Where an item's evidence is: an MLflow artifact and, if any, a page that shows it."""

    uri: str
    href: str = ""


@dataclass
class Item:
    """One checklist item. `id` names it in `governance.waivers`; `waiver` holds the written
    reason a FAIL item does not block promotion (empty when it is not waived)."""

    theme: str
    check: str
    status: str
    detail: str
    evidence: Evidence
    id: str = ""
    waiver: str = ""

    @property
    def blocks(self) -> bool:
        """A FAIL item blocks promotion unless it is waived."""
        return self.status == "FAIL" and not self.waiver


def human_item(
    item_id: str,
    theme: str,
    check: str,
    section: Mapping[str, Any],
    keys: list[str],
    evidence: Evidence,
) -> Item:
    """An item answered by people: MISSING unless every answer in `keys` is given."""
    missing = [k for k in keys if not answer(section, k)]
    if missing:
        return Item(
            theme, check, "MISSING", f"not answered: {', '.join(missing)}", evidence, item_id
        )
    text = " / ".join(answer(section, k) for k in keys)
    return Item(theme, check, "PASS", text, evidence, item_id)


HUMAN_ITEMS: tuple[tuple[str, str, str, list[str]], ...] = (
    ("intended_use", "transparency", "Intended use and users are documented",
     ["intended_use", "intended_users"]),
    ("out_of_scope_uses", "transparency", "Out-of-scope uses are documented",
     ["out_of_scope_uses"]),
    ("affected_people", "transparency", "People affected by decisions are named",
     ["affected_people"]),
    ("data_protection", "privacy", "Data protection and retention are described",
     ["data_protection"]),
    ("owner", "accountability", "An owner and a contact are named", ["owner", "contact"]),
    ("risk_assessed", "accountability", "The worst case and possible misuse are assessed",
     ["worst_case", "misuse"]),
    ("legal_and_ethical", "accountability", "Legal and ethical questions are answered",
     ["legal_and_ethical"]),
    ("human_oversight", "accountability", "Human oversight of decisions is described",
     ["human_oversight"]),
    ("risk_category", "accountability", "An EU AI Act risk category is assigned",
     ["eu_ai_act_risk_category"]),
)  # fmt: skip
"""The items only people can answer: id, theme, check and the answers it needs."""


def human_items(section: Mapping[str, Any], evidence: Evidence) -> list[Item]:
    """The checklist items that only people can answer, from the config's section."""
    items = [
        human_item(item_id, theme, check, section, keys, evidence)
        for item_id, theme, check, keys in HUMAN_ITEMS
    ]
    if answer(section, "eu_ai_act_risk_category") == "unacceptable":
        items[-1].status = "FAIL"
        items[-1].detail = "unacceptable: such systems are prohibited"
    return items


def run_item(
    item_id: str, theme: str, check: str, status: str, detail: str, evidence: Evidence | None
) -> Item:
    """An item judged from a run's evidence; MISSING when the run does not exist."""
    if evidence is None:
        return Item(
            theme, check, "MISSING", detail or "no run to judge from", Evidence(""), item_id
        )
    return Item(theme, check, status, detail, evidence, item_id)


RUN_ITEM_IDS = (
    "fairness_gates",
    "sensitive_features_unused",
    "beats_baseline",
    "quality_thresholds",
    "data_checked",
    "no_leakage",
    "reproducible",
    "explained",
    "no_personal_data",
)
"""Ids of the items judged from the runs' evidence (see `card_checklist.run_checklist`)."""


def item_ids() -> list[str]:
    """Every checklist item id, the keys `governance.waivers` may use."""
    return [*RUN_ITEM_IDS, *(item[0] for item in HUMAN_ITEMS)]


def apply_waivers(items: list[Item], waivers: Mapping[str, str]) -> list[Item]:
    """Attach each written waiver to its FAIL item (a waiver of a passing item is kept
    with it, for the record, but changes nothing)."""
    for item in items:
        reason = waivers.get(item.id)
        if isinstance(reason, str) and reason.strip():
            item.waiver = reason.strip()
    return items


def check_waivers(waivers: Any, where: str) -> list[str]:
    """Problems with `governance.waivers`: not a mapping, unknown item ids, empty reasons."""
    if waivers is None:
        return []
    if not isinstance(waivers, dict):
        return [f"{where}: 'governance.waivers' must map checklist item ids to reasons."]
    problems = [
        f"{where}: 'governance.waivers' names unknown checklist item '{key}'. "
        f"Items: {', '.join(item_ids())}."
        for key in waivers
        if key not in item_ids()
    ]
    problems += [
        f"{where}: the waiver of '{key}' needs a written reason, got {value!r}."
        for key, value in waivers.items()
        if key in item_ids() and (not isinstance(value, str) or not value.strip())
    ]
    return problems


def by_theme(items: list[Item]) -> dict[str, list[Item]]:
    """Items grouped by theme, in the order of `THEMES`."""
    return {theme: [i for i in items if i.theme == theme] for theme in THEMES}


def counts(items: list[Item]) -> dict[str, int]:
    """How many items are PASS, FAIL and MISSING."""
    return {status: sum(i.status == status for i in items) for status in STATUSES}
