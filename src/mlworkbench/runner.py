"""The pipeline runner: Papermill executes each stage, MLflow records it, reports keep it.

One parent MLflow run per pipeline run and one nested child run per notebook. The notebook
logs its own parameters, metrics and artifacts into the child run (its id is a parameter);
the runner adds the executed notebook and its HTML report and sets the status. A failing cell
keeps the partial notebook and its HTML, marks the runs FAILED and stops later stages;
Ctrl-C marks them KILLED.
"""

from __future__ import annotations

import os
import signal
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from mlworkbench import kernels, reports, tracking
from mlworkbench.config import PipelineConfig, Stage
from mlworkbench.exceptions import PipelineInterrupted, StageFailedError
from mlworkbench.params import read_contract

REPORTS_DIR = "reports"


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
    injected = {**config.data.as_parameters(), **runner_values}
    return {
        **{k: v for k, v in injected.items() if k in declared},
        **config.stages.get(stage.name, {}),
    }


def _relative_label(path: Path, root: Path) -> str:
    """`path` relative to the project root where it lies inside it, else absolute."""
    try:
        return str(path.relative_to(root))
    except ValueError:
        return str(path)


@contextmanager
def _interruptible() -> Iterator[None]:
    """Turn Ctrl-C and SIGTERM (from a scheduler or `kill`) into KeyboardInterrupt.

    Also restores Python's Ctrl-C handling when the process was started with SIGINT ignored
    (a background job of a non-interactive shell), so the runs can still be marked KILLED.
    """

    def interrupt(signum: int, frame: Any) -> None:
        raise KeyboardInterrupt(signal.Signals(signum).name)

    if threading.current_thread() is not threading.main_thread():
        yield
        return
    saved = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}
    for sig in saved:
        signal.signal(sig, interrupt)
    try:
        yield
    finally:
        for sig, handler in saved.items():
            signal.signal(sig, handler)


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


class PipelineRunner:
    """Runs a validated config's stages in order and records everything in MLflow."""

    def __init__(
        self,
        config: PipelineConfig,
        project_root: Path,
        echo: Callable[[str], None] = print,
        progress: bool = True,
        config_label: str = "",
    ):
        self.config = config
        self.root = project_root
        self.echo = echo
        self.progress = progress
        self.uri = tracking.tracking_uri(project_root)
        self.reports_dir = project_root / REPORTS_DIR
        self.label = config_label or _relative_label(config.path, project_root)
        self.base_tags = tracking.standard_tags(config.path.parent, self.label)
        self._client: Any = None
        self._stages_done: list[StageResult] = []

    @property
    def client(self) -> Any:
        """The MLflow client, created on first use (opening the store takes a second or two)."""
        if self._client is None:
            import mlflow

            self._client = mlflow.MlflowClient(self.uri)
        return self._client

    def _start_kernel(self, stage: Stage) -> Any:
        return kernels.start_kernel(stage.notebook, {**os.environ, "MLFLOW_TRACKING_URI": self.uri})

    def _start_parent(self, experiment_id: str, stamp: str) -> str:
        from mlflow.entities import Param

        tags = {
            **self.base_tags,
            tracking.TAG_PIPELINE: "true",
            tracking.TAG_DIGEST: self.config.data_digest,
        }
        run = self.client.create_run(
            experiment_id, run_name=f"{self.config.experiment}-{stamp}", tags=tags
        )
        run_id = run.info.run_id
        self.client.log_artifact(run_id, str(self.config.path), "config")
        data_params = tracking.flatten({"data": self.config.raw.get("data", {})})
        data_params["stages"] = ",".join(self.config.stages)
        self.client.log_batch(run_id, params=[Param(k, str(v)) for k, v in data_params.items()])
        return run_id

    def run(self, stage_names: list[str] | tuple[str, ...] = ()) -> PipelineResult:
        """Execute the selected stages; raise `StageFailedError` or `PipelineInterrupted`.

        Whatever happens, every run created is left FINISHED, FAILED or KILLED and the index
        is rebuilt.
        """
        stages = self.config.selected_stages(stage_names)
        first_kernel = self._start_kernel(stages[0])  # boots while the runs are prepared
        try:
            return self._run_pipeline(stages, first_kernel)
        finally:
            kernels.stop_kernel(first_kernel)

    def _run_pipeline(self, stages: list[Stage], first_kernel: Any) -> PipelineResult:
        experiment_id = tracking.get_or_create_experiment(self.client, self.config.experiment)
        stamp = datetime.now(tz=UTC).strftime("%Y%m%d-%H%M%S")
        parent_id = self._start_parent(experiment_id, stamp)
        run_dir = (
            reports.experiment_dir(self.reports_dir, self.config.experiment)
            / f"{stamp}-{parent_id[:8]}"
        )
        result = PipelineResult(parent_id, self.config.experiment, "RUNNING", self.uri, run_dir)
        try:
            with _interruptible():
                error = self._run_stages(stages, experiment_id, parent_id, result, first_kernel)
        except KeyboardInterrupt:
            error = PipelineInterrupted(
                f"Interrupted; the runs are marked KILLED. Partial output: {run_dir}"
            )
        if error is None:
            result.status = "FINISHED"
        else:
            result.status = "FAILED" if isinstance(error, StageFailedError) else "KILLED"
        self.client.set_terminated(parent_id, result.status)
        if any(s.stage == "train" and s.status == "FINISHED" for s in result.stages):
            from mlworkbench import comparison

            comparison.rebuild(self.client, self.config.experiment, self.reports_dir)
        result.index = reports.rebuild_index(self.client, self.reports_dir)
        if error is not None:
            error.result = result  # type: ignore[attr-defined]
            raise error
        return result

    def _run_stages(
        self,
        stages: list[Stage],
        experiment_id: str,
        parent_id: str,
        result: PipelineResult,
        first_kernel: Any,
    ) -> Exception | None:
        """Run `stages` in order until one fails; return the failure, if any."""
        self._stages_done = result.stages
        for number, stage in enumerate(stages, start=1):
            self.echo(f"[{number}/{len(stages)}] stage '{stage.name}': {stage.notebook.name}")
            kernel = first_kernel if number == 1 else self._start_kernel(stage)
            try:
                outcome = self._run_stage(stage, experiment_id, parent_id, result.run_dir, kernel)
            finally:
                kernels.stop_kernel(kernel)
            result.stages.append(outcome)
            if outcome.status == "FAILED":
                return StageFailedError(outcome.error)
            self.echo(f"      done in {outcome.seconds:.1f} s: {outcome.html}")
            summary = self.client.get_run(outcome.run_id).data.tags.get(tracking.TAG_SUMMARY)
            if summary:
                self.echo("\n".join(f"      {line}" for line in summary.splitlines()))
        return None

    def _run_stage(
        self, stage: Stage, experiment_id: str, parent_id: str, run_dir: Path, kernel: Any
    ) -> StageResult:
        import papermill
        from papermill.exceptions import PapermillExecutionError

        tags = {
            "mlflow.parentRunId": parent_id,
            tracking.TAG_PIPELINE: "stage",
            tracking.TAG_STAGE: stage.name,
            tracking.TAG_NOTEBOOK: stage.notebook.name,
            tracking.TAG_DIGEST: self.config.data_digest,
            **self.base_tags,
        }
        run_id = self.client.create_run(experiment_id, run_name=stage.name, tags=tags).info.run_id
        output = run_dir / f"{stage.report_stem}.ipynb"
        html = run_dir / f"{stage.report_stem}.html"
        run_dir.mkdir(parents=True, exist_ok=True)
        parameters = stage_parameters(
            self.config,
            stage,
            {
                "mlflow_run_id": run_id,
                "report_dir": str(run_dir),
                "experiment": self.config.experiment,
                "config_file": self.label,
                "governance": self.config.raw.get("governance") or {},
                **self._finished_runs(),
            },
        )
        status, error, started = "FINISHED", "", time.perf_counter()
        reports.preload_exporter()
        try:
            papermill.execute_notebook(
                str(stage.notebook),
                str(output),
                parameters=parameters,
                progress_bar=self.progress,
                km=kernel,
            )
        except PapermillExecutionError as exc:
            status = "FAILED"
            error = failure_message(stage, exc, output, html)
        except KeyboardInterrupt:
            status = "KILLED"
            raise
        except Exception as exc:  # kernel died, notebook unreadable, ...
            status = "FAILED"
            error = (
                f"Stage '{stage.name}' could not run notebook {stage.notebook.name}: "
                f"{type(exc).__name__}: {exc}. Partial output (if any): {output}."
            )
        finally:
            html_path = self._finish_stage(run_id, stage, output, html, status, error)
        return StageResult(
            stage.name, run_id, status, output, html_path, time.perf_counter() - started, error
        )

    def _finished_runs(self) -> dict[str, str]:
        """`<stage>_run_id` of each stage that finished earlier in this pipeline run; a stage
        that needs one that did not run here finds the newest in the experiment."""
        return {f"{s.stage}_run_id": s.run_id for s in self._stages_done if s.status == "FINISHED"}

    def _finish_stage(
        self, run_id: str, stage: Stage, output: Path, html: Path, status: str, error: str
    ) -> Path | None:
        html_path = None
        if output.exists():
            html_path = reports.notebook_to_html(output, html, title=stage.report_stem)
            self.client.log_artifact(run_id, str(output), "notebook")
            self.client.log_artifact(run_id, str(html_path), "report")
            self.client.set_tag(
                run_id, tracking.TAG_REPORT, html_path.relative_to(self.reports_dir).as_posix()
            )
        if error:
            self.client.set_tag(run_id, tracking.TAG_ERROR, error[:5000])
        self.client.set_terminated(run_id, status)
        return html_path


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
    import tempfile

    import yaml

    from mlworkbench.config import default_notebooks_dir, discover_stages
    from mlworkbench.data import DataSpec
    from mlworkbench.exceptions import MlwbError

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
        runner = PipelineRunner(config, root, echo, progress, config_label=f"mlwb {stage}")
        return runner.run([stage])
