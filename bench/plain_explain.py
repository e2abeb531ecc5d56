"""The explain stage's computation in one plain Python process: the benchmark's baseline.

Same model loading, SHAP, PDP/ICE, fairness, error cohorts, counterfactuals, error tree,
calibration, conformal sets, summary and plots (rendered to PNG in memory) as
notebooks/03-explain.ipynb with its defaults, without Papermill, a kernel,
MLflow logging or nbconvert. Reads the newest training run of `experiment` in the project's
store, like the stage does.
"""

from __future__ import annotations

import io
import sys

import matplotlib

matplotlib.use("Agg")

from mlworkbench.analysis import data
from mlworkbench.analysis.explain import assessment, explanation, shapley, summary
from mlworkbench.tracking import store


def render(subject: explanation.Subject, features: list[str]) -> None:
    """The stage's analysis of `subject` with every chart drawn and every table written."""
    analysis = assessment.analyse(subject, features, explanation.ExplainSettings())
    attributions, diagnostics = analysis.attributions, analysis.diagnostics
    figures = [
        shapley.plot_importance(attributions),
        shapley.plot_beeswarm(attributions),
        shapley.plot_dependence(attributions, analysis.top),
        *(
            shapley.plot_waterfall(analysis.local.attributions, i, output, "row")
            for i, output in enumerate(analysis.local.outputs)
        ),
        *(plot.figure for plot in analysis.pdp),
        analysis.interaction.figure,
        diagnostics.error_tree.figure(subject.kind),
        *(figure for figure, _ in diagnostics.calibration.figures()),
    ]
    for figure in figures:
        figure.savefig(io.BytesIO(), format="png")
    tables = [analysis.cohorts, analysis.interactions, *analysis.groups.values()]
    tables += [diagnostics.counterfactuals.table, diagnostics.error_tree.leaves]
    tables += [diagnostics.calibration.table, diagnostics.uncertainty.table]
    print(sum(len(t.to_csv()) for t in tables), len(summary.summary_sentences(analysis)))


def main(source: str, target: str, experiment: str, sensitive: str) -> None:
    """Explain the newest trained model of `experiment` on its test rows."""
    import mlflow

    from mlworkbench.reports import elements

    elements.prepare_notebook()
    mlflow.set_tracking_uri(store.tracking_uri())
    features = sensitive.split(",")
    frame = data.load_dataset(source, target, "classification", features, {"na_values": ["?"]})
    render(explanation.load_subject(frame, target, "classification", "", "", experiment), features)


if __name__ == "__main__":
    main(*sys.argv[1:5])
