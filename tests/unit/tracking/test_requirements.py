"""Pinned requirements and MLflow's map of modules to packages, computed once per environment."""

from __future__ import annotations

from importlib.metadata import version

import pytest
from mlflow.utils import requirements_utils

from mlworkbench.tracking import local_cache, requirements


@pytest.fixture
def cache(monkeypatch, tmp_path):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.setattr(requirements_utils, "_MODULES_TO_PACKAGES", None)
    return tmp_path / "cache" / "mlworkbench"


def test_pins_are_the_versions_of_this_environment():
    assert f"mlflow=={version('mlflow')}" in requirements.pinned()
    assert f"scikit-learn=={version('scikit-learn')}" in requirements.pinned()


def test_the_module_map_is_computed_once_then_read_from_the_cache(cache, monkeypatch):
    requirements.warm()
    files = list(cache.glob("modules-to-packages-*.json"))
    assert len(files) == 1
    assert requirements_utils._MODULES_TO_PACKAGES["sklearn"] == ["scikit-learn"]

    def refuse():
        raise AssertionError("computed again although this environment's map is cached")

    monkeypatch.setattr(requirements_utils, "_MODULES_TO_PACKAGES", None)
    monkeypatch.setattr(requirements_utils.importlib_metadata, "packages_distributions", refuse)
    requirements.warm()
    assert requirements_utils._MODULES_TO_PACKAGES["sklearn"] == ["scikit-learn"]
    assert requirements_utils._check_requirement_satisfied("mlflow==0.0.1") is not None


def test_the_cache_is_keyed_by_the_environment(cache, monkeypatch):
    requirements.warm()
    monkeypatch.setattr(requirements, "environment_key", lambda: "another")
    monkeypatch.setattr(requirements_utils, "_MODULES_TO_PACKAGES", None)
    requirements.warm()  # a package was installed since: the map is computed again
    assert {f.name for f in cache.glob("*.json")} >= {"modules-to-packages-another.json"}
    assert len(list(cache.glob("modules-to-packages-*.json"))) == 2


def test_a_cache_that_cannot_be_written_or_read_only_costs_the_computation(tmp_path, monkeypatch):
    blocked = tmp_path / "file"
    blocked.write_text("not a folder")
    monkeypatch.setenv("XDG_CACHE_HOME", str(blocked))
    local_cache.write("x.json", {"a": 1})
    assert local_cache.read("x.json") is None
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "ok"))
    local_cache.write("x.json", {"a": 1})
    (tmp_path / "ok" / "mlworkbench" / "y.json").write_text("{broken")
    assert local_cache.read("x.json") == {"a": 1} and local_cache.read("y.json") is None
