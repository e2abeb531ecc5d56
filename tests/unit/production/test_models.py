"""Models logged with older code keep loading and predicting the same."""

from __future__ import annotations

import sys
from pathlib import Path

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


def test_a_model_shows_personal_columns_as_pseudonyms_and_does_not_require_them(
    personal_titanic, planted, monkeypatch
):
    """The input example (and so the serving example) holds pseudonyms of the personal
    columns; the signature keeps them, optional, so a batch without them is scored the same."""
    import mlflow

    _, planted_values, columns = planted
    monkeypatch.setenv("MLFLOW_TRACKING_URI", personal_titanic.uri)
    uri = f"models:/{personal_titanic.name}/{personal_titanic.version}"
    info = mlflow.models.get_model_info(uri)
    required = {c.name: c.required for c in info.signature.inputs.inputs}
    assert {c: required[c] for c in columns} == dict.fromkeys(columns, False)
    assert required["age"] and required["fare"]
    folder = Path(mlflow.artifacts.download_artifacts(uri))
    example = (folder / "input_example.json").read_text(encoding="utf-8")
    assert "anon-" in example
    assert not [v for v in planted_values(personal_titanic.test, columns) if v in example]
    model = mlflow.pyfunc.load_model(uri)
    rows = personal_titanic.test.drop(columns=["survived"])
    pd.testing.assert_frame_equal(model.predict(rows), model.predict(rows.drop(columns=columns)))
