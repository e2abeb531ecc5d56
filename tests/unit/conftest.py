"""Unit tests run no Jupyter kernel and start no server (`make test-fast` relies on it), and
write nothing into the project: each runs in its own temporary folder, where an MLflow store
created without an explicit artifact location keeps its `mlruns/`."""

from __future__ import annotations

import subprocess
from pathlib import Path

import mlflow
import pytest
from jupyter_client.manager import KernelManager

SERVERS = ("postgres", "pg_ctl", "initdb", "mlflow server", "uvicorn", "gunicorn")


@pytest.fixture(autouse=True)
def _no_kernels_or_servers(monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)

    def refuse_kernel(self, *args, **kwargs):
        raise AssertionError("a unit test started a Jupyter kernel: mark it `notebook`")

    real_popen = subprocess.Popen

    class Popen(real_popen):  # type: ignore[misc, valid-type]
        def __init__(self, args, *rest, **kwargs):
            command = " ".join(map(str, args)) if isinstance(args, list | tuple) else str(args)
            if any(server in command for server in SERVERS):
                raise AssertionError(f"a unit test started a server ({command[:80]})")
            super().__init__(args, *rest, **kwargs)

    monkeypatch.setattr(KernelManager, "start_kernel", refuse_kernel)
    monkeypatch.setattr(subprocess, "Popen", Popen)


@pytest.fixture(scope="session")
def empty_store(tmp_path_factory) -> Path:
    """An empty SQLite store made once (creating MLflow's tables takes seconds); tests copy it."""
    path = tmp_path_factory.getbasetemp() / "empty-mlflow-store" / "mlflow.db"
    if not path.is_file():
        path.parent.mkdir(parents=True, exist_ok=True)
        with pytest.MonkeyPatch.context() as patch:
            patch.chdir(path.parent)  # the Default experiment's artifacts would go here
            mlflow.MlflowClient(f"sqlite:///{path}").search_experiments()
    return path
