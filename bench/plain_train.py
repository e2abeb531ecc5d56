"""The train stage's computation in one plain Python process: the benchmark's baseline.

Same loading, split, fit, threshold and evaluation as notebooks/02-train.ipynb with its
defaults, plus the diagnostic plots, without Papermill, a kernel, MLflow or nbconvert.
"""

from __future__ import annotations

import io
import sys
from typing import Any

from mlworkbench import data, evaluation, reports, trainer


def train(frame: Any, target: str) -> trainer.TrainingOutcome:
    """Train and evaluate the default model on `frame` and draw its diagnostic plots."""
    outcome = trainer.train_and_evaluate(frame, target, "classification", trainer.TrainSettings())
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
    reports.prepare_notebook()
    frame = data.load_dataset(source, target, "classification", [], {"na_values": ["?"]})
    outcome = train(frame, target)
    print(outcome.evaluation.metrics[outcome.evaluation.primary])


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
