"""The comparison report on a real MLflow store in a temporary folder."""

from __future__ import annotations

import mlflow
import pytest

from mlworkbench.exceptions import MlwbError
from mlworkbench.reports import comparison


def make_runs(client, experiment, rows):
    experiment_id = client.create_experiment(experiment)
    for model, depth, auc in rows:
        run = client.create_run(
            experiment_id, tags={"mlwb.stage": "train", "mlwb.key_figures": "roc_auc"}
        )
        client.log_param(run.info.run_id, "model", model)
        client.log_param(run.info.run_id, "seed", "42")
        client.log_param(run.info.run_id, "hyperparameters.max_depth", depth)
        client.log_metric(run.info.run_id, "roc_auc", auc)
        client.set_terminated(run.info.run_id, "FINISHED")


def test_runs_are_ranked_best_first_with_differing_params_only(tmp_path):
    client = mlflow.MlflowClient(f"sqlite:///{tmp_path / 'mlflow.db'}")
    make_runs(
        client,
        "exp <b>",
        [("linear", "-", 0.71), ("<xgb>", "3", 0.80), ("random_forest", "5", 0.75)],
    )
    result = comparison.collect(client, "exp <b>")
    assert [r["metrics"]["roc_auc"] for r in result.rows] == [0.80, 0.75, 0.71]
    assert result.params == ["hyperparameters.max_depth"]  # the model has its own column
    assert [r["model"] for r in result.rows] == ["<xgb>", "random_forest", "linear"]
    page = comparison.render(result, tmp_path / "reports").read_text()
    assert (tmp_path / "reports" / "exp--b" / "compare.html").is_file()
    assert "&lt;xgb&gt;" in page and "<xgb>" not in page
    assert page.index("0.8000") < page.index("0.7500") < page.index("0.7100")
    assert "seed" not in page


def test_unknown_experiment_is_a_clear_error(tmp_path):
    client = mlflow.MlflowClient(f"sqlite:///{tmp_path / 'mlflow.db'}")
    with pytest.raises(MlwbError, match="No experiment 'nope'"):
        comparison.collect(client, "nope")
    client.create_experiment("empty")
    with pytest.raises(MlwbError, match="has no finished training run"):
        comparison.collect(client, "empty")
