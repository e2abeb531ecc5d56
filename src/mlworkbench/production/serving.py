"""The REST API: MLflow's own scoring server for a registered model.

`mlwb serve` runs `mlflow models serve --env-manager local` (the ecosystem's standard:
`/ping`, `/version`, `/invocations` taking `dataframe_split` or `dataframe_records` JSON) in
the project's environment, bound to 127.0.0.1 unless told otherwise. The server calls
`uvicorn` by name, so the environment's `bin/` goes first on PATH.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

from mlworkbench.exceptions import ServerError


def command(model_uri: str, host: str, port: int) -> list[str]:
    """The command line of MLflow's scoring server for `model_uri`."""
    mlflow = str(Path(sys.executable).with_name("mlflow"))
    return [
        mlflow, "models", "serve", "-m", model_uri,
        "--env-manager", "local", "--host", host, "--port", str(port),
    ]  # fmt: skip


def environment(tracking_uri: str) -> dict[str, str]:
    """The server's environment: this environment's bin/ first on PATH, the project's store."""
    bin_dir = str(Path(sys.executable).parent)
    return {
        **os.environ,
        "PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}",
        "MLFLOW_TRACKING_URI": tracking_uri,
    }


def free_port() -> int:
    """A TCP port nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_until_ready(url: str, process: Any, timeout: float = 90.0) -> None:
    """Poll `url`/ping until it answers; raise `ServerError` if the server exits or is slow."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise ServerError(f"The model server exited with code {process.returncode}.")
        try:
            with urllib.request.urlopen(f"{url}/ping", timeout=2) as answer:
                if answer.status == 200:
                    return
        except OSError:
            time.sleep(0.3)
    raise ServerError(f"The model server did not answer at {url} within {timeout:.0f} s.")


def start(model_uri: str, tracking_uri: str, port: int, log: Any = subprocess.DEVNULL):
    """Start a server on 127.0.0.1:`port` and wait until it answers; return the process."""
    process = subprocess.Popen(
        command(model_uri, "127.0.0.1", port),
        env=environment(tracking_uri),
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        wait_until_ready(f"http://127.0.0.1:{port}", process)
    except BaseException:
        stop(process)
        raise
    return process


def stop(process: Any) -> None:
    """Stop a server started by `start` (and its workers)."""

    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
