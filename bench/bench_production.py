"""Production figures on ../shared/data/adult.csv: batch-scoring throughput of `mlwb score`
against the same scoring in one plain process, and the REST API load test.

A model is trained once (train stage defaults: xgboost, 300 trees). Batch scoring: all
48,842 rows (target removed) with `mlwb score` and with bench/plain_score.py, alternately, as
fresh processes; the table reports median wall time, rows per second and peak memory.
Load test: `mlwb loadtest` with 1,000 adult rows (single-row latency p50/p95/p99 and
1,000-row throughput against a local server, in process for comparison).
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

import mlflow
import pandas as pd
from common import (
    REPO,
    alternate,
    comparison_rows,
    data_dir,
    trained_project,
    write_results,
)

CONFIG = """\
experiment: bench-production-adult
data:
  source: {source}
  target: income
  task: classification
  csv: {{na_values: ["?"]}}
stages:
  train: {{registered_model: bench-production-adult}}
"""
MODEL = "models:/bench-production-adult@challenger"


SCORE_TARGET = 1.3
"""`mlwb score` over plain scoring that warm kernels aim at."""


def run(repeats: int = 3) -> str:
    """Run the benchmark and return its markdown table."""
    source = data_dir() / "adult.csv"
    with tempfile.TemporaryDirectory(prefix="mlwb-bench-") as tmp:
        root, _ = trained_project(Path(tmp), CONFIG.format(source=source), "serve")
        batch = root / "batch.csv"
        frame = pd.read_csv(source, na_values=["?"]).drop(columns=["income"])
        frame.to_csv(batch, index=False)
        frame.sample(n=1000, random_state=0).to_csv(root / "sample.csv", index=False)
        mlwb = str(Path(sys.executable).with_name("mlwb"))
        plain_cmd = [
            sys.executable, str(REPO / "bench" / "plain_score.py"), MODEL, str(batch),
            str(root / "plain.parquet"),
        ]  # fmt: skip
        runner_cmd = [
            mlwb, "score", MODEL, str(batch), "--output", str(root / "scored.parquet"),
            "--project-dir", str(root), "--no-progress",
        ]  # fmt: skip
        plain, runner = alternate("score", plain_cmd, runner_cmd, root, repeats)
        rows, ratio = comparison_rows(
            plain,
            runner,
            "mlwb score (kernel + MLflow run + kept batch + HTML)",
            task="batch scoring, 48,842 rows",
        )
        for row, side in zip(rows, (plain, runner), strict=True):
            row["rows per second"] = (
                f"{len(frame) / statistics.median(m.seconds for m in side):,.0f}"
            )
        print("  load test", flush=True)
        subprocess.run(
            [mlwb, "loadtest", MODEL, "--input", str(root / "sample.csv"), "--project-dir",
             str(root)],
            cwd=root, check=True,
        )  # fmt: skip
        client = mlflow.MlflowClient(f"sqlite:///{root / 'mlflow.db'}")
        tags = client.get_model_version_by_alias("bench-production-adult", "challenger").tags
    figures = {k.removeprefix("mlwb.loadtest."): v for k, v in tags.items() if "loadtest" in k}
    notes = [
        f"Batch scoring: {repeats} alternating repeats; wall time includes process start and "
        "model loading on both sides; the `mlwb score` side also checks the signature, logs the "
        "run with the kept batch and renders the report.",
        f"Batch scoring: `mlwb score` / plain = {ratio:.2f} (target <= {SCORE_TARGET}: "
        f"{'met' if ratio <= SCORE_TARGET else 'NOT met'}).",
        f"Load test ({figures.get('setup', '')}): single-row latency p50 {figures.get('p50_ms')} "
        f"ms, p95 {figures.get('p95_ms')} ms, p99 {figures.get('p99_ms')} ms; "
        f"{figures.get('rows_per_second')} rows per second over HTTP in 1,000-row requests, "
        f"{figures.get('in_process_rows_per_second')} in process.",
    ]
    return write_results(
        "production", "Production: batch scoring and REST API on adult.csv", rows, notes
    )
