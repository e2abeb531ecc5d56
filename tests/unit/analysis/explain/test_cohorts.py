"""Error cohorts, worst supported cohort first."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from mlworkbench.analysis.explain import (
    cohorts,
)


def test_error_cohorts_put_the_worst_supported_cohort_first():
    rows = pd.DataFrame(
        {"age": np.arange(200) % 50 + 20, "kind": ["x"] * 100 + ["y"] * 95 + ["z"] * 5}
    )
    y = np.zeros(200, dtype=int)
    predicted = np.where(rows["kind"] == "y", (np.arange(200) % 2), 0)
    predicted[195:] = 1  # z: always wrong, but only 5 rows
    table = cohorts.error_cohorts(rows, y, predicted, "binary", bins=5, min_size=30)
    first = table.iloc[0]
    assert (first["feature"], first["cohort"]) == ("kind", "y")
    assert first["error"] == pytest.approx(47 / 95, abs=0.01)
    tiny = table[(table.feature == "kind") & (table.cohort == "z")].iloc[0]
    assert not tiny["enough_rows"] and tiny["error"] == 1.0
    assert table.index[table.cohort == "z"][0] > table.index[table.enough_rows].max()
    labels = cohorts.cohort_labels(rows["age"], bins=5)
    assert labels.iloc[0] == "20-29" and labels.max() == "60-69"
