"""Cache keys: what makes a stage's inputs the same, and what changes them."""

from __future__ import annotations

import json
import shutil
import threading
import time

from helpers import NOTEBOOKS

from mlworkbench.pipeline import reuse


def _inputs(notebook, **changes):
    values = {
        "parameters": {"model": "xgboost", "mlflow_run_id": "abc", "report_dir": "/x"},
        "data_digest": "d1",
        "upstream": {"train_run_id": "r1"},
        "packages": {"pandas": "2.3.3"},
    }
    values.update(changes)
    return reuse.stage_inputs(notebook, **values)


def test_key_ignores_outputs_and_the_run_it_logs_into(tmp_path):
    notebook = tmp_path / "02-train.ipynb"
    shutil.copy(NOTEBOOKS / "02-train.ipynb", notebook)
    key = reuse.cache_key(_inputs(notebook))
    nb = json.loads(notebook.read_text())
    nb["cells"][0]["outputs"] = [{"output_type": "stream", "name": "stdout", "text": "hi"}]
    nb["cells"][0]["execution_count"] = 7
    notebook.write_text(json.dumps(nb))
    other_run = {"model": "xgboost", "mlflow_run_id": "zzz", "report_dir": "/elsewhere"}
    assert reuse.cache_key(_inputs(notebook, parameters=other_run)) == key


def test_key_changes_with_each_input(tmp_path):
    notebook = tmp_path / "02-train.ipynb"
    shutil.copy(NOTEBOOKS / "02-train.ipynb", notebook)
    key = reuse.cache_key(_inputs(notebook))
    changed = [
        _inputs(notebook, parameters={"model": "linear"}),
        _inputs(notebook, data_digest="d2"),
        _inputs(notebook, upstream={"train_run_id": "r2"}),
        _inputs(notebook, packages={"pandas": "3.0.0"}),
    ]
    assert all(reuse.cache_key(c) != key for c in changed)
    nb = json.loads(notebook.read_text())
    nb["cells"][-1]["source"] = "print('an edited cell')"
    notebook.write_text(json.dumps(nb))
    assert reuse.cache_key(_inputs(notebook)) != key


def test_force_names_all_or_some_stages():
    assert not reuse.forced(None, "train")
    assert reuse.forced("all", "train") and reuse.forced("", "eda")
    assert reuse.forced("train, explain", "explain") and not reuse.forced("train", "eda")


def test_force_names_must_be_stages():
    assert reuse.unknown_forced("tarin,eda", ["eda", "train"]) == ["tarin"]
    assert reuse.unknown_forced("all", ["eda"]) == [] and reuse.unknown_forced(None, []) == []


def test_a_claimed_key_makes_the_second_claimant_wait():
    claims, order = reuse.Claims(), []

    def hold(name, seconds):
        with claims.claim("k"):
            order.append(f"{name} in")
            time.sleep(seconds)
            order.append(f"{name} out")

    first = threading.Thread(target=hold, args=("first", 0.3))
    first.start()
    time.sleep(0.05)
    hold("second", 0)
    first.join()
    assert order == ["first in", "first out", "second in", "second out"]


def test_model_alias_parameters_resolve_to_the_version_they_point_at(tmp_path):
    import mlflow

    client = mlflow.MlflowClient(f"sqlite:///{tmp_path / 'mlflow.db'}")
    client.create_registered_model("m")
    for _ in range(2):
        client.create_model_version("m", source=str(tmp_path))
    client.set_registered_model_alias("m", "champion", "1")
    parameters = {"model_uri": "models:/m@champion", "other": "models:/absent@x", "n": 3}
    assert reuse.model_references(client, parameters) == {"model_uri": "1", "other": ""}
    client.set_registered_model_alias("m", "champion", "2")
    assert reuse.model_references(client, parameters)["model_uri"] == "2"
