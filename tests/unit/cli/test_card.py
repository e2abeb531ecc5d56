"""`mlwb card export` on a project's real store: the file, the message and the exit codes."""

from __future__ import annotations

import hashlib
import json

import mlflow
import pytest
from card_store import log_judged_version, new_store
from click.testing import CliRunner

from mlworkbench.cli.main import main


@pytest.fixture(scope="module")
def project(tmp_path_factory, empty_store):
    folder = tmp_path_factory.mktemp("project")
    client, experiment_id = new_store(folder, empty_store)
    log_judged_version(client, experiment_id, folder)
    yield folder
    mlflow.set_tracking_uri(None)


def export(folder, *args):
    return CliRunner().invoke(main, ["card", "export", *args, "--project-dir", str(folder)])


def test_export_writes_the_file_and_prints_its_digest(project, tmp_path):
    output = tmp_path / "card.json"
    result = export(project, "models:/credit-model/1", "--format", "json", "-o", str(output))
    assert result.exit_code == 0, result.output
    digest = hashlib.sha256(output.read_bytes()).hexdigest()
    assert f"sha256 {digest}" in result.output
    assert json.loads(output.read_text())["model_details"]["name"] == "credit-model"


@pytest.mark.parametrize(
    ("uri", "message"),
    [
        ("credit-model", "is not a model URI"),
        ("models:/credit-model/7", "The model registry has no models:/credit-model/7"),
    ],
)
def test_bad_uris_exit_2_with_a_message(project, tmp_path, uri, message):
    result = export(project, uri, "--format", "cyclonedx", "-o", str(tmp_path / "bom.json"))
    assert result.exit_code == 2
    assert message in result.output
    assert not (tmp_path / "bom.json").exists()


def test_a_project_without_a_store_exits_5(tmp_path):
    result = export(tmp_path, "models:/credit-model/1", "--format", "json", "-o", "x.json")
    assert result.exit_code == 5, result.output
