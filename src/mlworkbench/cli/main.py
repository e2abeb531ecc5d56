"""The `mlwb` command line: inspect notebook contracts, validate configs, run pipelines and
sweeps (`cli.pipeline`), production commands (`cli.production`), the team server and
migration (`cli.team`); the options they share are in `cli.options`.

Exit codes: 0 success; 1 a stage failed while running; 2 invalid config, parameters or data
(found before any kernel starts); 3 a rerun did not reproduce every metric; 4 `mlwb monitor`
found an ALERT; 5 the tracking store or model registry could not be read or written; 130
interrupted with Ctrl-C.
"""

from __future__ import annotations

import sys

import click

# jsonschema (under nbformat) imports rfc3987_syntax when it is installed, which compiles a
# grammar for checking IRI formats and costs about 1.5 s at every start. Notebook validation
# never uses those formats, so the command line runs without it.
sys.modules.setdefault("rfc3987_syntax", None)  # type: ignore[arg-type]

from mlworkbench import __version__  # noqa: E402
from mlworkbench.cli import card, init, interactive, pipeline, production, team  # noqa: E402


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="mlwb")
def main() -> None:
    """mlworkbench: run parameterized notebooks with Papermill, track them in MLflow and
    render HTML reports.

    \b
    Typical use:
      mlwb validate papermill_configs/german_credit.yaml
      mlwb run papermill_configs/german_credit.yaml
      mlwb params notebooks/01-eda.ipynb
    """


for command in (
    *init.COMMANDS,
    *pipeline.COMMANDS,
    *interactive.COMMANDS,
    *production.COMMANDS,
    *card.COMMANDS,
    *team.COMMANDS,
):
    main.add_command(command)

if __name__ == "__main__":
    main()
