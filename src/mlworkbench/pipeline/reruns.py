"""Exact reruns: repeat a pipeline run from the config snapshot logged with it and check that
every metric comes out the same.

Same data (checked by digest), seed and package versions must give identical metrics.
"""

from __future__ import annotations

import json
import math
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mlworkbench.exceptions import DataChangedError, RunNotFoundError
from mlworkbench.pipeline.config import load_config
from mlworkbench.pipeline.reuse import original_run_id
from mlworkbench.pipeline.runner import PipelineRunner
from mlworkbench.tracking import store
from mlworkbench.tracking.tags import (
    TAG_CONFIG,
    TAG_DIGEST,
    TAG_PACKAGES,
    TAG_PIPELINE,
    TAG_REPRODUCED,
    TAG_RERUN_OF,
)


@dataclass
class MetricCheck:
    """One metric of one stage, before and after."""

    stage: str
    metric: str
    before: float
    after: float | None

    @property
    def reproduced(self) -> bool:
        """True when the rerun gave exactly the same value."""
        if self.after is None:
            return False
        both_nan = math.isnan(self.before) and math.isnan(self.after)
        return both_nan or self.before == self.after


@dataclass
class RerunReport:
    """The original and the new pipeline run, and every metric compared."""

    original: str
    rerun: str
    checks: list[MetricCheck]
    versions_changed: dict[str, tuple[str, str]]

    @property
    def reproduced(self) -> bool:
        """True when every metric of every stage came out identical."""
        return bool(self.checks) and all(c.reproduced for c in self.checks)


def pipeline_run(client: Any, run_id: str) -> Any:
    """The parent pipeline run of `run_id` (itself, or the parent of a stage run)."""
    try:
        run = client.get_run(run_id)
    except Exception as exc:
        raise RunNotFoundError(f"Run '{run_id}' is not in {client.tracking_uri}.") from exc
    if run.data.tags.get(TAG_PIPELINE) == "stage":
        return client.get_run(run.data.tags["mlflow.parentRunId"])
    if run.data.tags.get(TAG_PIPELINE) != "true":
        raise RunNotFoundError(f"Run '{run_id}' was not made by `mlwb run`; nothing to repeat.")
    return run


def stage_metrics(client: Any, parent_id: str, experiment_id: str) -> dict[str, dict]:
    """The metrics of each stage run of a pipeline run, by stage name (a reused stage's are
    those of the run it reused)."""

    children = client.search_runs([experiment_id], f"tags.`mlflow.parentRunId` = '{parent_id}'")
    return {
        c.info.run_name: (
            c.data.metrics
            if original_run_id(c) == c.info.run_id
            else client.get_run(original_run_id(c)).data.metrics
        )
        for c in children
    }


def rerun(
    run_id: str, project_root: Path, echo: Callable[[str], None] = print, progress: bool = True
) -> RerunReport:
    """Repeat the pipeline run `run_id`, executing every stage (nothing reused), and compare
    every metric with the original.

    Raises:
        RunNotFoundError: no such pipeline run.
        DataChangedError: the data's digest differs from the one recorded with the run.
    """

    client = store.open_client(store.tracking_uri(project_root))
    original = pipeline_run(client, run_id)
    tags = original.data.tags
    label = tags.get(TAG_CONFIG, "")
    snapshots = client.list_artifacts(original.info.run_id, "config")
    if not snapshots:
        raise RunNotFoundError(f"Run {original.info.run_id} has no config snapshot to repeat.")
    with tempfile.TemporaryDirectory(prefix="mlwb-rerun-") as folder:
        local = Path(client.download_artifacts(original.info.run_id, snapshots[0].path, folder))
        base = (project_root / label).parent if label else project_root
        config = load_config(local, base_dir=base)
        if config.data_digest != tags.get(TAG_DIGEST):
            raise DataChangedError(
                f"The data of run {original.info.run_id} has changed: its digest was "
                f"{tags.get(TAG_DIGEST)}, it is now {config.data_digest} "
                f"({config.data.source}). An exact rerun needs the same data."
            )
        stages = [s for s in original.data.params.get("stages", "").split(",") if s]
        runner = PipelineRunner(
            config, project_root, echo=echo, progress=progress, config_label=label, force="all"
        )
        result = runner.run(stages)
    before = stage_metrics(client, original.info.run_id, original.info.experiment_id)
    after = stage_metrics(client, result.run_id, original.info.experiment_id)
    checks = [
        MetricCheck(stage, name, value, after.get(stage, {}).get(name))
        for stage, metrics in sorted(before.items())
        for name, value in sorted(metrics.items())
    ]
    old_versions = json.loads(tags.get(TAG_PACKAGES, "{}"))
    new_versions = json.loads(runner.base_tags[TAG_PACKAGES])
    changed = {
        k: (old_versions.get(k, "?"), v)
        for k, v in new_versions.items()
        if old_versions.get(k) != v
    }
    report = RerunReport(original.info.run_id, result.run_id, checks, changed)
    client.set_tag(result.run_id, TAG_RERUN_OF, original.info.run_id)
    client.set_tag(result.run_id, TAG_REPRODUCED, str(report.reproduced).lower())
    return report
