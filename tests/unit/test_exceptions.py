"""The exception hierarchy: one root, every class in one module, exit codes the CLI uses."""

from __future__ import annotations

import ast
import inspect
from pathlib import Path

import pytest

from mlworkbench import exceptions
from mlworkbench.exceptions import (
    ConfigError,
    DataError,
    MlwbError,
    PipelineInterrupted,
    RegistryError,
    StageFailedError,
    unknown_keys,
)

PACKAGE = Path(exceptions.__file__).parent


def test_every_exception_class_of_the_package_is_in_exceptions_py():
    defined_elsewhere = []
    for path in PACKAGE.rglob("*.py"):
        if path.name == "exceptions.py":
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ClassDef) and any(
                isinstance(base, ast.Name) and base.id.endswith(("Error", "Failed", "Interrupted"))
                for base in node.bases
            ):
                defined_elsewhere.append(f"{path.relative_to(PACKAGE)}: {node.name}")
    assert defined_elsewhere == []


def test_every_class_descends_from_mlwb_error_with_a_documented_exit_code():
    classes = [
        c
        for _, c in inspect.getmembers(exceptions, inspect.isclass)
        if c.__module__ == exceptions.__name__
    ]
    assert len(classes) == 27
    for cls in classes:
        assert issubclass(cls, MlwbError), cls
        assert cls.exit_code in (1, 2, 5, 130), cls
        assert cls.__doc__, cls


@pytest.mark.parametrize(
    ("error", "code"),
    [
        (ConfigError(["a"]), 2),
        (DataError("bad"), 2),
        (StageFailedError("cell"), 1),
        (RegistryError("store"), 5),
        (PipelineInterrupted("ctrl-c"), 130),
    ],
)
def test_exit_codes_of_the_families(error, code):
    assert error.exit_code == code


def test_a_config_error_keeps_every_problem():
    error = ConfigError(["c.yaml: one", "c.yaml: two"])
    assert error.problems == ["c.yaml: one", "c.yaml: two"]
    assert "one" in str(error) and "two" in str(error)


def test_unknown_keys_name_the_section_key_and_the_allowed_ones():
    problems = unknown_keys({"seed": 1, "sed": 2}, ["seed", "rows"], "eda", "c.yaml")
    assert problems == ["c.yaml: unknown key 'eda.sed'. Allowed: seed, rows."]
    assert unknown_keys({}, ["seed"], "eda", "c.yaml") == []
