"""The eda, train and explain stages' computations in one plain Python process: the
baseline of the full-pipeline benchmark. The model is explained in memory on its test rows
(the stages pass it through MLflow)."""

from __future__ import annotations

import sys
from pathlib import Path

import plain_eda
import plain_explain
import plain_train

from mlworkbench.analysis import data, training
from mlworkbench.analysis.explain import explanation


def main(source: str, target: str, sensitive: str, profile: Path) -> None:
    """Profile, train and explain on `source`."""
    plain_eda.main(source, target, profile)
    features = sensitive.split(",")
    frame = data.load_dataset(source, target, "classification", features, {"na_values": ["?"]})
    outcome = plain_train.train(frame, target)
    rows = outcome.split.test
    y, _ = training.encode_target(rows[target], "classification", outcome.trained.classes)
    subject = explanation.Subject(
        outcome.trained.pipeline,
        outcome.trained.classes,
        outcome.trained.threshold,
        outcome.kind,
        rows.drop(columns=[target]),
        y,
        "",
        "",
        f"the {len(rows):,} test rows",
    )
    plain_explain.render(subject, features)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], sys.argv[3], Path(sys.argv[4]))
