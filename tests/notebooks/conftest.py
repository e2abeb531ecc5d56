"""The pipelines several notebook tests inspect, run once per test session."""

from __future__ import annotations

import mlflow
import pytest
from helpers import CASES, CONFIGS, mlwb, sqlite_uri


@pytest.fixture(scope="session")
def store(tmp_path_factory):
    """One project folder in which the three train + explain configs ran once each."""
    root = tmp_path_factory.mktemp("train")
    results = {
        case: mlwb("run", str(CONFIGS / config), "--project-dir", str(root), "--no-progress")
        for case, (config, _, _) in CASES.items()
    }
    mlflow.set_tracking_uri(sqlite_uri(root))
    yield root, results
    mlflow.set_tracking_uri(None)
