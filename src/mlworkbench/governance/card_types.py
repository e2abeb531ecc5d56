"""The model card's data: the stage's settings and inputs, the card's sections and the card.

They live in governance, beside the code that fills them, so `reports.card_page` renders them
without governance ever importing reports.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from mlworkbench.governance import privacy, promotion
from mlworkbench.governance.checklist import Item


@dataclass(frozen=True)
class CardSettings:
    """The card stage's parameters (see notebooks/04-model-card.ipynb)."""

    quality_thresholds: dict[str, float] = field(default_factory=dict)
    missing_blocks: bool = True
    champion_margin: float = 0.0
    comparison_rows: int = 500
    seed: int = 42
    production_thresholds: dict[str, float] = field(default_factory=lambda: {"p95_ms": 50.0})
    require_signoff: bool = False

    def stage_params(self, data_source: str, data_target: str) -> dict[str, Any]:
        """The parameters the card run logs: the data it read and these settings."""
        return {"data": {"source": data_source, "target": data_target}, **asdict(self)}


@dataclass(frozen=True)
class CardInputs:
    """What the card describes: the runs of one pipeline run and the data they used.

    Attributes:
        experiment: MLflow experiment of the runs.
        run_ids: the eda, train and explain run ids of this pipeline run; an empty or absent
            id means the newest finished run of that stage in the experiment.
        frame: the whole dataset, target included.
        target: the column the model predicts.
        task: classification or regression.
        sensitive: the columns that describe people.
        answers: the config's `governance:` section (human answers and waivers).
        card_run_id: the card's own run, where its evidence is logged.
        report_dir: the folder of the card's report, to link the other stages' reports.
        privacy: the config's `privacy:` section (`personal_columns`, `not_personal`), which
            decides the personal columns of training runs older than their own record of them.
    """

    experiment: str
    run_ids: dict[str, str]
    frame: pd.DataFrame
    target: str
    task: str
    sensitive: list[str]
    answers: dict[str, Any]
    card_run_id: str
    report_dir: Path
    privacy: dict[str, Any] = field(default_factory=dict)


@dataclass
class Section:
    """A part of the card: a title, sentences and an optional table."""

    title: str
    sentences: list[str] = field(default_factory=list)
    table: pd.DataFrame | None = None
    anchor: str = ""


@dataclass
class ModelCard:
    """Everything the card shows, the decision, and the privacy review (`card/privacy.json`)."""

    name: str
    version: str
    sections: list[Section]
    items: list[Item]
    decision: promotion.Decision
    privacy_review: privacy.Review = field(default_factory=privacy.Review)
