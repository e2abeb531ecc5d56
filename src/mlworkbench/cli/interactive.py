"""`mlwb open` (a stage, or a stage run, as a notebook with its exact parameters, for
JupyterLab) and `mlwb export` (a notebook run there, as its run's report). `cli.main`
registers them."""

from __future__ import annotations

import os
import re
import sys
from pathlib import Path

import click

from mlworkbench.cli.options import project_dir_option, quiet_mlflow, reports_errors

# Deferred imports: the workbench's own modules load inside the functions that use them, so
# that `mlwb --help` starts fast.

RUN_ID = re.compile(r"^[0-9a-f]{32}$")


@click.command("open")
@click.argument("target", metavar="CONFIG|RUN_ID")
@click.option("--stage", help="Stage of CONFIG to open (required with a config).")
@click.option(
    "--lab", is_flag=True, help="Start JupyterLab on the notebook (127.0.0.1) after writing it."
)
@click.option(
    "--port", default=8888, show_default=True, help="Port of the JupyterLab that --lab starts."
)
@click.option("--force", is_flag=True, help="Write the notebook again when it exists.")
@project_dir_option()
@reports_errors
def open_command(
    target: str, stage: str | None, lab: bool, port: int, force: bool, project_dir: Path | None
) -> None:
    """Write a stage notebook with exact parameters to notebooks/exploratory/.

    \b
    mlwb open CONFIG --stage NAME   the parameters `mlwb run` would give the stage now: the
                                    data settings, the stage's keys and the run ids of the
                                    newest finished upstream runs
    mlwb open RUN_ID                the exact parameters (and code) a stage run received,
                                    a failed one included, to examine it with the same inputs

    Run top to bottom (in JupyterLab: make lab), the notebook starts a run of its own in the
    experiment, tagged mlwb.interactive; `mlwb export NOTEBOOK` then makes it that run's report
    in reports/index.html. Exit codes: 0 written; 2 bad config, unknown stage or run, or
    the notebook exists (--force writes it again).
    """
    quiet_mlflow()
    from mlworkbench.exceptions import ConfigError
    from mlworkbench.pipeline import interactive
    from mlworkbench.pipeline.config import load_config
    from mlworkbench.tracking.store import find_project_root

    root = (project_dir or find_project_root()).resolve()
    if RUN_ID.match(target) and not Path(target).exists():
        if stage:
            raise ConfigError("--stage goes with a config; a run id names its stage itself.")
        notebook = interactive.open_run(target, root, force)
        what = f"run {target[:8]} with the exact parameters it received"
    else:
        if not stage:
            raise ConfigError(f"Name the stage of {target} to open: --stage NAME.")
        notebook = interactive.open_stage(load_config(target), stage, root, force)
        what = f"stage '{stage}' of {target} with the parameters `mlwb run` would give it"
    relative = notebook.relative_to(root)
    click.echo(f"Wrote {relative}: {what}.")
    click.echo(f"Open it in JupyterLab: {interactive.lab_address(notebook, root, port)}")
    click.echo(f"After running it top to bottom and saving it: mlwb export {relative}")
    if lab:  # JupyterLab takes this process's place, so Ctrl-C and signals reach it directly
        command = interactive.lab_command(relative, root, port)
        os.chdir(root)
        sys.stdout.flush()
        os.execv(command[0], command)


@click.command("export")
@click.argument("notebook", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@project_dir_option()
@reports_errors
def export_command(notebook: Path, project_dir: Path | None) -> None:
    """Make a notebook run outside `mlwb run` (JupyterLab, `mlwb open`) its run's report.

    The saved notebook becomes HTML with code hidden in reports/interactive/<run>/, logged
    with its run like a stage report, and reports/index.html lists it as interactive. Exit
    codes: 0 exported; 2 the notebook holds no run of its own (not run, or not saved).
    """
    quiet_mlflow()
    from mlworkbench.pipeline import interactive
    from mlworkbench.tracking.store import find_project_root

    root = (project_dir or find_project_root(notebook.resolve().parent)).resolve()
    run_id, page = interactive.export_notebook(notebook.resolve(), root)
    click.echo(f"Exported {notebook} as the report of run {run_id[:8]}: {page}")
    click.echo(f"  index    {root / 'reports' / 'index.html'}")


COMMANDS = (open_command, export_command)
