"""Pipeline commands of `mlwb`: inspect notebook contracts, validate configs, run pipelines
and sweeps, rebuild the index, rerun and compare runs."""

from __future__ import annotations

import gc
import sys
from pathlib import Path
from typing import Any

import click

from mlworkbench.cli.options import (
    executor_options,
    force_option,
    jobs_option,
    open_executor,
    progress_option,
    project_dir_option,
    quiet_mlflow,
    reports_errors,
    ui_hint,
)
from mlworkbench.exceptions import MlwbError

# Deferred imports: mlflow and the workbench's own modules load inside the functions that use
# them, so that `mlwb --help` and commands that do not need them start fast.


@click.command()
@click.argument("notebook", type=click.Path(dir_okay=False, path_type=Path))
@reports_errors
def params(notebook: Path) -> None:
    """Print the parameters NOTEBOOK declares: name, type, default and help."""
    from mlworkbench.pipeline.config import describe_contract

    rows = describe_contract(notebook)
    widths = {k: max(len(k), *(len(r[k]) for r in rows)) for k in ("name", "type", "default")}
    click.echo(f"Parameters of {notebook}:")
    header = "  ".join(k.upper().ljust(widths[k]) for k in ("name", "type", "default"))
    click.echo(f"  {header}  HELP")
    for row in rows:
        cols = "  ".join(row[k].ljust(widths[k]) for k in ("name", "type", "default"))
        click.echo(f"  {cols}  {row['help']}")


@click.command()
@click.argument("config", type=click.Path(path_type=Path))
@reports_errors
def validate(config: Path) -> None:
    """Check CONFIG completely without starting a kernel.

    Unknown keys, wrong types, unknown stages, a missing data file and a target that is not
    among the columns are all reported, each with the file, stage and key (exit code 2).
    """
    from mlworkbench.pipeline.config import load_config

    cfg = load_config(config)
    rows, columns = cfg.data_shape
    click.echo(
        f"{config}: valid. Experiment '{cfg.experiment}', stages: {', '.join(cfg.stages)}; "
        f"data {rows:,} rows x {columns} columns, target '{cfg.data.target}'."
    )


def _print_stages(result: Any) -> None:
    """One line per stage: status, report, and why it was reused or skipped."""
    for stage in result.stages:
        if stage.reused_from:
            status, where = "REUSED", f"{stage.html}  (run {stage.reused_from[:8]})"
        elif stage.status == "SKIPPED":
            status, where = stage.status, f"not run: it {stage.error}, which failed"
        else:
            status, where = stage.status, str(stage.html)
        click.echo(f"  {stage.stage:<8} {status:<9} {where}")
    click.echo(f"  index    {result.index}")


@click.command()
@click.argument("config", type=click.Path(path_type=Path))
@click.option(
    "--stage",
    "stages",
    multiple=True,
    metavar="NAME",
    help="Run only this stage (repeatable). Default: every stage in the config.",
)
@jobs_option
@force_option
@executor_options
@project_dir_option("Default: the project that contains CONFIG.")
@progress_option
@reports_errors
def run(
    config: Path,
    stages: tuple[str, ...],
    jobs: int | None,
    force: str | None,
    executor: str,
    scheduler: str | None,
    project_dir: Path | None,
    progress: bool,
) -> None:
    """Validate CONFIG, then execute its stages with Papermill, tracked in MLflow.

    One parent MLflow run per pipeline run and one child run per stage. Stages run in the
    order of what they need (see `needs` in the docs, Speed); a stage whose inputs (notebook,
    parameters, data, the runs it needs, package versions) are unchanged since a finished run
    is reused, not executed: its child run links the earlier run and report. A failing stage
    stops the stages that need it; the others finish. Reports go to
    reports/<experiment>/<run>/ and reports/index.html is rebuilt.
    """
    from mlworkbench.pipeline.config import load_config
    from mlworkbench.pipeline.runner import PipelineRunner
    from mlworkbench.tracking.store import find_project_root

    quiet_mlflow()
    cfg = load_config(config)
    root = (project_dir or find_project_root(cfg.path.parent)).resolve()
    with open_executor(executor, scheduler) as pool:
        runner = PipelineRunner(
            cfg,
            root,
            echo=click.echo,
            progress=progress,
            jobs=jobs or (pool.slots() if pool else 1),
            force=force,
            executor=pool,
        )
        click.echo(f"Pipeline '{cfg.experiment}' from {config}; tracking: {runner.uri}")
        try:
            result = runner.run(stages)
        except MlwbError as exc:
            outcome = getattr(exc, "result", None)
            if outcome is not None:
                click.echo("")
                click.echo(f"Parent run {outcome.run_id}: {outcome.status}.")
                _print_stages(outcome)
            raise
    click.echo("")
    click.secho(f"Pipeline finished. Parent run: {result.run_id}", fg="green")
    _print_stages(result)
    click.echo(f"MLflow UI: {ui_hint(result.tracking_uri)}")
    gc.freeze()  # nothing is left to free: skip the collection over every object at exit


@click.command()
@click.argument("config", type=click.Path(path_type=Path))
@jobs_option
@force_option
@executor_options
@project_dir_option("Default: the project that contains CONFIG.")
@reports_errors
def sweep(
    config: Path,
    jobs: int | None,
    force: str | None,
    executor: str,
    scheduler: str | None,
    project_dir: Path | None,
) -> None:
    """Run every combination of CONFIG's `sweep:` section as its own pipeline run.

    \b
    sweep:
      grid:                      # every combination: 2 x 2 = 4 pipeline runs
        train.model: [xgboost, random_forest]
        train.hyperparameters.max_depth: [3, 6]

    Up to --jobs pipelines run at the same time (default 1, or with --executor dask the
    workers' task threads); stages no combination changes (EDA) run once and are reused.
    Started again, the sweep runs only the combinations without a finished pipeline run.
    Writes reports/<experiment>/sweep-<id>.html, best first.
    Exit code 1 when a combination failed.
    """
    from mlworkbench.pipeline.config import load_config
    from mlworkbench.pipeline.sweep import run_sweep
    from mlworkbench.tracking.store import find_project_root

    quiet_mlflow()
    cfg = load_config(config)
    root = (project_dir or find_project_root(cfg.path.parent)).resolve()
    with open_executor(executor, scheduler) as pool:
        jobs = jobs or (pool.slots() if pool else 1)
        result = run_sweep(cfg, root, jobs=jobs, force=force, echo=click.echo, executor=pool)
    click.echo("")
    done = len(result.ran) + len(result.already_done)
    colour = "red" if result.failed else "green"
    click.secho(
        f"Sweep {result.sweep_id}: {done} combination(s) finished "
        f"({len(result.already_done)} earlier), {len(result.failed)} failed.",
        fg=colour,
    )
    for name, message in result.failed.items():
        click.echo(f"  FAILED {name}: {message}")
    if result.report:
        click.echo(f"  comparison  {result.report}")
    click.echo(f"  index       {result.index}")
    if result.failed:
        sys.exit(1)


@click.command()
@project_dir_option()
@reports_errors
def report(project_dir: Path | None) -> None:
    """Rebuild reports/index.html from the MLflow tracking store."""
    import mlflow

    from mlworkbench.pipeline.runner import REPORTS_DIR
    from mlworkbench.reports.index import rebuild_index
    from mlworkbench.tracking.store import find_project_root, tracking_uri

    root = (project_dir or find_project_root()).resolve()
    uri = tracking_uri(root)
    index = rebuild_index(mlflow.MlflowClient(uri), root / REPORTS_DIR)
    click.echo(f"Rebuilt {index} from {uri}")


@click.command("rerun")
@click.argument("run_id")
@project_dir_option()
@progress_option
@reports_errors
def rerun_command(run_id: str, project_dir: Path | None, progress: bool) -> None:
    """Repeat pipeline run RUN_ID from its logged config and check every metric.

    Refuses (exit code 2) when the data's digest changed. Exit code 0 when every metric came
    out identical, 3 when any differs.
    """
    from mlworkbench.pipeline.reruns import rerun
    from mlworkbench.tracking.store import find_project_root

    quiet_mlflow()
    root = (project_dir or find_project_root()).resolve()
    report = rerun(run_id, root, echo=click.echo, progress=progress)
    click.echo(f"\nRerun {report.rerun[:8]} of run {report.original[:8]}:")
    for check in report.checks:
        verdict = "reproduced" if check.reproduced else "DIFFERS"
        after = "missing" if check.after is None else f"{check.after:.10g}"
        click.echo(
            f"  {check.stage:<8} {check.metric:<28} {check.before:<16.10g} {after:<16} {verdict}"
        )
    for package, (old, new) in report.versions_changed.items():
        click.echo(f"  note: {package} was {old}, is now {new}")
    gc.freeze()
    if not report.reproduced:
        click.secho("Not every metric was reproduced.", fg="red", err=True)
        sys.exit(3)
    click.secho(f"All {len(report.checks)} metrics reproduced exactly.", fg="green")


@click.command("compare")
@click.argument("experiment")
@project_dir_option()
@reports_errors
def compare_command(experiment: str, project_dir: Path | None) -> None:
    """Write reports/EXPERIMENT/compare.html: every training run side by side, best first."""
    import mlflow

    from mlworkbench.pipeline.runner import REPORTS_DIR
    from mlworkbench.reports import comparison
    from mlworkbench.reports.index import rebuild_index
    from mlworkbench.tracking.store import find_project_root, tracking_uri

    root = (project_dir or find_project_root()).resolve()
    client = mlflow.MlflowClient(tracking_uri(root))
    page = comparison.rebuild(client, experiment, root / REPORTS_DIR)
    rebuild_index(client, root / REPORTS_DIR)
    click.echo(f"Wrote {page}")


COMMANDS = (params, validate, run, sweep, report, rerun_command, compare_command)
