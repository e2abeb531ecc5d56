"""Real servers on the loopback interface, for the tests and the benchmarks: PostgreSQL
(`scripts/postgres.sh`, which installs it when missing), an MLflow tracking server started by
`mlwb server` on it, and a Dask scheduler with worker processes."""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
POSTGRES_SH = REPO / "scripts" / "postgres.sh"


class ServerError(RuntimeError):
    """A server did not start; the message carries its log."""


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


def with_bin(env: dict[str, str] | None = None) -> dict[str, str]:
    """`env` over this environment, with the project's programs first on PATH."""
    return {**os.environ, **(env or {}), "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}"}


@contextmanager
def postgres() -> Iterator[dict]:
    """A PostgreSQL server of its own: {'port', 'password', 'dir'}; PGPASSWORD is set while
    it runs (the team server and psycopg2 read it), then restored."""
    folder = tempfile.mkdtemp(prefix="mlwb-pg.", dir="/tmp")  # traversable by 'postgres'
    port, password = free_port(), secrets.token_urlsafe(16)
    previous = os.environ.get("PGPASSWORD")
    os.environ["PGPASSWORD"] = password
    try:
        started = subprocess.run(
            [str(POSTGRES_SH), "start", folder, str(port)], capture_output=True, text=True
        )
        if started.returncode != 0:
            raise ServerError(
                f"scripts/postgres.sh start failed:\n{started.stdout}{started.stderr}"
            )
        yield {"port": port, "password": password, "dir": folder}
    finally:
        subprocess.run([str(POSTGRES_SH), "stop", folder], capture_output=True, text=True)
        shutil.rmtree(folder, ignore_errors=True)
        if previous is None:
            os.environ.pop("PGPASSWORD", None)
        else:
            os.environ["PGPASSWORD"] = previous


@contextmanager
def team_server(
    database: dict, folder: Path, timeout: float = 90, admin_password: str = "", name="mlflow"
) -> Iterator[dict]:
    """`mlwb server` on the database `name` of `database` (from `postgres`), artifacts under
    `folder`: {'url', 'log', 'artifacts', 'settings'}. With `admin_password`, authentication
    is on and the admin 'admin' is created with it (read from the environment only)."""
    port = free_port()
    settings = folder / "mlwb-server.yaml"
    settings.write_text(
        f"database: {{host: 127.0.0.1, port: {database['port']}, name: {name}, user: mlwb}}\n"
        f"artifacts: {folder / 'artifacts'}\n"
        f"host: 127.0.0.1\nport: {port}\nworkers: 2\nauth: {bool(admin_password)}\n",
        encoding="utf-8",
    )
    admin = {"MLFLOW_AUTH_ADMIN_PASSWORD": admin_password} if admin_password else {}
    log = folder / "server.log"
    with open(log, "w") as output:
        process = subprocess.Popen(
            [str(BIN / "mlwb"), "server", "--settings", str(settings)],
            cwd=folder,
            stdout=output,
            stderr=subprocess.STDOUT,
            env=with_bin(admin),
        )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + timeout
        while not healthy(url):
            if process.poll() is not None or time.monotonic() > deadline:
                raise ServerError(f"mlwb server did not start; its log:\n{log.read_text()[-5000:]}")
            time.sleep(1)
        yield {"url": url, "log": log, "artifacts": folder / "artifacts", "settings": settings}
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()


ROLES = {"sam": "scientist", "sara": "scientist", "rita": "reviewer", "rob": "reviewer"}
"""The users of the authenticated server, added by the admin with `mlwb users add`."""


def user_env(url: str, name: str = "", password: str = "") -> dict[str, str]:
    """The environment of `name` signed in to the server `url` (nobody when `name` is empty)."""
    env = with_bin({"MLFLOW_TRACKING_URI": url, "MLFLOW_HTTP_REQUEST_MAX_RETRIES": "0"})
    for key in ("MLFLOW_TRACKING_USERNAME", "MLFLOW_TRACKING_PASSWORD"):
        env.pop(key, None)
    if name:
        env.update(MLFLOW_TRACKING_USERNAME=name, MLFLOW_TRACKING_PASSWORD=password)
    return env


def create_database(database: dict, name: str) -> None:
    """Create the database `name` on the PostgreSQL server `database` (from `postgres`)."""
    import psycopg2

    connection = psycopg2.connect(
        host="127.0.0.1", port=database["port"], dbname="mlflow", user="mlwb"
    )
    connection.autocommit = True
    with connection.cursor() as cursor:
        cursor.execute(f'CREATE DATABASE "{name}"')
    connection.close()


@contextmanager
def dask_cluster(logs: Path, workers: int = 2, threads_per_stage: int = 1) -> Iterator[tuple]:
    """`dask scheduler` and `workers` x `dask worker` (one task thread each, no nanny: a
    killed worker stays dead): (address, connected client)."""
    from distributed import Client

    address = f"tcp://127.0.0.1:{free_port()}"
    common = ["--host", "127.0.0.1", "--no-dashboard"]
    commands = [[BIN / "dask", "scheduler", "--port", address.rsplit(":", 1)[1], *common]]
    commands += [
        [
            BIN / "dask",
            "worker",
            address,
            "--nthreads",
            "1",
            "--no-nanny",
            "--name",
            f"w{n}",
            *common,
        ]
        for n in range(1, workers + 1)
    ]
    env = with_bin({"MLWB_THREADS": str(threads_per_stage)})
    processes = []
    for n, command in enumerate(commands):
        with open(logs / f"dask-{n}.log", "w") as output:
            processes.append(
                subprocess.Popen(command, env=env, stdout=output, stderr=subprocess.STDOUT)
            )
    client = None
    try:
        client = Client(address, timeout=60)
        client.wait_for_workers(workers, timeout=120)
        yield address, client
    finally:
        if client is not None:
            with contextlib.suppress(Exception):  # a scheduler already gone is fine
                client.close(timeout=10)
        stop(processes)


def stop(processes: list[subprocess.Popen]) -> None:
    """Terminate `processes`; kill those still running after 30 s."""
    for process in processes:
        process.terminate()
    for process in processes:
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
