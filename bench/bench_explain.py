"""Explain stage through `mlwb run`, with the current code and with the code of a baseline
commit, against the same computations in one plain process.

Dataset: ../shared/data/adult.csv (48,842 x 16, target income, sensitive features sex, race
and age). A training run (xgboost, 300 trees) is made once; then three sides explain its
12,211 test rows with the stage's defaults, alternately, as fresh processes, on the same
trained model and tracking store:

- bench/plain_explain.py, the plain computation (current code);
- `mlwb run --stage explain` with the package and notebooks of BASELINE_COMMIT, extracted
  with `git archive` and imported through PYTHONPATH;
- `mlwb run --stage explain` with the current code.

The table reports median wall time and the largest peak memory of the process tree.
Targets: the runner adds less than 30% on top of the plain computation; the current stage
takes at most 1.5 times the baseline commit's median.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from common import (
    REPO,
    Side,
    alternate_sides,
    commit_config,
    commit_env,
    data_dir,
    extract_commit,
    fixed_cost_note,
    median_ratio,
    mlwb_run,
    side_rows,
    trained_project,
    write_results,
)

# The explain stage before counterfactuals, error tree, calibration and conformal uncertainty.
BASELINE_COMMIT = "b859f3f"
BASELINE_TARGET = 1.5
OVERHEAD_TARGET = 1.30
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
LABELS = {
    "plain": "plain Python process (current code)",
    "baseline": f"mlwb run, code of {BASELINE_COMMIT} (before the new sections)",
    "current": "mlwb run, current code (Papermill + kernel + MLflow + HTML)",
}


def sides(source: Path, root: Path, config: Path, tree: Path) -> list[Side]:
    """The plain computation, the baseline commit's stage and the current stage."""
    plain = [sys.executable, str(REPO / "bench" / "plain_explain.py")]
    old_main = [sys.executable, "-c", "from mlworkbench.cli.main import main; main()"]
    old_run = mlwb_run(commit_config(config, tree, BASELINE_COMMIT), root)[1:]
    return [
        Side("plain", [*plain, str(source), "income", EXPERIMENT, SENSITIVE]),
        Side("baseline", [*old_main, *old_run, "--stage", "explain"], commit_env(tree)),
        Side("current", [*mlwb_run(config, root), "--stage", "explain"]),
    ]


def verdict(met: bool) -> str:
    """A target's outcome as the notes say it."""
    return "met" if met else "NOT met"


def run(repeats: int = 3) -> str:
    """Run the benchmark and return its markdown table."""
    source = data_dir() / "adult.csv"
    with (
        tempfile.TemporaryDirectory(prefix="mlwb-bench-") as tmp,
        tempfile.TemporaryDirectory(prefix="mlwb-bench-baseline-") as old,
    ):
        tree = extract_commit(BASELINE_COMMIT, Path(old), "explain")
        root, config = trained_project(Path(tmp), CONFIG.format(source=source), "explain")
        compared = sides(source, root, config, tree)
        plain, baseline, current = alternate_sides("adult", compared, root, repeats)
    rows = side_rows(
        [(LABELS[s.name], m) for s, m in zip(compared, (plain, baseline, current), strict=True)],
        dataset="adult",
        explained_rows="2,000 of 12,211",
    )
    overhead, growth = median_ratio(current, plain), median_ratio(current, baseline)
    notes = [
        f"Explain stage defaults (SHAP on 2,000 sampled test rows with the tree explainer, "
        f"PDP/ICE for 4 features and the strongest pair on 1,000 rows, fairness for sex, race, "
        f"age and their intersection, error cohorts on all 12,211 test rows; in the current "
        "code also counterfactuals for the 3 rows explained one by one, the error-analysis "
        "tree, calibration per group and 90% conformal sets with a refit on 75% of the "
        f"training rows); {repeats} "
        "alternating repeats of the three sides, on the same trained model and tracking store; "
        "the runner sides also log every table, plot and gate to MLflow and render the HTML "
        f"report. The baseline side runs the package and notebooks of commit {BASELINE_COMMIT} "
        "(the stage before counterfactuals, error tree, calibration and conformal uncertainty). "
        "Ratio: median over the plain process's median.",
        f"adult: runner overhead (current code) {(overhead - 1) * 100:+.0f}% (target < +30%: "
        f"{verdict(overhead < OVERHEAD_TARGET)}).",
        f"adult: current / {BASELINE_COMMIT} = {growth:.2f} (target <= {BASELINE_TARGET}: "
        f"{verdict(growth <= BASELINE_TARGET)}).",
        fixed_cost_note("adult (current code)", plain, current),
    ]
    return write_results(
        "explain",
        f"Explain stage: mlwb run (current and {BASELINE_COMMIT}) vs plain computation",
        rows,
        notes,
    )
