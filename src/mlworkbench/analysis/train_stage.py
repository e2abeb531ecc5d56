"""The train stage's computation: split, fit, choose the decision threshold, evaluate.

Pure computation on a DataFrame and settings; the training notebook shows the result and
`train_logging` logs it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from mlworkbench.analysis import (
    data,
    evaluation,
    leakage,
    personal_data,
    screening,
    splits,
    training,
)
from mlworkbench.exceptions import ModelConfigError

TEST_ROWS_ARTIFACT = "split/test_rows.json"
"""Artifact of a training run naming its test rows, so later stages explain exactly those."""


@dataclass(frozen=True)
class TrainSettings:
    """The train stage's parameters (see notebooks/02-train.ipynb)."""

    model: str = "xgboost"
    hyperparameters: dict[str, Any] = field(default_factory=dict)
    drop_columns: list[str] = field(default_factory=list)
    keep_columns: list[str] = field(default_factory=list)
    max_categories: int = 50
    split: str = "stratified"
    test_size: float = 0.25
    group_column: str = ""
    time_column: str = ""
    cv_folds: int = 0
    threshold_rule: str = "fixed"
    threshold: float = 0.5
    cost_ratio: float = 1.0
    seed: int = 42
    leakage_auc: float = leakage.LIMITS["roc_auc"]
    leakage_r2: float = leakage.LIMITS["r2"]
    too_good: float = leakage.TOO_GOOD

    def leakage_settings(self) -> leakage.LeakageSettings:
        """The limits of the leakage guard."""
        return leakage.LeakageSettings(self.leakage_auc, self.leakage_r2, self.too_good)


@dataclass
class TrainingOutcome:
    """A trained model with its split, test scores and evaluation."""

    trained: training.TrainedModel
    split: splits.Split
    kind: str
    y_test: np.ndarray
    scores: np.ndarray
    evaluation: evaluation.Evaluation
    cross_validation: pd.DataFrame | None
    screening: screening.Screening
    single_feature: pd.DataFrame
    leakage_settings: leakage.LeakageSettings = field(default_factory=leakage.LeakageSettings)
    personal: personal_data.PersonalData = field(
        default_factory=lambda: personal_data.PersonalData([])
    )

    def too_good(self) -> dict[str, float]:
        """Test metrics so high that they are too good to be true."""
        return leakage.too_good(
            self.evaluation.metrics, self.leakage_settings.too_good, self.evaluation.baseline
        )

    def leakage_record(self) -> dict[str, Any]:
        """The leakage check's findings (`leakage/check.json`, read by the card)."""
        return leakage.record(self.single_feature, self.too_good(), self.leakage_settings)

    def leakage_warning(self) -> list[str]:
        """The "too good to be true" / suspected-leak warning; empty when none applies."""
        return leakage.warning_sentences(self.single_feature, self.too_good())


def train_and_evaluate(
    frame: pd.DataFrame,
    target: str,
    task: str,
    settings: TrainSettings,
    privacy: dict[str, Any] | None = None,
) -> TrainingOutcome:
    """Everything the train stage computes, checked before any fitting starts; `privacy` is
    the config's privacy section (personal columns are never features)."""
    personal = personal_data.find_personal(frame, target, privacy)
    screened = screening.screen_with(frame, target, settings.__dict__, personal.kinds())
    pipeline = training.make_pipeline(
        screened, settings.model, task, settings.hyperparameters, settings.seed
    )
    if settings.threshold_rule not in evaluation.THRESHOLDS:
        raise ModelConfigError(
            f"Unknown threshold_rule '{settings.threshold_rule}'. "
            f"Rules: {', '.join(evaluation.THRESHOLDS)}."
        )
    parts = splits.split_data(
        frame,
        target,
        task,
        settings.split,
        settings.test_size,
        settings.seed,
        settings.group_column,
        settings.time_column,
    )
    trained = training.fit(pipeline, parts.train, target, task)
    n_classes = len(trained.classes) if trained.classes else 0
    kind = evaluation.problem_kind(task, n_classes)
    if kind == "binary":
        trained.threshold = decision_threshold(pipeline, parts.train, target, settings)
    rows = parts.test.drop(columns=[target])
    y_test, _ = training.encode_target(parts.test[target], task, trained.classes)
    y_train, _ = training.encode_target(parts.train[target], task, trained.classes)
    scores = (
        trained.pipeline.predict(rows)
        if kind == "regression"
        else trained.pipeline.predict_proba(rows)
    )
    baseline = evaluation.baseline_scores(y_train, len(rows), n_classes)
    result = evaluation.evaluate(kind, y_test, scores, baseline, trained.threshold)
    folds = (
        training.cross_validate(
            pipeline, parts.train, target, task, settings.cv_folds, settings.seed
        )
        if settings.cv_folds > 1
        else None
    )
    view = screened_rows(trained.pipeline, parts.train.drop(columns=[target]))
    limits = settings.leakage_settings()
    single = leakage.single_feature_check(view, y_train, task, limits, settings.seed)
    return TrainingOutcome(
        trained, parts, kind, y_test, scores, result, folds, screened, single, limits, personal
    )


def decision_threshold(
    pipeline: Any, train: pd.DataFrame, target: str, settings: TrainSettings
) -> float:
    """The binary decision threshold: the fixed one, or one chosen on out-of-fold scores of
    the training rows (never on the test rows)."""
    if settings.threshold_rule == "fixed":
        return float(settings.threshold)
    oof_y, oof_scores = training.out_of_fold_scores(pipeline, train, target, settings.seed)
    return evaluation.choose_threshold(
        oof_y, oof_scores, settings.threshold_rule, settings.threshold, settings.cost_ratio
    )


def screened_rows(pipeline: Any, rows: pd.DataFrame) -> pd.DataFrame:
    """`rows` as the fitted pipeline's model part receives them (after screening)."""
    return screening.model_view(pipeline, rows)[1]


def test_rows_record(test: pd.DataFrame, frame: pd.DataFrame) -> dict[str, Any]:
    """The test rows' ids (0-based row numbers of the source data) and the data's digest,
    logged as `TEST_ROWS_ARTIFACT` so the explain stage finds the same rows again."""
    return {"data_digest": data.dataset_digest(frame), "row_ids": [int(i) for i in test.index]}
