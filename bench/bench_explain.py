"""Explain stage through `mlwb run` against the same computations in one plain process.

Dataset: ../shared/data/adult.csv (48,842 x 16, target income, sensitive features sex, race
and age). A training run (xgboost, 300 trees) is made once; then `mlwb run --stage explain`
and bench/plain_explain.py explain its 12,211 test rows with the stage's defaults (SHAP on a
2,000-row sample, PDP/ICE on 1,000 rows), alternately, as fresh processes. The table reports
median wall time and the largest peak memory of the process tree.
Target: the runner adds less than 30% on top of the plain computation.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from common import (
    REPO,
    alternate,
    comparison_rows,
    data_dir,
    mlwb_run,
    trained_project,
    write_results,
)

EXPERIMENT = "bench-explain-adult"
SENSITIVE = "sex,race,age"
CONFIG = f"""\
experiment: {EXPERIMENT}
data:
  source: {{source}}
  target: income
  task: classification
  sensitive_features: [{SENSITIVE.replace(",", ", ")}]
  csv: {{{{na_values: ["?"]}}}}
stages:
  train: {{{{registered_model: bench-explain-adult}}}}
  explain: {{{{}}}}
"""


def run(repeats: int = 3) -> str:
    """Run the benchmark and return its markdown table."""
    source = data_dir() / "adult.csv"
    with tempfile.TemporaryDirectory(prefix="mlwb-bench-") as tmp:
        root, config = trained_project(Path(tmp), CONFIG.format(source=source), "explain")
        plain_cmd = [
            sys.executable,
            str(REPO / "bench" / "plain_explain.py"),
            str(source),
            "income",
            EXPERIMENT,
            SENSITIVE,
        ]
        runner_cmd = [*mlwb_run(config, root), "--stage", "explain"]
        plain, runner = alternate("adult", plain_cmd, runner_cmd, root, repeats)
        rows, ratio = comparison_rows(
            plain, runner, dataset="adult", explained_rows="2,000 of 12,211"
        )
    notes = [
        f"Explain stage defaults (SHAP on 2,000 sampled test rows with the tree explainer, "
        f"PDP/ICE for 4 features and the strongest pair on 1,000 rows, fairness for sex, race, "
        f"age and their intersection, error cohorts on all 12,211 test rows); {repeats} "
        "alternating repeats; the runner side also logs every table, plot and gate to MLflow "
        "and renders the HTML report.",
        f"adult: runner overhead {(ratio - 1) * 100:+.0f}% (target < +30%: "
        f"{'met' if ratio < 1.30 else 'NOT met'}).",
    ]
    return write_results("explain", "Explain stage: mlwb run vs plain computation", rows, notes)
