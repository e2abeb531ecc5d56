"""Champion against challenger: the current champion's model scored on the challenger's test
rows, side by side with the challenger (metrics, fairness gaps, top SHAP features).

Reading the champion fails closed: a registry that cannot say which version is the champion,
or a champion whose model cannot be loaded, gives a blocking check, never "no champion".
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import pandas as pd

from mlworkbench.analysis import evaluation
from mlworkbench.analysis.explain import explanation, fairness, shapley
from mlworkbench.exceptions import ExplainInputError
from mlworkbench.governance import promotion
from mlworkbench.governance.card_types import CardSettings


def subject_metrics(subject: explanation.Subject) -> dict[str, float]:
    """Test metrics of a subject's model on its rows."""
    scores, _ = explanation.predictions(subject)
    if subject.kind == "regression":
        return evaluation.regression_metrics(subject.y, scores)
    cut = subject.threshold if subject.threshold is not None else 0.5
    return evaluation.classification_metrics(subject.y, scores, cut)


def fairness_gaps(
    subject: explanation.Subject, sensitive: list[str], thresholds: dict[str, float]
) -> dict[str, float]:
    """The value of every fairness gate of a subject's model, by `<feature>: <gate>`."""
    _, predicted = explanation.predictions(subject)
    groups = fairness.sensitive_groups(subject.rows, [f for f in sensitive if f in subject.rows])
    tables = {
        name: fairness.group_table(subject.y, predicted, None, groups[name], subject.kind)
        for name in groups.columns
    }
    gates = fairness.evaluate_gates(tables, subject.kind, thresholds)
    return {f"{g['feature']}: {g['gate']}": g["value"] for g in gates}


def top_features(subject: explanation.Subject, rows: int, seed: int) -> list[str]:
    """The five most important features by SHAP on a sample of `rows` test rows."""
    sample = explanation.sample(subject.rows, rows, seed)
    attributions = shapley.compute(
        subject.pipeline, sample, subject.kind, subject.classes, sample.head(100)
    )
    return list(attributions.importance().index[:5])


def figure(value: Any) -> str:
    """A measure in the comparison table: four decimals, a dash when there is none."""
    if value is None or (isinstance(value, float) and not np.isfinite(value)):
        return "-"
    return f"{value:.4f}"


def compare_with_champion(
    challenger: explanation.Subject,
    champion_uri: str,
    sensitive: list[str],
    thresholds: dict[str, float],
    settings: CardSettings,
) -> tuple[pd.DataFrame, dict[str, float]]:
    """Champion and challenger on the same test rows: metrics, fairness gaps and top features
    side by side, and the champion's metrics."""
    model, _ = explanation.load_workbench_model(champion_uri)
    champion = replace(
        challenger, pipeline=model.pipeline, classes=model.classes, threshold=model.threshold
    )
    rows = []
    champion_metrics = subject_metrics(champion)
    for label, pair in (
        ("metric", (subject_metrics(challenger), champion_metrics)),
        (
            "fairness gap",
            (
                fairness_gaps(challenger, sensitive, thresholds),
                fairness_gaps(champion, sensitive, thresholds),
            ),
        ),
    ):
        for name in pair[0]:
            rows.append(
                {
                    "measure": f"{label}: {name}",
                    "challenger": figure(pair[0].get(name)),
                    "champion": figure(pair[1].get(name)),
                }
            )
    tops = [
        top_features(s, settings.comparison_rows, settings.seed) for s in (challenger, champion)
    ]
    for rank, (a, b) in enumerate(zip(*tops, strict=False), start=1):
        rows.append({"measure": f"top feature {rank} (SHAP)", "challenger": a, "champion": b})
    return pd.DataFrame(rows), champion_metrics


@dataclass
class Challenge:
    """The challenger against the current champion.

    Attributes:
        champion: the champion's model version; None when there is none or it is unreadable.
        table: the side-by-side comparison; None when nothing was compared (no champion, the
            challenger is the champion, or the champion could not be read).
        metrics: the champion's test metrics on the challenger's rows, when compared.
        unreadable: a blocking `champion` check when the champion could not be read.
    """

    champion: Any = None
    table: pd.DataFrame | None = None
    metrics: dict[str, float] = field(default_factory=dict)
    unreadable: promotion.Check | None = None

    def champion_check(self, metric: str, value: float, margin: float) -> promotion.Check:
        """The decision's `champion` check: blocking when the champion was unreadable, else
        the challenger's `value` of `metric` against the champion's, when compared."""
        if self.unreadable is not None:
            return self.unreadable
        compared = self.table is not None
        return promotion.champion_check(
            metric,
            value,
            self.metrics.get(metric) if compared else None,
            self.champion.version if compared else None,
            margin,
        )


def challenge(
    client: Any,
    version: Any,
    subject: explanation.Subject,
    sensitive: list[str],
    thresholds: dict[str, float],
    settings: CardSettings,
) -> Challenge:
    """Compare the challenger `version` (its `subject`) with the current champion of its
    registered model, failing closed when the champion cannot be read or loaded."""
    champion, unreadable = promotion.read_champion(client, version.name)  # fails closed
    if champion is None or champion.version == version.version:
        return Challenge(champion, unreadable=unreadable)
    try:
        table, metrics = compare_with_champion(
            subject, f"models:/{version.name}/{champion.version}", sensitive, thresholds, settings
        )
    except ExplainInputError as exc:  # the champion's model cannot be loaded
        return Challenge(champion, unreadable=promotion.unreadable_champion(exc))
    return Challenge(champion, table, metrics)
