"""Is the model fast enough? Latency and throughput of its REST API against a server this
module starts, and the same predictions in process for comparison."""

from __future__ import annotations

import json
import time
import urllib.request
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import numpy as np
import pandas as pd

from mlworkbench.analysis import data
from mlworkbench.production import scoring, serving
from mlworkbench.tracking import requirements
from mlworkbench.tracking.tags import TAG_LOADTEST_PREFIX

# Deferred imports: mlflow loads inside the functions that use them, so that importing this module
# (from the command line or a notebook) stays fast.


@dataclass
class LoadTestResult:
    """The figures of one load test (latencies in milliseconds)."""

    single_requests: int
    p50_ms: float
    p95_ms: float
    p99_ms: float
    batch_rows: int
    batch_requests: int
    http_rows_per_second: float
    in_process_p50_ms: float
    in_process_rows_per_second: float

    def table(self) -> pd.DataFrame:
        """The figures side by side: over HTTP and in process."""
        rows = [
            ("single-row latency p50 (ms)", self.p50_ms, self.in_process_p50_ms),
            ("single-row latency p95 (ms)", self.p95_ms, np.nan),
            ("single-row latency p99 (ms)", self.p99_ms, np.nan),
            (
                f"rows per second ({self.batch_rows:,}-row requests)",
                self.http_rows_per_second,
                self.in_process_rows_per_second,
            ),
        ]
        return pd.DataFrame(rows, columns=["measure", "http", "in process"])

    def tags(self) -> dict[str, str]:
        """The figures as model-version tags `mlwb.loadtest.*`."""
        figures = {
            "p50_ms": self.p50_ms,
            "p95_ms": self.p95_ms,
            "p99_ms": self.p99_ms,
            "rows_per_second": self.http_rows_per_second,
            "in_process_rows_per_second": self.in_process_rows_per_second,
        }
        tags = {f"{TAG_LOADTEST_PREFIX}{k}": f"{v:.2f}" for k, v in figures.items()}
        tags[f"{TAG_LOADTEST_PREFIX}at"] = datetime.now(tz=UTC).strftime("%Y-%m-%d %H:%M UTC")
        tags[f"{TAG_LOADTEST_PREFIX}setup"] = (
            f"{self.single_requests} single-row requests, {self.batch_requests} requests of "
            f"{self.batch_rows} rows, one client thread, local server"
        )
        return tags


def _body(rows: pd.DataFrame) -> bytes:
    split = json.loads(rows.to_json(orient="split", index=False, date_format="iso"))
    return json.dumps({"dataframe_split": split}).encode()


def _post(url: str, body: bytes) -> None:
    request = urllib.request.Request(
        f"{url}/invocations", data=body, headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=60) as answer:
        answer.read()


def measure(
    url: str,
    model: Any,
    rows: pd.DataFrame,
    single_requests: int = 200,
    batch_rows: int = 1000,
    batch_requests: int = 10,
) -> LoadTestResult:
    """Time `single_requests` one-row requests and `batch_requests` requests of `batch_rows`
    rows against the server at `url`, and the same predictions with `model` in process."""
    singles = [_body(rows.iloc[[i % len(rows)]]) for i in range(single_requests)]
    _post(url, singles[0])  # the first request pays for lazy imports; not counted
    latencies = []
    for body in singles:
        started = time.perf_counter()
        _post(url, body)
        latencies.append((time.perf_counter() - started) * 1000)
    batch = rows.sample(n=batch_rows, replace=len(rows) < batch_rows, random_state=0)
    batch_body = _body(batch)
    started = time.perf_counter()
    for _ in range(batch_requests):
        _post(url, batch_body)
    http_seconds = time.perf_counter() - started
    local = []
    for i in range(min(single_requests, 100)):
        started = time.perf_counter()
        model.predict(rows.iloc[[i % len(rows)]])
        local.append((time.perf_counter() - started) * 1000)
    started = time.perf_counter()
    for _ in range(batch_requests):
        model.predict(batch)
    local_seconds = time.perf_counter() - started
    p50, p95, p99 = np.percentile(latencies, [50, 95, 99])
    return LoadTestResult(
        single_requests,
        float(p50),
        float(p95),
        float(p99),
        batch_rows,
        batch_requests,
        batch_rows * batch_requests / http_seconds,
        float(np.median(local)),
        batch_rows * batch_requests / local_seconds,
    )


def example_rows(model_uri: str, input_file: str = "") -> pd.DataFrame:
    """Rows to send: those of `input_file`, else the input example logged with the model."""
    import mlflow

    if input_file:
        return data.read_source(input_file)
    example = mlflow.models.Model.load(model_uri).load_input_example()
    return pd.DataFrame(example)


def run(
    client: Any,
    reference: str,
    tracking_uri: str,
    input_file: str = "",
    single_requests: int = 200,
    batch_rows: int = 1000,
    batch_requests: int = 10,
) -> tuple[Any, LoadTestResult]:
    """Start a server for the model, measure it, stop it and tag the figures on the version."""

    resolved = scoring.resolve(client, reference)
    rows = example_rows(resolved.uri, input_file)
    model = requirements.load_model(resolved.uri)
    port = serving.free_port()
    process = serving.start(resolved.uri, tracking_uri, port)
    try:
        result = measure(
            f"http://127.0.0.1:{port}", model, rows, single_requests, batch_rows, batch_requests
        )
    finally:
        serving.stop(process)
    for key, value in result.tags().items():
        client.set_model_version_tag(resolved.name, resolved.version, key, value)
    return resolved, result
