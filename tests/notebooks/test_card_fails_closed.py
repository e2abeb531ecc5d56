"""The card stage fails closed in real kernels: a champion it cannot read blocks the version, the
card still renders, and `champion` stays where it was."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlparse

import mlflow
import pytest
from helpers import CONFIGS, mlwb, sqlite_uri

pytestmark = pytest.mark.notebook

MODEL = "test-card-german"


def test_a_champion_that_cannot_be_read_blocks_the_challenger(tmp_path, monkeypatch):
    monkeypatch.setenv("MLFLOW_TRACKING_URI", sqlite_uri(tmp_path))
    config = CONFIGS / "test_card_german.yaml"
    project = ("--project-dir", str(tmp_path), "--no-progress")
    first = mlwb("run", str(config), *project)
    assert first.returncode == 0, first.stderr[-3000:]
    promoted = mlwb("promote", MODEL, "1", "--reason", "baseline", "--project-dir", str(tmp_path))
    assert promoted.returncode == 0, promoted.stderr
    client = mlflow.MlflowClient(sqlite_uri(tmp_path))
    artifacts = Path(urlparse(client.get_model_version_download_uri(MODEL, "1")).path)
    artifacts.rename(artifacts.with_name("gone"))  # the champion's model can no longer be loaded

    stages = ("--stage", "train", "--stage", "explain", "--stage", "card", "--force")
    second = mlwb("run", str(config), *stages, *project)
    assert second.returncode == 0, second.stderr[-3000:]
    blocked = (
        "BLOCKS: champion: cannot be compared with the champion: "
        f"Cannot load model 'models:/{MODEL}/1'"
    )
    assert f"Decision: '{MODEL}' version 2 rejected; champion unchanged." in second.stdout
    assert blocked in second.stdout
    assert str(client.get_model_version_by_alias(MODEL, "champion").version) == "1"
    version = client.get_model_version(MODEL, "2")
    assert version.tags["mlwb.decision"] == "rejected"
    assert blocked in version.tags["mlwb.decision_reasons"]
    card = mlflow.artifacts.load_text(version.tags["mlwb.model_card"])
    champion_section = card.split("## Champion versus challenger", 1)[1]
    assert blocked in champion_section.split("##", 1)[0]
