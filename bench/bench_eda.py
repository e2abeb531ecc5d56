"""EDA stage through `mlwb run` against the same computation in one plain Python process.

Dataset: ../shared/data/adult.csv (48,842 rows x 16 columns). Both sides run as fresh
processes, alternately, `repeats` times each; the table reports the median wall time and the
largest peak memory (summed RSS of the process tree: for mlwb that includes the kernel).
The MLflow store is created before timing, as it is for anyone after their first run.
Target: the runner adds less than 30% on top of the plain computation.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from common import (
    REPO,
    alternate,
    bench_project,
    comparison_rows,
    data_dir,
    fixed_cost_note,
    mlwb_run,
    write_results,
)

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
    source = data_dir() / "adult.csv"
    with tempfile.TemporaryDirectory(prefix="mlwb-bench-") as tmp:
        root = bench_project(Path(tmp))
        config = root / "papermill_configs" / "bench.yaml"
        config.write_text(CONFIG.format(source=source), encoding="utf-8")
        plain_cmd = [
            sys.executable,
            str(REPO / "bench" / "plain_eda.py"),
            str(source),
            "income",
            str(root / "plain-profile.html"),
        ]
        plain, runner = alternate("eda", plain_cmd, mlwb_run(config, root), root, repeats)
    rows, ratio = comparison_rows(plain, runner)
    notes = [
        f"Dataset: adult.csv, 48,842 rows x 16 columns; EDA defaults (full profiling mode). "
        f"{repeats} alternating repeats.",
        f"Runner overhead: {(ratio - 1) * 100:+.0f}% "
        f"(target < +30%: {'met' if ratio < 1.30 else 'NOT met'}).",
        fixed_cost_note("eda", plain, runner),
    ]
    return write_results("eda", "EDA stage: mlwb run vs plain computation", rows, notes)
