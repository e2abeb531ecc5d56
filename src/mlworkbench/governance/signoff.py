"""Human sign-off: a person moves `champion` to a version, with a reason, in their own name.

`mlwb promote` calls `sign_off`. Who signs is the signed-in user of an authenticated tracking
server (the server checked the password, and checks again that only reviewers and admins sign
off and never a version they registered), else the operating-system user, recorded as
unauthenticated. The record (who, when, why, and how the identity is known) is tagged on the
version before `champion` moves, so a champion never lacks its sign-off; the card, the index
and the monitoring dashboard read it (`signoff_state`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from mlworkbench.exceptions import PromotionError
from mlworkbench.governance.promotion import (
    AWAITING,
    CANDIDATE,
    CHAMPION,
    DESCRIPTION_LIMIT,
    check_version,
    current_champion,
    record,
    registry_error,
)
from mlworkbench.tracking.access import described, identity, refusal
from mlworkbench.tracking.tags import (
    SIGNED_OFF,
    SIGNOFF_AWAITING,
    TAG_DECISION,
    TAG_REGISTERED_BY,
    TAG_SIGNOFF,
    TAG_SIGNOFF_AT,
    TAG_SIGNOFF_BY,
    TAG_SIGNOFF_IDENTITY,
    TAG_SIGNOFF_REASON,
)


@dataclass(frozen=True)
class SignedOff:
    """The outcome of a sign-off: the version, the champion it replaced (empty when none) and
    who signed."""

    version: str
    previous: str
    signer: str


def resolve(client: Any, name: str, reference: str) -> str:
    """A version number from `reference`: a number, or an alias such as `candidate`."""
    alias = reference.strip().lstrip("@")
    if alias.isdigit() or not alias:
        return alias or reference
    try:
        return str(client.get_model_version_by_alias(name, alias).version)
    except Exception as exc:
        if getattr(exc, "error_code", "") in ("INVALID_PARAMETER_VALUE", "RESOURCE_DOES_NOT_EXIST"):
            raise PromotionError(f"Registered model '{name}' has no alias '{alias}'.") from exc
        raise registry_error(name, f"read the alias '{alias}'", exc) from exc


def check_four_eyes(version: Any, user: str, authenticated: bool) -> None:
    """Refuse a signed-in user signing off a version they registered themselves."""
    if authenticated and version.tags.get(TAG_REGISTERED_BY) == user:
        raise PromotionError(
            f"'{user}' registered version {version.version} of '{version.name}' and may not "
            "sign it off (four-eyes rule): another reviewer does."
        )


def sign_off(client: Any, uri: str, name: str, reference: str, reason: str) -> SignedOff:
    """Move `champion` of `name` to the version `reference` names, recording who, when and why.

    Raises:
        PromotionError: empty reason, unknown model, version or alias, or the signer
            registered the version (on an authenticated server).
        AccessError: the tracking server refused the signer (not a reviewer or admin).
        RegistryError: the registry could not answer or record it; retry once it is back.
    """
    if not reason.strip():
        raise PromotionError("A sign-off needs a reason: --reason 'why this version'.")
    number = resolve(client, name, reference)
    check_version(client, name, number)
    version = client.get_model_version(name, number)
    user, authenticated = identity(uri)
    check_four_eyes(version, user, authenticated)
    previous = current_champion(client, name)
    signer = described(user, authenticated)
    try:
        for key, value in signoff_tags(user, authenticated, reason).items():  # refused first
            client.set_model_version_tag(name, number, key, value)
        label = SIGNED_OFF if version.tags.get(TAG_DECISION) == AWAITING else "promoted by hand"
        record(client, name, number, label, [f"reason: {reason.strip()}"], signer)
        signed = signoff_state(client.get_model_version(name, number).tags)
        client.update_model_version(name, number, description=noted(version.description, signed))
        client.set_registered_model_alias(name, CHAMPION, number)
        if CANDIDATE in version.aliases:
            client.delete_registered_model_alias(name, CANDIDATE)
    except Exception as exc:
        if (refused := refusal(exc, uri)) is not None:
            raise refused from exc
        raise registry_error(name, f"record the sign-off of version {number}", exc) from exc
    return SignedOff(number, previous.version if previous else "", signer)


def noted(description: str | None, signed: str) -> str:
    """A version's description (its card) with the sign-off on top, within what the store
    keeps."""
    head = f"**Sign-off:** {signed[0].upper()}{signed[1:]}\n\n"
    return (head + (description or ""))[:DESCRIPTION_LIMIT]


def signoff_tags(user: str, authenticated: bool, reason: str) -> dict[str, str]:
    """The version tags of a sign-off by `user` now, with `reason`; the signer first, which a
    server refuses for anyone but a reviewer or admin, before anything else is written."""
    return {
        TAG_SIGNOFF_BY: user,
        TAG_SIGNOFF_IDENTITY: "authenticated" if authenticated else "unauthenticated",
        TAG_SIGNOFF_AT: datetime.now(tz=UTC).strftime("%Y-%m-%d %H:%M UTC"),
        TAG_SIGNOFF_REASON: reason.strip()[:5000],
        TAG_SIGNOFF: SIGNED_OFF,
    }


def signoff_state(tags: Mapping[str, str]) -> str:
    """A version's sign-off as people read it, from its tags: `awaiting sign-off`, `signed off
    by ana (authenticated) on 2026-11-30 10:12 UTC: reason`, or empty (none needed or
    recorded)."""
    state = tags.get(TAG_SIGNOFF, "")
    if state == SIGNOFF_AWAITING:
        return "awaiting sign-off"
    if state != SIGNED_OFF:
        return ""
    authenticated = tags.get(TAG_SIGNOFF_IDENTITY) == "authenticated"
    who = described(tags.get(TAG_SIGNOFF_BY, "?"), authenticated)
    return (
        f"signed off by {who} on {tags.get(TAG_SIGNOFF_AT, '?')}: "
        f"{tags.get(TAG_SIGNOFF_REASON, '')}"
    )
