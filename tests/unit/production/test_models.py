"""Models logged with older code keep loading and predicting the same."""

from __future__ import annotations

import sys

import pandas as pd
from helpers import REPO

FIXTURE = REPO / "tests" / "fixtures" / "models" / "pre-subpackages"


def test_a_model_logged_with_the_flat_package_layout_predicts_as_it_did(monkeypatch):
    """The fixture's pickle names `mlworkbench.models`, `mlworkbench.screening` and
    `mlworkbench.training`, modules that moved into subpackages: after `import mlworkbench`
    the old names lead to the new modules, and the predictions are those recorded."""
    import mlflow

    import mlworkbench

    monkeypatch.setattr(sys, "path", list(sys.path))  # loading prepends the model's code/
    model = mlflow.pyfunc.load_model(str(FIXTURE))
    rows = pd.read_csv(FIXTURE / "rows.csv")
    expected = pd.read_csv(FIXTURE / "expected.csv")
    predicted = model.predict(rows)
    screen = model.unwrap_python_model().pipeline.named_steps["screen"]
    assert type(screen).__module__ == "mlworkbench.analysis.screening"  # not the fixture's code
    assert sys.modules["mlworkbench"] is mlworkbench
    assert list(predicted.columns) == list(expected.columns)
    assert list(predicted["prediction"]) == list(expected["prediction"])
    pd.testing.assert_frame_equal(
        predicted[["probability_0", "probability_1"]].astype(float),
        expected[["probability_0", "probability_1"]],
        check_exact=False,
        rtol=1e-6,
        atol=0,
    )
