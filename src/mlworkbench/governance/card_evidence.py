"""The card's evidence: the eda, train and explain runs it describes, the registered version
their training created, and what those runs logged (findings, fairness gates, SHAP ranking)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pandas as pd

from mlworkbench.analysis.explain import fairness
from mlworkbench.exceptions import ExplainInputError
from mlworkbench.governance.checklist import Evidence
from mlworkbench.tracking import store as tr
from mlworkbench.tracking.tags import TAG_REPORT, TAG_TRAIN_RUN

# Deferred imports: mlflow loads inside the functions that use them, so that importing this module
# (from the command line or a notebook) stays fast.

STAGES = ("eda", "train", "explain")


def stage_runs(client: Any, experiment: str, run_ids: dict[str, str]) -> dict[str, Any]:
    """The eda, train and explain runs the card describes: those of this pipeline run when
    given, else the newest finished ones in the experiment, the explain run being one that
    explained this training run (None where there is none)."""
    runs = {s: client.get_run(run_ids[s]) if run_ids.get(s) else None for s in STAGES}
    if runs["train"] is None:
        train_id = tr.latest_stage_run(client, experiment, "train")
        if not train_id:
            raise ExplainInputError(
                f"Experiment '{experiment}' has no finished training run to describe: run the "
                "train stage first."
            )
        runs["train"] = client.get_run(train_id)
    if runs["eda"] is None:
        eda_id = tr.latest_stage_run(client, experiment, "eda")
        runs["eda"] = client.get_run(eda_id) if eda_id else None
    if runs["explain"] is None:
        explain_id = tr.latest_stage_run(
            client, experiment, "explain", f"tags.`{TAG_TRAIN_RUN}` = '{runs['train'].info.run_id}'"
        )
        runs["explain"] = client.get_run(explain_id) if explain_id else None
    return runs


def model_version(client: Any, train_run: Any) -> Any:
    """The registered model version the training run created."""
    (version,) = client.search_model_versions(f"run_id = '{train_run.info.run_id}'")
    return version


def evidence(run: Any, path: str, report_dir: Path) -> Evidence | None:
    """An artifact of `run` as evidence, with a link to the run's report relative to the
    card's own report folder; None when there is no run."""
    if run is None:
        return None
    report = run.data.tags.get(TAG_REPORT, "")
    href = os.path.relpath(report_dir.parents[1] / report, report_dir) if report else ""
    return Evidence(f"runs:/{run.info.run_id}/{path}", Path(href).as_posix() if href else "")


def report_artifact(run: Any) -> str:
    """The path of a run's HTML report among its artifacts."""
    return f"report/{Path(run.data.tags.get(TAG_REPORT, 'report.html')).name}"


def eda_findings(run: Any) -> list[str]:
    """The data-quality findings the EDA run logged (older runs logged only their count)."""
    logged = tr.artifact_dict(run.info.run_id, "eda/findings.json")
    if logged is not None:
        return logged["findings"]
    count = int(run.data.metrics.get("quality_findings", 0))
    return [f"{count} finding(s); see the EDA report"] if count else []


def primary_metric(run: Any) -> str:
    """The metric a training run is judged by, for runs that did not tag it: the first of
    roc_auc, roc_auc_ovr and rmse it logged (empty when none)."""
    return next((m for m in ("roc_auc", "roc_auc_ovr", "rmse") if m in run.data.metrics), "")


def fairness_gates(explained: Any) -> list[dict[str, Any]]:
    """The fairness gates the explain run judged (none without an explain run)."""
    import mlflow  # deferred: importing mlflow takes seconds

    if explained is None:
        return []
    return mlflow.artifacts.load_dict(f"runs:/{explained.info.run_id}/fairness/gates.json")


def fairness_thresholds(explained: Any) -> dict[str, float]:
    """The fairness thresholds the explain run used (logged flattened as parameters), or the
    defaults when it logged none."""
    prefix = "fairness_thresholds."
    params = explained.data.params if explained else {}
    logged = {k[len(prefix) :]: float(v) for k, v in params.items() if k.startswith(prefix)}
    return logged or dict(fairness.DEFAULT_THRESHOLDS)


def logged_top_features(explained: Any) -> list[str]:
    """The five most important features by SHAP that the explain run logged (none without
    an explain run)."""
    import mlflow  # deferred: importing mlflow takes seconds

    if explained is None:
        return []
    path = mlflow.artifacts.download_artifacts(
        f"runs:/{explained.info.run_id}/tables/shap_importance.csv"
    )
    return pd.read_csv(path)["feature"].head(5).tolist()
