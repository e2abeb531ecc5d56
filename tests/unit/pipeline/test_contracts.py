"""Notebook contracts read from real notebooks with papermill's inspection."""

from __future__ import annotations

import nbformat
import pytest
from helpers import NOTEBOOKS

from mlworkbench.exceptions import NotebookContractError
from mlworkbench.pipeline.contracts import check_parameters, read_contract, value_matches_type


def make_notebook(path, parameters_source, tagged=True):
    nb = nbformat.v4.new_notebook()
    nb.metadata = {
        "kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"},
        "language_info": {"name": "python"},
    }
    cell = nbformat.v4.new_code_cell(parameters_source)
    if tagged:
        cell.metadata["tags"] = ["parameters"]
    nb.cells = [cell, nbformat.v4.new_code_cell("print(1)")]
    nbformat.write(nb, path)
    return path


def test_eda_contract_has_types_defaults_and_help():
    contract = read_contract(NOTEBOOKS / "01-eda.ipynb")
    assert list(contract)[:2] == ["mlflow_run_id", "experiment"]
    sample = contract["profile_sample_rows"]
    assert (sample.type_name, sample.default) == ("int", "100000")
    assert "sampled" in sample.help
    assert contract["data_sensitive_features"].type_name == "list"
    assert all(p.help for p in contract.values()), "every parameter documents itself"


@pytest.mark.parametrize(
    ("value", "type_name", "ok"),
    [
        (3, "int", True),
        (True, "int", False),
        (3, "float", True),
        (0.5, "int", False),
        ("x", "str", True),
        (["a"], "list[str]", True),
        (["a", 1], "list[str]", False),
        ({"a": 1}, "dict", True),
        ([1], "dict", False),
        (False, "bool", True),
        ("yes", "bool", False),
    ],
)
def test_value_matches_type(value, type_name, ok):
    assert value_matches_type(value, type_name) is ok


def test_unknown_key_and_wrong_type_are_reported_with_allowed_names():
    problems = check_parameters(
        NOTEBOOKS / "01-eda.ipynb",
        {"profile_sample_row": 10, "profile_sample_rows": "many", "seed": 1},
        where="cfg.yaml: stage 'eda'",
    )
    assert len(problems) == 2
    assert problems[0].startswith("cfg.yaml: stage 'eda': unknown parameter 'profile_sample_row'")
    assert "Allowed: mlflow_run_id, experiment" in problems[0]
    assert "'profile_sample_rows' must be int, got str 'many'" in problems[1]


def test_missing_parameters_cell_is_a_contract_error(tmp_path):
    path = make_notebook(tmp_path / "n.ipynb", "x: int = 1  # x", tagged=False)
    with pytest.raises(NotebookContractError, match="exactly one cell tagged 'parameters'"):
        read_contract(path)


def test_unannotated_parameter_is_refused(tmp_path):
    path = make_notebook(tmp_path / "n.ipynb", "x: int = 1  # fine\ny = 2  # no type")
    with pytest.raises(NotebookContractError, match="line 2 .* `name: type = default  # help`"):
        read_contract(path)


def test_annotation_papermill_cannot_read_is_refused(tmp_path):
    path = make_notebook(tmp_path / "n.ipynb", "x: str | None = None  # optional")
    with pytest.raises(NotebookContractError, match="Papermill cannot read the declaration of x"):
        read_contract(path)


def test_contract_is_reread_when_the_notebook_changes(tmp_path):
    path = make_notebook(tmp_path / "n.ipynb", "x: int = 1  # x")
    assert list(read_contract(path)) == ["x"]
    make_notebook(path, "x: int = 1  # x\nz: str = 'a'  # z")
    import os

    os.utime(path, (1e9, 2e9))
    assert list(read_contract(path)) == ["x", "z"]
