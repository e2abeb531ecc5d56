"""What the explain stage records in the active MLflow run besides its report: the tables
behind every section (counterfactuals, error-tree leaves, calibration and conformal coverage
included), the fairness gates (`fairness/gates.json`, in the format that the
governance stage reads), gap metrics, gate tags and the key figures of the report index."""

from __future__ import annotations

from mlworkbench.analysis.explain import fairness
from mlworkbench.analysis.explain.assessment import Analysis
from mlworkbench.analysis.explain.diagnostics import Diagnostics
from mlworkbench.tracking import store


def log_analysis(analysis: Analysis) -> None:
    """Log `analysis`'s tables, gates, metrics, tags and key figures to the active run."""
    store.log_table(analysis.proxies, "fairness/proxies.csv")
    store.log_table(
        analysis.attributions.importance().reset_index(names="feature"),
        "tables/shap_importance.csv",
    )
    store.log_table(analysis.interactions, "tables/interactions.csv")
    for name, table in analysis.groups.items():
        store.log_table(table, f"fairness/groups_{store.safe_name(name)}.csv")
    store.log_json(analysis.gates, "fairness/gates.json")
    store.log_table(analysis.cohorts, "tables/error_cohorts.csv")
    store.log_table(analysis.disparities, "fairness/disparities.csv")
    store.log_metrics(fairness.disparity_metrics(analysis.disparities))
    store.set_tags(fairness.gate_tags(analysis.gates))
    store.log_key_figures(fairness.gate_counts(analysis.gates))
    log_diagnostics(analysis.diagnostics)


def log_diagnostics(diagnostics: Diagnostics) -> None:
    """Log the tables and metrics of the counterfactuals, error tree, calibration and
    conformal prediction to the active run."""
    store.log_table(diagnostics.counterfactuals.table, "tables/counterfactuals.csv")
    store.log_table(diagnostics.error_tree.leaves, "tables/error_tree_leaves.csv")
    store.log_table(diagnostics.calibration.table, "tables/calibration.csv")
    store.log_table(diagnostics.uncertainty.table, "tables/conformal.csv")
    store.log_metrics(diagnostics.metrics())
