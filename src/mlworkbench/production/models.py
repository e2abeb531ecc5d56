"""Logged models: the pyfunc wrapper every trained pipeline is served through, and the registry.

Serialization, chosen on purpose: the fitted scikit-learn Pipeline is stored inside an MLflow
pyfunc model (cloudpickle) together with this package's code (`code_paths`), so the model
loads wherever MLflow runs, for every model family, including xgboost, which MLflow's
skops-based sklearn flavour refuses by default. Loading a pickled model runs code: load models
only from your own tracking server.

Predictions are a DataFrame. Column `prediction` holds the predicted class (with the decision
threshold of the training run applied, for binary targets) or value; for classification each
class also gets a column `probability_<class>`.
"""

from __future__ import annotations

import contextlib
import io
import logging
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from mlworkbench.analysis.personal_data import mask
from mlworkbench.tracking import requirements
from mlworkbench.tracking.access import identity
from mlworkbench.tracking.datasets import schema_sample
from mlworkbench.tracking.tags import TAG_REGISTERED_BY

# Deferred imports: mlflow loads inside the functions that use them, so that importing this module
# (from the command line or a notebook) stays fast.

PREDICTION = "prediction"
PROBABILITY_PREFIX = "probability_"


def _predict_frame(
    pipeline: Any, rows: pd.DataFrame, classes: Sequence[Any] | None, threshold: float | None
) -> pd.DataFrame:
    if classes is None:
        return pd.DataFrame({PREDICTION: pipeline.predict(rows)}, index=rows.index)
    proba = pipeline.predict_proba(rows)
    if len(classes) == 2 and threshold is not None:
        chosen = (proba[:, 1] >= threshold).astype(int)
    else:
        chosen = proba.argmax(axis=1)
    frame = pd.DataFrame({PREDICTION: np.asarray(classes, dtype=object)[chosen]}, index=rows.index)
    for i, label in enumerate(classes):
        frame[f"{PROBABILITY_PREFIX}{label}"] = proba[:, i]
    with contextlib.suppress(TypeError, ValueError):  # keep the classes' own type
        frame[PREDICTION] = frame[PREDICTION].astype(type(classes[0]))
    return frame


def make_python_model(pipeline: Any, classes: Sequence[Any] | None, threshold: float | None) -> Any:
    """The pyfunc model for a fitted pipeline (classes None for regression)."""
    import mlflow.pyfunc

    class WorkbenchModel(mlflow.pyfunc.PythonModel):
        """A fitted pipeline that returns the class and class probabilities, or a value."""

        def __init__(self) -> None:
            self.pipeline = pipeline
            self.classes = list(classes) if classes is not None else None
            self.threshold = threshold

        def predict(self, context: Any, model_input: pd.DataFrame, params: Any = None):
            return _predict_frame(self.pipeline, model_input, self.classes, self.threshold)

    return WorkbenchModel()


def predict(
    pipeline: Any, rows: pd.DataFrame, classes: Sequence[Any] | None, threshold: float | None
) -> pd.DataFrame:
    """In-process predictions in exactly the form the logged model returns."""
    return _predict_frame(pipeline, rows, classes, threshold)


@contextmanager
def _quiet_mlflow() -> Iterator[None]:
    """Keep MLflow's progress notices ("Successfully registered ...") out of the report."""
    loggers = [logging.getLogger(n) for n in ("mlflow", "mlflow.pyfunc", "mlflow.models")]
    levels = [lg.level for lg in loggers]
    for lg in loggers:
        lg.setLevel(logging.ERROR)
    try:
        with contextlib.redirect_stderr(io.StringIO()):
            yield
    finally:
        for lg, level in zip(loggers, levels, strict=True):
            lg.setLevel(level)


def optional_columns(signature: Any, names: Sequence[str]) -> Any:
    """`signature` with the input columns `names` marked optional: the model never reads the
    personal columns, so a batch may leave them out (data minimisation)."""
    from mlflow.types.schema import ColSpec, Schema

    if not names:
        return signature
    signature.inputs = Schema(
        [
            ColSpec(c.type, c.name, required=c.required and c.name not in names)
            for c in signature.inputs.inputs
        ]
    )
    return signature


def log_model(trained: Any, sample: pd.DataFrame, personal: Sequence[str] = ()) -> Any:
    """Log `trained` (a `training.TrainedModel`) as the active run's pyfunc model `model`,
    with its signature (raw input columns and prediction columns, inferred from
    `tracking.schema_sample` rows of `sample`), an input example of `sample`'s first rows (the
    `personal` columns as pseudonyms and optional in the signature: the model never reads
    them) and pinned pip requirements.
    Returns MLflow's ModelInfo."""

    import mlflow
    from mlflow.models import infer_signature

    requirements.warm()
    rows = schema_sample(sample)
    output = predict(trained.pipeline, rows, trained.classes, trained.threshold)
    with _quiet_mlflow():  # its CloudPickle notice is answered in this module's docstring
        return mlflow.pyfunc.log_model(
            name="model",
            python_model=make_python_model(trained.pipeline, trained.classes, trained.threshold),
            code_paths=[str(Path(__file__).parents[1])],  # the whole mlworkbench package
            signature=optional_columns(infer_signature(rows, output), personal),
            input_example=mask(sample.head(5), personal),
            pip_requirements=list(requirements.pinned()),
        )


def register_challenger(model_uri: str, name: str, tags: dict[str, str]) -> str:
    """Register `model_uri` as a new version of `name` in the name of the current user
    (`mlwb.registered_by`, which the four-eyes rule of sign-off reads), tag it, and point
    `challenger` at it.

    `champion` is never moved here. Returns the new version number.
    """
    import mlflow

    client = mlflow.MlflowClient()
    registered_by = {TAG_REGISTERED_BY: identity(mlflow.get_tracking_uri())[0]}
    with _quiet_mlflow():
        version = mlflow.register_model(model_uri, name, tags=registered_by).version
    for key, value in tags.items():
        client.set_model_version_tag(name, version, key, value)
    client.set_registered_model_alias(name, "challenger", version)
    return str(version)
