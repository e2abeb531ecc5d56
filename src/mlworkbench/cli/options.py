"""Options, error handling and helpers the `mlwb` command groups share."""

from __future__ import annotations

import contextlib
import functools
import os
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import click

from mlworkbench.exceptions import ConfigError, MlwbError
from mlworkbench.tracking.access import refusal

# Deferred imports: the workbench's own modules load inside the functions that use them, so that
# `mlwb --help` and commands that do not need them start fast.


def fail(exc: MlwbError) -> None:
    if isinstance(exc, ConfigError) and len(exc.problems) > 1:
        click.secho(f"error: {len(exc.problems)} problems:", fg="red", err=True)
        for problem in exc.problems:
            click.echo(f"  - {problem}", err=True)
    else:
        click.secho(f"error: {exc}", fg="red", err=True)
    sys.exit(exc.exit_code)


def server_refusal(exc: BaseException | None) -> MlwbError | None:
    """One clear error for a tracking server's 401 or 403 (who, what, why), else None."""
    uri = os.environ.get("MLFLOW_TRACKING_URI", "")
    return refusal(exc, uri) if exc is not None else None


def reports_errors(command: Callable[..., Any]) -> Callable[..., Any]:
    """Turn `MlwbError` into a readable message and its exit code, never a traceback."""

    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except MlwbError as exc:  # a refusal under it (a wrapped 403) is what the user needs
            fail(server_refusal(exc.__cause__) or exc)
        except Exception as exc:
            if (refused := server_refusal(exc)) is None:
                raise
            fail(refused)

    return wrapper


def quiet_mlflow() -> None:
    """MLflow's info log, download bars and, with a tracking server, its "View run at" line
    for every ended run say nothing a user needs (also in kernels): the summary links the
    UI once."""
    os.environ.setdefault("MLFLOW_LOGGING_LEVEL", "WARNING")
    os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")
    os.environ.setdefault("MLFLOW_SUPPRESS_PRINTING_URL_TO_STDOUT", "true")


def ui_hint(uri: str) -> str:
    if uri.startswith("sqlite:///"):
        return f"make ui   (or: mlflow ui --backend-store-uri {uri} --host 127.0.0.1)"
    if uri.startswith(("http://", "https://")):
        return uri
    return f"open the MLflow UI of {uri}"


def project_dir_option(
    default_help: str = "Default: the project around the current folder.",
) -> Callable[..., Any]:
    """The `--project-dir` option every command that touches the project shares."""
    return click.option(
        "--project-dir",
        type=click.Path(file_okay=False, path_type=Path),
        default=None,
        help=f"Project folder holding reports/ and the default mlflow.db. {default_help}",
    )


progress_option = click.option(
    "--progress/--no-progress",
    default=True,
    show_default=True,
    help="Show a progress bar of the cells of each stage.",
)


jobs_option = click.option(
    "--jobs",
    "-j",
    type=click.IntRange(min=1),
    default=None,
    help="Stages run at the same time when they do not need each other (eda beside train); "
    "each has its own kernel. Cell progress bars are shown only with --jobs 1. "
    "Default: 1; with --executor dask, the workers' task threads.",
)


def executor_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """`--executor` and `--scheduler`, shared by `run` and `sweep`."""
    command = click.option(
        "--scheduler",
        metavar="tcp://HOST:PORT",
        envvar="DASK_SCHEDULER_ADDRESS",
        help="The Dask scheduler, with --executor dask (or DASK_SCHEDULER_ADDRESS).",
    )(command)
    return click.option(
        "--executor",
        type=click.Choice(["local", "dask"]),
        default="local",
        show_default=True,
        help="Where stages execute: kernels on this machine, or Dask tasks running the same "
        "Papermill call on the workers of --scheduler (checked before anything is submitted).",
    )(command)


@contextlib.contextmanager
def open_executor(name: str, scheduler: str | None) -> Iterator[Any]:
    """None for the local executor, else a connected `DaskExecutor`, closed at the end."""
    if name == "local":
        yield None
        return
    if not scheduler:
        raise click.UsageError("--executor dask needs --scheduler tcp://HOST:PORT.")
    from mlworkbench.pipeline.cluster import DaskExecutor

    executor = DaskExecutor(scheduler)
    click.echo(f"Dask scheduler {scheduler}: {len(executor.workers())} worker(s)")
    try:
        yield executor
    finally:
        executor.close()


force_option = click.option(
    "--force",
    is_flag=False,
    flag_value="all",
    default=None,
    metavar="[STAGES]",
    help="Execute stages even when their inputs are unchanged: --force alone (after CONFIG) "
    "for every stage, --force=train,explain for those. Default: reuse unchanged stages.",
)
