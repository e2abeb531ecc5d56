"""The workbench's rules on an authenticated team server, checked by the server itself.

`mlwb server --auth` runs MLflow's basic-auth app with `authenticate` below as its
`authorization_function`: MLflow calls it for every request, it signs the user in with
MLflow's own basic authentication, then refuses (403, with a sentence saying why) what
MLflow's permissions cannot express:

- only reviewers and admins move or remove `champion`, and never to a version they registered
  themselves (four-eyes rule), nor to one they have not signed off (its `mlwb.signoff_*` tags
  name them), so every champion has its record of who, when and why;
- only they write a sign-off (`mlwb.signoff_*` tags, `mlwb.signoff` = `signed off`), in their
  own name;
- `mlwb.registered_by` names the signed-in user when a version is registered (an admin copying
  a store may name anyone), and no one else changes it afterwards;
- only reviewers and admins delete registered models and versions.

Everything else is MLflow's permissions (`tracking.access.ROLES`).
"""

from __future__ import annotations

import json
from typing import Any

from mlworkbench.tracking.access import SIGNOFF_ROLES, WORKSPACE
from mlworkbench.tracking.tags import (
    SIGNED_OFF,
    SIGNOFF_AWAITING,
    TAG_REGISTERED_BY,
    TAG_SIGNOFF,
    TAG_SIGNOFF_AT,
    TAG_SIGNOFF_BY,
    TAG_SIGNOFF_IDENTITY,
    TAG_SIGNOFF_REASON,
)

# Deferred imports: flask and MLflow's server modules load inside the functions that use them;
# only a server worker imports them.

CHAMPION = "champion"
JUDGED = (
    "registered-models/alias",
    "model-versions/set-tag",
    "model-versions/delete-tag",
    "model-versions/create",
    "registered-models/delete",
    "model-versions/delete",
)
"""The endpoints the rules below judge; the values of no other request are read."""
SIGNOFF_TAGS = (TAG_SIGNOFF_AT, TAG_SIGNOFF_BY, TAG_SIGNOFF_IDENTITY, TAG_SIGNOFF_REASON)


def authenticate() -> Any:
    """MLflow's basic authentication, then the workbench's rules: the `Authorization` of a
    user the request is allowed for, else the response refusing it (401 or 403)."""
    from mlflow.server.auth import authenticate_request_basic_auth
    from werkzeug.datastructures import Authorization

    signed_in = authenticate_request_basic_auth()
    if not isinstance(signed_in, Authorization):
        return signed_in
    reason = refusal(signed_in.username, request_values())
    return signed_in if reason is None else forbidden(reason)


def request_values() -> dict[str, Any]:
    """The request's endpoint (`registered-models/alias`), method, and the values MLflow's
    handler acts on: the query of a GET, else the body read as JSON whatever its content type
    (as MLflow reads it, so a DELETE without a JSON content type is judged as it is done)."""
    from flask import request

    endpoint = request.path.split("/mlflow/", 1)[-1] if "/mlflow/" in request.path else ""
    if request.method == "GET":
        values = request.args.to_dict()
    elif endpoint in JUDGED:  # never read another body: an artifact upload is streamed to disk
        body = request.get_json(force=True, silent=True)
        values = body if isinstance(body, dict) else {}
    else:
        values = {}
    return {"endpoint": endpoint, "method": request.method, **values}


def forbidden(reason: str) -> Any:
    """A 403 in MLflow's error format, so its client shows `reason`."""
    from flask import Response

    body = {"error_code": "PERMISSION_DENIED", "message": reason}
    return Response(json.dumps(body), status=403, mimetype="application/json")


def refusal(user: str, values: dict[str, Any]) -> str | None:
    """Why `user` may not make the request `values` describes, or None."""
    endpoint, method = values.get("endpoint", ""), values.get("method", "")
    if endpoint == "registered-models/alias" and values.get("alias") == CHAMPION:
        if method == "DELETE":
            return None if signs_off(user) else only_reviewers(user, "remove 'champion'")
        if method == "POST":
            name, version = values.get("name", ""), str(values.get("version", ""))
            return champion_refusal(user, name, version) or unsigned(user, name, version)
    if endpoint == "model-versions/set-tag":
        return tag_refusal(user, values)
    if endpoint == "model-versions/delete-tag" and protected(values.get("key", "")):
        return None if is_admin(user) else f"only an admin removes the tag '{values['key']}'."
    if endpoint == "model-versions/create":
        named = tag_value(values.get("tags") or [], TAG_REGISTERED_BY)
        if named not in (None, user) and not is_admin(user):
            return f"'{user}' may not register a version in the name of '{named}'."
    if endpoint in ("registered-models/delete", "model-versions/delete") and not signs_off(user):
        return only_reviewers(user, "delete registered models or versions")
    return None


def champion_refusal(user: str, name: str, version: str, action: str = "move 'champion'"):
    """Why `user` may not point `champion` of `name` at `version` (or sign it off), or None."""
    if not signs_off(user):
        return only_reviewers(user, action)
    registered_by = version_tags(name, version).get(TAG_REGISTERED_BY)
    if registered_by is None:
        return (
            f"version {version} of '{name}' has no record of who registered it on this server, "
            "so the four-eyes rule cannot be checked; register it through mlwb."
        )
    if registered_by == user:
        return four_eyes(user, name, version)
    return None


def unsigned(user: str, name: str, version: str) -> str | None:
    """Why `champion` may not move to `version` yet: `user` has not recorded a sign-off of it
    (who, when, why), so no champion is without one."""
    tags = version_tags(name, version)
    if tags.get(TAG_SIGNOFF) == SIGNED_OFF and tags.get(TAG_SIGNOFF_BY) == user:
        return None
    return (
        f"'{user}' has not signed version {version} of '{name}' off; sign it off with a reason "
        f"first: mlwb promote {name} {version} --reason '...'."
    )


def tag_refusal(user: str, values: dict[str, Any]) -> str | None:
    """Whether `user` may set the version tag of `values`."""
    key, value = values.get("key", ""), str(values.get("value", ""))
    if key == TAG_REGISTERED_BY:
        return None if is_admin(user) else f"only the server records '{TAG_REGISTERED_BY}'."
    if key not in SIGNOFF_TAGS and not (key == TAG_SIGNOFF and value != SIGNOFF_AWAITING):
        return None
    name, version = values.get("name", ""), str(values.get("version", ""))
    refused = champion_refusal(user, name, version, "sign a version off")
    if refused is None and key == TAG_SIGNOFF_BY and value != user:
        refused = f"'{user}' may not record a sign-off in the name of '{value}'."
    return refused


def only_reviewers(user: str, action: str) -> str:
    return (
        f"only reviewers and admins {action}; '{user}' is neither "
        "(an admin gives the role: mlwb users add NAME --role reviewer)."
    )


def four_eyes(user: str, name: str, version: str) -> str:
    return (
        f"'{user}' registered version {version} of '{name}' and may not sign it off "
        "(four-eyes rule): another reviewer does."
    )


def protected(key: str) -> bool:
    return key in (TAG_REGISTERED_BY, TAG_SIGNOFF, *SIGNOFF_TAGS)


def tag_value(tags: list[Any], key: str) -> str | None:
    """The value of tag `key` in a request's list of `{key, value}` tags, or None."""
    values = [str(t.get("value")) for t in tags if isinstance(t, dict) and t.get("key") == key]
    return values[0] if values else None


def is_admin(user: str) -> bool:
    from mlflow.server.auth import store

    return bool(store.get_user(user).is_admin)


def signs_off(user: str) -> bool:
    """Whether `user` is an admin or holds a role that signs versions off."""
    from mlflow.server.auth import store

    account = store.get_user(user)
    if account.is_admin:
        return True
    roles = store.list_user_roles_for_workspace(account.id, WORKSPACE)
    return any(role.name in SIGNOFF_ROLES for role in roles)


def version_tags(name: str, version: str) -> dict[str, str]:
    """The tags of version `version` of `name` (none when there is no such version)."""
    from mlflow.exceptions import MlflowException
    from mlflow.server.handlers import _get_model_registry_store

    try:
        return dict(_get_model_registry_store().get_model_version(name, version).tags)
    except MlflowException:
        return {}
