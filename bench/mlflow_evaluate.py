"""MLflow's own evaluation in one plain Python process: the train stage's fit, then
`mlflow.models.evaluate` with the default evaluator and SHAP explainability turned on.

Usage: mlflow_evaluate.py SOURCE TARGET EXPERIMENT VARIANT REPORT_JSON

The fit is the train stage's (`train_stage.train_and_evaluate` with its defaults: xgboost, 300
trees, the same seed, split and out-of-fold threshold), so the evaluated rows are the train
stage's test rows. VARIANT chooses what MLflow evaluates, each in a run of its own:

- `encoded`: what MLflow's SHAP explainer needs (numeric features and 0/1 labels): the fitted
  xgboost step logged with `mlflow.xgboost.log_model`, evaluated on the test rows after the
  pipeline's preprocessing (one-hot columns).
- `pipeline`: the workbench's pyfunc model (the whole pipeline, as the train stage logs it) on
  the raw test rows, its class column given to `evaluate` as a function returning 0/1, with
  0/1 labels.
- `probe`: what happens, untimed: (1) the logged pyfunc model by URI with
  `predictions="prediction"` naming its class column; (2) its class column with the string
  labels of the data; (3) the kernel explainer, the only one MLflow lets near string columns,
  on a tiny sample (`explainability_nsamples` 20).

MLflow's log records (INFO and up), Python warnings and errors are written to REPORT_JSON with
the run ids, the test row ids and the metrics, for the benchmark's notes.
"""

from __future__ import annotations

import json
import logging
import sys
import time
import warnings
from typing import Any

import matplotlib

matplotlib.use("Agg")

from mlworkbench.analysis import data, train_stage
from mlworkbench.production import models
from mlworkbench.reports import elements
from mlworkbench.tracking import store

EVALUATOR_CONFIG = {"log_model_explainability": True, "explainability_nsamples": 2000}


class Collect(logging.Handler):
    """Keeps the text of every record of MLflow's loggers."""

    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(f"{record.levelname} {record.name}: {record.getMessage()}")


def evaluate(experiment_id: str, name: str, model: Any, rows: Any, **options: Any) -> dict:
    """`mlflow.models.evaluate` of what `model()` returns (a model URI or a function; it may
    log the model into the run) in a run of its own; what it returned or raised and logged."""
    import mlflow

    collect = Collect()
    logger = logging.getLogger("mlflow")
    logger.addHandler(collect)
    logger.setLevel(logging.INFO)
    outcome: dict[str, Any] = {"name": name}
    with (
        warnings.catch_warnings(record=True) as caught,
        mlflow.start_run(experiment_id=experiment_id, run_name=name) as run,
    ):
        warnings.simplefilter("always")
        outcome["run_id"] = run.info.run_id
        outcome["evaluated_columns"] = len(rows.columns) - 1
        started = time.perf_counter()
        try:
            result = mlflow.models.evaluate(
                model(),
                rows,
                model_type="classifier",
                evaluators="default",
                **options,
            )
            outcome["metrics"] = result.metrics
            outcome["artifacts"] = sorted(result.artifacts)
        except Exception as exc:  # the probe records MLflow's failures
            outcome["error"] = f"{type(exc).__name__}: {exc}"
        outcome["seconds"] = time.perf_counter() - started
    logger.removeHandler(collect)
    outcome["log"] = collect.lines
    outcome["warnings"] = [f"{w.category.__name__}: {w.message}" for w in caught]
    return outcome


def main(source: str, target: str, experiment: str, variant: str, report: str) -> None:
    """Fit the default model on `source`, then evaluate it with MLflow as `variant` says."""
    import mlflow
    import pandas as pd

    elements.prepare_notebook()
    mlflow.set_tracking_uri(store.tracking_uri())
    experiment_id = store.get_or_create_experiment(mlflow.MlflowClient(), experiment)
    frame = data.load_dataset(source, target, "classification", [], {"na_values": ["?"]})
    outcome = train_stage.train_and_evaluate(
        frame, target, "classification", train_stage.TrainSettings()
    )
    trained, test = outcome.trained, outcome.split.test
    rows, positive = test.drop(columns=[target]), trained.classes[1]
    labelled = rows.assign(**{target: outcome.y_test})  # 0/1, positive class 1
    results = []
    pyfunc: dict[str, Any] = {}

    def workbench_model() -> str:
        """The train stage's pyfunc model, logged into the active run (once per process)."""
        if not pyfunc:
            info = models.log_model(trained, outcome.split.train.drop(columns=[target]))
            pyfunc["uri"], pyfunc["model"] = (
                info.model_uri,
                mlflow.pyfunc.load_model(info.model_uri),
            )
        return pyfunc["uri"]

    def as_01(frame_: pd.DataFrame) -> pd.Series:
        return (pyfunc["model"].predict(frame_)[models.PREDICTION] == positive).astype(int)

    def as_labels(frame_: pd.DataFrame) -> pd.Series:
        return pyfunc["model"].predict(frame_)[models.PREDICTION]

    def with_model(function: Any) -> Any:
        """A model factory that logs the pyfunc model, then hands `function` to evaluate."""

        def make() -> Any:
            workbench_model()
            return function

        return make

    config = EVALUATOR_CONFIG
    if variant == "encoded":
        preprocess, model = trained.pipeline[:-1], trained.pipeline[-1]
        encoded = pd.DataFrame(
            preprocess.transform(rows), columns=preprocess.get_feature_names_out(), index=rows.index
        )
        encoded[target] = outcome.y_test
        cases = [
            (
                "evaluate-encoded",
                lambda: mlflow.xgboost.log_model(model, name="model").model_uri,
                encoded,
                {"targets": target, "evaluator_config": config},
            )
        ]
    elif variant == "pipeline":
        cases = [
            (
                "evaluate-pipeline",
                with_model(as_01),
                labelled,
                {"targets": target, "evaluator_config": config},
            )
        ]
    elif variant == "probe":
        kernel = {"explainability_algorithm": "kernel", "explainability_nsamples": 20}
        cases = [
            (
                "probe-uri",
                workbench_model,
                test,
                {"targets": target, "predictions": models.PREDICTION, "evaluator_config": config},
            ),
            (
                "probe-string-labels",
                with_model(as_labels),
                test,
                {"targets": target, "evaluator_config": {**config, "pos_label": positive}},
            ),
            (
                "probe-kernel",
                with_model(as_01),
                labelled,
                {"targets": target, "evaluator_config": {**config, **kernel}},
            ),
        ]
    else:
        sys.exit(f"unknown variant {variant!r}: encoded, pipeline or probe")
    for name, model_, rows_, options in cases:
        results.append(evaluate(experiment_id, name, model_, rows_, **options))
    details = {
        "variant": variant,
        "test_rows": [int(i) for i in test.index],
        "workbench_metrics": outcome.evaluation.metrics,
        "source_columns": len(rows.columns),
        "results": results,
    }
    with open(report, "w", encoding="utf-8") as file:
        json.dump(details, file, indent=2, default=str)
    failed = [r["error"] for r in results if "error" in r]
    if failed and variant != "probe":
        sys.exit(f"mlflow.models.evaluate failed: {failed}")


if __name__ == "__main__":
    main(*sys.argv[1:6])
