"""`mlwb card`: the model card of a registered model version, exported for model-risk
reviewers and auditors (`mlwb card export`). `cli.main` registers the group."""

from __future__ import annotations

from pathlib import Path

import click

from mlworkbench.cli.options import project_dir_option, quiet_mlflow, reports_errors

# Deferred imports: mlflow and the workbench's own modules load inside the functions that use
# them, so that `mlwb --help` and commands that do not need them start fast.

FORMAT_NAMES = ("pdf", "json", "cyclonedx")
"""The `--format` choices (`reports.card_export.FORMATS`, kept here so `--help` loads no
workbench module)."""


@click.group("card")
def card() -> None:
    """The model card of a registered model version."""


@card.command("export")
@click.argument("model_uri", metavar="MODEL_URI")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(FORMAT_NAMES),
    required=True,
    help="pdf: the card's report printed by headless Chromium; json: the Model Card Toolkit "
    "field layout, checked against the shipped JSON Schema; cyclonedx: a CycloneDX 1.6 ML-BOM "
    "(model, training and test data, packages).",
)
@click.option(
    "--output",
    "-o",
    type=click.Path(dir_okay=False, path_type=Path),
    required=True,
    help="File to write.",
)
@project_dir_option()
@reports_errors
def export_command(model_uri: str, fmt: str, output: Path, project_dir: Path | None) -> None:
    """Export the model card of MODEL_URI (models:/NAME/VERSION or models:/NAME@ALIAS).

    The card is the one the card stage wrote when it judged the version. The file's SHA-256
    is tagged on the version as mlwb.card_export.FORMAT, so a copy handed over can be checked
    against the registry. Exit codes: 0 written; 2 not a model URI, no such version, no card
    yet, or no Chromium for --format pdf (scripts/chromium.sh install); 5 the registry could
    not answer.
    """
    quiet_mlflow()
    from mlworkbench.exceptions import RegistryError
    from mlworkbench.pipeline.runner import REPORTS_DIR
    from mlworkbench.reports.card_export import export_card
    from mlworkbench.tracking.store import (
        find_project_root,
        open_client,
        store_problem,
        tracking_uri,
    )

    root = (project_dir or find_project_root()).resolve()
    uri = tracking_uri(root)
    if problem := store_problem(uri):
        raise RegistryError(f"Cannot export the card of {model_uri}: {problem}.")
    digest = export_card(open_client(uri), model_uri, fmt, output, root / REPORTS_DIR)
    click.echo(f"Wrote the {fmt} model card of {model_uri} to {output} (sha256 {digest}).")


COMMANDS = (card,)
