"""Model training: the model catalogue, preprocessing, fitting and reference statistics.

Preprocessing and model form one scikit-learn Pipeline, so a fitted model takes raw rows
exactly as they appear in the source data. Classification targets are encoded as 0..K-1
for fitting (xgboost needs that); `TrainedModel.classes` maps them back. Training and test
rows are chosen by `splits`.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from importlib.metadata import version
from typing import Any

import numpy as np
import pandas as pd

from mlworkbench.exceptions import DataError, ModelConfigError
from mlworkbench.tracking import local_cache

# Deferred imports: sklearn and xgboost load inside the functions that use them, so that importing
# this module (from the command line or a notebook) stays fast.


def _xgboost(task: str) -> Callable[..., Any]:
    import xgboost  # deferred: heavy, and only the xgboost model needs it

    return xgboost.XGBClassifier if task == "classification" else xgboost.XGBRegressor


def _linear(task: str) -> Callable[..., Any]:
    from sklearn import linear_model  # deferred: heavy

    return linear_model.LogisticRegression if task == "classification" else linear_model.Ridge


def _random_forest(task: str) -> Callable[..., Any]:
    from sklearn import ensemble  # deferred: heavy

    if task == "classification":
        return ensemble.RandomForestClassifier
    return ensemble.RandomForestRegressor


def _hist_gradient_boosting(task: str) -> Callable[..., Any]:
    from sklearn import ensemble  # deferred: heavy

    if task == "classification":
        return ensemble.HistGradientBoostingClassifier
    return ensemble.HistGradientBoostingRegressor


@dataclass(frozen=True)
class ModelSpec:
    """A model family: its estimator class per task, whether it needs scaled inputs, and the
    defaults the workbench sets (a hyperparameter mapping overrides them)."""

    estimator: Callable[[str], Callable[..., Any]]
    scale: bool
    defaults: Mapping[str, Any] = field(default_factory=dict)


MODELS: dict[str, ModelSpec] = {
    "xgboost": ModelSpec(
        _xgboost,
        scale=False,
        defaults={"n_estimators": 300, "max_depth": 4, "learning_rate": 0.05},
    ),
    "linear": ModelSpec(_linear, scale=True, defaults={"max_iter": 2000}),
    "random_forest": ModelSpec(_random_forest, scale=False, defaults={"n_estimators": 300}),
    "hist_gradient_boosting": ModelSpec(_hist_gradient_boosting, scale=False),
}
"""The model families a config can name."""


def available_threads() -> int:
    """Threads a fit may use: `MLWB_THREADS` (the runner's share of the cores when stages or
    pipelines run side by side), else every core."""
    return int(os.environ.get("MLWB_THREADS") or 0) or os.cpu_count() or 1


def make_estimator(model: str, task: str, hyperparameters: Mapping[str, Any], seed: int) -> Any:
    """The untrained estimator for `model`, with checked hyperparameters.

    Raises:
        ModelConfigError: unknown model, or a hyperparameter the estimator does not accept.
    """
    if model not in MODELS:
        raise ModelConfigError(f"Unknown model '{model}'. Models: {', '.join(MODELS)}.")
    spec = MODELS[model]
    estimator_class = spec.estimator(task)
    accepted = set(estimator_class().get_params())
    unknown = sorted(set(hyperparameters) - accepted)
    if unknown:
        raise ModelConfigError(
            f"Model '{model}' ({estimator_class.__name__}) does not accept the hyperparameter(s) "
            f"{', '.join(unknown)}. Accepted: {', '.join(sorted(accepted))}."
        )
    settings = {k: v for k, v in spec.defaults.items() if k in accepted}
    if model == "linear" and task == "regression":
        settings.pop("max_iter", None)
    if "random_state" in accepted:
        settings["random_state"] = seed
    if "n_jobs" in accepted and model != "linear":
        settings["n_jobs"] = available_threads()
    settings.update(hyperparameters)
    return estimator_class(**settings)


def check_settings(values: Mapping[str, Any], task: str) -> list[str]:
    """Problems with a train stage's model settings, found before any kernel starts.

    The hyperparameters a model accepts are kept in the cache (`tracking.local_cache`) per
    model, task and version of its library, so that a valid config is checked without
    importing xgboost or scikit-learn (which takes the command line a second or more)."""
    model, hyperparameters = values.get("model", "xgboost"), values.get("hyperparameters", {})
    key = f"{model}:{task}:{_library_version(model)}"
    accepted = (local_cache.read(HYPERPARAMETERS) or {}).get(key)
    known = isinstance(accepted, list) and isinstance(hyperparameters, Mapping)
    if known and set(hyperparameters) <= set(accepted):
        return []
    try:
        estimator = make_estimator(model, task, hyperparameters, seed=0)
    except (ModelConfigError, TypeError, AttributeError) as exc:
        return [str(exc)]
    known = local_cache.read(HYPERPARAMETERS) or {}
    local_cache.write(HYPERPARAMETERS, known | {key: sorted(estimator.get_params())})
    return []


HYPERPARAMETERS = "hyperparameters.json"
"""Cache file: the hyperparameters each model accepts (`check_settings`)."""


def _library_version(model: str) -> str:
    """The version of the library that implements `model` ("" for an unknown model)."""
    if model not in MODELS:
        return ""
    return version("xgboost" if model == "xgboost" else "scikit-learn")


def make_pipeline(
    screening: Any, model: str, task: str, hyperparameters: Mapping[str, Any], seed: int
) -> Any:
    """Column screening (`screening.ColumnScreen`), preprocessing (imputation, one-hot
    encoding, scaling where the model needs it) and the model as one scikit-learn Pipeline
    taking raw rows.

    Imputers keep a column that is empty in every training row (as zeros), so the encoded
    columns always line up with the screened ones.
    """
    # deferred: sklearn (and the screening step, which imports it) are heavy to import
    from sklearn.compose import ColumnTransformer
    from sklearn.impute import SimpleImputer
    from sklearn.pipeline import Pipeline, make_pipeline
    from sklearn.preprocessing import FunctionTransformer, OneHotEncoder, StandardScaler

    from mlworkbench.analysis.screening_step import ColumnScreen

    estimator = make_estimator(model, task, hyperparameters, seed)
    numeric, categorical = screening.features("numeric"), screening.features("categorical")
    if not numeric and not categorical:
        dropped = "; ".join(f"{d.column}: {d.reason}" for d in screening.dropped())
        raise DataError(
            "No feature column is left to train on after screening"
            + (f" ({dropped})" if dropped else "")
            + ". Name columns to use in keep_columns."
        )
    numeric_steps = [SimpleImputer(strategy="median", keep_empty_features=True)]
    if MODELS[model].scale:
        numeric_steps.append(StandardScaler())
    categorical_steps = [
        FunctionTransformer(_as_text, feature_names_out="one-to-one"),
        SimpleImputer(strategy="constant", fill_value="(missing)", keep_empty_features=True),
        OneHotEncoder(handle_unknown="infrequent_if_exist", min_frequency=5, sparse_output=False),
    ]
    preprocess = ColumnTransformer(
        [
            ("numeric", make_pipeline(*numeric_steps), numeric),
            ("categorical", make_pipeline(*categorical_steps), categorical),
        ],
        remainder="drop",
        verbose_feature_names_out=False,
    )
    return Pipeline(
        [
            ("screen", ColumnScreen(screening)),
            ("preprocess", preprocess),
            ("model", estimator),
        ]
    )


def _as_text(values: Any) -> Any:
    """Categorical values as strings (missing stays missing), so mixed types encode alike."""
    frame = pd.DataFrame(values)
    return frame.astype(str).where(frame.notna(), np.nan)


@dataclass
class TrainedModel:
    """A fitted pipeline with what is needed to read its output."""

    pipeline: Any
    classes: list[Any] | None
    threshold: float | None


def encode_target(
    y: pd.Series, task: str, classes: list[Any] | None = None
) -> tuple[np.ndarray, list[Any] | None]:
    """Targets as fitted: 0..K-1 with the original classes (classification), or floats.

    Pass the training set's `classes` to encode other rows the same way.
    """
    if task == "regression":
        return y.to_numpy(dtype=float), None
    if classes is None:
        classes = sorted(y.unique().tolist(), key=lambda v: (str(type(v)), v))
    lookup = {c: i for i, c in enumerate(classes)}
    unknown = set(y.unique()) - set(lookup)
    if unknown:
        raise DataError(f"Class(es) {', '.join(map(repr, unknown))} never seen in training.")
    return y.map(lookup).to_numpy(dtype=int), classes


def fit(pipeline: Any, train: pd.DataFrame, target: str, task: str) -> TrainedModel:
    """Fit `pipeline` on the training rows (the threshold is set afterwards)."""
    y, classes = encode_target(train[target], task)
    pipeline.fit(train.drop(columns=[target]), y)
    return TrainedModel(pipeline, classes, None)


def cross_validate(
    pipeline: Any, train: pd.DataFrame, target: str, task: str, folds: int, seed: int
) -> pd.DataFrame:
    """Mean and spread of the primary metrics over `folds` folds of the training rows."""
    from sklearn.base import clone  # deferred: sklearn is heavy to import
    from sklearn.model_selection import KFold, StratifiedKFold, cross_validate

    y, classes = encode_target(train[target], task)
    if task == "classification":
        splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
        scoring = ["roc_auc" if len(classes) == 2 else "roc_auc_ovr", "accuracy"]
    else:
        splitter = KFold(n_splits=folds, shuffle=True, random_state=seed)
        scoring = ["neg_root_mean_squared_error", "r2"]
    scores = cross_validate(
        clone(pipeline), train.drop(columns=[target]), y, cv=splitter, scoring=scoring
    )
    rows = []
    for name in scoring:
        values = scores[f"test_{name}"]
        sign = -1 if name.startswith("neg_") else 1
        rows.append(
            {
                "metric": "rmse" if name == "neg_root_mean_squared_error" else name,
                "mean": sign * values.mean(),
                "std": values.std(),
                "folds": folds,
            }
        )
    return pd.DataFrame(rows)


def reference_statistics(
    train: pd.DataFrame, target: str, bins: int = 10, personal: Iterable[str] = ()
) -> dict[str, Any]:
    """Per-feature distribution summaries of the training rows, for later drift checks.

    Numeric: quantile bin edges with the share of rows in each bin, mean, std, missing share.
    Categorical: the share of each category (top 50, the rest as `(other)`), missing share.
    Personal (`personal` names them): the missing share and the dtype only, kind `personal`,
    so that no value of a personal column reaches the logged reference.
    """
    personal = {str(c) for c in personal}
    stats: dict[str, Any] = {"rows": len(train), "features": {}}
    for column in train.columns:
        if column == target:
            continue
        values = train[column]
        entry: dict[str, Any] = {
            "missing_share": float(values.isna().mean()),
            "dtype": str(values.dtype),
        }
        present = values.dropna()
        if str(column) in personal:
            entry.update(kind="personal")
        elif pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values):
            present = present[np.isfinite(present.astype(float))]  # infinite counts as missing
            edges = (
                np.unique(np.quantile(present, np.linspace(0, 1, bins + 1)))
                if len(present)
                else np.array([])
            )
            counts = np.histogram(present, bins=edges)[0] if len(edges) > 1 else np.array([])
            entry.update(
                kind="numeric",
                mean=float(present.mean()) if len(present) else None,
                std=float(present.std()) if len(present) > 1 else None,
                bin_edges=edges.tolist(),
                bin_shares=(counts / max(len(present), 1)).tolist(),
            )
        else:
            shares = present.astype(str).value_counts(normalize=True)
            top = shares.head(50)
            categories = {str(k): float(v) for k, v in top.items()}
            if len(shares) > 50:
                categories["(other)"] = float(shares.iloc[50:].sum())
            entry.update(kind="categorical", categories=categories)
        stats["features"][str(column)] = entry
    return stats


def out_of_fold_scores(
    pipeline: Any, train: pd.DataFrame, target: str, seed: int, folds: int = 3
) -> tuple[np.ndarray, np.ndarray]:
    """Encoded labels and out-of-fold positive-class scores of the training rows (binary), so
    a decision threshold is chosen without looking at the test set."""
    from sklearn.base import clone  # deferred: sklearn is heavy to import
    from sklearn.model_selection import StratifiedKFold, cross_val_predict

    y, _ = encode_target(train[target], "classification")
    splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
    proba = cross_val_predict(
        clone(pipeline), train.drop(columns=[target]), y, cv=splitter, method="predict_proba"
    )
    return y, proba[:, 1]
