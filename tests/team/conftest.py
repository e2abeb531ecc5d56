"""A real PostgreSQL (scripts/postgres.sh) and a real MLflow server started by `mlwb server`,
once per test session, for the team tests."""

from __future__ import annotations

import os
import secrets
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import urllib.request
from pathlib import Path

import pytest
from helpers import MLWB, REPO

POSTGRES_SH = REPO / "scripts" / "postgres.sh"
SERVER_START_TIMEOUT = 90


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/health", timeout=2) as response:
            return response.status == 200
    except OSError:
        return False


@pytest.fixture(scope="session")
def postgres():
    """A PostgreSQL server of its own: {'port', 'password', 'dir'}; PGPASSWORD is set for the
    session (the team server and psycopg2 read it), then restored."""
    folder = tempfile.mkdtemp(prefix="mlwb-pg.", dir="/tmp")  # traversable by 'postgres'
    port, password = free_port(), secrets.token_urlsafe(16)
    previous = os.environ.get("PGPASSWORD")
    os.environ["PGPASSWORD"] = password
    started = subprocess.run(
        [str(POSTGRES_SH), "start", folder, str(port)], capture_output=True, text=True
    )
    if started.returncode != 0:
        pytest.fail(f"scripts/postgres.sh start failed:\n{started.stdout}\n{started.stderr}")
    yield {"port": port, "password": password, "dir": folder}
    subprocess.run([str(POSTGRES_SH), "stop", folder], capture_output=True, text=True)
    shutil.rmtree(folder, ignore_errors=True)
    if previous is None:
        os.environ.pop("PGPASSWORD", None)
    else:
        os.environ["PGPASSWORD"] = previous


@pytest.fixture(scope="session")
def team_server(postgres, tmp_path_factory):
    """`mlwb server` on the session's PostgreSQL, artifacts in a temporary folder: its URL."""
    folder = tmp_path_factory.mktemp("team-server")
    port = free_port()
    settings = folder / "mlwb-server.yaml"
    settings.write_text(
        f"database: {{host: 127.0.0.1, port: {postgres['port']}, name: mlflow, user: mlwb}}\n"
        f"artifacts: {folder / 'artifacts'}\n"
        f"host: 127.0.0.1\nport: {port}\nworkers: 2\n",
        encoding="utf-8",
    )
    log = folder / "server.log"
    with open(log, "w") as output:
        process = subprocess.Popen(
            [MLWB, "server", "--settings", str(settings)],
            cwd=folder,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + SERVER_START_TIMEOUT
    while not healthy(url):
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            pytest.fail(f"mlwb server did not start; its log:\n{log.read_text()[-5000:]}")
        time.sleep(1)
    yield {"url": url, "log": log, "artifacts": folder / "artifacts"}
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()


@pytest.fixture
def team_env(team_server) -> dict[str, str]:
    """The environment of a user of the team server: its URL and the project's programs."""
    return {
        "MLFLOW_TRACKING_URI": team_server["url"],
        "PATH": f"{Path(MLWB).parent}{os.pathsep}{os.environ.get('PATH', '')}",
        "MLFLOW_SUPPRESS_PRINTING_URL_TO_STDOUT": "true",
    }
