"""Batch scoring in one plain Python process: the benchmark's baseline for `mlwb score`.

Loads the registered model, predicts every row of the input and writes the predictions to
Parquet, without the signature check report, a kernel, MLflow run logging or nbconvert.
"""

from __future__ import annotations

import sys

import mlflow
import pandas as pd

from mlworkbench.tracking.store import tracking_uri


def main(model_uri: str, source: str, output: str) -> None:
    """Score `source` with `model_uri` into `output`."""
    mlflow.set_tracking_uri(tracking_uri())
    batch = pd.read_csv(source)
    predictions = mlflow.pyfunc.load_model(model_uri).predict(batch)
    predictions.to_parquet(output, index=False)
    print(len(predictions))


if __name__ == "__main__":
    main(*sys.argv[1:4])
