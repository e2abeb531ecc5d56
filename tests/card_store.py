"""A model version judged by the card stage, logged in a real MLflow store the way the train,
explain and card stages log it (real dataset inputs, real fairness tables and gates, the real
promotion records), without kernels or a model file: what the card exports read."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any, NamedTuple

import mlflow
import numpy as np
import pandas as pd

from mlworkbench.analysis.explain import fairness
from mlworkbench.governance import promotion
from mlworkbench.reports.card_page import governance_record
from mlworkbench.tracking import datasets
from mlworkbench.tracking.store import safe_name
from mlworkbench.tracking.tags import (
    TAG_DECISION,
    TAG_FAIRNESS,
    TAG_MODEL,
    TAG_PACKAGES,
    TAG_REPORT,
    TAG_STAGE,
    TAG_TRAIN_RUN,
)

ANSWERS = {
    "owner": "Risk team",
    "contact": "risk@example.org",
    "intended_use": "Prioritise manual review of loan applications.",
    "intended_users": "Credit officers.",
    "out_of_scope_uses": "Automatic rejection.",
    "eu_ai_act_risk_category": "high",
    "risk_assessment": {
        "worst_case": "Systematic denial of credit to a protected group.",
        "human_oversight": "A credit officer decides.",
    },
}
PACKAGES = {"mlworkbench": "0.1.0", "scikit-learn": "1.9.1", "pandas": "2.3.3"}
REPORT = "credit/20260101-000000-pipe/04-model-card.html"
CARD_PAGE = (
    "<html><head><title>card</title></head><body><h1>Model card</h1>"
    "<table><tr><th>metric</th><th>value</th></tr><tr><td>roc_auc</td><td>0.75</td></tr>"
    "</table></body></html>"
)


class Judged(NamedTuple):
    version: Any
    train_id: str
    explain_id: str
    card_id: str
    tables: dict[str, pd.DataFrame]
    gates: list[dict[str, Any]]
    digests: dict[str, str]


def credit_frame(rows: int = 400) -> pd.DataFrame:
    """Applicants with a sex, an age, a loan duration and the outcome."""
    rng = np.random.default_rng(0)
    return pd.DataFrame(
        {
            "sex": rng.choice(["female", "male"], rows),
            "age": rng.integers(19, 75, rows),
            "duration": rng.integers(6, 72, rows),
            "risk": rng.integers(0, 2, rows),
        }
    )


def log_train(experiment_id: str, folder: Path, frame: pd.DataFrame) -> tuple[str, dict]:
    """A train run: parameters, metrics, the screening and the train and test rows."""
    source = folder / "credit.csv"
    frame.to_csv(source, index=False)
    tags = {TAG_STAGE: "train", TAG_PACKAGES: json.dumps(PACKAGES)}
    with mlflow.start_run(experiment_id=experiment_id, tags=tags) as run:
        mlflow.log_params(
            {
                "model": "xgboost",
                "hyperparameters.max_depth": 3,
                "data.source": str(source),
                "data.target": "risk",
                "data.task": "classification",
            }
        )
        mlflow.log_metrics(
            {"roc_auc": 0.75, "baseline_roc_auc": 0.5, "lift_roc_auc": 0.25, "f1": 0.7}
        )
        mlflow.log_metric("decision_threshold", 0.42)
        mlflow.log_dict(
            {
                "target": "risk",
                "columns": [
                    {"column": "sex", "action": "drop", "reason": "named in drop_columns"},
                    {"column": "age", "action": "use", "kind": "numeric"},
                    {"column": "duration", "action": "use", "kind": "numeric"},
                ],
            },
            "screening/columns.json",
        )
        digests = {
            name: datasets.log_dataset_input(rows, str(source), "risk", name, context)
            for name, rows, context in (
                ("train", frame.iloc[:300], "training"),
                ("test", frame.iloc[300:], "test"),
            )
        }
    return run.info.run_id, digests


def log_explain(experiment_id: str, train_id: str, test: pd.DataFrame) -> tuple[str, dict, list]:
    """An explain run: the real group tables and gates of predictions on the test rows."""
    rng = np.random.default_rng(1)
    score = rng.random(len(test))
    groups = fairness.sensitive_groups(test, ["sex", "age"])
    tables = {
        feature: fairness.group_table(
            test["risk"].to_numpy(), (score > 0.5).astype(int), score, groups[feature], "binary", 10
        )
        for feature in groups.columns
    }
    gates = fairness.evaluate_gates(tables, "binary", {"demographic_parity_ratio": 0.8})
    tags = {
        TAG_STAGE: "explain",
        TAG_TRAIN_RUN: train_id,
        TAG_FAIRNESS: fairness.overall_status(gates),
    }
    with mlflow.start_run(experiment_id=experiment_id, tags=tags) as run:
        for feature, table in tables.items():
            mlflow.log_text(table.to_csv(index=False), f"fairness/groups_{safe_name(feature)}.csv")
        mlflow.log_dict(gates, "fairness/gates.json")
    return run.info.run_id, tables, json.loads(json.dumps(gates))


def log_judged_version(
    client: Any, experiment_id: str, folder: Path, name: str = "credit-model", promote=True
) -> Judged:
    """Train, register, explain and judge one version of `name` (promoted or rejected)."""
    frame = credit_frame()
    train_id, digests = log_train(experiment_id, folder, frame)
    if not client.search_registered_models(f"name = '{name}'"):
        client.create_registered_model(name)
    version = client.create_model_version(name, f"runs:/{train_id}/model", run_id=train_id)
    explain_id, tables, gates = log_explain(experiment_id, train_id, frame.iloc[300:])
    decision = promotion.Decision(
        version.version, [promotion.Check("quality roc_auc", promote, "0.7500 >= 0.7 required")]
    )
    tags = {
        TAG_STAGE: "card",
        TAG_DECISION: decision.label,
        TAG_MODEL: f"{name}/{version.version}",
        TAG_REPORT: REPORT,
    }
    with mlflow.start_run(experiment_id=experiment_id, tags=tags) as card:
        mlflow.log_dict(governance_record(ANSWERS, "config.yaml"), "card/governance.json")
        mlflow.log_text(CARD_PAGE, "report/04-model-card.html")
    promotion.apply(client, name, decision, card.info.run_id)
    promotion.attach_card(client, name, version.version, "# Model card", card.info.run_id)
    judged = client.get_model_version(name, version.version)
    return Judged(judged, train_id, explain_id, card.info.run_id, tables, gates, digests)


def new_store(folder: Path, empty: Path) -> tuple[Any, str]:
    """A copy of the `empty` SQLite store in `folder` (as a project's `mlflow.db`), set as the
    tracking store, and an experiment in it."""
    shutil.copy(empty, folder / "mlflow.db")
    uri = f"sqlite:///{folder}/mlflow.db"
    mlflow.set_tracking_uri(uri)
    client = mlflow.MlflowClient(uri)
    return client, client.create_experiment("credit", (folder / "artifacts").as_uri())
