"""`reports/monitoring.html`: every registered model on one page, those that need attention
first: champion, when it was trained, when it last scored and how many rows, the latest
monitoring status, drift and metric trends over time, the most drifted features, and links
to every monitoring report. Rebuilt from the MLflow store with the report index."""

from __future__ import annotations

import base64
import io
import shlex
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from mlworkbench.governance.promotion import CANDIDATE, CHAMPION
from mlworkbench.governance.signoff import signoff_state
from mlworkbench.reports.formatting import status_word, store_label
from mlworkbench.reports.rendering import write_page
from mlworkbench.tracking.tags import TAG_BATCH_DATE, TAG_MONITOR_STATUS, TAG_REPORT, TAG_STAGE

# Deferred imports: jinja2 and matplotlib load inside the functions that use them, so that
# importing this module (from the command line or a notebook) stays fast.

DASHBOARD_FILE = "monitoring.html"
ORDER = {"ALERT": 0, "WARN": 1, "OK": 2, "": 3}


@dataclass
class ModelHealth:
    """One registered model as the dashboard shows it."""

    name: str
    champion: str = ""
    trained: str = ""
    signoff: str = ""
    """The champion's sign-off (`signoff.signoff_state`): empty when none is recorded."""
    candidate: str = ""
    """The version alias `candidate` names, approved and awaiting a reviewer's sign-off."""
    last_scored: str = ""
    scored_rows: int = 0
    status: str = ""
    batch_date: str = ""
    drifted: list[str] = field(default_factory=list)
    chart: str = ""
    reports: list[tuple[str, str, str]] = field(default_factory=list)


def promote_command(name: str, version: str) -> str:
    """The command with which a reviewer signs version `version` of `name` off."""
    return f"mlwb promote {shlex.quote(name)} {version} --reason '...'"


def _when(millis: int | None) -> str:
    return (
        datetime.fromtimestamp(millis / 1000, tz=UTC).strftime("%Y-%m-%d %H:%M") if millis else ""
    )


def _runs(client: Any, experiment: str, stage: str) -> list[Any]:
    found = client.get_experiment_by_name(experiment)
    if found is None:
        return []
    return client.search_runs(
        [found.experiment_id],
        f"tags.`{TAG_STAGE}` = '{stage}' and attributes.status = 'FINISHED'",
        order_by=["attributes.start_time ASC"],
    )


def run_status(run: Any) -> str:
    """A monitoring run's status in words (OK, WARN, ALERT): its `mlwb.monitor.status` tag,
    or, where only the `status_level` metric was logged, that level in words."""
    tags, metrics = run.data.tags, run.data.metrics
    return status_word(tags.get(TAG_MONITOR_STATUS) or metrics.get("status_level"))


def trend_chart(runs: list[Any]) -> str:
    """Largest PSI (and the primary metric, with labels) per monitoring run, as an inline
    PNG data URI."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    dates = [r.data.tags.get(TAG_BATCH_DATE, _when(r.info.start_time)[:10]) for r in runs]
    psi = [r.data.metrics.get("max_psi", float("nan")) for r in runs]
    fig, ax = plt.subplots(figsize=(4.2, 1.9), dpi=90)
    ax.plot(range(len(runs)), psi, marker="o", color="#1f6feb", label="largest PSI")
    ax.axhline(0.25, color="#cf222e", linestyle="--", linewidth=0.8)
    metric = next(
        (k for k in ("batch_roc_auc", "batch_rmse") if runs[-1].data.metrics.get(k) is not None), ""
    )
    if metric:
        twin = ax.twinx()
        twin.plot(range(len(runs)), [r.data.metrics.get(metric, float("nan")) for r in runs],
                  marker="s", color="#1a7f37", label=metric.removeprefix("batch_"))  # fmt: skip
        twin.set_ylabel(metric.removeprefix("batch_"), fontsize=7)
    ax.set_xticks(range(len(runs)), dates, rotation=30, fontsize=7)
    ax.set_ylabel("largest PSI", fontsize=7)
    fig.tight_layout()
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    plt.close(fig)
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()


def collect(client: Any, reports_dir: Path) -> list[ModelHealth]:
    """The health of every registered model, those that need attention first."""

    models = []
    for model in client.search_registered_models():
        aliases = model.aliases or {}
        health = ModelHealth(model.name, candidate=str(aliases.get(CANDIDATE, "")))
        champion = aliases.get(CHAMPION)
        if champion:
            health.champion = str(champion)
            version = client.get_model_version(model.name, str(champion))
            health.signoff = signoff_state(version.tags)
            if version.run_id:  # a version registered from a path has no run
                health.trained = _when(client.get_run(version.run_id).info.start_time)
        scored = _runs(client, f"scoring-{model.name}", "score")
        if scored:
            health.last_scored = _when(scored[-1].info.start_time)
            health.scored_rows = int(scored[-1].data.metrics.get("rows", 0))
        monitored = _runs(client, f"monitoring-{model.name}", "monitor")
        if monitored:
            latest = monitored[-1]
            health.status = run_status(latest)
            health.batch_date = latest.data.tags.get(TAG_BATCH_DATE, "")
            psi = {k[4:]: v for k, v in latest.data.metrics.items() if k.startswith("psi.")}
            health.drifted = [
                f"{name} ({value:.2f})"
                for name, value in sorted(psi.items(), key=lambda kv: -kv[1])[:3]
            ]
            health.chart = trend_chart(monitored)
            for run in reversed(monitored):
                report = run.data.tags.get(TAG_REPORT, "")
                if report and (reports_dir / report).is_file():
                    health.reports.append(
                        (
                            report,
                            run.data.tags.get(TAG_BATCH_DATE, ""),
                            run_status(run),
                        )
                    )
        models.append(health)
    return sorted(models, key=lambda m: (ORDER.get(m.status, 3), m.name))


def rebuild(client: Any, reports_dir: Path) -> Path:
    """Write `reports/monitoring.html` from the store behind `client`."""
    import jinja2

    env = jinja2.Environment(
        loader=jinja2.PackageLoader("mlworkbench.reports", "templates"), autoescape=True
    )
    env.globals["promote_command"] = promote_command
    page = env.get_template("monitoring.html.j2").render(
        models=collect(client, reports_dir),
        tracking_uri=store_label(client.tracking_uri),
        generated=datetime.now(tz=UTC),
    )
    output = reports_dir / DASHBOARD_FILE
    output.parent.mkdir(parents=True, exist_ok=True)
    return write_page(output, page)
