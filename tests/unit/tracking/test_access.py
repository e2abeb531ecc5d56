"""Who the user is, and one clear message for a tracking server's 401 or 403."""

from __future__ import annotations

import getpass

from mlflow.exceptions import MlflowException, RestException

from mlworkbench.exceptions import AccessError
from mlworkbench.tracking import access

URI = "http://mlflow.example.org:5000"


def refused(status: int, endpoint: str, body: str) -> MlflowException:
    """MLflow's own exception for a server answering `status` with a plain-text `body`."""
    code = {401: "UNAUTHENTICATED", 403: "PERMISSION_DENIED"}[status]
    return MlflowException(
        f"API request to endpoint {endpoint} failed with error code {status} != 200. "
        f"Response body: '{body}'",
        error_code=code,
    )


def test_the_user_is_the_signed_in_one_on_a_server_else_the_os_user(monkeypatch):
    monkeypatch.setenv("MLFLOW_TRACKING_USERNAME", " ana ")
    assert access.identity(URI) == ("ana", True)
    assert access.identity("sqlite:////tmp/mlflow.db") == (getpass.getuser(), False)
    monkeypatch.delenv("MLFLOW_TRACKING_USERNAME")
    assert access.identity(URI) == (getpass.getuser(), False)
    assert access.described("ana", True) == "ana (authenticated)"
    assert access.described("ana", False) == "ana (unauthenticated OS user)"


def test_a_401_says_whose_password_was_refused_and_what_to_set(monkeypatch):
    monkeypatch.setenv("MLFLOW_TRACKING_USERNAME", "ana")
    error = access.refusal(refused(401, "/api/2.0/mlflow/runs/create", "no"), URI)
    assert isinstance(error, AccessError) and error.exit_code == 2
    assert str(error) == (
        f"The tracking server {URI} refused the password of 'ana' (401 unauthenticated). Set "
        "MLFLOW_TRACKING_USERNAME and MLFLOW_TRACKING_PASSWORD to an account an admin created "
        "with `mlwb users add`."
    )
    monkeypatch.delenv("MLFLOW_TRACKING_USERNAME")
    error = access.refusal(refused(401, "/api/2.0/mlflow/runs/create", "no"), URI)
    assert "refused a request without a user name" in str(error)


def test_a_403_names_the_user_and_what_was_refused(monkeypatch):
    monkeypatch.setenv("MLFLOW_TRACKING_USERNAME", "ana")
    plain = refused(403, "/api/2.0/mlflow/registered-models/delete", "Permission denied")
    assert str(access.refusal(plain, URI)) == (
        f"The tracking server {URI} does not let 'ana' delete a registered model (reviewers) "
        "(403 permission denied). Ask an admin for a role that may (mlwb users --help)."
    )
    users = refused(403, "/api/2.0/mlflow/users/create", "Permission denied")
    assert "does not let 'ana' manage users (admins)" in str(access.refusal(users, URI))
    ruled = RestException(
        {"error_code": "PERMISSION_DENIED", "message": "only reviewers and admins move it."}
    )
    assert str(access.refusal(ruled, URI)) == (
        f"The tracking server {URI} refused 'ana' (403): only reviewers and admins move it."
    )
    assert access.is_permission_denied(ruled) and access.is_permission_denied(plain)


def test_other_errors_are_not_refusals():
    assert (
        access.refusal(MlflowException("no such run", error_code="RESOURCE_DOES_NOT_EXIST"), URI)
        is None
    )
    assert access.refusal(ValueError("bad"), URI) is None
    assert access.http_status(RuntimeError("failed with error code 500 != 200")) is None


def test_roles_grant_mlflow_permissions_and_only_reviewers_and_admins_sign_off():
    assert set(access.ROLES) == {"scientist", "reviewer", "admin"}
    assert dict(access.ROLES["scientist"].grants) == {
        "experiment": "EDIT",
        "registered_model": "EDIT",
    }
    assert dict(access.ROLES["reviewer"].grants)["registered_model"] == "MANAGE"
    assert access.ROLES["admin"].admin and not access.ROLES["reviewer"].admin
    assert [r.name for r in access.ROLES.values() if r.signs_off] == ["reviewer", "admin"]
