"""The train stage's computation in one plain Python process: the benchmark's baseline.

Same loading, split, fit, threshold and evaluation as notebooks/02-train.ipynb with its
defaults, plus the diagnostic plots, without Papermill, a kernel, MLflow or nbconvert.
"""

from __future__ import annotations

import io
import sys
from typing import Any

from mlworkbench.analysis import data, evaluation, train_stage
from mlworkbench.reports import elements


def train(frame: Any, target: str) -> train_stage.TrainingOutcome:
    """Train and evaluate the default model on `frame` and draw its diagnostic plots."""
    outcome = train_stage.train_and_evaluate(
        frame, target, "classification", train_stage.TrainSettings()
    )
    figure = evaluation.plot_diagnostics(
        outcome.kind,
        outcome.y_test,
        outcome.scores,
        outcome.trained.classes,
        outcome.trained.threshold,
    )
    figure.savefig(io.BytesIO(), format="png")
    return outcome


def main(source: str, target: str) -> None:
    """Train and evaluate the default model on `source`."""
    elements.prepare_notebook()
    frame = data.load_dataset(source, target, "classification", [], {"na_values": ["?"]})
    outcome = train(frame, target)
    print(outcome.evaluation.metrics[outcome.evaluation.primary])


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
