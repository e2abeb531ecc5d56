"""The explain report's charts, each drawn when asked for and paired with the artifact file
it is stored as (`plots/...png`), so the notebook only publishes them one by one."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from mlworkbench.analysis.explain import dependence, shapley
from mlworkbench.analysis.explain.assessment import Analysis
from mlworkbench.analysis.explain.summary import local_title
from mlworkbench.tracking.store import safe_name


def shap_figures(attributions: shapley.Attributions) -> Iterator[tuple[Any, str]]:
    """The SHAP importance bars, then one beeswarm per explained output (class)."""
    yield shapley.plot_importance(attributions), "plots/shap_importance.png"
    for k, output in enumerate(attributions.outputs):
        yield shapley.plot_beeswarm(attributions, k), f"plots/shap_beeswarm_{safe_name(output)}.png"


def waterfall_figures(analysis: Analysis) -> Iterator[tuple[Any, str]]:
    """One waterfall chart per picked row, titled with why it was picked."""
    local = analysis.local
    for position, output in enumerate(local.outputs):
        title = local_title(analysis, position)
        figure = shapley.plot_waterfall(local.attributions, position, output, title)
        yield figure, f"plots/waterfall_{position + 1}.png"


def dependence_figures(analysis: Analysis) -> Iterator[tuple[dependence.DependencePlot, str]]:
    """The PDP/ICE plots of the top features and the interaction plot, with their files;
    a plot's `note` says when it fell back to a simpler chart."""
    for plot in analysis.dependence_plots():
        yield plot, f"plots/pdp_{safe_name('_'.join(plot.features))}.png"
