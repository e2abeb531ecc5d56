"""The pipelines several notebook tests inspect, run once per test session."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import mlflow
import pytest
from helpers import CASES, CONFIGS, mlwb, sqlite_uri


@pytest.fixture(scope="session")
def store(tmp_path_factory):
    """One project folder in which the three train + explain configs ran once each."""
    root = tmp_path_factory.mktemp("train")

    def run(case: str):
        config = CASES[case][0]
        return mlwb("run", str(CONFIGS / config), "--project-dir", str(root), "--no-progress")

    with ThreadPoolExecutor(max_workers=2) as lanes:  # two pipelines at a time on one store
        results = dict(zip(CASES, lanes.map(run, CASES), strict=True))
    mlflow.set_tracking_uri(sqlite_uri(root))
    yield root, results
    mlflow.set_tracking_uri(None)
