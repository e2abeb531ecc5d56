"""Batch scoring: a registered model's predictions for a CSV or Parquet file.

The batch is checked against the model's signature before anything is scored (every missing,
extra and mistyped column listed at once), predictions carry the model name and version, the
scoring time and a row key, and the output file is replaced atomically: it is written beside
the target under a temporary name and renamed only when complete, so a failed or interrupted
job leaves the previous output as it was.

The output file is the user's own and keeps every value; in the copy of the batch the score run
keeps, the model's personal columns (`personal_columns`) and the id column show pseudonyms.
"""

from __future__ import annotations

import contextlib
import os
import re
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from mlworkbench.analysis import data, personal_data
from mlworkbench.exceptions import ScoringInputError
from mlworkbench.tracking import requirements, store
from mlworkbench.tracking.tags import TAG_MODEL, TAG_OUTPUT

# Deferred imports: mlflow and production.jobs (which loads Papermill and the runner) load inside
# the functions that use them, so that importing this module in a notebook stays fast.

ROW_KEY = "row_key"
OUTPUT_FORMATS = (".csv", ".parquet")
SCORED_BATCH_ARTIFACT = "batch/scored.parquet"
"""Where a score run keeps its batch with the predictions (monitoring reads it); its personal
and id columns hold pseudonyms."""
PSEUDONYM = re.compile(rf"^{re.escape(personal_data.PSEUDONYM_PREFIX)}[0-9a-f]{{10}}$")


@dataclass
class ResolvedModel:
    """A model reference made concrete: which registered version it points at now."""

    uri: str
    name: str
    version: str
    run_id: str


def model_uri(reference: str) -> str:
    """`models:/...` and `runs:/...` as given; `NAME@ALIAS` and `NAME/VERSION` as models URIs."""
    if reference.startswith(("models:/", "runs:/")):
        return reference
    return f"models:/{reference}"


def resolve(client: Any, reference: str) -> ResolvedModel:
    """The registered model and version behind a reference (an alias is followed now).

    Raises:
        ScoringInputError: no such model, alias or version.
    """
    uri = model_uri(reference)
    try:
        if uri.startswith("runs:/"):
            run_id = uri.removeprefix("runs:/").split("/", 1)[0]
            found = client.search_model_versions(f"run_id = '{run_id}'")
            name, version = (found[0].name, str(found[0].version)) if found else ("", "")
            return ResolvedModel(uri, name, version, run_id)
        path = uri.removeprefix("models:/")
        if "@" in path:
            name, alias = path.split("@", 1)
            found = client.get_model_version_by_alias(name, alias)
        else:
            name, version = path.rsplit("/", 1)
            found = client.get_model_version(name, version)
    except Exception as exc:
        raise ScoringInputError(f"Model '{reference}' not found: {exc}") from exc
    return ResolvedModel(f"models:/{name}/{found.version}", name, str(found.version), found.run_id)


_COMPATIBLE = {
    "long": ("integer",),
    "integer": ("integer",),
    "double": ("integer", "float"),
    "float": ("integer", "float"),
    "string": ("string",),
    "boolean": ("boolean",),
    "datetime": ("datetime",),
}


def _kind(values: pd.Series) -> str:
    if pd.api.types.is_bool_dtype(values):
        return "boolean"
    if pd.api.types.is_integer_dtype(values):
        return "integer"
    if pd.api.types.is_float_dtype(values):
        return "float"
    if pd.api.types.is_datetime64_any_dtype(values):
        return "datetime"
    present = values.dropna()
    if present.empty or present.map(lambda v: isinstance(v, str)).all():
        return "string"
    return "mixed"


def schema_problems(frame: pd.DataFrame, schema: Any, id_column: str = "") -> list[str]:
    """Every way `frame` does not fit the model's input schema: missing required columns,
    columns the model does not know, and columns of the wrong type."""
    expected = {spec.name: spec for spec in schema.inputs}
    problems = [
        f"missing column '{name}' ({spec.type.name})"
        for name, spec in expected.items()
        if name not in frame.columns and getattr(spec, "required", True)
    ]
    problems += [
        f"extra column '{c}' (the model does not take it)"
        for c in frame.columns
        if c not in expected and c != id_column
    ]
    for name, spec in expected.items():
        if name not in frame.columns:
            continue
        kind = _kind(frame[name])
        if kind not in _COMPATIBLE.get(spec.type.name, (kind,)):
            whole_floats = kind == "float" and (frame[name].dropna() % 1 == 0).all()
            if not (whole_floats and spec.type.name in ("long", "integer")):
                problems.append(
                    f"column '{name}' holds {kind} values, the model expects {spec.type.name}"
                )
    return problems


def check_output_path(path: Path) -> Path:
    """The output path, made absolute; its format must be CSV or Parquet and its folder exist."""
    path = Path(path).resolve()
    if path.suffix.lower() not in OUTPUT_FORMATS:
        raise ScoringInputError(f"Output '{path}' must end in .csv or .parquet.")
    if not path.parent.is_dir():
        raise ScoringInputError(f"Output folder '{path.parent}' does not exist.")
    return path


def pseudonymised(frame: pd.DataFrame, sample_rows: int = 1000) -> list[str]:
    """Columns of `frame` whose values are all pseudonyms (judged on up to `sample_rows`
    non-missing values): a personal or id column of a score run's kept batch."""
    found = []
    for column in frame.columns:
        values = frame[column].dropna().head(sample_rows)
        if values.empty or pd.api.types.is_numeric_dtype(values):
            continue
        if values.map(lambda v: isinstance(v, str) and bool(PSEUDONYM.match(v))).all():
            found.append(str(column))
    return found


def personal_columns(run_id: str, frame: pd.DataFrame) -> list[str]:
    """The personal columns of a batch for the model trained in `run_id`: those its training
    run recorded (`personal_data.PRIVACY_ARTIFACT`; older runs have no record), those the
    privacy check finds on `frame` itself unless the record declares them `not_personal`, and
    those that already hold pseudonyms. Names only, in that order, each once."""
    record = personal_data.PersonalData.from_dict(
        store.artifact_dict(run_id, personal_data.PRIVACY_ARTIFACT)
    )
    found = personal_data.personal_data_columns(frame)
    kept = [f.column for f in found if f.column not in record.overridden]
    return list(dict.fromkeys([*record.columns, *kept, *pseudonymised(frame)]))


def predictions_frame(
    model: Any, batch: pd.DataFrame, resolved: ResolvedModel, id_column: str = ""
) -> pd.DataFrame:
    """The model's predictions with a row key, the model name and version and the time; the
    id column is no input unless the model's signature names it (its training data had it)."""
    schema = model.metadata.get_input_schema()
    taken = schema.input_names() if schema else []
    features = batch.drop(columns=[id_column]) if id_column and id_column not in taken else batch
    predicted = pd.DataFrame(model.predict(features)).reset_index(drop=True)
    key = batch[id_column] if id_column else pd.Series(np.arange(len(batch)))
    meta = pd.DataFrame(
        {
            ROW_KEY: key.to_numpy(),
            "model_name": resolved.name,
            "model_version": resolved.version,
            "scored_at": datetime.now(tz=UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        }
    )
    return pd.concat([meta, predicted], axis=1)


def write_atomic(frame: pd.DataFrame, path: Path) -> Path:
    """Write `frame` to `path` (CSV or Parquet by suffix) all at once: a temporary file beside
    it, renamed over it only when complete; on failure the temporary file is removed and any
    earlier output is untouched."""
    temporary = path.with_name(f".{path.name}.{os.getpid()}.partial")
    try:
        if path.suffix.lower() == ".parquet":
            frame.to_parquet(temporary, index=False)
        else:
            frame.to_csv(temporary, index=False)
        os.replace(temporary, path)
    finally:
        with contextlib.suppress(FileNotFoundError):
            temporary.unlink()
    return path


def distribution(predictions: pd.DataFrame) -> dict[str, float]:
    """The prediction distribution as metrics: class shares, or quantiles of the value."""
    values = predictions["prediction"]
    if pd.api.types.is_float_dtype(values):
        quantiles = values.quantile([0.05, 0.25, 0.5, 0.75, 0.95])
        return {"prediction_mean": float(values.mean())} | {
            f"prediction_q{int(q * 100):02d}": float(v) for q, v in quantiles.items()
        }
    shares = values.astype(str).value_counts(normalize=True)
    return {f"share predicted {k}": float(v) for k, v in shares.items()}


def as_metrics(figures: dict[str, float]) -> dict[str, float]:
    """Figures under names MLflow accepts as metric names (class labels may hold `<`, `>`)."""
    return {store.safe_name(k.replace(" ", "_")): v for k, v in figures.items()}


def scored_batch(batch: pd.DataFrame, predictions: pd.DataFrame) -> pd.DataFrame:
    """The batch with its predictions beside it (the row key dropped: the batch has its rows):
    what the score run keeps and monitoring compares with training."""
    added = predictions.drop(columns=[ROW_KEY]).set_axis(batch.index)
    return pd.concat([batch, added.drop(columns=[c for c in added if c in batch])], axis=1)


def distribution_table(shares: dict[str, float]) -> pd.DataFrame:
    """The distribution metrics as a two-column table for the report."""
    return pd.DataFrame({"measure": list(shares), "value": list(shares.values())})


@dataclass
class ScoredBatch:
    """One batch scored by the score stage: what it read, predicted and wrote, and how fast."""

    reference: str
    """The model as it was asked for (`models:/NAME@ALIAS`, ...)."""
    resolved: ResolvedModel
    input_path: str
    batch: pd.DataFrame
    predictions: pd.DataFrame
    """The output file's rows: row key, model name and version, time and predictions."""
    output: Path
    seconds: float
    """Loading the model and predicting, without reading the batch or writing the output."""
    shares: dict[str, float]
    """The prediction distribution (`distribution`): class shares or quantiles."""
    id_column: str = ""
    """The column that identifies a row (the output's row keys); empty: the row number."""
    personal: list[str] = field(default_factory=list)
    """The model's personal columns in the batch (`personal_columns`), the id column aside."""

    @property
    def masked(self) -> list[str]:
        """The columns that show pseudonyms in the kept batch: personal ones and the id."""
        return list(dict.fromkeys([*self.personal, *([self.id_column] if self.id_column else [])]))

    @property
    def rows(self) -> int:
        """Rows scored."""
        return len(self.batch)

    @property
    def rows_per_second(self) -> float:
        """Rows scored per second, model loading included."""
        return self.rows / max(self.seconds, 1e-9)


def score_batch(
    client: Any, reference: str, input_path: str, output_path: str | Path, id_column: str = ""
) -> ScoredBatch:
    """Score the rows of `input_path` with the model `reference` names and write the
    predictions to `output_path` atomically: the work of the score stage's notebook.

    The batch is checked against the model's signature before the model is loaded, so a
    batch that does not fit never reaches it and no output is written.

    Raises:
        ScoringInputError: unknown model, a batch that does not fit it (every problem listed),
            or a bad output path.
    """
    import mlflow  # deferred: heavy, and needed only once a batch is scored

    resolved = resolve(client, reference)
    batch = data.read_source(input_path)
    schema = mlflow.models.get_model_info(resolved.uri).signature.inputs
    problems = schema_problems(batch, schema, id_column)
    if problems:
        raise ScoringInputError("The batch does not fit the model: " + "; ".join(problems))
    output = check_output_path(Path(output_path))
    personal = [c for c in personal_columns(resolved.run_id, batch) if c != id_column]
    started = time.perf_counter()
    loaded = requirements.load_model(resolved.uri)
    predictions = predictions_frame(loaded, batch, resolved, id_column)
    seconds = time.perf_counter() - started
    write_atomic(predictions, output)
    done = (predictions, output, seconds, distribution(predictions))
    return ScoredBatch(reference, resolved, input_path, batch, *done, id_column, personal)


def summary_sentences(scored: ScoredBatch, asked: str = "") -> list[str]:
    """The plain-language summary at the top of the score report; `asked` is the model as
    the user named it (empty: the reference that was scored with)."""
    resolved = scored.resolved
    return [
        f"Scored {scored.rows:,} rows of {Path(scored.input_path).name} with '{resolved.name}' "
        f"version {resolved.version} (asked for: {asked or scored.reference}).",
        f"Took {scored.seconds:.2f} s including loading the model: "
        f"{scored.rows_per_second:,.0f} rows per second.",
        f"Wrote {scored.output.name} ({len(scored.predictions.columns)} columns).",
        *masked_sentences(scored),
    ]


def masked_sentences(scored: ScoredBatch) -> list[str]:
    """Which columns the run's copy of the batch shows as pseudonyms (none: no sentence)."""
    if not scored.masked:
        return []
    return [
        f"The copy of the batch kept with this run shows pseudonyms in {', '.join(scored.masked)} "
        f"(personal data or the row id); {scored.output.name} keeps their values."
    ]


def kept_batch(scored: ScoredBatch, key: bytes | None = None) -> pd.DataFrame:
    """The batch with its predictions as the score run keeps it (`scored_batch`), its personal
    and id columns pseudonymised with `key` (None: the project's key)."""
    return personal_data.mask(scored_batch(scored.batch, scored.predictions), scored.masked, key)


def log_run(scored: ScoredBatch) -> None:
    """Log a scored batch on the active run: rows and speed as the report index's key
    figures, the time and the prediction distribution as metrics, the model version and the
    output file as tags, and the batch with its predictions as an artifact, its personal and
    id columns pseudonymised (`kept_batch`)."""
    resolved = scored.resolved
    store.log_key_figures({"rows": scored.rows, "rows_per_second": scored.rows_per_second})
    store.log_metrics(as_metrics({"seconds": scored.seconds, **scored.shares}))
    store.set_tags(
        {TAG_MODEL: f"{resolved.name}/{resolved.version}", TAG_OUTPUT: str(scored.output)}
    )
    store.log_batch(kept_batch(scored), SCORED_BATCH_ARTIFACT)


def run_job(
    reference: str,
    input_path: Path,
    output: Path,
    id_column: str,
    root: Path,
    echo: Any = print,
    progress: bool = True,
) -> Any:
    """Check the batch and run notebooks/05-score.ipynb as a tracked, reported pipeline run
    of one stage (experiment `scoring-<model name>`); return the runner's result.

    Raises:
        ScoringInputError: unknown model, a batch that does not fit it (every problem
            listed), a bad output path; found before any run is created or file written.
    """
    import mlflow  # deferred: heavy

    from mlworkbench.production.jobs import run_job_stage  # deferred: the runner is heavy

    output = check_output_path(output)
    # the model's signature is read from the store
    mlflow.set_tracking_uri(store.tracking_uri(root))
    client = mlflow.MlflowClient()
    resolved = resolve(client, reference)
    batch = data.read_source(str(Path(input_path).resolve()))
    if id_column and id_column not in batch.columns:
        raise ScoringInputError(f"id column '{id_column}' is not in {input_path}.")
    schema = mlflow.models.get_model_info(resolved.uri).signature.inputs
    problems = schema_problems(batch, schema, id_column)
    if problems:
        raise ScoringInputError(
            f"{input_path} does not fit model '{reference}' (version {resolved.version}); "
            "nothing was scored or written:\n" + "\n".join(f"  - {p}" for p in problems)
        )
    source = str(Path(input_path).resolve())
    stage = {
        "model": resolved.uri,
        "model_reference": reference,
        "input_path": source,
        "output_path": str(output),
        "id_column": id_column,
    }
    experiment = f"scoring-{resolved.name or 'model'}"
    return run_job_stage("score", experiment, stage, source, batch, root, echo, progress)
