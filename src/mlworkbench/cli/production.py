"""The production commands of `mlwb`: the registry (`models`, `promote`), batch scoring
(`score`), the model API (`serve`, `loadtest`) and monitoring (`monitor`). `cli.py` registers
them."""

from __future__ import annotations

import gc
import os
import sys
from pathlib import Path

import click

from mlworkbench.cli.options import (
    progress_option,
    project_dir_option,
    quiet_mlflow,
    reports_errors,
)
from mlworkbench.exceptions import MlwbError

# Deferred imports: mlflow and the workbench's own modules load inside the functions that use
# them, so that `mlwb --help` and commands that do not need them start fast.


def _monitor_and_report(
    model: str,
    batch: Path,
    labels: str,
    batch_date: str,
    section: dict,
    root: Path,
    progress: bool,
    id_column: str = "",
) -> None:
    """Run a monitoring job, print its status, and on ALERT run the alert command and exit 4."""
    from mlworkbench.production.monitoring import ALERT_EXIT_CODE, run_alert_command, run_job

    result, status, summary = run_job(
        model, batch, labels, batch_date, section, root, click.echo, progress, id_column
    )
    colour = {"OK": "green", "WARN": "yellow"}.get(status, "red")
    click.secho(f"Monitoring status: {status}", fg=colour)
    click.echo(f"  report   {result.stages[0].html}")
    click.echo(f"  index    {result.index}")
    if status == "ALERT":
        command = section.get("alert_command")
        if command:
            click.echo(f"Running the alert command: {command}")
            run_alert_command(command, summary)
        sys.exit(ALERT_EXIT_CODE)


def _monitoring_section(config_file: Path | None) -> dict:
    from mlworkbench.pipeline.config import load_config

    if config_file is None:
        return {}
    return load_config(config_file, check_data=False).raw.get("monitoring") or {}


config_option = click.option(
    "--config",
    "config_file",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Experiment config whose 'monitoring:' section sets thresholds and the alert command.",
)


@click.command("models")
@project_dir_option()
@reports_errors
def list_models(project_dir: Path | None) -> None:
    """List registered models with their versions, aliases and primary metric."""
    import mlflow

    from mlworkbench.tracking.store import find_project_root, tracking_uri

    uri = tracking_uri((project_dir or find_project_root()).resolve())
    client = mlflow.MlflowClient(uri)
    registered = client.search_registered_models()
    if not registered:
        click.echo(f"No registered models in {uri}.")
        return
    for model in registered:
        aliases = {}
        for alias, version in (model.aliases or {}).items():
            aliases.setdefault(str(version), []).append(alias)
        click.echo(f"{model.name}")
        for version in client.search_model_versions(f"name = '{model.name}'"):
            tags = version.tags
            metric = tags.get("primary_metric", "")
            value = tags.get(metric, "")
            labels = ", ".join(sorted(aliases.get(str(version.version), [])))
            click.echo(
                f"  v{version.version:<4} {labels or '-':<22} {metric} {value}  "
                f"run {version.run_id[:8]}"
            )


@click.command("score")
@click.argument("model")
@click.argument("input_file", metavar="INPUT", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--output",
    "-o",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="CSV or Parquet file for the predictions; replaced only when complete.",
)
@click.option("--id-column", default="", help="Column copied to the output as row key.")
@config_option
@project_dir_option()
@progress_option
@reports_errors
def score_command(
    model: str,
    input_file: Path,
    output: Path,
    id_column: str,
    config_file: Path | None,
    project_dir: Path | None,
    progress: bool,
) -> None:
    """Score INPUT (CSV or Parquet) with MODEL and write the predictions to --output.

    MODEL is models:/NAME@ALIAS (for example models:/german-credit-risk@champion),
    models:/NAME/VERSION, NAME@ALIAS, NAME/VERSION or runs:/RUN_ID/model. The batch is checked
    against the model's signature first; the run is tracked in the experiment
    scoring-NAME with a report like every stage. With --config whose monitoring section
    has `after_score: true`, the batch is then monitored as by `mlwb monitor`. Exit codes:
    0 done, 1 scoring failed (the previous output is untouched), 2 bad model, batch or output
    path (nothing written), 4 the monitoring after scoring found an ALERT.
    """
    from mlworkbench.production.scoring import run_job
    from mlworkbench.tracking.store import find_project_root

    quiet_mlflow()
    root = (project_dir or find_project_root()).resolve()
    try:
        result = run_job(model, input_file, output, id_column, root, click.echo, progress)
    except MlwbError as exc:
        outcome = getattr(exc, "result", None)
        if outcome is not None:
            click.echo(f"Scoring run {outcome.run_id}: {outcome.status}. Index: {outcome.index}")
        raise
    click.secho(f"Scored {input_file} into {output.resolve()}.", fg="green")
    click.echo(f"  report   {result.stages[0].html}")
    click.echo(f"  index    {result.index}")
    section = _monitoring_section(config_file)
    if section.get("after_score"):
        _monitor_and_report(model, input_file, "", "", section, root, progress, id_column)
    gc.freeze()


@click.command("serve")
@click.argument("model")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=5001, show_default=True, type=int, help="Port to listen on.")
@project_dir_option()
@reports_errors
def serve_command(model: str, host: str, port: int, project_dir: Path | None) -> None:
    """Serve MODEL over HTTP with MLflow's scoring server until Ctrl-C.

    MODEL as for `mlwb score`; an alias is resolved once, at start, and the version served is
    printed. Endpoints: /ping, /version and /invocations (JSON with dataframe_split or
    dataframe_records). Binds to 127.0.0.1 unless --host says otherwise.
    """
    import mlflow

    from mlworkbench.production import serving
    from mlworkbench.production.scoring import resolve
    from mlworkbench.tracking.store import find_project_root, tracking_uri

    quiet_mlflow()
    uri = tracking_uri((project_dir or find_project_root()).resolve())
    resolved = resolve(mlflow.MlflowClient(uri), model)
    click.echo(
        f"Serving '{resolved.name}' version {resolved.version} ({resolved.uri}) at "
        f"http://{host}:{port}/invocations; Ctrl-C stops."
    )
    argv = serving.command(resolved.uri, host, port)
    os.execve(argv[0], argv, serving.environment(uri))


@click.command("loadtest")
@click.argument("model")
@click.option(
    "--input",
    "input_file",
    default="",
    help="CSV/Parquet rows to send (default: the model's input example).",
)
@click.option(
    "--requests",
    "single_requests",
    default=200,
    show_default=True,
    help="Single-row requests timed.",
)
@click.option("--batch-rows", default=1000, show_default=True, help="Rows per throughput request.")
@click.option("--batch-requests", default=10, show_default=True, help="Throughput requests sent.")
@project_dir_option()
@reports_errors
def loadtest_command(
    model: str,
    input_file: str,
    single_requests: int,
    batch_rows: int,
    batch_requests: int,
    project_dir: Path | None,
) -> None:
    """Measure MODEL's REST API against a local server it starts and stops.

    Reports single-row latency p50/p95/p99, throughput of BATCH_ROWS-row requests and the same
    predictions in process, and tags the figures on the model version (mlwb.loadtest.*), where
    the model card's production-readiness section reads them.
    """
    import mlflow

    from mlworkbench.production import loadtest
    from mlworkbench.reports.elements import format_figure
    from mlworkbench.tracking.store import find_project_root, tracking_uri

    quiet_mlflow()
    uri = tracking_uri((project_dir or find_project_root()).resolve())
    mlflow.set_tracking_uri(uri)
    click.echo(f"Starting a server for {model} and sending {single_requests} requests ...")
    resolved, result = loadtest.run(
        mlflow.MlflowClient(), model, uri, input_file, single_requests, batch_rows, batch_requests
    )
    click.echo(f"'{resolved.name}' version {resolved.version}:")
    for row in result.table().itertuples(index=False):
        local = "" if row[2] != row[2] else f"   in process {format_figure(row[2])}"
        click.echo(f"  {row[0]:<36} http {format_figure(row[1]):>10}{local}")
    click.echo("Figures tagged on the model version as mlwb.loadtest.*")


@click.command("monitor")
@click.argument("model")
@click.argument("batch", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--labels", default="", help="Column of BATCH with the true outcome, if known.")
@click.option("--id-column", default="", help="Column of BATCH that identifies a row (ignored).")
@click.option("--batch-date", default="", help="Date the batch stands for (default: today).")
@config_option
@project_dir_option()
@progress_option
@reports_errors
def monitor_command(
    model: str,
    batch: Path,
    labels: str,
    id_column: str,
    batch_date: str,
    config_file: Path | None,
    project_dir: Path | None,
    progress: bool,
) -> None:
    """Compare BATCH with MODEL's training data: drift of inputs and predictions, and with
    --labels the metrics and fairness gaps; status OK, WARN or ALERT.

    The run is tracked in the experiment monitoring-NAME and tagged on the model version;
    reports/monitoring.html is rebuilt. Exit codes: 0 OK or WARN, 4 ALERT (after running the
    config's monitoring.alert_command, if any, with the summary on its standard input),
    1 the stage failed, 2 bad model, batch or config.
    """
    from mlworkbench.tracking.store import find_project_root

    quiet_mlflow()
    section = _monitoring_section(config_file)
    root = (project_dir or find_project_root()).resolve()
    _monitor_and_report(model, batch, labels, batch_date, section, root, progress, id_column)


@click.command("promote")
@click.argument("model")
@click.argument("version")
@click.option("--reason", required=True, help="Why this version becomes champion (recorded).")
@project_dir_option()
@reports_errors
def promote_command(model: str, version: str, reason: str, project_dir: Path | None) -> None:
    """Sign VERSION of registered MODEL off: make it the champion, recording who, when and why.

    VERSION is a number or an alias, such as candidate: the version the card stage approved
    and left awaiting sign-off (a high-risk model, or require_signoff). On an authenticated
    team server the signer is the signed-in user (MLFLOW_TRACKING_USERNAME), who must be a
    reviewer or an admin and may not sign off a version they registered; elsewhere it is the
    operating-system user, recorded as unauthenticated. Exit codes: 0 done, 2 no reason, no
    such model, version or alias, or the server refused the user (nothing changed), 5 the
    registry could not answer or record it (store missing, unreachable or broken; retry once
    it is back).
    """
    import mlflow

    from mlworkbench.exceptions import RegistryError
    from mlworkbench.governance.signoff import sign_off
    from mlworkbench.pipeline.runner import REPORTS_DIR
    from mlworkbench.reports.index import rebuild_index
    from mlworkbench.tracking.store import find_project_root, store_problem, tracking_uri

    root = (project_dir or find_project_root()).resolve()
    uri = tracking_uri(root)
    if problem := store_problem(uri):  # in seconds, where MLflow's client retries for minutes
        raise RegistryError(f"Cannot promote '{model}' version {version}: {problem}.")
    client = mlflow.MlflowClient(uri)
    signed = sign_off(client, uri, model, version, reason)
    rebuild_index(client, root / REPORTS_DIR)
    was = f" (was version {signed.previous})" if signed.previous else ""
    click.echo(
        f"'{model}' version {signed.version} is now the champion{was}, signed off by "
        f"{signed.signer}. Reason recorded: {reason}"
    )


COMMANDS = (
    list_models,
    score_command,
    serve_command,
    loadtest_command,
    monitor_command,
    promote_command,
)
