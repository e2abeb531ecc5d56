"""From a pipeline to JupyterLab and back: a stage notebook with exact parameters, and its
report once it has run.

`open_stage` writes `notebooks/exploratory/<experiment>-<stage>.ipynb`: the stage's notebook
with the config's parameters injected the way papermill injects them (the data settings, the
stage's keys and the `<stage>_run_id` of the newest finished upstream runs). `open_run` does
the same for a stage run, a failed one included, with the exact parameters that run received
(read from its logged notebook, whose code it keeps). Run top to bottom, such a notebook
starts a run of its own in the experiment, tagged `mlwb.interactive`; `export_notebook` turns
the saved notebook into that run's report, as `mlwb run` does for its stages, and the index
lists it. `mlwb run` never treats `notebooks/exploratory/` as stages.
"""

from __future__ import annotations

import json
import os
import re
import sys
from pathlib import Path
from typing import Any

from mlworkbench.exceptions import ConfigError, RunNotFoundError
from mlworkbench.pipeline.config import PipelineConfig
from mlworkbench.pipeline.results import relative_label, stage_parameters
from mlworkbench.tracking import store
from mlworkbench.tracking.tags import TAG_INTERACTIVE, TAG_NOTEBOOK, TAG_REPORT, TAG_STAGE

# Deferred imports: papermill, nbformat and mlflow load inside the functions that use them, so
# that `mlwb --help` stays fast.

EXPLORATORY = Path("notebooks") / "exploratory"
"""Free-form notebooks of the project, never stages (`mlwb open` writes here)."""
LAB_PORT = 8888
OWN_RUN_LINE = re.compile(r"Tracked as MLflow run ([0-9a-f]{32}) ")
"""The line a notebook running on its own prints when it starts its run (`store`)."""


def upstream_runs(client: Any, config: PipelineConfig, stage_name: str) -> dict[str, str]:
    """`<stage>_run_id` of each stage `stage_name` needs (by default every earlier configured
    stage): its newest finished run in the config's experiment, empty when there is none."""
    stages = config.selected_stages()
    stage = next(s for s in stages if s.name == stage_name)
    names = (
        stage.needs
        if stage.needs is not None
        else [s.name for s in stages if s.order < stage.order]
    )
    return {
        f"{name}_run_id": store.latest_stage_run(client, config.experiment, name) for name in names
    }


def config_parameters(client: Any, config: PipelineConfig, stage_name: str, root: Path) -> dict:
    """The parameters `mlwb run` would give `stage_name` now, for a run of the notebook's own
    (no run id, no report folder: the notebook makes its own)."""
    (stage,) = config.selected_stages([stage_name])
    runner_values = {
        "mlflow_run_id": "",
        "report_dir": "",
        "experiment": config.experiment,
        "config_file": relative_label(config.path, root),
        "governance": config.raw.get("governance") or {},
        **upstream_runs(client, config, stage_name),
    }
    return stage_parameters(config, stage, runner_values)


def write_notebook(
    source: Path, parameters: dict[str, Any], target: Path, force: bool = False
) -> Path:
    """`source` with `parameters` injected by papermill (its `injected-parameters` cell, after
    the `parameters` cell), outputs cleared, written at `target`.

    Raises:
        ConfigError: `target` exists (it may hold the user's work) and `force` is not set.
    """
    import nbformat
    from papermill.iorw import load_notebook_node
    from papermill.parameterize import parameterize_notebook

    if target.exists() and not force:
        raise ConfigError(
            f"{target} exists and may hold your changes: open it as it is, or write it again "
            "with --force."
        )
    notebook = parameterize_notebook(load_notebook_node(str(source)), parameters)
    for cell in notebook.cells:
        cell.metadata.pop("papermill", None)
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
    notebook.metadata.pop("papermill", None)
    notebook.metadata["mlworkbench"] = {
        **notebook.metadata.get("mlworkbench", {}),
        "parameters": parameters,
    }
    target.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(notebook, str(target))
    return target


def open_stage(config: PipelineConfig, stage_name: str, root: Path, force: bool = False) -> Path:
    """Write the exploratory notebook of `stage_name` of `config`; returns its path.

    Raises:
        ConfigError: the config does not configure `stage_name`, or the notebook exists.
    """
    (stage,) = config.selected_stages([stage_name])
    client = store.open_client(store.tracking_uri(root))
    parameters = config_parameters(client, config, stage_name, root)
    target = root / EXPLORATORY / f"{store.safe_name(config.experiment, '-')}-{stage.name}.ipynb"
    return write_notebook(stage.notebook, parameters, target, force)


def logged_notebook(client: Any, run_id: str) -> Path:
    """A local copy of the executed notebook `mlwb run` logged with a stage run.

    Raises:
        RunNotFoundError: no such run, or a run without a logged notebook.
    """
    try:
        run = client.get_run(run_id)
    except Exception as exc:  # MLflow says RESOURCE_DOES_NOT_EXIST in its own words
        raise RunNotFoundError(f"No run {run_id} in the tracking store.") from exc
    name = run.data.tags.get(TAG_NOTEBOOK, "")
    stem = Path(name).stem
    try:
        return Path(client.download_artifacts(run_id, f"notebook/{stem}.ipynb"))
    except Exception as exc:
        raise RunNotFoundError(
            f"Run {run_id} ({run.data.tags.get(TAG_STAGE, 'no stage')}) has no logged notebook "
            f"notebook/{stem or '<stage>'}.ipynb: only stage runs of `mlwb run` have one."
        ) from exc


def open_run(run_id: str, root: Path, force: bool = False) -> Path:
    """Write an exploratory notebook of the stage run `run_id` (failed ones included): its
    logged notebook's code with the exact parameters it received, as a run of its own.

    Raises:
        RunNotFoundError: no such run, or no logged notebook.
    """
    client = store.open_client(store.tracking_uri(root))
    source = logged_notebook(client, run_id)
    received = json.loads(source.read_text(encoding="utf-8"))["metadata"]
    parameters = dict(received.get("papermill", {}).get("parameters", {}))
    parameters.update(mlflow_run_id="", report_dir="")
    experiment = parameters.get("experiment") or "run"
    stage = client.get_run(run_id).data.tags.get(TAG_STAGE, "stage")
    name = f"{store.safe_name(experiment, '-')}-{stage}-{run_id[:8]}.ipynb"
    return write_notebook(source, parameters, root / EXPLORATORY / name, force)


def lab_address(notebook: Path, root: Path, port: int = LAB_PORT) -> str:
    """The notebook's address in a JupyterLab started in `root` on 127.0.0.1."""
    return f"http://127.0.0.1:{port}/lab/tree/{notebook.relative_to(root).as_posix()}"


def lab_command(notebook: Path, root: Path, port: int = LAB_PORT) -> list[str]:
    """The command that starts JupyterLab in `root` on 127.0.0.1 with `notebook` open (as root,
    in a container, JupyterLab needs --allow-root)."""
    command = [sys.executable, "-m", "jupyterlab", "--ip=127.0.0.1", f"--port={port}"]
    command += [f"--ServerApp.root_dir={root}", "--ServerApp.port_retries=0", str(notebook)]
    return command + (["--allow-root"] if os.geteuid() == 0 else [])


def own_run_id(notebook: Path) -> str:
    """The run a saved notebook started itself, from the line it printed; '' when none."""
    for cell in json.loads(notebook.read_text(encoding="utf-8")).get("cells", []):
        for output in cell.get("outputs", []):
            found = OWN_RUN_LINE.search("".join(output.get("text", "")))
            if found:
                return found.group(1)
    return ""


def export_notebook(notebook: Path, root: Path) -> tuple[str, Path]:
    """Make the saved, executed `notebook` the report of the run it started: HTML (code
    hidden) in `reports/interactive/<run>/`, logged with the run like a stage report, and
    listed in `reports/index.html`. Returns the run id and the page.

    Raises:
        ConfigError: the notebook was not run, or not saved after running.
    """
    from mlworkbench.pipeline.runner import REPORTS_DIR
    from mlworkbench.reports.index import rebuild_index
    from mlworkbench.reports.rendering import notebook_to_html

    run_id = own_run_id(notebook)
    if not run_id:
        raise ConfigError(
            f"{notebook} holds no run of its own: run it top to bottom and save it first (its "
            "cell that starts its run prints 'Tracked as MLflow run ...')."
        )
    client = store.open_client(store.tracking_uri(root))
    reports = root / REPORTS_DIR
    page = reports / "interactive" / run_id[:8] / f"{notebook.stem}.html"
    page.parent.mkdir(parents=True, exist_ok=True)
    notebook_to_html(notebook, page, title=notebook.stem)
    client.log_artifact(run_id, str(notebook), "notebook")
    client.log_artifact(run_id, str(page), "report")
    client.set_tag(run_id, TAG_REPORT, page.relative_to(reports).as_posix())
    client.set_tag(run_id, TAG_INTERACTIVE, "true")
    rebuild_index(client, reports)
    return run_id, page
