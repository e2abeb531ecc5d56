"""The team commands of `mlwb`: `server` (MLflow's tracking server on PostgreSQL) and
`migrate` (copy a personal store into it). `cli.py` registers them."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import click

from mlworkbench.cli.options import quiet_mlflow, reports_errors

# Deferred imports: the workbench's own modules load inside the functions that use them, so that
# `mlwb --help` and commands that do not need them start fast.


@click.command("server")
@click.option(
    "--settings",
    "settings_file",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="YAML settings file. Default: mlwb-server.yaml in the current folder, if present.",
)
@click.option("--db-host", default=None, help="PostgreSQL host [MLWB_DB_HOST; 127.0.0.1].")
@click.option("--db-port", default=None, type=int, help="PostgreSQL port [MLWB_DB_PORT; 5432].")
@click.option("--db-name", default=None, help="Database [MLWB_DB_NAME; mlflow].")
@click.option("--db-user", default=None, help="Database user [MLWB_DB_USER; mlwb].")
@click.option(
    "--artifacts",
    default=None,
    help="Shared artifact store: a folder or a URI such as s3://bucket/path "
    "[MLWB_SERVER_ARTIFACTS; ./mlartifacts].",
)
@click.option("--host", default=None, help="Interface to listen on [MLWB_SERVER_HOST; 127.0.0.1].")
@click.option("--port", default=None, type=int, help="Port [MLWB_SERVER_PORT; 5000].")
@click.option(
    "--workers", default=None, type=int, help="Worker processes [MLWB_SERVER_WORKERS; 4]."
)
@click.option(
    "--allowed-hosts",
    default=None,
    help="Comma-separated Host headers accepted, for a server reached by name "
    "[MLWB_SERVER_ALLOWED_HOSTS; MLflow's default: localhost and private addresses].",
)
@click.option(
    "--auth/--no-auth",
    default=None,
    help="Sign users in (MLflow's basic-auth app, users in the database --auth-db) "
    "[MLWB_SERVER_AUTH; on unless --host is 127.0.0.1].",
)
@click.option(
    "--auth-db",
    "auth_database",
    default=None,
    help="Database of users and roles, on the same PostgreSQL server, created when missing "
    "[MLWB_AUTH_DB_NAME; mlflow_auth].",
)
@reports_errors
def server_command(settings_file: Path | None, **options: object) -> None:
    """Run MLflow's tracking server for a team: PostgreSQL for runs and models, a shared
    artifact store, artifacts served through the server.

    Settings come from the settings file, then MLWB_* environment variables, then these
    options (see mlwb-server.example.yaml). The database password is never a setting: set
    PGPASSWORD or use ~/.pgpass. The database is checked before MLflow starts (exit 2 when it
    cannot be reached). Users then set MLFLOW_TRACKING_URI to the address printed. Runs in the
    foreground until Ctrl-C or SIGTERM, and exits with the server's exit code.

    With authentication on, the first start creates the admin from MLFLOW_AUTH_ADMIN_USERNAME
    (default admin) and MLFLOW_AUTH_ADMIN_PASSWORD, read from the environment only; the admin
    then adds users with `mlwb users add`. Only reviewers and admins move 'champion', never
    to a version they registered.
    """
    from mlworkbench.tracking.auth_server import prepared
    from mlworkbench.tracking.teamserver import load_settings, run_server

    settings = load_settings(settings_file, options=options)
    sys.exit(run_server(settings, echo=click.echo, prepare=prepared))


@click.command("migrate")
@click.option(
    "--from",
    "source",
    default=None,
    help="Tracking URI to copy from. Default: the project's SQLite store (mlflow.db).",
)
@click.option(
    "--to",
    "destination",
    default=None,
    help="Tracking URI to copy into, e.g. http://mlflow.example.org:5000. "
    "Default: MLFLOW_TRACKING_URI.",
)
@reports_errors
def migrate_command(source: str | None, destination: str | None) -> None:
    """Copy every experiment, run (parameters, metric histories, tags, datasets, artifacts),
    logged model, registered model version and alias from one tracking store into another.

    Ids of copied runs and models in tags and parameters are replaced by the new ids, so
    nesting and lineage survive. Copied items carry the tag mlwb.migrated_from; running the
    command again skips them, so it resumes after a failure. Exit codes: 0 done, 1 copying
    stopped part way (run again), 2 a store is missing or unreachable.
    """
    from mlworkbench.tracking.migrate import migrate
    from mlworkbench.tracking.store import default_store

    destination = destination or os.environ.get("MLFLOW_TRACKING_URI")
    if not destination:
        raise click.UsageError("give --to URI, or set MLFLOW_TRACKING_URI to the destination.")
    quiet_mlflow()
    os.environ.setdefault("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "3")
    migrate(source or default_store(), destination, echo=click.echo)


@click.group("users")
def users_group() -> None:
    """Users of an authenticated team server (`mlwb server --auth`) and their roles.

    \b
    Roles:
      scientist  runs pipelines, logs runs, registers model versions; cannot move 'champion'
      reviewer   does what a scientist does, manages registered models, signs versions
                 off with `mlwb promote` (moves 'champion'), never one they registered
      admin      manages users; may sign off like a reviewer, under the same four-eyes rule

    Run as an admin: MLFLOW_TRACKING_URI names the server, MLFLOW_TRACKING_USERNAME and
    MLFLOW_TRACKING_PASSWORD the admin's account.
    """


@users_group.command("add")
@click.argument("name")
@click.option(
    "--role",
    type=click.Choice(["scientist", "reviewer", "admin"]),
    required=True,
    help="What the user may do (see mlwb users --help).",
)
@reports_errors
def add_user_command(name: str, role: str) -> None:
    """Create user NAME with a role. The password is asked for (hidden, twice), or read from
    standard input when it is not a terminal; it is never an option or a variable."""
    from mlworkbench.tracking.access import add_user

    uri = _server_uri()
    if sys.stdin.isatty():
        password = click.prompt(f"Password for {name}", hide_input=True, confirmation_prompt=True)
    else:
        password = sys.stdin.readline().rstrip("\r\n")
    if not password:
        raise click.UsageError("the password is empty: type it, or pipe it on standard input.")
    add_user(uri, name, password, role)
    click.echo(f"Added '{name}' as {role} on {uri}.")


def _server_uri() -> str:
    uri = os.environ.get("MLFLOW_TRACKING_URI", "")
    if not uri.startswith(("http://", "https://")):
        raise click.UsageError(
            "set MLFLOW_TRACKING_URI to the team server (http://HOST:PORT) and sign in as an "
            "admin with MLFLOW_TRACKING_USERNAME and MLFLOW_TRACKING_PASSWORD."
        )
    return uri


COMMANDS = (server_command, migrate_command, users_group)
