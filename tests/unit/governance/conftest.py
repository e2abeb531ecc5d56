"""A real SQLite MLflow store per test module, with an experiment of its own per test."""

from __future__ import annotations

from typing import Any, NamedTuple

import mlflow
import pytest


@pytest.fixture(scope="module")
def database(tmp_path_factory):
    """One real SQLite store for the module (creating one takes seconds)."""
    folder = tmp_path_factory.mktemp("store")
    uri = f"sqlite:///{folder}/mlflow.db"
    return mlflow.MlflowClient(uri), uri, folder


class Store(NamedTuple):
    client: Any
    experiment_id: str
    experiment: str


@pytest.fixture
def store(database, request):
    """An experiment of its own in the module's store, named after the test."""
    client, uri, folder = database
    mlflow.set_tracking_uri(uri)
    name = request.node.name
    yield Store(client, client.create_experiment(name, (folder / name).as_uri()), name)
    mlflow.set_tracking_uri(None)
