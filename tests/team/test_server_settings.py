"""`mlwb server`: settings precedence, a password refused in the file, a database that
cannot be reached or refuses the password fails clearly and never shows the password."""

from __future__ import annotations

import subprocess

import pytest
from helpers import MLWB, REPO, mlwb
from servers import free_port

from mlworkbench.exceptions import ConfigError
from mlworkbench.tracking.auth_server import auth_config
from mlworkbench.tracking.teamserver import load_settings

pytestmark = pytest.mark.team


def write(folder, text):
    path = folder / "mlwb-server.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_settings_file_then_environment_then_options(tmp_path):
    settings_file = write(
        tmp_path,
        "database: {host: db.example.org, port: 5433, name: tracking, user: team}\n"
        "artifacts: shared-artifacts\nhost: 0.0.0.0\nport: 5005\nworkers: 3\n"
        "allowed_hosts: [mlflow.example.org]\n",
    )
    from_file = load_settings(settings_file, env={})
    assert from_file.database.uri() == "postgresql+psycopg2://team@db.example.org:5433/tracking"
    assert from_file.artifacts == str(tmp_path / "shared-artifacts")  # relative to the file
    assert (from_file.host, from_file.port, from_file.workers) == ("0.0.0.0", 5005, 3)
    assert from_file.allowed_hosts == ("mlflow.example.org",)

    env = {
        "MLWB_DB_HOST": "db2",
        "MLWB_DB_PORT": "6000",
        "MLWB_SERVER_PORT": "7000",
        "MLWB_SERVER_ARTIFACTS": "s3://bucket/mlflow",
    }
    from_env = load_settings(settings_file, env=env)
    assert (from_env.database.host, from_env.database.port) == ("db2", 6000)
    assert from_env.database.name == "tracking"  # still the file's
    assert (from_env.port, from_env.artifacts) == (7000, "s3://bucket/mlflow")

    options = {"db_host": "db3", "port": 8000, "db_user": None, "host": None}
    from_options = load_settings(settings_file, env=env, options=options)
    assert (from_options.database.host, from_options.database.port) == ("db3", 6000)
    assert (from_options.port, from_options.host, from_options.database.user) == (
        8000,
        "0.0.0.0",
        "team",
    )


def test_defaults_and_bad_values(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # no mlwb-server.yaml here
    settings = load_settings(env={})
    assert settings.database.uri() == "postgresql+psycopg2://mlwb@127.0.0.1:5432/mlflow"
    assert settings.tracking_uri() == "http://127.0.0.1:5000"
    with pytest.raises(ConfigError, match="server port"):
        load_settings(env={"MLWB_SERVER_PORT": "fifty"})
    with pytest.raises(ConfigError, match="unknown key 'prot'"):
        load_settings(write(tmp_path, "prot: 5000\n"), env={})


def test_a_password_in_the_settings_file_is_refused(tmp_path):
    settings_file = write(tmp_path, "database: {host: 127.0.0.1, password: hunter2}\n")
    result = mlwb("server", "--settings", str(settings_file))
    assert result.returncode == 2, result.stderr
    assert "PGPASSWORD" in result.stderr and ".pgpass" in result.stderr
    assert "hunter2" not in result.stdout + result.stderr


def test_an_unreachable_database_fails_clearly_without_the_password(tmp_path):
    port = free_port()
    result = mlwb(
        "server",
        "--db-port",
        str(port),
        "--artifacts",
        str(tmp_path / "a"),
        env={"PGPASSWORD": "not-shown-7431"},
        timeout=60,
    )
    assert result.returncode == 2, result.stdout + result.stderr
    assert f"host 127.0.0.1, port {port}, database 'mlflow', user 'mlwb'" in result.stderr
    assert "Connection refused" in result.stderr or "connect" in result.stderr
    assert "not-shown-7431" not in result.stdout + result.stderr
    assert "MLFLOW_TRACKING_URI" not in result.stdout  # nothing started


def test_a_wrong_password_fails_clearly_without_it(postgres, tmp_path):
    result = mlwb(
        "server",
        "--db-port",
        str(postgres["port"]),
        "--artifacts",
        str(tmp_path / "a"),
        env={"PGPASSWORD": "wrong-secret-5521"},
        timeout=60,
    )
    assert result.returncode == 2, result.stdout + result.stderr
    assert "password authentication failed" in result.stderr
    assert "wrong-secret-5521" not in result.stdout + result.stderr
    assert postgres["password"] not in result.stdout + result.stderr


def test_sign_in_is_on_unless_the_server_listens_on_this_machine_only(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert not load_settings(env={}).authenticated  # 127.0.0.1
    assert load_settings(env={"MLWB_SERVER_HOST": "0.0.0.0"}).authenticated
    assert load_settings(env={"MLWB_SERVER_AUTH": "1"}).authenticated
    off = load_settings(write(tmp_path, "host: 0.0.0.0\nauth: false\n"), env={})
    assert not off.authenticated
    assert load_settings(options={"host": "0.0.0.0", "auth": False}, env={}).auth is False
    with pytest.raises(ConfigError, match="auth must be true or false, got 'maybe'"):
        load_settings(env={"MLWB_SERVER_AUTH": "maybe"})
    example = load_settings(REPO / "mlwb-server.example.yaml", env={})
    assert example.authenticated and example.auth_database == "mlflow_auth"


def test_the_auth_config_names_the_user_database_and_the_rules_but_no_password(
    tmp_path, monkeypatch
):
    monkeypatch.setenv("MLFLOW_AUTH_ADMIN_PASSWORD", "s3cret-admin-password")
    monkeypatch.setenv("PGPASSWORD", "s3cret-db-password")
    settings = load_settings(
        write(tmp_path, "database: {host: db, port: 5433}\nauth_database: users\n"), env={}
    )
    assert auth_config(settings).splitlines() == [
        "[mlflow]",
        "default_permission = READ",
        "database_uri = postgresql+psycopg2://mlwb@db:5433/users",
        "admin_username = admin",
        "authorization_function = mlworkbench.tracking.auth_rules:authenticate",
        "auth_cache_ttl_seconds = 60",
    ]


def test_a_server_others_can_reach_warns_when_sign_in_is_off(postgres, tmp_path):
    port = free_port()
    process = subprocess.Popen(
        [MLWB, "server", "--host", "0.0.0.0", "--port", str(port), "--no-auth",
         "--artifacts", str(tmp_path / "artifacts"), "--db-port", str(postgres["port"])],
        cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    try:
        first = process.stdout.readline()
    finally:
        process.terminate()
        process.wait(timeout=30)
    assert first.startswith("WARNING: authentication is off (--no-auth) on a server others can")
    assert "move 'champion'" in first
