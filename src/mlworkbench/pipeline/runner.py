"""The pipeline runner: Papermill executes each stage, MLflow records it, reports keep it.

One parent MLflow run per pipeline run and one nested child run per notebook. The notebook
logs its own parameters, metrics and artifacts into the child run (its id is a parameter);
the runner adds the executed notebook and its HTML report and sets the status. Stages run as
a graph (`mlworkbench.pipeline.graph`), up to `jobs` at a time in worker threads, each in its own
kernel; a stage whose inputs are unchanged is reused (`mlworkbench.pipeline.reuse`). A failing cell
keeps the partial notebook and its HTML, marks the runs FAILED and skips the stages that need
it; Ctrl-C kills the running kernels and marks their runs KILLED.
"""

from __future__ import annotations

import json
import logging
import os
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from mlworkbench.analysis.personal_data import PROJECT_ENV
from mlworkbench.exceptions import ConfigError, PipelineInterrupted, StageFailedError
from mlworkbench.pipeline import kernels
from mlworkbench.pipeline import reuse as cache_module
from mlworkbench.pipeline.config import PipelineConfig, Stage
from mlworkbench.pipeline.execution import StageExecution
from mlworkbench.pipeline.graph import SKIPPED, dependencies, run_graph
from mlworkbench.pipeline.interrupts import interruptible
from mlworkbench.pipeline.results import (
    PipelineResult,
    StageResult,
    relative_label,
    stage_parameters,
)
from mlworkbench.reports import comparison, elements
from mlworkbench.reports.index import rebuild_index
from mlworkbench.tracking import provenance, store
from mlworkbench.tracking.tags import (
    TAG_CACHE_INPUTS,
    TAG_CACHE_KEY,
    TAG_DIGEST,
    TAG_KEY_FIGURES,
    TAG_NOTEBOOK,
    TAG_PIPELINE,
    TAG_REPORT,
    TAG_REUSED_FROM,
    TAG_REUSED_STAGE,
    TAG_SUMMARY,
)

# Deferred imports: mlflow loads inside the functions that use them, so that importing this module
# (from the command line or a notebook) stays fast.

REPORTS_DIR = "reports"


class PipelineRunner(StageExecution):
    """Runs a validated config's stages as a graph and records everything in MLflow.

    Args:
        jobs: how many stages may run at the same time (each in its own kernel).
        force: None reuses every stage whose inputs are unchanged (`mlworkbench.pipeline.reuse`);
            "" or "all" executes every stage; "train,explain" those stages.
        cache: False never reuses (jobs whose output is a side effect: scoring, monitoring).
        claims: shared by the pipelines of a sweep, so a shared stage is computed once.
        client: an open `MlflowClient` to share (a sweep's pipelines); opened when None.
        run_tags: extra tags of the parent run (a sweep's id and combination).
        threads: threads each kernel may use (`MLWB_THREADS`, `OMP_NUM_THREADS`); default:
            the cores shared among `jobs`, so parallel stages do not oversubscribe them.
        executor: a `cluster.DaskExecutor` to run the stages on Dask workers; None runs them
            here, each in a kernel of this machine.
    """

    def __init__(
        self,
        config: PipelineConfig,
        project_root: Path,
        echo: Callable[[str], None] = print,
        progress: bool = True,
        config_label: str = "",
        jobs: int = 1,
        force: str | None = None,
        cache: bool = True,
        claims: cache_module.Claims | None = None,
        client: Any = None,
        run_tags: dict[str, str] | None = None,
        threads: int = 0,
        executor: Any = None,
    ):
        self.config = config
        self.root = project_root
        self.echo = echo
        self.jobs = max(1, jobs)
        self.progress = progress and self.jobs == 1  # bars of parallel stages would mix
        self.force = force
        self.use_cache = cache
        self.threads = threads or max(1, (os.cpu_count() or 1) // self.jobs)
        self.claims = claims or cache_module.Claims()
        self.executor = executor
        self.uri = store.tracking_uri(project_root)
        self.reports_dir = project_root / REPORTS_DIR
        self.label = config_label or relative_label(config.path, project_root)
        # The git commit is that of the notebooks that run (a job's config is a temporary file).
        self.base_tags = provenance.standard_tags(config.notebooks_dir, self.label)
        self.run_tags = run_tags or {}
        self._client: Any = client
        self._run_ids: dict[str, str] = {}
        self._kernels: dict[str, Any] = {}
        self._kernel_lock = threading.Lock()
        self._stages: list[Stage] = []
        self._began: dict[str, float] = {}
        self._cancelled = threading.Event()
        self._started = 0
        self._report_thread = ThreadPoolExecutor(1, thread_name_prefix="mlwb-report")
        self._reports: list[Future] = []

    @property
    def client(self) -> Any:
        """The MLflow client, opened on first use (opening the store takes a second or two)."""
        if self._client is None:
            self._client = store.open_client(self.uri)
        return self._client

    def _kernel_for(self, stage: Stage) -> Any:
        """The kernel of `stage`, started now unless it was started in advance."""
        with self._kernel_lock:
            if stage.name not in self._kernels:
                self._kernels[stage.name] = kernels.start_kernel(stage.notebook, self._kernel_env())
            return self._kernels[stage.name]

    def _kernel_env(self) -> dict[str, str]:
        return {
            **os.environ,
            "MLFLOW_TRACKING_URI": self.uri,
            PROJECT_ENV: str(self.root),
            "MLWB_THREADS": str(self.threads),
            "OMP_NUM_THREADS": str(self.threads),
        }

    def _drop_kernel(self, stage: Stage) -> None:
        with self._kernel_lock:
            kernel = self._kernels.pop(stage.name, None)
        if kernel is not None:
            kernels.stop_kernel(kernel)

    def _boot_ahead(self) -> None:
        """Start the kernels of the next stages not started yet, to be warm in their turn: at
        most `kernels.pool_size` waiting. One not needed after all (reused) is stopped."""
        if self._cancelled.is_set():
            return
        with self._kernel_lock:
            waiting = [name for name in self._kernels if name not in self._began]
            later = [
                s for s in self._stages if s.name not in self._began and s.name not in self._kernels
            ]
        for stage in later[: max(0, kernels.pool_size(self.jobs) - len(waiting))]:
            self._kernel_for(stage)

    def _start_parent(self, experiment_id: str, stamp: str) -> str:
        from mlflow.entities import Param

        tags = {
            **self.base_tags,
            **self.run_tags,
            TAG_PIPELINE: "true",
            TAG_DIGEST: self.config.data_digest,
            **self._source_tags(),
        }
        run = self.client.create_run(
            experiment_id, run_name=f"{self.config.experiment}-{stamp}", tags=tags
        )
        run_id = run.info.run_id
        self.client.log_artifact(run_id, str(self.config.path), "config")
        data_params = store.flatten({"data": self.config.raw.get("data", {})})
        data_params["stages"] = ",".join(self.config.stages)
        data_params["jobs"] = self.jobs
        self.client.log_batch(run_id, params=[Param(k, str(v)) for k, v in data_params.items()])
        return run_id

    def run(self, stage_names: list[str] | tuple[str, ...] = ()) -> PipelineResult:
        """Execute the selected stages; raise `StageFailedError` or `PipelineInterrupted`.

        Whatever happens, every run created is left FINISHED, FAILED or KILLED and the index
        is rebuilt. A failing stage skips the stages that need it; the others still run.
        """
        stages = self.config.selected_stages(stage_names)
        unknown = cache_module.unknown_forced(self.force, list(self.config.stages))
        if unknown:
            raise ConfigError(
                f"--force names stage(s) {', '.join(unknown)} not in the config. "
                f"Configured: {', '.join(self.config.stages)} (or --force alone for all)."
            )
        graph = dependencies([s.name for s in stages], {s.name: s.needs for s in stages})
        self._stages = stages
        if self.executor is not None:
            self.client  # noqa: B018  (a new SQLite store exists before workers look for it)
            self.executor.check(self.uri, self.config.data_files)
        else:
            self._boot_ahead()  # the first kernels boot while the store is opened
        try:
            return self._run_pipeline(stages, graph)
        finally:
            for kernel in self._kernels.values():
                kernels.stop_kernel(kernel)

    def cancel(self) -> None:
        """End the running stages (from another thread): their kernels are killed and their
        runs marked KILLED; no further stage starts."""
        self._cancelled.set()
        logging.getLogger("papermill").setLevel(logging.CRITICAL)  # "kernel died": we know
        for kernel in list(self._kernels.values()):
            kernels.kill_kernel(kernel)

    def _run_pipeline(
        self, stages: list[Stage], graph: dict[str, tuple[str, ...]]
    ) -> PipelineResult:
        experiment_id = store.get_or_create_experiment(self.client, self.config.experiment)
        stamp = datetime.now(tz=UTC).strftime("%Y%m%d-%H%M%S")
        parent_id = self._start_parent(experiment_id, stamp)
        run_dir = (
            elements.experiment_dir(self.reports_dir, self.config.experiment)
            / f"{stamp}-{parent_id[:8]}"
        )
        result = PipelineResult(parent_id, self.config.experiment, "RUNNING", self.uri, run_dir)
        by_name = {s.name: s for s in stages}
        done: dict[str, StageResult] = {}

        def execute(name: str) -> bool:
            if self._cancelled.is_set():
                return False
            outcome = self._run_or_reuse(
                by_name[name], experiment_id, parent_id, run_dir, len(stages)
            )
            done[name] = outcome
            return outcome.status == "FINISHED"

        interrupted = False
        try:
            with interruptible():
                outcomes = run_graph(graph, execute, self.jobs, self.cancel, self._heartbeat)
        except KeyboardInterrupt:
            interrupted, outcomes = True, {}
        self._wait_for_reports()
        for stage in stages:
            if stage.name in done:
                result.stages.append(done[stage.name])
            elif stage.name in outcomes and outcomes[stage.name].status == SKIPPED:
                reason = outcomes[stage.name].reason
                result.stages.append(
                    StageResult(stage.name, "", SKIPPED, stage.notebook, None, 0.0, reason)
                )
        error = self._pipeline_error(result, interrupted)
        result.status = "FINISHED" if error is None else ("KILLED" if interrupted else "FAILED")
        self._note_pipeline(parent_id, result)
        self.client.set_terminated(parent_id, result.status)
        if any(
            s.stage == "train" and s.status == "FINISHED" and not s.reused_from
            for s in result.stages
        ):
            comparison.rebuild(self.client, self.config.experiment, self.reports_dir)
        result.index = rebuild_index(self.client, self.reports_dir)
        if error is not None:
            error.result = result  # type: ignore[attr-defined]
            raise error
        return result

    def _pipeline_error(self, result: PipelineResult, interrupted: bool) -> Exception | None:
        if interrupted or any(s.status == "KILLED" for s in result.stages):
            return PipelineInterrupted(
                f"Interrupted; the runs are marked KILLED. Partial output: {result.run_dir}"
            )
        failed = [s for s in result.stages if s.status == "FAILED"]
        if not failed:
            return None
        skipped = [s.stage for s in result.stages if s.status == SKIPPED]
        message = " ".join(s.error for s in failed)
        if skipped:
            message += f" Not run, because they need a failed stage: {', '.join(skipped)}."
        return StageFailedError(message)

    def _heartbeat(self, running: list[str]) -> None:
        now = time.monotonic()
        ages = [f"{name} ({now - self._began.get(name, now):.0f} s)" for name in running]
        self.echo(f"      ... still running: {', '.join(ages)}")

    def _upstream(self, stage: Stage, experiment: str) -> dict[str, str]:
        """`<stage>_run_id` of each stage this one needs: this pipeline's run when the stage
        ran here, else the newest finished run in the experiment (empty when there is none)."""
        names = (
            stage.needs
            if stage.needs is not None
            else [s.name for s in self._stages if s.order < stage.order and s.name in self._run_ids]
        )
        return {
            f"{name}_run_id": self._run_ids.get(name)
            or store.latest_stage_run(self.client, experiment, name)
            for name in names
        }

    def _run_or_reuse(
        self, stage: Stage, experiment_id: str, parent_id: str, run_dir: Path, total: int
    ) -> StageResult:
        self._began[stage.name] = time.monotonic()  # no kernel is booted ahead for it now
        upstream = self._upstream(stage, self.config.experiment)
        parameters = stage_parameters(
            self.config,
            stage,
            {
                "mlflow_run_id": "",
                "report_dir": str(run_dir),
                "experiment": self.config.experiment,
                "config_file": self.label,
                "governance": self.config.raw.get("governance") or {},
                **upstream,
            },
        )
        inputs = cache_module.stage_inputs(
            stage.notebook,
            parameters,
            self.config.data_digest,
            upstream,
            provenance.package_versions(),
            cache_module.model_references(self.client, parameters),
        )
        key = cache_module.cache_key(inputs)
        use_cache = self.use_cache and not cache_module.forced(self.force, stage.name)
        with self.claims.claim(key):
            found = (
                cache_module.find_reusable(self.client, experiment_id, key) if use_cache else None
            )
            self._started += 1
            number = f"[{self._started}/{total}]"
            if found is not None:
                self._drop_kernel(stage)  # booted in advance, not needed after all
                outcome = self._reuse(stage, found, experiment_id, parent_id, key)
                self.echo(
                    f"{number} stage '{stage.name}': reused run {outcome.reused_from[:8]} "
                    f"(inputs unchanged): {outcome.html}"
                )
            else:
                self.echo(f"{number} stage '{stage.name}': {stage.notebook.name}")
                tags = {
                    TAG_CACHE_KEY: key,
                    TAG_CACHE_INPUTS: json.dumps(inputs),
                }
                outcome = self._execute(stage, experiment_id, parent_id, run_dir, parameters, tags)
        if outcome.status == "FINISHED":
            self._run_ids[stage.name] = outcome.reused_from or outcome.run_id
            self._report_finished(outcome)
        return outcome

    def _report_finished(self, outcome: StageResult) -> None:
        if not outcome.reused_from:
            self.echo(f"      {outcome.stage} done in {outcome.seconds:.1f} s: {outcome.html}")
        source = outcome.reused_from or outcome.run_id
        summary = self.client.get_run(source).data.tags.get(TAG_SUMMARY)
        if summary:
            self.echo("\n".join(f"      {line}" for line in summary.splitlines()))

    def _child_tags(self, stage: Stage, parent_id: str) -> dict[str, str]:
        """Tags of every stage run of this pipeline run, executed or reused."""
        return {
            "mlflow.parentRunId": parent_id,
            TAG_PIPELINE: "stage",
            TAG_NOTEBOOK: stage.notebook.name,
            TAG_DIGEST: self.config.data_digest,
            **self.base_tags,
            **self._source_tags(stage),
        }

    def _reuse(
        self, stage: Stage, original: Any, experiment_id: str, parent_id: str, key: str
    ) -> StageResult:
        """A FINISHED child run of this pipeline standing for `original`, linking its report."""
        source = original.data.tags
        copied = (TAG_REPORT, TAG_KEY_FIGURES, store.NOTE_TAG)
        tags = {
            **self._child_tags(stage, parent_id),
            TAG_CACHE_KEY: key,
            TAG_REUSED_FROM: original.info.run_id,
            TAG_REUSED_STAGE: stage.name,
            **{t: source[t] for t in copied if t in source},
        }
        run = self.client.create_run(experiment_id, run_name=stage.name, tags=tags)
        self.client.set_terminated(run.info.run_id, "FINISHED")
        report = source.get(TAG_REPORT)
        html = self.reports_dir / report if report else None
        return StageResult(
            stage.name,
            run.info.run_id,
            "FINISHED",
            stage.notebook,
            html,
            0.0,
            reused_from=original.info.run_id,
        )
