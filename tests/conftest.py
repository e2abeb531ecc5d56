"""Shared fixtures: a temporary project with its own MLflow store."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from helpers import NOTEBOOKS


@pytest.fixture(autouse=True)
def _isolated_tracking(monkeypatch):
    """No test touches the developer's store: the tracking URI comes from each test."""
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    monkeypatch.setenv("MPLBACKEND", "Agg")


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """An empty project folder: notebooks/ (the repo's), papermill_configs/, no store yet."""
    root = tmp_path / "project"
    shutil.copytree(NOTEBOOKS, root / "notebooks")
    (root / "papermill_configs").mkdir()
    return root
