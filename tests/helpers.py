"""Helpers the tests share: repo paths and a way to run the real `mlwb` command."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
NOTEBOOKS = REPO / "notebooks"
CONFIGS = REPO / "papermill_configs"
FIXTURE_NOTEBOOKS = REPO / "tests" / "fixtures" / "notebooks"
MLWB = str(Path(sys.executable).with_name("mlwb"))
PAPERMILL = str(Path(sys.executable).with_name("papermill"))


def write_config(folder: Path, name: str, text: str) -> Path:
    """Write a config file and return its path."""
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def mlwb(*args: str, cwd: Path | None = None, env: dict | None = None, timeout: int = 900):
    """Run the real `mlwb` command and return the completed process (never raises)."""
    return subprocess.run(
        [MLWB, *args],
        cwd=cwd,
        env={**os.environ, **(env or {})},
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def sqlite_uri(root: Path) -> str:
    """The default store of a project folder."""
    return f"sqlite:///{root / 'mlflow.db'}"


CASES = {
    "german": ("test_train_german.yaml", "test-train-german", "test-german"),
    "wine": ("test_train_wine.yaml", "test-train-wine", "test-wine"),
    "diabetes": ("test_train_diabetes.yaml", "test-train-diabetes", "test-diabetes"),
}
"""The pipelines the `store` fixture runs: config, experiment, registered model."""


def stage_run(case: str, stage: str):
    """The MLflow client and the newest run of `stage` in a case's experiment."""
    import mlflow

    client = mlflow.MlflowClient()
    experiment = client.get_experiment_by_name(CASES[case][1])
    (run,) = client.search_runs(
        [experiment.experiment_id],
        f"tags.`mlwb.stage` = '{stage}'",
        order_by=["attributes.start_time DESC"],
        max_results=1,
    )
    return client, run


SMALL_MODELS = {
    "xgboost": {"n_estimators": 60, "max_depth": 3},
    "random_forest": {"n_estimators": 40, "max_depth": 6},
    "linear": {},
    "hist_gradient_boosting": {"max_iter": 40},
}
"""Hyperparameters that fit each model family in about a second, for unit tests."""


def fit_small(frame, model: str, target: str = "risk", task: str = "classification"):
    """A `TrainedModel` of `model` (SMALL_MODELS settings) fitted on all of `frame`."""
    from mlworkbench.analysis import screening, training

    screened = screening.screen_columns(frame, target)
    pipeline = training.make_pipeline(screened, model, task, SMALL_MODELS[model], seed=0)
    return training.fit(pipeline, frame, target, task)
