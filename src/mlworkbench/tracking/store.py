"""MLflow tracking: where runs go, which tags they carry, and how notebooks log into them.

The default store is the SQLite file `mlflow.db` in the project root with artifacts in
`mlruns/` beside it; `MLFLOW_TRACKING_URI` points the same code at any other store or server.
Nothing here touches MLflow at import time.

A notebook logs through `start_stage_run`: given the run id the runner created, it logs into
that run and leaves its status to the runner; given none (JupyterLab, plain papermill) it starts
a run of its own, tagged `mlwb.interactive` and announced by a printed line (`mlwb export`
finds it there), so interactive work is tracked too, and `end_stage_run` finishes it; a cell
that raises ends that run FAILED, an interrupted one KILLED (`end_failed_run`). Every run
carries MLflow's own tags too (`provenance.system_tags`), and `set_note` writes the report's
summary as the run's description.
"""

from __future__ import annotations

import fcntl
import json
import math
import os
import sqlite3
import sys
import tempfile
import urllib.request
from collections.abc import Iterable, Mapping
from contextlib import closing
from pathlib import Path
from typing import Any

from mlworkbench.tracking.provenance import NOTEBOOK, standard_tags, system_tags
from mlworkbench.tracking.tags import (
    TAG_ERROR,
    TAG_GIT,
    TAG_INTERACTIVE,
    TAG_KEY_FIGURES,
    TAG_NOTEBOOK,
    TAG_STAGE,
)

# Deferred imports: mlflow and pandas load inside the functions that use them, so that importing
# this module (from the command line or a notebook) stays fast.

DEFAULT_DB = "mlflow.db"
DEFAULT_ARTIFACTS = "mlruns"
NOTE_LIMIT = 8000
"""Characters MLflow keeps in a tag value, and so in a run's note."""
NOTE_TAG = "mlflow.note.content"
"""MLflow's tag of a run's note (`mlflow.utils.mlflow_tags.MLFLOW_RUN_NOTE`), its description."""


def find_project_root(start: str | Path | None = None) -> Path:
    """The project folder: the first of `start` and its parents that holds `notebooks/`, else
    `start` itself, so a notebook copied elsewhere still runs."""
    here = Path(start or Path.cwd()).resolve()
    for candidate in (here, *here.parents):
        if (candidate / "notebooks").is_dir() and (
            (candidate / "papermill_configs").is_dir() or (candidate / "pyproject.toml").is_file()
        ):
            return candidate
    return here


def tracking_uri(project_root: str | Path | None = None) -> str:
    """`MLFLOW_TRACKING_URI` when set, else the SQLite file in the project root."""
    if os.environ.get("MLFLOW_TRACKING_URI"):
        return os.environ["MLFLOW_TRACKING_URI"]
    return default_store(project_root)


def default_store(project_root: str | Path | None = None) -> str:
    """The project's own SQLite store, whatever `MLFLOW_TRACKING_URI` says."""
    root = Path(project_root) if project_root else find_project_root()
    return f"sqlite:///{(root / DEFAULT_DB).resolve()}"


def safe_name(text: str, fill: str = "_") -> str:
    """`text` with every character but letters, digits and `-_.` replaced by `fill`, for
    file and folder names."""
    return "".join(ch if ch.isalnum() or ch in "-_." else fill for ch in text)


def store_problem(uri: str) -> str:
    """Why this machine cannot use the tracking store at `uri` ("" when it can), found in
    seconds: a SQLite file must exist (MLflow would create it), a server must answer `/health`
    within 5 s (MLflow's client retries for minutes), any other store must answer a search."""
    if uri.startswith("sqlite:///"):
        path = Path(uri.removeprefix("sqlite:///").split("?")[0])
        return "" if path.is_file() else f"tracking store {path} does not exist here"
    if uri.startswith(("http://", "https://")):
        try:
            with urllib.request.urlopen(uri.rstrip("/") + "/health", timeout=5) as answer:
                return "" if answer.status == 200 else f"{uri} answered HTTP {answer.status}"
        except OSError as exc:
            return f"tracking server {uri} not reachable: {getattr(exc, 'reason', exc)}"
    try:
        import mlflow

        mlflow.MlflowClient(uri).search_experiments(max_results=1)
    except Exception as exc:
        return f"tracking store {uri} not usable: {type(exc).__name__}: {exc}"
    return ""


def default_artifact_location(uri: str, experiment: str) -> str | None:
    """Where a new experiment keeps artifacts: `mlruns/` beside a SQLite file, else None."""
    if not uri.startswith("sqlite:///"):
        return None
    db_file = Path(uri.removeprefix("sqlite:///"))
    return (db_file.parent / DEFAULT_ARTIFACTS / safe_name(experiment)).as_uri()


def open_client(uri: str) -> Any:
    """An `MlflowClient` for `uri`, safe when several processes open a new store at once: a new
    SQLite store is created under a file lock beside it (MLflow does not lock its migration) and
    switched to write-ahead logging, where readers never block the writer."""
    import mlflow

    if not uri.startswith("sqlite:///"):
        return mlflow.MlflowClient(uri)

    db_file = Path(uri.removeprefix("sqlite:///"))
    db_file.parent.mkdir(parents=True, exist_ok=True)
    with open(db_file.with_name(db_file.name + ".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            client = mlflow.MlflowClient(uri)
            client.search_experiments(max_results=1)  # the store and its tables exist now
            with closing(sqlite3.connect(db_file, timeout=30)) as db:
                if db.execute("PRAGMA journal_mode").fetchone()[0] != "wal":
                    db.execute("PRAGMA journal_mode=WAL")
        except sqlite3.OperationalError:
            pass  # busy: write-ahead logging is only faster, the store works without it
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)
    return client


def get_or_create_experiment(client: Any, name: str) -> str:
    """The id of experiment `name`, created (with a local artifact folder) when missing."""
    experiment = client.get_experiment_by_name(name)
    if experiment is not None:
        if experiment.lifecycle_stage == "deleted":
            client.restore_experiment(experiment.experiment_id)
        return experiment.experiment_id
    location = default_artifact_location(client.tracking_uri, name)
    try:
        return client.create_experiment(name, artifact_location=location)
    except Exception:  # created meanwhile by a concurrent process
        experiment = client.get_experiment_by_name(name)
        if experiment is None:
            raise
        return experiment.experiment_id


def latest_stage_run(client: Any, experiment: str, stage: str, condition: str = "") -> str:
    """The id of the newest finished run of `stage` in `experiment` (meeting an extra search
    `condition` when given), or empty."""
    found = client.get_experiment_by_name(experiment)
    if found is None:
        return ""
    extra = f" and {condition}" if condition else ""
    runs = client.search_runs(
        [found.experiment_id],
        f"tags.`{TAG_STAGE}` = '{stage}' and attributes.status = 'FINISHED'{extra}",
        order_by=["attributes.start_time DESC"],
        max_results=1,
    )
    return runs[0].info.run_id if runs else ""


# --- logging from inside a notebook -------------------------------------------------------

_OWNS_RUN = False  # whether the notebook started its run (else the runner did)
_SYNC = True
"""False in a runner's run on a tracking server: parameters, metrics and tags are logged in the
background until `flush` (a SQLite file writes faster than MLflow's queue stops and starts)."""


def start_stage_run(
    run_id: str,
    experiment: str,
    stage: str,
    notebook: str,
    params: Mapping[str, Any] | None = None,
) -> str:
    """Make the stage's MLflow run active in this kernel and log its parameters.

    Args:
        run_id: the run the runner created; empty when the notebook runs on its own, in which
            case a new run is started in `experiment`.
        experiment: MLflow experiment for a run of its own.
        stage: stage name, tagged on the run.
        notebook: notebook file name, tagged on the run.
        params: parameters to log (nested mappings are flattened with dots).

    Returns:
        The id of the active run.
    """
    global _OWNS_RUN, _SYNC
    import mlflow

    mlflow.set_tracking_uri(tracking_uri())
    _SYNC = not run_id or not tracking_uri().startswith(("http://", "https://"))
    if mlflow.active_run() is not None:
        mlflow.end_run()
    if run_id:
        run = mlflow.start_run(run_id=run_id)
        _OWNS_RUN = False
    else:
        client = mlflow.MlflowClient()
        experiment_id = get_or_create_experiment(client, experiment)
        tags = {TAG_STAGE: stage, TAG_NOTEBOOK: notebook, **standard_tags(Path.cwd())}
        tags.update(system_tags(notebook_source(notebook), NOTEBOOK, tags[TAG_GIT]))
        tags[TAG_INTERACTIVE] = "true"
        run = mlflow.start_run(experiment_id=experiment_id, run_name=stage, tags=tags)
        _OWNS_RUN = True
        _watch_cells()
        print(f"Tracked as MLflow run {run.info.run_id} in experiment '{experiment}'.")
    if params:
        log_params(params)
    return run.info.run_id


def end_stage_run() -> None:
    """`flush`, and finish the run when the notebook started it (the runner finishes its own)."""
    import mlflow

    flush()
    if _OWNS_RUN and mlflow.active_run() is not None:
        mlflow.end_run("FINISHED")


def flush() -> None:
    """Wait until what is logged in the background is written (raising its first error)."""
    if not _SYNC:
        sys.modules["mlflow"].flush_async_logging()


def notebook_source(notebook: str, folder: str | Path | None = None) -> str:
    """`notebook` relative to its project root (`notebooks/01-eda.ipynb`), looked for in
    `folder` (default: the working directory, where Jupyter runs a notebook) and in the
    project's `notebooks/`; its bare name when it is in neither."""
    here = Path(folder or Path.cwd()).resolve()
    root = find_project_root(here)
    for path in (here / notebook, root / "notebooks" / notebook):
        if path.is_file() and path.is_relative_to(root):
            return path.relative_to(root).as_posix()
    return notebook


def _watch_cells() -> None:
    """Have IPython call `end_failed_run` after every cell; outside IPython, nothing."""
    module = sys.modules.get("IPython")  # not imported: not in IPython
    shell = module.get_ipython() if module is not None else None
    if shell is not None and end_failed_run not in shell.events.callbacks["post_run_cell"]:
        shell.events.register("post_run_cell", end_failed_run)


def end_failed_run(result: Any) -> None:
    """IPython `post_run_cell` callback: end the notebook's own run when the cell failed, KILLED
    after a kernel interrupt (KeyboardInterrupt), FAILED after any other error, with the error
    as tag `mlwb.error`. A run the runner owns is left to the runner.

    Args:
        result: IPython's `ExecutionResult` of the cell.
    """
    import mlflow

    error = result.error_before_exec or result.error_in_exec
    if error is None or not _OWNS_RUN or mlflow.active_run() is None:
        return
    status = "KILLED" if isinstance(error, KeyboardInterrupt) else "FAILED"
    mlflow.set_tag(TAG_ERROR, f"{type(error).__name__}: {error}"[:5000])
    mlflow.end_run(status)


def flatten(mapping: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """Flatten nested mappings into dotted keys: {'a': {'b': 1}} -> {'a.b': 1}."""
    flat: dict[str, Any] = {}
    for key, value in mapping.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping) and value:
            flat.update(flatten(value, f"{name}."))
        else:
            flat[name] = value
    return flat


def log_params(params: Mapping[str, Any]) -> None:
    """Log parameters on the active run, flattened, lists and mappings as JSON."""
    import mlflow

    flat = {
        k: json.dumps(v) if isinstance(v, list | dict) else v for k, v in flatten(params).items()
    }
    mlflow.log_params(flat, synchronous=_SYNC)


def log_key_figures(figures: Mapping[str, float]) -> None:
    """Log metrics and mark them as the figures the report index shows for this stage."""
    import mlflow

    mlflow.log_metrics({k: float(v) for k, v in figures.items()}, synchronous=_SYNC)
    mlflow.set_tag(TAG_KEY_FIGURES, ",".join(figures), synchronous=_SYNC)


def log_text_artifact(text: str, artifact_file: str) -> None:
    """Store `text` (for example an HTML page) as an artifact of the active run."""
    import mlflow

    mlflow.log_text(text, artifact_file)


def log_metrics(metrics: Mapping[str, float], prefix: str = "") -> None:
    """Log finite metrics on the active run, names prefixed (for example `baseline_`)."""

    import mlflow

    mlflow.log_metrics(
        {f"{prefix}{k}": float(v) for k, v in metrics.items() if math.isfinite(float(v))},
        synchronous=_SYNC,
    )


def _log_written(artifact_file: str, write: Any) -> None:
    """Store a file `write(path)` produces as artifact `artifact_file` of the active run."""

    import mlflow

    path = Path(artifact_file)
    with tempfile.TemporaryDirectory() as folder:
        local = Path(folder) / path.name
        write(local)
        mlflow.log_artifact(str(local), path.parent.as_posix() or None)


def log_png(data: bytes, artifact_file: str) -> None:
    """Store PNG bytes (a rendered figure) as an image artifact of the active run."""
    _log_written(artifact_file, lambda local: local.write_bytes(data))


def log_json(payload: Any, artifact_file: str) -> None:
    """Store a JSON-serialisable object as an artifact of the active run."""
    import mlflow

    mlflow.log_dict(payload, artifact_file)


def log_table(frame: Any, artifact_file: str) -> None:
    """Store a DataFrame as a CSV artifact of the active run."""
    import mlflow

    mlflow.log_text(frame.to_csv(index=False), artifact_file)


def log_batch(frame: Any, artifact_file: str) -> None:
    """Keep a scored batch as a Parquet artifact of the active run (monitoring reads it)."""
    _log_written(artifact_file, lambda local: frame.to_parquet(local, index=False))


def artifact_dict(run_id: str, artifact_file: str) -> dict[str, Any] | None:
    """A JSON artifact of a run, or None when the run has none (older runs, runs of models
    logged elsewhere)."""
    import mlflow

    try:
        return mlflow.artifacts.load_dict(f"runs:/{run_id}/{artifact_file}")
    except Exception:  # MLflow raises several types for a missing artifact
        return None


def set_tags(tags: Mapping[str, str]) -> None:
    """Set tags on the active run."""
    import mlflow

    mlflow.set_tags(dict(tags), synchronous=_SYNC)


def note_markdown(*parts: str | Iterable[str]) -> str:
    """A run's note in Markdown: one bullet per sentence of `parts` (each a sentence or a list
    of them; empty ones left out), cut to the `NOTE_LIMIT` characters MLflow keeps."""
    sentences = [s for part in parts for s in ([part] if isinstance(part, str) else part)]
    text = "\n".join(f"- {s.strip()}" for s in sentences if s and s.strip())
    return text if len(text) <= NOTE_LIMIT else text[: NOTE_LIMIT - 1] + "…"


def set_note(*parts: str | Iterable[str]) -> None:
    """Describe the active run with its report's summary: `parts` are sentences or lists of
    them (`note_markdown`). Nothing to say leaves the run as it is."""
    text = note_markdown(*parts)
    if text:
        set_tags({NOTE_TAG: text})


def write_note(client: Any, run_id: str, *parts: str | Iterable[str]) -> None:
    """`set_note` on run `run_id`, which need not be the active run."""
    text = note_markdown(*parts)
    if text:
        client.set_tag(run_id, NOTE_TAG, text)
