"""EDA stage through `mlwb run` against the same computation in one plain Python process.

Dataset: ../shared/data/adult.csv (48,842 rows x 16 columns). Both sides run as fresh
processes, alternately, `repeats` times each; the table reports the median wall time and the
largest peak memory (summed RSS of the process tree: for mlwb that includes the kernel).
The MLflow store is created before timing, as it is for anyone after their first run.
Target: the runner adds less than 30% on top of the plain computation.
"""

from __future__ import annotations

import shutil
import statistics
import sys
import tempfile
from pathlib import Path

from common import REPO, as_dict, data_dir, measure, write_results

CONFIG = """\
experiment: bench-eda
data:
  source: {source}
  target: income
  task: classification
  csv: {{na_values: ["?"]}}
stages:
  eda: {{}}
"""


def run(repeats: int = 5) -> str:
    """Run the benchmark and return its markdown table."""
    import mlflow

    source = data_dir() / "adult.csv"
    bin_dir = Path(sys.executable).parent
    with tempfile.TemporaryDirectory(prefix="mlwb-bench-") as tmp:
        root = Path(tmp)
        shutil.copytree(REPO / "notebooks", root / "notebooks")
        (root / "papermill_configs").mkdir()
        config = root / "papermill_configs" / "bench.yaml"
        config.write_text(CONFIG.format(source=source), encoding="utf-8")
        mlflow.MlflowClient(f"sqlite:///{root / 'mlflow.db'}").search_experiments()
        env = {"MLFLOW_TRACKING_URI": ""}
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
            str(REPO / "bench" / "plain_eda.py"),
            str(source),
            "income",
            str(root / "plain-profile.html"),
        ]
        runner, plain = [], []
        for i in range(repeats):
            print(f"  repeat {i + 1}/{repeats}: plain ...", flush=True)
            plain.append(measure("plain", plain_cmd, root, env))
            print(f"  repeat {i + 1}/{repeats}: mlwb run ...", flush=True)
            runner.append(measure("mlwb run", runner_cmd, root, env))
        failed = [m for m in runner + plain if m.returncode != 0]
        if failed:
            raise SystemExit(f"bench_eda: a command failed: {[as_dict(m) for m in failed]}")

    plain_s = statistics.median(m.seconds for m in plain)
    runner_s = statistics.median(m.seconds for m in runner)
    ratio = runner_s / plain_s
    rows = [
        {
            "what": "plain Python process (baseline)",
            "median wall s": f"{plain_s:.1f}",
            "runs s": ", ".join(f"{m.seconds:.1f}" for m in plain),
            "peak memory MB": f"{max(m.peak_mb for m in plain):.0f}",
            "ratio": "1.00",
        },
        {
            "what": "mlwb run (Papermill + kernel + MLflow + HTML)",
            "median wall s": f"{runner_s:.1f}",
            "runs s": ", ".join(f"{m.seconds:.1f}" for m in runner),
            "peak memory MB": f"{max(m.peak_mb for m in runner):.0f}",
            "ratio": f"{ratio:.2f}",
        },
    ]
    verdict = "met" if ratio < 1.30 else "NOT met"
    notes = [
        f"Dataset: adult.csv, 48,842 rows x 16 columns; EDA defaults (full profiling mode). "
        f"{repeats} alternating repeats.",
        f"Runner overhead: {(ratio - 1) * 100:+.0f}% (target < +30%: {verdict}).",
    ]
    return write_results("eda", "EDA stage: mlwb run vs plain computation", rows, notes)
