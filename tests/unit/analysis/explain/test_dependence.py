"""PDP/ICE drawing and the strongest interaction, on real fitted models."""

from __future__ import annotations

import numpy as np
import pandas as pd
from helpers import fit_small as fitted

from mlworkbench.analysis.explain import (
    dependence,
)


def test_pdpbox_draws_numeric_and_categorical_features_and_falls_back_when_it_cannot(
    german_checked,
):
    frame = german_checked.assign(constant=5)
    trained = fitted(frame, "linear")
    rows = frame.drop(columns=["risk"]).head(150)
    for feature in ("age", "purpose"):
        plot = dependence.pdp_ice(trained.pipeline, rows, feature, "binary", [0, 1], 6, 20)
        assert plot.engine == "pdpbox" and not plot.note
    fallback = dependence.pdp_ice(trained.pipeline, rows, "constant", "binary", [0, 1], 6, 20)
    assert fallback.engine == "scikit-learn"
    assert "pdpbox could not draw constant" in fallback.note
    pair = dependence.interaction_plot(
        trained.pipeline, rows, ("purpose", "age"), "binary", [0, 1], 5
    )
    assert pair.engine == "pdpbox"


def test_the_strongest_pair_is_the_one_the_model_multiplies():
    rng = np.random.default_rng(0)
    rows = pd.DataFrame(rng.uniform(-1, 1, size=(300, 3)), columns=["a", "b", "c"])

    def predict(frame):
        return (frame["a"] * frame["b"] + frame["c"]).to_numpy()

    pair, table = dependence.strongest_pair(predict, rows, ["a", "b", "c"])
    assert set(pair) == {"a", "b"}
    assert table.iloc[0]["h_squared"] > 0.9
    assert table.iloc[-1]["h_squared"] < 0.01
