"""Numbers read as numbers and monitoring statuses as words, in tables, the index and the
dashboard (real MLflow store in tmp_path)."""

from __future__ import annotations

import re

import mlflow
import numpy as np
import pandas as pd
import pytest

from mlworkbench.reports import dashboard, elements, formatting
from mlworkbench.reports.index import rebuild_index


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (32220.0, "32,220"),
        (32220.5, "32,220.5"),
        (1234567, "1,234,567"),
        (np.int64(1234567), "1,234,567"),
        (1234567.891, "1,234,567.9"),
        (0.000123, "0.000123"),
        (0.0000000123, "0.0000000123"),
        (0.81234, "0.812"),
        (12.3456, "12.3"),
        (-4521.25, "-4,521.2"),
        (float("nan"), "–"),
        (None, "–"),
        (float("inf"), "∞"),
        (7, "7"),
        (True, "True"),
        (np.bool_(False), "False"),
        ("text", "text"),
    ],
)
def test_format_number(value, expected):
    assert elements.format_number(value) == expected


def test_table_html_never_uses_scientific_notation():
    frame = pd.DataFrame(
        {
            "income": [32220.0, 1234567.5, float("nan")],
            "rate": [0.000123, 0.5, 2.0],
            "count": [1, 22000, 3],
            "flag": [True, False, True],
            "share": [0.25, 0.5, 1.0],
            "auc": [0.81234, 0.9, 0.70001],
        }
    )
    table = elements.table_html(frame, percent=["share"], decimals={"auc": 3})
    assert not re.search(r"\de[+-]\d", table)
    for text in ("32,220", "1,234,567.5", "0.000123", "22,000", "True", "25.0%", "0.812", "–"):
        assert f">{text}<" in table, text


def test_format_figure_reads_as_people_do():
    assert elements.format_figure(32220.5) == "32,220.5"
    assert elements.format_figure(1_234_567.0, "rows") == "1,234,567"
    assert elements.format_figure(2.0, "status_level") == "ALERT"
    assert elements.format_figure(0.0, "status_level") == "OK"
    assert elements.format_figure(1.0, "promoted") == "yes"
    assert elements.format_figure(0.253, "missing_share") == "25.3%"


def _monitoring_run(client, tmp_path, model: str, level: float, tag: bool) -> None:
    """A one-stage monitoring job as `mlwb monitor` logs it: parent, stage run, key figures."""
    name = f"monitoring-{model}"
    experiment = client.create_experiment(name, artifact_location=(tmp_path / "art").as_uri())
    parent = client.create_run(experiment, tags={"mlwb.pipeline": "true"}).info.run_id
    tags = {
        "mlwb.pipeline": "stage",
        "mlflow.parentRunId": parent,
        "mlwb.stage": "monitor",
        "mlwb.key_figures": "rows,status_level,max_psi",
        "mlwb.batch_date": "2026-01-31",
    }
    if tag:
        tags["mlwb.monitor.status"] = ("OK", "WARN", "ALERT")[int(level)]
    child = client.create_run(experiment, run_name="monitor", tags=tags).info.run_id
    for key, value in {"rows": 32220.0, "status_level": level, "max_psi": 0.41}.items():
        client.log_metric(child, key, value)
    client.set_terminated(child, "FINISHED")
    client.set_terminated(parent, "FINISHED")


def test_index_and_dashboard_show_the_monitoring_status_in_words(tmp_path):
    client = mlflow.MlflowClient(f"sqlite:///{tmp_path / 'mlflow.db'}")
    client.create_registered_model("credit")
    _monitoring_run(client, tmp_path, "credit", 2.0, tag=False)
    reports_dir = tmp_path / "reports"
    page = rebuild_index(client, reports_dir).read_text()
    figures = re.search(r'<div class="figures">(.*?)</div>', page, re.S).group(1)
    assert 'monitoring status: <span class="badge ALERT">ALERT</span>' in figures
    assert "rows: 32,220" in figures and "largest PSI: 0.41" in figures
    assert not re.search(r"status[^<]*: 2\b", figures) and "status_level" not in page
    board = (reports_dir / dashboard.DASHBOARD_FILE).read_text()
    assert '<span class="badge ALERT">ALERT</span>' in board
    for html in (page, board):  # the store by its file name, not its path on this machine
        assert "<code>mlflow.db (SQLite)</code>" in html and str(tmp_path) not in html


def test_dashboard_prefers_the_status_tag(tmp_path):
    client = mlflow.MlflowClient(f"sqlite:///{tmp_path / 'mlflow.db'}")
    client.create_registered_model("credit")
    _monitoring_run(client, tmp_path, "credit", 1.0, tag=True)
    (health,) = dashboard.collect(client, tmp_path)
    assert health.status == "WARN"


@pytest.mark.parametrize(
    ("uri", "label"),
    [
        ("sqlite:////srv/team/mlflow.db", "mlflow.db (SQLite)"),
        ("http://ana:secret@127.0.0.1:5000", "http://127.0.0.1:5000"),
        ("https://mlflow.example.org", "https://mlflow.example.org"),
        ("file:///home/ana/project/mlruns", "mlruns"),
    ],
)
def test_a_store_is_named_without_paths_or_credentials(uri, label):
    assert formatting.store_label(uri) == label
