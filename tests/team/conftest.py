"""A real PostgreSQL (scripts/postgres.sh) and a real MLflow server started by `mlwb server`,
once per test session, for the team tests (`tests/servers.py` starts them)."""

from __future__ import annotations

import secrets
import subprocess

import pytest
import servers
from helpers import MLWB


@pytest.fixture(scope="session")
def postgres():
    """A PostgreSQL server of its own: {'port', 'password', 'dir'}; PGPASSWORD is set for the
    session (the team server and psycopg2 read it), then restored."""
    try:
        with servers.postgres() as started:
            yield started
    except servers.ServerError as exc:
        pytest.fail(str(exc))


@pytest.fixture(scope="session")
def team_server(postgres, tmp_path_factory):
    """`mlwb server` on the session's PostgreSQL, artifacts in a temporary folder:
    {'url', 'log', 'artifacts'}."""
    try:
        with servers.team_server(postgres, tmp_path_factory.mktemp("team-server")) as started:
            yield started
    except servers.ServerError as exc:
        pytest.fail(str(exc))


@pytest.fixture(scope="session")
def auth_server(postgres, tmp_path_factory):
    """`mlwb server` with authentication on, on a tracking database of its own in the session's
    PostgreSQL: {'url', 'log', 'artifacts', 'settings', 'passwords'}; the passwords of 'admin'
    (given to the server in the environment only) and of the users of `servers.ROLES`, each added
    through `mlwb users add` with the password on standard input."""
    passwords = {name: secrets.token_urlsafe(18) for name in ("admin", *servers.ROLES)}
    servers.create_database(postgres, "mlflow_secure")
    folder = tmp_path_factory.mktemp("auth-server")
    try:
        with servers.team_server(
            postgres, folder, admin_password=passwords["admin"], name="mlflow_secure"
        ) as started:
            admin = servers.user_env(started["url"], "admin", passwords["admin"])
            for name, role in servers.ROLES.items():
                added = subprocess.run(
                    [MLWB, "users", "add", name, "--role", role],
                    input=passwords[name] + "\n",
                    env=admin,
                    capture_output=True,
                    text=True,
                )
                assert added.returncode == 0, added.stderr
                assert added.stdout == f"Added '{name}' as {role} on {started['url']}.\n"
            yield {**started, "passwords": passwords}
    except servers.ServerError as exc:
        pytest.fail(str(exc))


@pytest.fixture
def signed_in(auth_server):
    """`signed_in(name)`: the environment of that user of the authenticated server."""
    return lambda name: servers.user_env(
        auth_server["url"], name, auth_server["passwords"].get(name, "")
    )
