"""A real PostgreSQL (scripts/postgres.sh) and a real MLflow server started by `mlwb server`,
once per test session, for the team tests (`tests/servers.py` starts them)."""

from __future__ import annotations

import pytest
import servers


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


@pytest.fixture
def team_env(team_server) -> dict[str, str]:
    """The environment of a user of the team server: its URL and the project's programs."""
    return servers.with_bin({"MLFLOW_TRACKING_URI": team_server["url"]})
