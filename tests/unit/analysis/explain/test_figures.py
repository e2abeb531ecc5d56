"""The explain report's charts and the artifact files they are stored as."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
from matplotlib.figure import Figure

from mlworkbench.analysis.explain import figures


def _files(pairs) -> list[str]:
    names = []
    for figure, artifact_file in pairs:
        assert isinstance(figure, Figure)
        plt.close(figure)
        names.append(artifact_file)
    return names


def test_shap_figures_are_the_importance_then_one_beeswarm_per_output(analysis):
    assert _files(figures.shap_figures(analysis.attributions)) == [
        "plots/shap_importance.png",
        "plots/shap_beeswarm_1.png",
    ]


def test_one_waterfall_per_picked_row(analysis):
    assert _files(figures.waterfall_figures(analysis)) == [
        f"plots/waterfall_{n}.png" for n in range(1, 5)
    ]


def test_dependence_figures_are_named_by_their_features(analysis):
    pairs = list(figures.dependence_figures(analysis))
    first, second = analysis.top
    assert [f for _, f in pairs] == [
        f"plots/pdp_{first}.png",
        f"plots/pdp_{second}.png",
        f"plots/pdp_{first}_{second}.png",
    ]
    assert [p for p, _ in pairs] == analysis.dependence_plots()
