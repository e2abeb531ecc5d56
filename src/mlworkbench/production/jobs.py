"""One-stage jobs outside any pipeline config: batch scoring and monitoring run their notebook
as a tracked pipeline run of one stage, never reused (their output is the point)."""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from mlworkbench.analysis.data import DataSpec
from mlworkbench.exceptions import MlwbError
from mlworkbench.pipeline.config import PipelineConfig, default_notebooks_dir, discover_stages
from mlworkbench.pipeline.results import PipelineResult
from mlworkbench.pipeline.runner import PipelineRunner

# Deferred imports: yaml loads inside the functions that use them, so that importing this module
# (from the command line or a notebook) stays fast.


def run_job_stage(
    stage: str,
    experiment: str,
    parameters: dict[str, Any],
    source: str,
    frame: Any,
    root: Path,
    echo: Callable[[str], None] = print,
    progress: bool = True,
) -> PipelineResult:
    """Run one stage notebook of the project as a job outside any pipeline config (batch
    scoring, monitoring): a tracked pipeline run of that stage, with the job's settings logged
    as its config and `frame` (the job's input, read from `source`) as its data.

    Raises:
        StageFailedError, PipelineInterrupted: as `PipelineRunner.run`.
        MlwbError: the project has no notebook for `stage`.
    """

    import yaml

    notebooks = default_notebooks_dir(root / "papermill_configs" / "job.yaml")
    if stage not in discover_stages(notebooks):
        raise MlwbError(f"No NN-{stage}.ipynb notebook in {notebooks}.")
    raw = {"experiment": experiment, "data": {"source": source}, "stages": {stage: parameters}}
    with tempfile.TemporaryDirectory() as folder:
        job = Path(folder) / f"{stage}-job.yaml"
        job.write_text(yaml.safe_dump(raw, sort_keys=False), encoding="utf-8")
        config = PipelineConfig(
            path=job,
            experiment=experiment,
            data=DataSpec(source=source, target=""),
            stages=raw["stages"],
            notebooks_dir=notebooks,
            raw=raw,
            data_shape=frame.shape,
            frame=frame,
        )
        runner = PipelineRunner(
            config, root, echo, progress, config_label=f"mlwb {stage}", cache=False
        )
        return runner.run([stage])
