"""Who the user is, what each role of an authenticated team server may do, and one clear
message when the server refuses a request.

Clients sign in with MLflow's own `MLFLOW_TRACKING_USERNAME` and `MLFLOW_TRACKING_PASSWORD`;
the password is read by MLflow's client from the environment and never passes through the
workbench. Without them (a local store, or a server without authentication) the user is the
operating-system user, which anyone can set, and every record says so.

Roles are MLflow roles in its default workspace, with MLflow permissions on every experiment
and registered model (`ROLES`); the rules MLflow's permissions cannot express (only reviewers
and admins move `champion`, never for a version they registered) are checked by the server
itself (`tracking.auth_rules`).
"""

from __future__ import annotations

import getpass
import os
import re
from dataclasses import dataclass
from typing import Any

from mlworkbench.exceptions import AccessError

# Deferred imports: mlflow loads inside the functions that use them, so that importing this
# module (from the command line or a notebook) stays fast.

USERNAME_VAR, PASSWORD_VAR = "MLFLOW_TRACKING_USERNAME", "MLFLOW_TRACKING_PASSWORD"
WORKSPACE = "default"
"""MLflow's workspace of every role when workspaces are off, as on `mlwb server`."""


@dataclass(frozen=True)
class Role:
    """A role of the team server: what it is for, its MLflow permissions on every experiment
    and registered model, and whether it makes the user an MLflow admin."""

    name: str
    summary: str
    grants: tuple[tuple[str, str], ...] = ()
    admin: bool = False

    @property
    def signs_off(self) -> bool:
        return self.name in SIGNOFF_ROLES


ROLES = {
    role.name: role
    for role in (
        Role(
            "scientist",
            "runs pipelines, logs runs and registers model versions; cannot move 'champion'",
            (("experiment", "EDIT"), ("registered_model", "EDIT")),
        ),
        Role(
            "reviewer",
            "does what a scientist does, manages registered models and signs versions off "
            "(moves 'champion'), never a version they registered",
            (("experiment", "EDIT"), ("registered_model", "MANAGE")),
        ),
        Role(
            "admin",
            "manages users and roles; may do everything a reviewer may, under the same "
            "four-eyes rule",
            admin=True,
        ),
    )
}
SIGNOFF_ROLES = ("reviewer", "admin")
"""Roles that may move `champion` on an authenticated server."""


def is_remote(uri: str) -> bool:
    return uri.startswith(("http://", "https://"))


def signed_in_user(uri: str) -> str:
    """The user MLflow's client signs in as to the server `uri`; empty when none (a local
    store, or no `MLFLOW_TRACKING_USERNAME`)."""
    return os.environ.get(USERNAME_VAR, "").strip() if is_remote(uri) else ""


def identity(uri: str) -> tuple[str, bool]:
    """The user's name and whether the tracking server checks it (a signed-in user; its
    requests fail unless the password is right), else the operating-system user."""
    user = signed_in_user(uri)
    return (user, True) if user else (getpass.getuser(), False)


def described(user: str, authenticated: bool) -> str:
    """A user as records name them: `ana (authenticated)`, `ana (unauthenticated OS user)`."""
    return f"{user} ({'authenticated' if authenticated else 'unauthenticated OS user'})"


def http_status(exc: BaseException) -> int | None:
    """The HTTP status of a refused MLflow request (401, 403), else None."""
    code = getattr(exc, "error_code", "")
    if code == "UNAUTHENTICATED":
        return 401
    if code == "PERMISSION_DENIED":
        return 403
    found = re.search(r"failed with error code (40[13]) != 200", str(exc))
    return int(found.group(1)) if found else None


def is_permission_denied(exc: BaseException) -> bool:
    return http_status(exc) == 403


ACTIONS = (
    ("registered-models/alias", "move an alias of a registered model ('champion': reviewers)"),
    ("model-versions/set-tag", "tag a model version (sign-off tags: reviewers)"),
    ("model-versions/delete", "delete a model version (reviewers)"),
    ("registered-models/delete", "delete a registered model (reviewers)"),
    ("model-versions/create", "register a model version (scientists)"),
    ("registered-models/", "change a registered model (scientists, reviewers)"),
    ("experiments/", "change an experiment (scientists)"),
    ("runs/", "create or log a run (scientists)"),
    ("users/", "manage users (admins)"),
    ("roles/", "manage roles (admins)"),
)
"""What a refused endpoint was for, and who may do it, first match wins."""


def refused_action(exc: BaseException) -> str:
    """What the refused request tried to do, from the endpoint MLflow names in `exc`."""
    text = str(exc)
    endpoint = re.search(r"endpoint (\S+)", text)
    for fragment, action in ACTIONS:
        if endpoint and fragment in endpoint.group(1):
            return action
    return f"call {endpoint.group(1)}" if endpoint else "make this request"


def refusal(exc: BaseException, uri: str) -> AccessError | None:
    """One clear error for a request the server `uri` refused (who, what was refused and why),
    else None (`exc` is not a refusal)."""
    status = http_status(exc)
    if status is None:
        return None
    user = signed_in_user(uri)
    if status == 401:
        who = f"the password of '{user}'" if user else "a request without a user name"
        return AccessError(
            f"The tracking server {uri} refused {who} (401 unauthenticated). Set "
            f"{USERNAME_VAR} and {PASSWORD_VAR} to an account an admin created with "
            "`mlwb users add`."
        )
    message = getattr(exc, "message", str(exc))
    who = user or getpass.getuser()
    if "PERMISSION_DENIED: " in message:  # the workbench's rules say why
        return AccessError(
            f"The tracking server {uri} refused '{who}' (403): "
            + message.split("PERMISSION_DENIED: ", 1)[1]
        )
    return AccessError(
        f"The tracking server {uri} does not let '{who}' {refused_action(exc)} (403 permission "
        "denied). Ask an admin for a role that may (mlwb users --help)."
    )


def add_user(uri: str, name: str, password: str, role_name: str) -> None:
    """Create `name` with `password` on the server `uri` and give it `role_name`, creating the
    role with its permissions on first use. The signed-in user must be an admin.

    Raises:
        AccessError: unknown role, the server refused, or the user exists already.
    """
    from mlflow.exceptions import MlflowException

    if role_name not in ROLES:
        raise AccessError(f"Unknown role '{role_name}'. Roles: {', '.join(ROLES)}.")
    role = ROLES[role_name]
    client = auth_client(uri)
    try:
        client.create_user(name, password)
        if role.admin:
            client.update_user_admin(name, True)
        found = {r.name: r for r in client.list_roles(WORKSPACE)}
        mlflow_role = found.get(role.name) or _create_role(client, role)
        client.assign_role(name, mlflow_role.id)
    except MlflowException as exc:
        if (refused := refusal(exc, uri)) is not None:
            raise refused from exc
        if exc.error_code == "RESOURCE_ALREADY_EXISTS":
            raise AccessError(f"User '{name}' exists already on {uri}.") from exc
        raise AccessError(f"Cannot add user '{name}' on {uri}: {exc.message}") from exc


def _create_role(client: Any, role: Role) -> Any:
    """The MLflow role of `role`, with its permissions on every experiment and model."""
    created = client.create_role(WORKSPACE, role.name, description=role.summary)
    for resource_type, permission in role.grants:
        client.add_role_permission(created.id, resource_type, "*", permission)
    return created


def user_roles(uri: str, name: str) -> list[str]:
    """The workbench roles of `name` on the server `uri` (the signed-in user must be an admin,
    or `name` itself)."""
    return [r.name for r in auth_client(uri).list_user_roles(name) if r.name in ROLES]


def auth_client(uri: str) -> Any:
    """MLflow's client of the server's user API (its import warns about a server module)."""
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from mlflow.server.auth.client import AuthServiceClient
    return AuthServiceClient(uri)
