"""The team tracking server: MLflow's own server on a PostgreSQL store, with shared artifacts.

`mlwb server` reads its settings from a YAML file (`mlwb-server.yaml`, see
`mlwb-server.example.yaml`), then from `MLWB_*` environment variables, then from its
options, each overriding the one before. The database password is never a setting: libpq,
which psycopg2 and so MLflow use, reads it from `PGPASSWORD` or `~/.pgpass`, so it appears
in no URI, command line, log or message. Before MLflow starts, the database is checked with a
short timeout, so a wrong host or password fails in seconds with a readable message.

Artifacts are proxied by the server (`--serve-artifacts`): clients need only the server's
HTTP address, never access to the artifact store itself.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

import yaml

from mlworkbench.exceptions import ConfigError, TeamServerError

# Deferred imports: psycopg2 loads inside the functions that use them, so that importing this
# module (from the command line or a notebook) stays fast.

DEFAULT_SETTINGS_FILE = "mlwb-server.yaml"
LOOPBACK = ("127.0.0.1", "localhost", "::1")
INSTALL_HINT = "pip install 'mlworkbench[team]'"
CONNECT_TIMEOUT = 5
"""Seconds the database check waits for PostgreSQL."""

ENV_VARS = {
    "MLWB_DB_HOST": ("database", "host"),
    "MLWB_DB_PORT": ("database", "port"),
    "MLWB_DB_NAME": ("database", "name"),
    "MLWB_DB_USER": ("database", "user"),
    "MLWB_SERVER_ARTIFACTS": ("artifacts",),
    "MLWB_SERVER_HOST": ("host",),
    "MLWB_SERVER_PORT": ("port",),
    "MLWB_SERVER_WORKERS": ("workers",),
    "MLWB_SERVER_ALLOWED_HOSTS": ("allowed_hosts",),
    "MLWB_SERVER_AUTH": ("auth",),
    "MLWB_AUTH_DB_NAME": ("auth_database",),
}
"""Environment variables that override the settings file, and the key each sets."""

PASSWORD_HINT = (
    "a database password may not be stored in the settings file; give it to libpq instead: "
    "the PGPASSWORD environment variable or ~/.pgpass (mode 600)"
)


@dataclass(frozen=True)
class DatabaseSettings:
    """Where the PostgreSQL database is; the password comes from libpq (PGPASSWORD, .pgpass)."""

    host: str = "127.0.0.1"
    port: int = 5432
    name: str = "mlflow"
    user: str = "mlwb"

    def uri(self) -> str:
        """The SQLAlchemy URI MLflow gets: no password in it, and the psycopg2 driver named
        (SQLAlchemy 2.1 would otherwise look for psycopg 3)."""
        user, name = quote(self.user, safe=""), quote(self.name, safe="")
        return f"postgresql+psycopg2://{user}@{self.host}:{self.port}/{name}"

    def describe(self) -> str:
        """Host, port, database and user, for messages."""
        return f"host {self.host}, port {self.port}, database '{self.name}', user '{self.user}'"


@dataclass(frozen=True)
class ServerSettings:
    """Everything `mlwb server` needs to start MLflow's tracking server."""

    database: DatabaseSettings = field(default_factory=DatabaseSettings)
    artifacts: str = "mlartifacts"
    host: str = "127.0.0.1"
    port: int = 5000
    workers: int = 4
    allowed_hosts: tuple[str, ...] = ()
    auth: bool | None = None
    auth_database: str = "mlflow_auth"

    @property
    def authenticated(self) -> bool:
        """Whether the server signs users in: as set, else on unless it listens on this
        machine only (127.0.0.1, localhost, ::1)."""
        return self.auth if self.auth is not None else self.host not in LOOPBACK

    def tracking_uri(self) -> str:
        """The address users set as MLFLOW_TRACKING_URI."""
        host = socket.getfqdn() if self.host in ("0.0.0.0", "::", "") else self.host
        host = f"[{host}]" if ":" in host else host
        return f"http://{host}:{self.port}"


def _read_file(path: Path) -> dict[str, Any]:
    """The settings file as a mapping; refuses a password and unknown keys."""
    try:
        loaded = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise ConfigError(f"{path}: cannot read the settings: {exc}") from exc
    if not isinstance(loaded, dict):
        raise ConfigError(f"{path}: the settings must be a mapping of keys to values.")
    database = loaded.get("database") or {}
    if not isinstance(database, dict):
        raise ConfigError(f"{path}: 'database' must be a mapping (host, port, name, user).")
    if "password" in loaded or "password" in database:
        raise ConfigError(f"{path}: {PASSWORD_HINT}.")
    problems = [
        f"{path}: unknown key '{key}'. Allowed: {', '.join(allowed)}"
        for mapping, allowed in (
            (
                loaded,
                (
                    "database",
                    "artifacts",
                    "host",
                    "port",
                    "workers",
                    "allowed_hosts",
                    "auth",
                    "auth_database",
                ),
            ),
            (database, ("host", "port", "name", "user")),
        )
        for key in mapping
        if key not in allowed
    ]
    if problems:
        raise ConfigError(problems)
    artifacts = loaded.get("artifacts")
    if isinstance(artifacts, str) and _is_folder(artifacts):
        loaded["artifacts"] = str((path.parent / artifacts).resolve())  # relative to the file
    return loaded


def _from_env(env: Mapping[str, str]) -> dict[str, Any]:
    """The settings the MLWB_* environment variables give, nested like the file's."""
    found: dict[str, Any] = {}
    for name, keys in ENV_VARS.items():
        if env.get(name):
            target = found.setdefault("database", {}) if keys[0] == "database" else found
            target[keys[-1]] = env[name]
    return found


def _merge(base: dict[str, Any], override: Mapping[str, Any]) -> dict[str, Any]:
    """`override`'s values over `base`'s, one level deep for `database`."""
    merged = {**base, **{k: v for k, v in override.items() if k != "database"}}
    merged["database"] = {**base.get("database", {}), **override.get("database", {})}
    return merged


def _integer(value: Any, what: str, lowest: int = 1, highest: int = 65535) -> int:
    try:
        number = int(value)
    except (TypeError, ValueError):
        number = None
    if number is None or isinstance(value, bool) or not lowest <= number <= highest:
        raise ConfigError(
            f"{what} must be a whole number from {lowest} to {highest}, got {value!r}."
        )
    return number


def _hosts(value: Any) -> tuple[str, ...]:
    """Allowed hosts from a list or a comma-separated string."""
    if value is None or value == "":
        return ()
    items = value.split(",") if isinstance(value, str) else value
    if not isinstance(items, list | tuple):
        raise ConfigError(f"allowed_hosts must be a list of host names, got {value!r}.")
    return tuple(str(item).strip() for item in items if str(item).strip())


def _switch(value: Any) -> bool | None:
    """`auth` from the file (true/false), the environment (1/0, true/false) or `--auth`."""
    if value is None or isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("1", "true", "yes", "on"):
        return True
    if text in ("0", "false", "no", "off"):
        return False
    raise ConfigError(f"auth must be true or false, got {value!r}.")


def _is_folder(location: str) -> bool:
    """True for a folder path, False for a URI such as s3://bucket or file:///srv/artifacts."""
    return "://" not in location and not location.startswith("file:")


def _build(values: Mapping[str, Any]) -> ServerSettings:
    """Typed, checked settings from merged raw values."""
    db_values = values.get("database", {})
    default_db = DatabaseSettings()
    database = DatabaseSettings(
        host=str(db_values.get("host", default_db.host)),
        port=_integer(db_values.get("port", default_db.port), "database port"),
        name=str(db_values.get("name", default_db.name)),
        user=str(db_values.get("user", default_db.user)),
    )
    default = ServerSettings()
    artifacts = str(values.get("artifacts") or default.artifacts)
    if _is_folder(artifacts):
        artifacts = str(Path(artifacts).expanduser().resolve())
    return ServerSettings(
        database=database,
        artifacts=artifacts,
        host=str(values.get("host", default.host)),
        port=_integer(values.get("port", default.port), "server port"),
        workers=_integer(values.get("workers", default.workers), "workers", highest=256),
        allowed_hosts=_hosts(values.get("allowed_hosts")),
        auth=_switch(values.get("auth")),
        auth_database=str(values.get("auth_database") or default.auth_database),
    )


def load_settings(
    settings_file: Path | None = None,
    env: Mapping[str, str] | None = None,
    options: Mapping[str, Any] | None = None,
) -> ServerSettings:
    """The server's settings: defaults < settings file < environment < command-line options.

    Args:
        settings_file: a YAML file; None reads `mlwb-server.yaml` of the current folder when
            there is one.
        env: environment variables (default `os.environ`); see `ENV_VARS`.
        options: command-line values, None where not given; database keys as `db_host`,
            `db_port`, `db_name`, `db_user`.

    Raises:
        ConfigError: unreadable file, unknown key, a password in the file, a bad number.
    """
    if settings_file is None and Path(DEFAULT_SETTINGS_FILE).is_file():
        settings_file = Path(DEFAULT_SETTINGS_FILE)
    if settings_file is not None and not Path(settings_file).is_file():
        raise ConfigError(f"settings file not found: {settings_file}")
    values = _read_file(Path(settings_file).resolve()) if settings_file else {}
    values = _merge(values, _from_env(os.environ if env is None else env))
    given = {k: v for k, v in (options or {}).items() if v is not None}
    database = {k.removeprefix("db_"): v for k, v in given.items() if k.startswith("db_")}
    others = {k: v for k, v in given.items() if not k.startswith("db_")}
    return _build(_merge(values, {**others, "database": database}))


def scrub(text: str) -> str:
    """`text` with the database password (PGPASSWORD), if any, masked."""
    password = os.environ.get("PGPASSWORD", "")
    return text.replace(password, "***") if password else text


def check_database(database: DatabaseSettings, timeout: int = CONNECT_TIMEOUT) -> None:
    """Connect to the database once, so a wrong address or password fails fast and clearly.

    Raises:
        TeamServerError: psycopg2 missing, or the database refused or did not answer.
    """
    connect(database, timeout).close()


def connect(database: DatabaseSettings, timeout: int = CONNECT_TIMEOUT) -> Any:
    """A psycopg2 connection to `database`, the password from libpq (PGPASSWORD, .pgpass).

    Raises:
        TeamServerError: psycopg2 missing, or the database refused or did not answer.
    """
    try:
        import psycopg2
    except ImportError as exc:
        raise TeamServerError(f"psycopg2 is not installed: {INSTALL_HINT}") from exc
    try:
        connection = psycopg2.connect(
            host=database.host,
            port=database.port,
            dbname=database.name,
            user=database.user,
            connect_timeout=timeout,
        )
    except psycopg2.Error as exc:
        reason = " ".join(str(exc).split()).rstrip(".")
        raise TeamServerError(
            scrub(
                f"cannot connect to the PostgreSQL database ({database.describe()}): {reason} "
                "The password is read from PGPASSWORD or ~/.pgpass."
            )
        ) from exc
    return connection


def mlflow_program() -> str:
    """The `mlflow` command of this Python environment (else the one on PATH)."""
    found = shutil.which("mlflow", path=str(Path(sys.executable).parent)) or shutil.which("mlflow")
    if not found:
        raise TeamServerError("the `mlflow` command is not found beside this Python or on PATH.")
    return found


GUNICORN_OPTIONS = "--threads 4 --timeout 300 --graceful-timeout 10"
"""MLflow's WSGI app under gunicorn, 4 threads per worker process, 5 minutes for a large
artifact upload, 10 seconds on Ctrl-C or SIGTERM for requests under way (an MLflow worker
does not exit by itself when its requests are done, so gunicorn's default kept every stop
waiting 30 seconds). MLflow's default, uvicorn, answers every request after the first on a kept
alive connection about 40 ms late (the body waits for the client's delayed ACK), and its
ASGI-only parts (AI gateway, OTLP trace ingestion, job API) are not used by the workbench."""

SERVER_ENVIRONMENT = {"MLFLOW_SERVER_ENABLE_JOB_EXECUTION": "false"}
"""Defaults for the server's environment (a variable set by the user wins): MLflow's GenAI job
runner, which the workbench does not use, keeps about 20 polling processes busy."""


def server_command(settings: ServerSettings) -> list[str]:
    """The `mlflow server` command line for `settings` (it holds no password)."""
    command = [
        mlflow_program(),
        "server",
        "--backend-store-uri",
        settings.database.uri(),
        "--serve-artifacts",
        "--artifacts-destination",
        settings.artifacts,
        "--host",
        settings.host,
        "--port",
        str(settings.port),
        "--workers",
        str(settings.workers),
        "--gunicorn-opts",
        GUNICORN_OPTIONS,
    ]
    if settings.allowed_hosts:
        command += ["--allowed-hosts", ",".join(settings.allowed_hosts)]
    return command


def _signal_group(process: subprocess.Popen, number: int) -> None:
    """Send signal `number` to the server and every process it started (its session)."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, number)


def run_server(settings: ServerSettings, echo: Any = print, prepare: Any = None) -> int:
    """Check the database, print the tracking URI, run `mlflow server` in the foreground.

    `prepare(settings, echo)`, when given, is a context manager yielding the extra arguments
    and environment of `mlflow server` while it runs (`auth_server.prepared`).

    SIGINT and SIGTERM are passed on to the server and the processes it started, which shut
    down cleanly. Returns its exit code (128 + the signal number when a signal ended it, 130
    for Ctrl-C).
    """
    check_database(settings.database)
    if _is_folder(settings.artifacts):
        Path(settings.artifacts).mkdir(parents=True, exist_ok=True)
    prepare = prepare or (lambda _settings, _echo: contextlib.nullcontext(([], {})))
    with prepare(settings, echo) as (arguments, environment):
        where = f"{settings.database.describe()}; artifacts in {settings.artifacts}"
        echo(f"Tracking server for {where}")
        echo(f"Users set: export MLFLOW_TRACKING_URI={settings.tracking_uri()}")
        sys.stdout.flush()  # the address before MLflow's own output
        process = subprocess.Popen(
            server_command(settings) + arguments,
            start_new_session=True,
            env={**SERVER_ENVIRONMENT, **os.environ, **environment},
        )
        return _serve(process)


def _serve(process: subprocess.Popen) -> int:
    """Wait for the server, passing SIGINT and SIGTERM on; its exit code."""
    previous = {
        sig: signal.signal(sig, lambda number, _frame: _signal_group(process, number))
        for sig in (signal.SIGINT, signal.SIGTERM)
    }
    try:
        code = process.wait()
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        _signal_group(process, signal.SIGTERM)  # no worker process outlives the server
    return 128 - code if code < 0 else code
