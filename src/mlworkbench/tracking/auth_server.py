"""Authentication for `mlwb server`: MLflow's basic-auth app, its users in the same PostgreSQL
server, and the workbench's rules (`tracking.auth_rules`).

A server listening on anything but this machine (127.0.0.1) signs users in unless told
`--no-auth`, and then says loudly that it does not. The user database is a database of its
own (`mlflow_auth` by default) beside the tracking database, created on first start when the
database user may. The admin's name and password come from the environment only
(`MLFLOW_AUTH_ADMIN_USERNAME`, default `admin`, and `MLFLOW_AUTH_ADMIN_PASSWORD`): MLflow
creates the admin from them the first time and ignores them afterwards. The auth config the
server reads is written to a private temporary folder and holds no password.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

from mlworkbench.exceptions import TeamServerError
from mlworkbench.tracking.teamserver import ServerSettings, connect, scrub

# Deferred imports: psycopg2 loads inside the function that uses it, as in `teamserver`.

ADMIN_USER_VAR, ADMIN_PASSWORD_VAR = "MLFLOW_AUTH_ADMIN_USERNAME", "MLFLOW_AUTH_ADMIN_PASSWORD"
SECRET_KEY_VAR = "MLFLOW_FLASK_SERVER_SECRET_KEY"
CREDENTIAL_CACHE_SECONDS = 60
"""How long a server worker trusts a checked user name and password: without it every request
pays MLflow's password hashing. A changed password takes effect within this time."""

NO_AUTH_WARNING = (
    "WARNING: authentication is off (--no-auth) on a server others can reach ({host}): anyone "
    "who reaches its port can read every run, delete experiments and move 'champion'."
)


def auth_config(settings: ServerSettings) -> str:
    """The text of MLflow's auth config for `settings`: users in `auth_database`, read access
    for a signed-in user without a role, the workbench's rules after MLflow's sign-in."""
    database = replace(settings.database, name=settings.auth_database)
    return "\n".join(
        [
            "[mlflow]",
            "default_permission = READ",
            f"database_uri = {database.uri()}",
            f"admin_username = {os.environ.get(ADMIN_USER_VAR) or 'admin'}",
            "authorization_function = mlworkbench.tracking.auth_rules:authenticate",
            f"auth_cache_ttl_seconds = {CREDENTIAL_CACHE_SECONDS}",
            "",
        ]
    )


def ensure_database(settings: ServerSettings) -> None:
    """Create the user database beside the tracking database when it is missing.

    Raises:
        TeamServerError: it is missing and the database user may not create it.
    """
    import psycopg2

    name = settings.auth_database
    connection = connect(settings.database)
    connection.autocommit = True
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,))
            if cursor.fetchone() is None:
                cursor.execute(f'CREATE DATABASE "{name}"')
    except psycopg2.Error as exc:
        reason = " ".join(str(exc).split())
        raise TeamServerError(
            scrub(
                f"the user database '{name}' is missing and cannot be created ({reason}); "
                f"create it (CREATE DATABASE {name} OWNER {settings.database.user}) or name "
                "another with auth_database."
            )
        ) from exc
    finally:
        connection.close()


@contextlib.contextmanager
def prepared(settings: ServerSettings, echo: Any) -> Iterator[tuple[list[str], dict[str, str]]]:
    """The extra `mlflow server` arguments and environment for `settings`, while the server
    runs: MLflow's basic-auth app and its config when it signs users in, nothing otherwise
    (with a warning when others can reach it)."""
    if not settings.authenticated:
        if settings.host not in ("127.0.0.1", "localhost", "::1"):
            echo(NO_AUTH_WARNING.format(host=settings.host))
        yield [], {}
        return
    ensure_database(settings)
    folder = Path(tempfile.mkdtemp(prefix="mlwb-auth."))  # mode 700
    try:
        config = folder / "auth.ini"
        config.write_text(auth_config(settings), encoding="utf-8")
        config.chmod(0o600)
        echo(
            f"Authentication on: users in database '{settings.auth_database}'; clients set "
            "MLFLOW_TRACKING_USERNAME and MLFLOW_TRACKING_PASSWORD (mlwb users add)."
        )
        yield (
            ["--app-name", "basic-auth"],
            {
                "MLFLOW_AUTH_CONFIG_PATH": str(config),
                SECRET_KEY_VAR: os.environ.get(SECRET_KEY_VAR) or secrets.token_hex(32),
            },
        )
    finally:
        shutil.rmtree(folder, ignore_errors=True)
