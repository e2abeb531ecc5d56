"""Options and error handling every `mlwb` command shares, on tiny click commands run with
click's CliRunner: error messages on stderr with each family's exit code, never a traceback."""

from __future__ import annotations

import os
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from mlworkbench.cli.options import (
    force_option,
    jobs_option,
    open_executor,
    project_dir_option,
    quiet_mlflow,
    reports_errors,
    ui_hint,
)
from mlworkbench.exceptions import (
    ConfigError,
    DataSourceNotFoundError,
    MlwbError,
    PipelineInterrupted,
    RegistryError,
    StageFailedError,
)


def command_raising(error: BaseException | None):
    @click.command()
    @reports_errors
    def cmd() -> None:
        """Does one thing."""
        click.echo("started")
        if error is not None:
            raise error
        click.echo("done")

    return cmd


def run(command, *args: str):
    return CliRunner().invoke(command, list(args))


def test_a_command_that_succeeds_is_left_alone():
    result = run(command_raising(None))
    assert (result.exit_code, result.stdout, result.stderr) == (0, "started\ndone\n", "")


@pytest.mark.parametrize(
    ("error", "code"),
    [
        (MlwbError("plain failure"), 1),
        (ConfigError("one problem"), 2),
        (DataSourceNotFoundError("Data file x.csv does not exist."), 2),
        (StageFailedError("Stage 'train' failed"), 1),
        (RegistryError("registry down"), 5),
        (PipelineInterrupted("stopped"), 130),
    ],
)
def test_an_mlwb_error_becomes_its_message_on_stderr_and_its_exit_code(error, code):
    result = run(command_raising(error))
    assert result.exit_code == code
    assert result.stderr == f"error: {error}\n"
    assert result.stdout == "started\n", "what ran before the error stays"
    assert "Traceback" not in result.output
    assert isinstance(result.exception, SystemExit)


def test_a_config_error_with_several_problems_prints_each_on_its_own_line():
    problems = ["c.yaml: unknown key 'colour'.", "c.yaml: stage 'eda': bad seed.", "c.yaml: x."]
    result = run(command_raising(ConfigError(problems)))
    assert result.exit_code == 2
    assert result.stderr.splitlines() == [
        "error: 3 problems:",
        "  - c.yaml: unknown key 'colour'.",
        "  - c.yaml: stage 'eda': bad seed.",
        "  - c.yaml: x.",
    ]


def test_an_error_that_is_not_the_workbenchs_is_not_hidden():
    result = run(command_raising(ValueError("a bug")))
    assert isinstance(result.exception, ValueError)
    assert result.exit_code == 1
    assert "error: a bug" not in result.stderr


def test_the_wrapped_command_keeps_its_name_and_help():
    command = command_raising(None)
    assert command.name == "cmd"
    assert "Does one thing." in run(command, "--help").stdout


def test_the_wrapper_passes_arguments_and_returns_the_result():
    @reports_errors
    def add(a: int, b: int = 0) -> int:
        return a + b

    assert add(2, b=3) == 5


def project_command():
    @click.command()
    @project_dir_option("Default: the current folder.")
    def cmd(project_dir: Path | None) -> None:
        click.echo(f"{type(project_dir).__name__} {project_dir}")

    return cmd


def test_project_dir_is_a_path_or_none(tmp_path):
    assert run(project_command()).stdout == "NoneType None\n"
    result = run(project_command(), "--project-dir", str(tmp_path))
    assert result.exit_code == 0
    assert result.stdout.split(" ", 1)[1].strip() == str(tmp_path)
    assert "Path" in result.stdout.split(" ", 1)[0]


def test_project_dir_help_names_the_default_and_a_file_is_refused(tmp_path):
    help_text = " ".join(run(project_command(), "--help").stdout.split())
    assert (
        "--project-dir DIRECTORY Project folder holding reports/ and the default mlflow.db. "
        "Default: the current folder." in help_text
    )
    a_file = tmp_path / "f.txt"
    a_file.write_text("x")
    result = run(project_command(), "--project-dir", str(a_file))
    assert result.exit_code == 2
    assert "is a file" in result.stderr


def test_the_default_project_dir_help():
    @click.command()
    @project_dir_option()
    def cmd(project_dir):
        pass

    help_text = " ".join(run(cmd, "--help").stdout.split())
    assert "Default: the project around the current folder." in help_text


def test_the_local_executor_is_none():
    with open_executor("local", None) as executor:
        assert executor is None
    with open_executor("local", "tcp://ignored:8786") as executor:
        assert executor is None


@pytest.mark.parametrize("scheduler", [None, ""])
def test_the_dask_executor_needs_a_scheduler(scheduler):
    with (
        pytest.raises(click.UsageError, match=r"--executor dask needs --scheduler tcp://HOST:PORT"),
        open_executor("dask", scheduler),
    ):
        pytest.fail("no executor without a scheduler")


def test_a_usage_error_from_open_executor_exits_with_click_usage_code():
    @click.command()
    @reports_errors
    def cmd():
        with open_executor("dask", None):
            pass

    result = run(cmd)
    assert result.exit_code == 2
    assert "--executor dask needs --scheduler" in result.stderr


def test_jobs_must_be_at_least_one_and_force_alone_means_all():
    @click.command()
    @jobs_option
    @force_option
    def cmd(jobs, force):
        click.echo(f"{jobs} {force}")

    assert run(cmd).stdout == "None None\n"
    assert run(cmd, "-j", "3", "--force").stdout == "3 all\n"
    assert run(cmd, "--force=train,explain").stdout == "None train,explain\n"
    refused = run(cmd, "--jobs", "0")
    assert refused.exit_code == 2 and "--jobs" in refused.stderr


def test_ui_hint_for_each_kind_of_store():
    assert ui_hint("sqlite:////p/mlflow.db") == (
        "make ui   (or: mlflow ui --backend-store-uri sqlite:////p/mlflow.db --host 127.0.0.1)"
    )
    assert ui_hint("http://mlflow.example.org:5000") == "http://mlflow.example.org:5000"
    assert ui_hint("databricks") == "open the MLflow UI of databricks"


def test_quiet_mlflow_sets_defaults_without_overriding_the_user(monkeypatch):
    for name in (
        "MLFLOW_LOGGING_LEVEL",
        "MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR",
        "MLFLOW_SUPPRESS_PRINTING_URL_TO_STDOUT",
    ):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("MLFLOW_LOGGING_LEVEL", "DEBUG")
    quiet_mlflow()
    assert os.environ["MLFLOW_LOGGING_LEVEL"] == "DEBUG"
    assert os.environ["MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR"] == "false"
    assert os.environ["MLFLOW_SUPPRESS_PRINTING_URL_TO_STDOUT"] == "true"
