"""The promotion gate: does a new model version become `champion`?

A version is promoted when its quality thresholds are met, its fairness gates pass, its
checklist is complete (MISSING answers block unless the config says they do not) and it is
not worse than the current champion on the primary metric, measured on the same test rows,
by more than a margin. The decision and every reason are tagged on the model version; a
rejected version never moves `champion`. `mlwb promote` records a decision by hand with a
required reason.

The gate fails closed: only MLflow's own "this model has no such alias" answer means "no
champion yet"; any other registry error raises `RegistryError` or blocks the version.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from mlworkbench.analysis.evaluation import LOWER_IS_BETTER
from mlworkbench.exceptions import PromotionError, RegistryError
from mlworkbench.tracking.access import is_permission_denied
from mlworkbench.tracking.tags import (
    SIGNOFF_AWAITING,
    TAG_CARD,
    TAG_CARD_RUN,
    TAG_DECIDED_AT,
    TAG_DECIDED_BY,
    TAG_DECISION,
    TAG_LAST_AT,
    TAG_LAST_DECISION,
    TAG_LAST_VERSION,
    TAG_REASONS,
    TAG_SIGNOFF,
)

# Deferred imports: mlflow loads inside the functions that use them, so that importing this module
# (from the command line or a notebook) stays fast.

CHAMPION, CHALLENGER, CANDIDATE = "champion", "challenger", "candidate"


@dataclass
class Check:
    """One reason of a decision: what was checked, whether it passed, and the numbers."""

    name: str
    passed: bool
    detail: str

    def sentence(self) -> str:
        return f"{'PASS' if self.passed else 'BLOCKS'}: {self.name}: {self.detail}"


PROMOTED, AWAITING, REJECTED = "promoted", "awaiting sign-off", "rejected"
"""The card stage's decisions: `champion` moved; approved but a person must sign it off (alias
`candidate`); not approved."""


@dataclass
class Decision:
    """Approve or not, with every reason, and why a person must sign an approved version off
    before it becomes champion (empty: the gate moves `champion` itself)."""

    version: str
    checks: list[Check] = field(default_factory=list)
    signoff: str = ""

    @property
    def promote(self) -> bool:
        """Whether the gate approves the version (every check passes)."""
        return all(c.passed for c in self.checks)

    @property
    def moves_champion(self) -> bool:
        return self.promote and not self.signoff

    @property
    def label(self) -> str:
        if not self.promote:
            return REJECTED
        return AWAITING if self.signoff else PROMOTED

    def reasons(self) -> list[str]:
        sentences = [c.sentence() for c in self.checks]
        return sentences + ([f"SIGN-OFF: {self.signoff}"] if self.signoff else [])


def better(metric: str, value: float, other: float, margin: float = 0.0) -> bool:
    """Whether `value` is at least as good as `other` minus `margin` on `metric`."""
    if metric in LOWER_IS_BETTER:
        return value <= other + margin
    return value >= other - margin


def quality_checks(metrics: Mapping[str, float], thresholds: Mapping[str, float]) -> list[Check]:
    """Each configured quality threshold against the test metrics (a minimum, or a maximum for
    error measures such as rmse and log_loss)."""
    checks = []
    for name, limit in thresholds.items():
        value = metrics.get(name)
        if value is None:
            checks.append(Check(f"quality {name}", False, "the training run has no such metric"))
            continue
        rule = "<=" if name in LOWER_IS_BETTER else ">="
        checks.append(
            Check(
                f"quality {name}",
                better(name, value, limit),
                f"{value:.4f} {rule} {limit:g} required",
            )
        )
    return checks


def checklist_check(
    missing: list[str], failed: list[str], missing_blocks: bool, waived: list[str] = ()
) -> Check:
    """Whether the checklist allows promotion: a FAIL item blocks unless it is waived with a
    written reason (`governance.waivers`); MISSING items block when `missing_blocks`."""
    problems = []
    if failed:
        problems.append(f"{len(failed)} item(s) FAIL: {'; '.join(failed)}")
    if missing and missing_blocks:
        problems.append(f"{len(missing)} item(s) MISSING: {'; '.join(missing)}")
    notes = [f"waived: {w}" for w in waived]
    if problems:
        return Check("checklist", False, "; ".join(problems + notes))
    detail = "complete" if not missing else f"{len(missing)} MISSING (allowed by the config)"
    return Check("checklist", True, "; ".join([detail, *notes]))


def fairness_check(status: str, failed_gates: list[str]) -> Check:
    """Whether every fairness gate of the explain stage passed."""
    if status == "PASS":
        return Check("fairness gates", True, "every gate passes")
    if status == "FAIL":
        return Check("fairness gates", False, f"failing: {'; '.join(failed_gates)}")
    return Check("fairness gates", False, "no fairness gate was judged (explain stage missing?)")


def champion_check(
    metric: str,
    challenger: float,
    champion: float | None,
    champion_version: str | None,
    margin: float,
) -> Check:
    """The challenger against the current champion on the same test rows."""
    if champion_version is None or champion is None:
        return Check("champion", True, "no champion yet")
    ok = better(metric, challenger, champion, margin)
    return Check(
        "champion",
        ok,
        f"{metric} {challenger:.4f} against {champion:.4f} of champion version "
        f"{champion_version} on the same test rows (margin {margin:g})" + ("" if ok else ": worse"),
    )


def registry_error(name: str, action: str, exc: BaseException) -> RegistryError:
    """A `RegistryError` naming the model, what could not be done and the underlying error
    (its first line: a database error goes on with the whole SQL statement)."""
    first = (str(exc).strip().splitlines() or [""])[0][:500]
    return RegistryError(
        f"The model registry could not {action} of registered model '{name}': "
        f"{type(exc).__name__}: {first}"
    )


def is_missing_alias(exc: BaseException, alias: str) -> bool:
    """Whether `exc` is MLflow's answer for an alias an existing registered model does not have.

    MLflow 3 answers INVALID_PARAMETER_VALUE with "Registered model alias <alias> not found."
    (a tracking server puts the code in front of the message); an unknown registered model is
    RESOURCE_DOES_NOT_EXIST, and a store that fails says something else again.
    """
    from mlflow.exceptions import MlflowException

    return (
        isinstance(exc, MlflowException)
        and exc.error_code == "INVALID_PARAMETER_VALUE"
        and f"Registered model alias {alias} not found." in exc.message
    )


def current_champion(client: Any, name: str) -> Any:
    """The model version `champion` points at, or None when the registered model has no
    `champion` alias yet.

    Raises:
        RegistryError: the registry gave any other answer (store unreachable, database error,
            no registered model `name`): never read as "no champion yet".
    """
    try:
        return client.get_model_version_by_alias(name, CHAMPION)
    except Exception as exc:
        if is_missing_alias(exc, CHAMPION):
            return None
        raise registry_error(name, "read the champion", exc) from exc


def unreadable_champion(error: BaseException) -> Check:
    """A blocking `champion` check: without the champion the version cannot be compared."""
    return Check(CHAMPION, False, f"cannot be compared with the champion: {error}")


def read_champion(client: Any, name: str) -> tuple[Any, Check | None]:
    """The current champion (or None) for the card stage, with a blocking `champion` check
    instead when the registry cannot say which version it is."""
    try:
        return current_champion(client, name), None
    except RegistryError as exc:
        return None, unreadable_champion(exc)


def record(client: Any, name: str, version: str, decision: str, reasons: list[str], by: str):
    """Tag a decision on the version and on the registered model (its last decision)."""
    when = datetime.now(tz=UTC).strftime("%Y-%m-%d %H:%M UTC")
    text = "\n".join(reasons)[:5000]
    for key, value in (
        (TAG_DECISION, decision),
        (TAG_REASONS, text),
        (TAG_DECIDED_BY, by),
        (TAG_DECIDED_AT, when),
    ):
        client.set_model_version_tag(name, version, key, value)
    for key, value in (
        (TAG_LAST_DECISION, decision),
        (TAG_LAST_VERSION, str(version)),
        (TAG_LAST_AT, when),
    ):
        set_model_tag(client, name, key, value)


def set_model_tag(client: Any, name: str, key: str, value: str) -> None:
    """Set a tag of registered model `name`. When another pipeline sets the same tag at the
    same instant, a database server refuses the second insert (its unique key); once more,
    the tag exists and is updated."""
    try:
        client.set_registered_model_tag(name, key, value)
    except Exception as exc:  # MLflow's REST or store exception, whichever the store raises
        if not re.search(r"unique|already exists", str(exc), re.IGNORECASE):
            raise
        client.set_registered_model_tag(name, key, value)


def outcome(decision: Decision) -> str:
    """What a decision did to the aliases, as the end of a sentence."""
    if decision.moves_champion:
        return " (now the champion)."
    if decision.promote:
        return f" (alias '{CANDIDATE}'); champion unchanged until a reviewer signs it off."
    return "; champion unchanged."


def signoff_reason(answers: Mapping[str, Any], required: bool) -> str:
    """Why an approved version needs a person's sign-off before it becomes champion: the
    config's EU AI Act risk category `high`, or the card stage's `require_signoff`; empty when
    neither applies."""
    if str(answers.get("eu_ai_act_risk_category", "")).strip().lower() == "high":
        return "required for EU AI Act risk category 'high' (human oversight)"
    return "required by the card stage's require_signoff" if required else ""


def await_signoff(client: Any, name: str, version: str) -> None:
    """Point `candidate` at an approved version and mark it as awaiting sign-off."""
    client.set_model_version_tag(name, version, TAG_SIGNOFF, SIGNOFF_AWAITING)
    client.set_registered_model_alias(name, CANDIDATE, version)


def apply(client: Any, name: str, decision: Decision, card_run_id: str) -> None:
    """Record a gate decision. An approved version becomes champion, or `candidate` awaiting
    sign-off when it needs one, or when the tracking server does not let this user move
    `champion` (an authenticated server moves it only to a version a person signed off)."""
    by = f"card run {card_run_id}"
    if decision.moves_champion:
        try:
            client.set_registered_model_alias(name, CHAMPION, decision.version)
        except Exception as exc:
            if not is_permission_denied(exc):
                raise
            decision.signoff = "the tracking server moves 'champion' only after a person's sign-off"
    record(client, name, decision.version, decision.label, decision.reasons(), by)
    if decision.promote and decision.signoff:
        await_signoff(client, name, decision.version)


DESCRIPTION_LIMIT = 5000
"""Characters of a model version description the tracking store keeps."""


def attach_card(client: Any, name: str, version: str, markdown: str, card_run_id: str) -> None:
    """Attach the card to the model version: its Markdown as the description (shortened to
    what the store keeps, pointing to the full card) and tag `mlwb.model_card`."""
    uri = f"runs:/{card_run_id}/card/model_card.md"
    if len(markdown) > DESCRIPTION_LIMIT:
        note = f"\n\n(shortened; the full card is {uri})"
        markdown = markdown[: DESCRIPTION_LIMIT - len(note)] + note
    client.update_model_version(name, version, description=markdown)
    client.set_model_version_tag(name, version, TAG_CARD, uri)
    client.set_model_version_tag(name, version, TAG_CARD_RUN, card_run_id)


def check_version(client: Any, name: str, version: str) -> None:
    """Make sure registered model `name` has `version`, telling a missing one (the store's
    RESOURCE_DOES_NOT_EXIST) apart from a store that cannot answer.

    Raises:
        PromotionError: not a version number, no registered model `name`, no such version.
        RegistryError: any other error of the registry.
    """
    if not version.strip().isdigit():
        raise PromotionError(f"Version must be a number such as 3, not '{version}'.")
    for missing, read in (
        (f"There is no registered model '{name}'.", lambda: client.get_registered_model(name)),
        (
            f"Registered model '{name}' has no version '{version}'.",
            lambda: client.get_model_version(name, version),
        ),
    ):
        try:
            read()
        except Exception as exc:
            if getattr(exc, "error_code", "") == "RESOURCE_DOES_NOT_EXIST":
                raise PromotionError(missing) from exc
            raise registry_error(name, f"look up version {version}", exc) from exc
