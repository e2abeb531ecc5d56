"""What a pipeline run produced, and the values each stage receives: the parameters the runner
injects and the one-paragraph failure message."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mlworkbench.pipeline.config import PipelineConfig, Stage
from mlworkbench.pipeline.contracts import read_contract


@dataclass
class StageResult:
    """What happened to one stage."""

    stage: str
    run_id: str
    status: str
    notebook: Path
    html: Path | None
    seconds: float
    error: str = ""
    """Why it failed, or, when SKIPPED, which failed stage it needed."""
    reused_from: str = ""
    """The earlier run this stage reused (its inputs were unchanged), or empty."""


@dataclass
class PipelineResult:
    """What happened to one pipeline run."""

    run_id: str
    experiment: str
    status: str
    tracking_uri: str
    run_dir: Path
    index: Path | None = None
    stages: list[StageResult] = field(default_factory=list)


def stage_parameters(config: PipelineConfig, stage: Stage, runner_values: dict[str, Any]) -> dict:
    """The parameters a stage receives: its config section plus the runner's and data values.

    Runner and data values are passed only where the notebook declares them, so a small
    notebook need not declare every setting; config values were validated against the contract.
    """
    declared = read_contract(stage.notebook)
    injected = {
        **config.data.as_parameters(),
        "column_screening": screening_settings(config),
        **runner_values,
    }
    return {
        **{k: v for k, v in injected.items() if k in declared},
        **config.stages.get(stage.name, {}),
    }


SCREENING_KEYS = ("drop_columns", "keep_columns", "max_categories")
"""Train-stage settings that decide the column screening, which the EDA report shows."""


def screening_settings(config: PipelineConfig) -> dict[str, Any]:
    """The train stage's screening settings, for notebooks that declare `column_screening`
    (the EDA shows what training will do with each column)."""
    train = config.stages.get("train") or {}
    return {key: train[key] for key in SCREENING_KEYS if key in train}


def relative_label(path: Path, root: Path) -> str:
    """`path` relative to the project root where it lies inside it, else absolute."""
    try:
        return str(path.relative_to(root))
    except ValueError:
        return str(path)


def failure_message(stage: Stage, exc: Any, partial: Path, html: Path | None) -> str:
    """One paragraph naming the notebook, the cell, the exception and the partial output."""
    cell = f"code cell In [{exc.exec_count}]" if getattr(exc, "exec_count", None) else "a cell"
    first_line = next((line for line in (exc.source or "").splitlines() if line.strip()), "")
    if first_line:
        cell += f" (which starts `{first_line.strip()[:60]}`)"
    where = f" (HTML: {html})" if html else ""
    return (
        f"Stage '{stage.name}' failed in notebook {stage.notebook.name}, {cell}: "
        f"{exc.ename}: {str(exc.evalue).rstrip('.')}. "
        f"The partially executed notebook is kept at {partial}{where}."
    )
