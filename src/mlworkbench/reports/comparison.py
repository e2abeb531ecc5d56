"""The comparison report: every training run of an experiment side by side, best first."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from mlworkbench.analysis.evaluation import LOWER_IS_BETTER
from mlworkbench.exceptions import ExperimentNotFoundError
from mlworkbench.reports.elements import experiment_dir
from mlworkbench.reports.rendering import write_page
from mlworkbench.tracking.tags import TAG_KEY_FIGURES, TAG_REPORT, TAG_STAGE

# Deferred imports: jinja2 loads inside the functions that use them, so that importing this module
# (from the command line or a notebook) stays fast.

COMPARE_FILE = "compare.html"
SHOWN_METRICS = (
    "roc_auc",
    "roc_auc_ovr",
    "pr_auc",
    "accuracy",
    "balanced_accuracy",
    "f1",
    "precision",
    "recall",
    "log_loss",
    "brier",
    "rmse",
    "mae",
    "r2",
    "mape",
    "decision_threshold",
)


@dataclass
class Comparison:
    """Training runs of one experiment as rows, with the columns worth comparing."""

    experiment: str
    primary: str
    rows: list[dict[str, Any]]
    params: list[str]
    metrics: list[str]
    title: str = "training runs compared"


def collect(client: Any, experiment: str, run_ids: list[str] | None = None) -> Comparison:
    """Every finished training run of `experiment` (or those of `run_ids`), best first on the
    primary metric."""
    found = client.get_experiment_by_name(experiment)
    if found is None:
        raise ExperimentNotFoundError(f"No experiment '{experiment}' in {client.tracking_uri}.")
    runs = client.search_runs(
        [found.experiment_id],
        f"tags.`{TAG_STAGE}` = 'train' and attributes.status = 'FINISHED'",
        max_results=5000,
    )
    if run_ids is not None:
        runs = [r for r in runs if r.info.run_id in set(run_ids)]
    if not runs:
        raise ExperimentNotFoundError(f"Experiment '{experiment}' has no finished training run.")
    primary = runs[0].data.tags.get(TAG_KEY_FIGURES, "").split(",")[0] or "roc_auc"
    names = sorted({k for r in runs for k in r.data.params})
    differing = [
        k for k in names if k != "model" and len({r.data.params.get(k) for r in runs}) > 1
    ]  # the model has a column of its own
    metrics = [m for m in SHOWN_METRICS if any(m in r.data.metrics for r in runs)]
    rows = [
        {
            "run_id": r.info.run_id,
            "started": datetime.fromtimestamp(r.info.start_time / 1000, tz=UTC),
            "model": r.data.params.get("model", ""),
            "params": {k: r.data.params.get(k, "") for k in differing},
            "metrics": {m: r.data.metrics.get(m) for m in metrics},
            "report": r.data.tags.get(TAG_REPORT, ""),
        }
        for r in runs
    ]
    worst = float("inf") if primary in LOWER_IS_BETTER else float("-inf")
    rows.sort(
        key=lambda row: (
            row["metrics"].get(primary) if row["metrics"].get(primary) is not None else worst
        ),
        reverse=primary not in LOWER_IS_BETTER,
    )
    return Comparison(experiment, primary, rows, differing, metrics)


def render(comparison: Comparison, reports_dir: Path, file_name: str = COMPARE_FILE) -> Path:
    """Write `reports/<experiment>/<file_name>` (self-contained, sortable by any column)."""
    import jinja2

    env = jinja2.Environment(
        loader=jinja2.PackageLoader("mlworkbench.reports", "templates"), autoescape=True
    )
    page = env.get_template("compare.html.j2").render(
        c=comparison,
        lower_is_better=comparison.primary in LOWER_IS_BETTER,
        generated=datetime.now(tz=UTC),
    )
    return write_page(experiment_dir(reports_dir, comparison.experiment) / file_name, page)


def rebuild(client: Any, experiment: str, reports_dir: Path) -> Path:
    """Collect and render the comparison report of `experiment`."""
    return render(collect(client, experiment), reports_dir)
