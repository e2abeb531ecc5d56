"""Promotion fails closed: only MLflow's "no such alias" means no champion; any other registry
error raises `RegistryError` or blocks the version (real SQLite stores in tmp_path)."""

from __future__ import annotations

import socket
import sqlite3
import time

import mlflow
import pytest
from helpers import mlwb

from mlworkbench.exceptions import PromotionError, RegistryError
from mlworkbench.governance import promotion, signoff
from mlworkbench.tracking import store

REGISTRY_TABLES = ("registered_model_aliases", "model_version_tags", "model_versions")


@pytest.fixture
def registry(tmp_path, monkeypatch):
    """A real store with registered model 'm' of two versions and no champion yet."""
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    monkeypatch.setenv("MLFLOW_TRACKING_URI", uri)
    client = mlflow.MlflowClient(uri)
    client.create_registered_model("m")
    for _ in range(2):
        client.create_model_version("m", source=(tmp_path / "model").as_uri())
    return client


def break_store(tmp_path, tables=REGISTRY_TABLES) -> None:
    """Drop registry tables under MLflow's feet: every registry read fails as a database
    error does."""
    with sqlite3.connect(tmp_path / "mlflow.db") as db:
        for table in tables:
            db.execute(f"DROP TABLE {table}")


def closed_port() -> int:
    """A loopback port nothing listens on."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_no_alias_is_no_champion_and_an_alias_is_the_champion(registry):
    assert promotion.current_champion(registry, "m") is None
    registry.set_registered_model_alias("m", "champion", "2")
    assert str(promotion.current_champion(registry, "m").version) == "2"
    assert promotion.read_champion(registry, "m")[1] is None


def test_a_broken_store_raises_a_registry_error_naming_the_model(registry, tmp_path):
    break_store(tmp_path)
    with pytest.raises(RegistryError) as caught:
        promotion.current_champion(registry, "m")
    message = str(caught.value)
    assert message.startswith("The model registry could not read the champion of registered ")
    assert "model 'm': MlflowException: (sqlite3.OperationalError) no such table" in message
    assert "SELECT" not in message, "one line, not the SQL statement"
    assert caught.value.exit_code == 5


def test_an_unknown_registered_model_is_not_read_as_no_champion(registry):
    with pytest.raises(RegistryError, match="registered model 'nope'.*nope not found"):
        promotion.current_champion(registry, "nope")


def test_an_unreachable_tracking_server_raises_a_registry_error(monkeypatch):
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "0")
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_TIMEOUT", "5")
    client = mlflow.MlflowClient(f"http://127.0.0.1:{closed_port()}")
    with pytest.raises(RegistryError, match="model 'm': MlflowException: API request to http"):
        promotion.current_champion(client, "m")


def test_the_card_gate_blocks_when_the_champion_cannot_be_read(registry, tmp_path):
    registry.set_registered_model_alias("m", "champion", "1")
    break_store(tmp_path, ["registered_model_aliases"])
    champion, blocking = promotion.read_champion(registry, "m")
    assert champion is None
    assert blocking.name == "champion" and not blocking.passed
    assert "could not read the champion of registered model 'm'" in blocking.detail
    assert "no such table: registered_model_aliases" in blocking.detail
    decision = promotion.Decision("2", [promotion.fairness_check("PASS", []), blocking])
    assert not decision.promote and decision.label == "rejected"
    assert decision.reasons()[1].startswith("BLOCKS: champion: cannot be compared with the ")


def test_manual_promotion_tells_a_missing_version_from_a_broken_store(registry, tmp_path):
    with pytest.raises(PromotionError, match=r"^Registered model 'm' has no version '9'"):
        signoff.sign_off(registry, "sqlite:///x.db", "m", "9", "because")
    with pytest.raises(PromotionError, match=r"^There is no registered model 'nope'\.$"):
        signoff.sign_off(registry, "sqlite:///x.db", "nope", "1", "because")
    with pytest.raises(PromotionError, match="^Registered model 'm' has no alias 'v1'"):
        signoff.sign_off(registry, "sqlite:///x.db", "m", "v1", "because")
    assert promotion.current_champion(registry, "m") is None, "nothing changed"
    break_store(tmp_path)
    with pytest.raises(RegistryError) as caught:
        signoff.sign_off(registry, "sqlite:///x.db", "m", "1", "because")
    assert str(caught.value) == (
        "The model registry could not look up version 1 of registered model 'm': MlflowException: "
        "(sqlite3.OperationalError) no such table: registered_model_aliases"
    )


def test_promote_command_exit_codes_and_messages(registry, tmp_path):
    missing = mlwb("promote", "m", "9", "--reason", "why", "--project-dir", str(tmp_path))
    assert missing.returncode == 2
    assert "error: Registered model 'm' has no version '9'." in missing.stderr
    break_store(tmp_path)
    broken = mlwb("promote", "m", "1", "--reason", "why", "--project-dir", str(tmp_path))
    assert broken.returncode == 5
    assert (  # a new process finds the tables missing: MLflow refuses the store
        "error: The model registry could not look up version 1 of registered model 'm': "
        "MlflowException: Database migration in unexpected state. Run manual upgrade."
    ) in broken.stderr
    assert "has no version" not in broken.stderr


def test_promote_command_fails_fast_on_an_unreachable_server(tmp_path):
    server = f"http://127.0.0.1:{closed_port()}"
    started = time.monotonic()
    result = mlwb(
        "promote", "m", "1", "--reason", "why", "--project-dir", str(tmp_path),
        env={"MLFLOW_TRACKING_URI": server},
    )  # fmt: skip
    assert result.returncode == 5
    assert f"error: Cannot promote 'm' version 1: tracking server {server} not reachable" in (
        result.stderr
    )
    assert time.monotonic() - started < 60
    missing_store = mlwb(
        "promote", "m", "1", "--reason", "why", "--project-dir", str(tmp_path),
        env={"MLFLOW_TRACKING_URI": store.default_store(tmp_path)},
    )  # fmt: skip
    assert missing_store.returncode == 5
    assert f"tracking store {tmp_path / 'mlflow.db'} does not exist here" in missing_store.stderr


def test_a_model_tag_set_at_once_by_another_pipeline_is_set_again():
    class Client:
        def __init__(self, error):
            self.error, self.calls = error, []

        def set_registered_model_tag(self, name, key, value):
            self.calls.append((name, key, value))
            if len(self.calls) == 1:
                raise self.error

    race = Client(
        RuntimeError('duplicate key value violates unique constraint "registered_model_tag_pk"')
    )
    promotion.set_model_tag(race, "m", "mlwb.last_decision", "approved")
    assert race.calls == [("m", "mlwb.last_decision", "approved")] * 2
    other = Client(RuntimeError("permission denied"))
    with pytest.raises(RuntimeError, match="permission denied"):
        promotion.set_model_tag(other, "m", "mlwb.last_decision", "approved")
    assert len(other.calls) == 1
