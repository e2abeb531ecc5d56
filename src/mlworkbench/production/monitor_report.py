"""What a monitoring run shows in its report and records in MLflow: the tables and the PSI plot
of notebooks/06-monitor.ipynb, the run's metrics, artifacts and tags, and the latest status on
the model version (which `mlwb monitor`, the dashboard and the model card read). Personal
columns are named (`MonitorResult.personal`), never compared, so no table holds their values."""

from __future__ import annotations

import html
from datetime import UTC, datetime
from typing import Any

import numpy as np
import pandas as pd

from mlworkbench.production import drift
from mlworkbench.production.monitoring import MonitorResult
from mlworkbench.production.scoring import ResolvedModel
from mlworkbench.reports import elements
from mlworkbench.tracking import store
from mlworkbench.tracking.tags import (
    TAG_BATCH_DATE,
    TAG_MODEL,
    TAG_MONITOR_BATCH_DATE,
    TAG_MONITOR_RUN,
    TAG_MONITOR_STATUS,
    TAG_SUMMARY,
)

# Deferred imports: matplotlib loads inside the functions that use them, so that importing this
# module (from the command line or a notebook) stays fast.

TONES = {"OK": "ok", "WARN": "warn", "ALERT": "bad"}
"""The callout tone of each status."""


def _results(result: MonitorResult) -> tuple[tuple[str, str, pd.DataFrame], ...]:
    """The tables of results with their title in the report and their artifact name."""
    return (
        ("Prediction drift", "predictions", result.predictions),
        ("Performance with labels", "performance", result.performance),
        ("Fairness gaps on this batch", "fairness", result.fairness_gaps),
    )


def batch_day(batch_date: str) -> str:
    """The date the batch stands for: as given, else today (UTC), as YYYY-MM-DD."""
    return batch_date or datetime.now(tz=UTC).strftime("%Y-%m-%d")


def status_tone(status: str) -> str:
    """The callout tone of a status: ok, warn or bad."""
    return TONES[status]


def schema_frame(changes: list[dict[str, str]]) -> pd.DataFrame:
    """Schema changes as a table."""
    return pd.DataFrame(changes, columns=["column", "change", "status"])


def plot_psi(table: pd.DataFrame, thresholds: drift.Thresholds, top: int = 15) -> Any:
    """PSI per feature as bars, with the warn and alert lines."""
    import matplotlib.pyplot as plt  # deferred: heavy, and only a report draws

    shown = table.head(top).iloc[::-1]
    colours = shown["status"].map({"OK": "#1a7f37", "WARN": "#9a6700", "ALERT": "#cf222e"})
    fig, ax = plt.subplots(figsize=(8, 0.35 * len(shown) + 1.3))
    ax.barh(shown["feature"], shown["psi"], color=list(colours))
    for value, label in ((thresholds.psi_warn, "warn"), (thresholds.psi_alert, "alert")):
        ax.axvline(value, color="grey", linestyle="--", linewidth=0.8)
        ax.text(value, len(shown) - 0.4, f" {label}", fontsize=8, color="grey")
    ax.set_xlabel("population stability index (PSI) against training")
    ax.set_title("How far each feature moved")
    fig.tight_layout()
    return fig


def publish_psi(result: MonitorResult, thresholds: drift.Thresholds) -> None:
    """Plot the PSI per feature, keep it as artifact `plots/psi.png` and show it; nothing when
    no feature could be compared."""
    if not result.features.empty:
        elements.publish_figure(plot_psi(result.features, thresholds), "plots/psi.png")


def feature_tables(result: MonitorResult) -> list[str]:
    """The report's HTML tables of the inputs: drift per feature, and the schema changes;
    each only when there is something in it; then the personal columns left out, by name."""
    pages = []
    if not result.features.empty:
        pages.append(
            elements.table_html(
                result.features,
                percent=["missing_share", "missing_change", "unseen_share"],
                decimals={"psi": 3, "distance": 3},
            )
        )
    if result.schema:
        pages.append("<p>Schema changes:</p>" + elements.table_html(schema_frame(result.schema)))
    if result.personal:
        names = html.escape(", ".join(result.personal))
        pages.append(
            f"<p>Not compared, as they hold personal data (values never shown): {names}.</p>"
        )
    return pages


def result_tables(result: MonitorResult) -> list[str]:
    """The report's HTML tables of the results, each under its title: prediction drift,
    performance and fairness gaps with labels; only those with rows."""
    pages = []
    for title, _, table in _results(result):
        if not table.empty:
            decimals = {c: 3 for c in table.select_dtypes("number")}
            pages.append(f"<h3>{title}</h3>" + elements.table_html(table, decimals=decimals))
    return pages


def metrics(result: MonitorResult) -> dict[str, float]:
    """MLflow metrics of a monitoring run: PSI and distance per feature, the largest PSI,
    counts by status and the batch metrics with labels."""
    values: dict[str, float] = {"rows": float(result.rows)}
    if not result.features.empty:
        for row in result.features.itertuples():
            values[f"psi.{store.safe_name(row.feature)}"] = row.psi
            values[f"distance.{store.safe_name(row.feature)}"] = row.distance
        values["max_psi"] = float(result.features["psi"].max())
        for status in drift.STATUSES:
            values[f"features_{status.lower()}"] = float(
                (result.features["status"] == status).sum()
            )
    if not result.predictions.empty:
        values["prediction_psi"] = float(result.predictions["psi"].iloc[0])
    for row in result.performance.itertuples():
        values[f"batch_{row.metric}"] = row.batch
        values[f"change_{row.metric}"] = row.change
    return {k: float(v) for k, v in values.items() if np.isfinite(v)}


def key_figures(result: MonitorResult) -> dict[str, float]:
    """The figures the report index shows for a monitoring run."""
    figures = {"rows": result.rows, "status_level": drift.STATUSES.index(result.status)}
    if not result.features.empty:
        figures["max_psi"] = float(result.features["psi"].max())
    return figures


def run_tags(resolved: ResolvedModel, result: MonitorResult, date: str) -> dict[str, str]:
    """The monitor run's tags: its status (which `mlwb monitor` exits on), the batch date,
    the model version, and the summary `mlwb` prints and hands to the alert command."""
    return {
        TAG_MONITOR_STATUS: result.status,
        TAG_BATCH_DATE: date,
        TAG_MODEL: f"{resolved.name}/{resolved.version}",
        TAG_SUMMARY: "\n".join(result.summary),
    }


def tag_version(client: Any, resolved: ResolvedModel, status: str, date: str, run_id: str):
    """The latest monitoring status on the model version."""
    for key, value in (
        (TAG_MONITOR_STATUS, status),
        (TAG_MONITOR_BATCH_DATE, date),
        (TAG_MONITOR_RUN, run_id),
    ):
        client.set_model_version_tag(resolved.name, resolved.version, key, value)


def log_run(
    client: Any, resolved: ResolvedModel, result: MonitorResult, date: str, run_id: str
) -> None:
    """Record a monitoring run: its tables and schema changes as artifacts (`monitoring/`),
    its metrics and key figures, its tags, and its status on the model version."""
    store.log_table(result.features, "monitoring/features.csv")
    for _, name, table in _results(result):
        store.log_table(table, f"monitoring/{name}.csv")
    store.log_json(result.schema, "monitoring/schema.json")
    store.log_metrics(metrics(result))
    store.log_key_figures(key_figures(result))
    store.set_tags(run_tags(resolved, result, date))
    tag_version(client, resolved, result.status, date, run_id)
