"""Train stage through `mlwb run` against the same fit and evaluation in one plain process.

Datasets: ../shared/data/adult.csv (48,842 x 16, target income) and
default_credit_card_clients_taiwan.csv (30,000 x 24, target "default payment"); the train
stage's defaults (xgboost, 300 trees). Both sides run as fresh processes, alternately; the
table reports median wall time and the largest peak memory of the process tree.
Target: the runner adds less than 30% on top of the plain computation.
"""

from __future__ import annotations

import shutil
import statistics
import sys
import tempfile
from pathlib import Path

from common import REPO, data_dir, measure, write_results

CONFIG = """\
experiment: bench-train-{name}
data:
  source: {source}
  target: "{target}"
  task: classification
  csv: {{na_values: ["?"]}}
stages:
  train: {{registered_model: bench-{name}}}
"""

DATASETS = {
    "adult": ("adult.csv", "income"),
    "taiwan": ("default_credit_card_clients_taiwan.csv", "default payment"),
}


def run(repeats: int = 3) -> str:
    """Run the benchmark and return its markdown table."""
    import mlflow

    folder = data_dir()
    bin_dir = Path(sys.executable).parent
    rows, notes = [], []
    with tempfile.TemporaryDirectory(prefix="mlwb-bench-") as tmp:
        root = Path(tmp)
        shutil.copytree(REPO / "notebooks", root / "notebooks")
        (root / "papermill_configs").mkdir()
        mlflow.MlflowClient(f"sqlite:///{root / 'mlflow.db'}").search_experiments()
        for name, (file, target) in DATASETS.items():
            source = folder / file
            config = root / "papermill_configs" / f"{name}.yaml"
            config.write_text(CONFIG.format(name=name, source=source, target=target), "utf-8")
            runner_cmd = [
                str(bin_dir / "mlwb"),
                "run",
                str(config),
                "--project-dir",
                str(root),
                "--no-progress",
            ]
            plain_cmd = [
                sys.executable,
                str(REPO / "bench" / "plain_train.py"),
                str(source),
                target,
            ]
            plain, runner = [], []
            for i in range(repeats):
                print(f"  {name} repeat {i + 1}/{repeats}", flush=True)
                plain.append(measure("plain", plain_cmd, root, {"MLFLOW_TRACKING_URI": ""}))
                runner.append(measure("mlwb run", runner_cmd, root, {"MLFLOW_TRACKING_URI": ""}))
            if any(m.returncode for m in plain + runner):
                raise SystemExit(f"bench_train: a command failed on {name}")
            plain_s = statistics.median(m.seconds for m in plain)
            runner_s = statistics.median(m.seconds for m in runner)
            for label, values, seconds in (
                ("plain Python process", plain, plain_s),
                ("mlwb run", runner, runner_s),
            ):
                rows.append(
                    {
                        "dataset": name,
                        "what": label,
                        "median wall s": f"{seconds:.1f}",
                        "runs s": ", ".join(f"{m.seconds:.1f}" for m in values),
                        "peak memory MB": f"{max(m.peak_mb for m in values):.0f}",
                        "ratio": f"{seconds / plain_s:.2f}",
                    }
                )
            notes.append(
                f"{name}: runner overhead {(runner_s / plain_s - 1) * 100:+.0f}% "
                f"({runner_s - plain_s:+.1f} s; target < +30%)."
            )
    notes.insert(
        0,
        f"Train stage defaults (xgboost, 300 trees, depth 4); {repeats} alternating "
        "repeats; the runner side also logs the model, datasets and reference "
        "statistics and registers a version.",
    )
    return write_results("train", "Train stage: mlwb run vs plain computation", rows, notes)
