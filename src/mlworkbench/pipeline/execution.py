"""Executing one stage: Papermill runs its notebook in a kernel of this machine or on a Dask
worker, then the executed notebook and its HTML report join the stage's MLflow run.

`StageExecution` is the part of `PipelineRunner` that does this, and that gives the runs the
runner creates MLflow's own tags (source, git commit, user) and notes (descriptions); the
runner provides the client, the kernels, the executor and the cancellation event.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from mlworkbench.pipeline import kernels
from mlworkbench.pipeline.cluster import current_run
from mlworkbench.pipeline.config import Stage
from mlworkbench.pipeline.graph import SKIPPED
from mlworkbench.pipeline.results import PipelineResult, StageResult, failure_message
from mlworkbench.reports.card_export import export_promoted_card
from mlworkbench.reports.rendering import notebook_to_html, preload_exporter
from mlworkbench.tracking import provenance, store
from mlworkbench.tracking.tags import (
    TAG_ERROR,
    TAG_GIT,
    TAG_REPORT,
    TAG_STAGE,
    TAG_SWEEP,
)

# Deferred imports: papermill loads inside the functions that use them, so that importing this
# module (from the command line or a notebook) stays fast.


class StageExecution:
    """Runs a stage's notebook and records the outcome on its MLflow run."""

    def _execute(
        self,
        stage: Stage,
        experiment_id: str,
        parent_id: str,
        run_dir: Path,
        parameters: dict[str, Any],
        cache_tags: dict[str, str],
    ) -> StageResult:
        tags = {**self._child_tags(stage, parent_id), TAG_STAGE: stage.name, **cache_tags}
        run_id = self.client.create_run(experiment_id, run_name=stage.name, tags=tags).info.run_id
        output = run_dir / f"{stage.report_stem}.ipynb"
        html = run_dir / f"{stage.report_stem}.html"
        run_dir.mkdir(parents=True, exist_ok=True)
        status, error, started = "KILLED", "", time.perf_counter()
        self._began[stage.name] = time.monotonic()
        preload_exporter()
        parameters = {**parameters, "mlflow_run_id": run_id}
        try:
            if self.executor is None:
                status, error = self._execute_here(stage, output, html, parameters)
            else:
                status, error, run_id = self._execute_remote(stage, output, html, parameters)
        finally:
            if status == "FINISHED" and self.executor is None:
                html_path = self._finish_later(run_id, stage, output, html)
            else:
                html_path = self._finish_stage(run_id, stage, output, html, status, error)
        return StageResult(
            stage.name, run_id, status, output, html_path, time.perf_counter() - started, error
        )

    def _execute_here(
        self, stage: Stage, output: Path, html: Path, parameters: dict[str, Any]
    ) -> tuple[str, str]:
        """Run the notebook in a kernel of this machine: (status, error)."""
        import papermill
        from papermill.exceptions import PapermillExecutionError

        kernel = self._kernel_for(stage)
        self._boot_ahead()
        try:
            if self._cancelled.is_set():
                raise KeyboardInterrupt
            kernels.take_over_warm_up(kernel)
            papermill.execute_notebook(
                str(stage.notebook),
                str(output),
                parameters=parameters,
                progress_bar=self.progress,
                km=kernel,
            )
            if self.uri.startswith(("http://", "https://")):  # logged in the background
                kernels.flush_logging(kernel)
            return "FINISHED", ""
        except PapermillExecutionError as exc:
            kernels.flush_logging(kernel)
            return "FAILED", failure_message(stage, exc, output, html)
        except KeyboardInterrupt:
            if threading.current_thread() is threading.main_thread():
                raise
            return "KILLED", ""
        except Exception as exc:  # kernel died, notebook unreadable, ...
            status = "KILLED" if self._cancelled.is_set() else "FAILED"
            return status, self._not_run(stage, f"{type(exc).__name__}: {exc}", output)
        finally:
            self._drop_kernel(stage)

    def _execute_remote(
        self, stage: Stage, output: Path, html: Path, parameters: dict[str, Any]
    ) -> tuple[str, str, str]:
        """Run the notebook on a Dask worker: (status, error, run id of the last attempt)."""

        first_run = parameters["mlflow_run_id"]
        folder = output.parent.relative_to(self.reports_dir).as_posix()
        try:
            done = self.executor.execute(
                stage.notebook, parameters, self.uri, first_run, folder, self._cancelled
            )
        except Exception as exc:  # the task raised: the worker could not reach MLflow, ...
            message = f"{type(exc).__name__}: {exc}"
            return "FAILED", self._not_run(stage, message, output), current_run(self.uri, first_run)
        done.write(output)
        if done.worker:
            self.echo(f"      {stage.name} ran on worker {done.worker}")
        if done.cell:
            return (
                done.status,
                failure_message(stage, SimpleNamespace(**done.cell), output, html),
                done.run_id,
            )
        error = self._not_run(stage, done.message, output) if done.message else ""
        return done.status, error, done.run_id

    @staticmethod
    def _not_run(stage: Stage, reason: str, output: Path) -> str:
        return (
            f"Stage '{stage.name}' could not run notebook {stage.notebook.name}: "
            f"{reason.rstrip('.')}. Partial output (if any): {output}."
        )

    def _finish_later(self, run_id: str, stage: Stage, output: Path, html: Path) -> Path:
        """Tag where the report of a finished stage will be and mark its run FINISHED (so
        another pipeline of a sweep reuses it at once), and render and log the report in the
        background (`_write_report`), so the next stage starts at once; the pipeline waits for
        every report before it ends (`_wait_for_reports`)."""
        self.client.set_tag(run_id, TAG_REPORT, html.relative_to(self.reports_dir).as_posix())
        self.client.set_terminated(run_id, "FINISHED")
        self._reports.append(
            self._report_thread.submit(self._write_report, run_id, stage, output, html, True)
        )
        return html

    def _wait_for_reports(self) -> None:
        """Wait until the reports of the finished stages are rendered and logged; the first
        error of one of them is raised."""
        pending, self._reports = self._reports, []
        for future in pending:
            future.result()

    def _finish_stage(
        self, run_id: str, stage: Stage, output: Path, html: Path, status: str, error: str
    ) -> Path | None:
        html_path = self._write_report(run_id, stage, output, html, status == "FINISHED")
        if error and status != "KILLED":
            self.client.set_tag(run_id, TAG_ERROR, error[:5000])
            store.write_note(self.client, run_id, error)
        self.client.set_terminated(run_id, status)
        return html_path

    def _write_report(
        self, run_id: str, stage: Stage, output: Path, html: Path, finished: bool
    ) -> Path | None:
        """Render the executed notebook as the stage's report and log both on its run (with a
        promoted card's PDF, JSON and BOM); None when there is no executed notebook."""
        if not output.exists():
            return None
        html_path = notebook_to_html(output, html, title=stage.report_stem)
        self.client.log_artifact(run_id, str(output), "notebook")
        self.client.log_artifact(run_id, str(html_path), "report")
        self.client.set_tag(run_id, TAG_REPORT, html_path.relative_to(self.reports_dir).as_posix())
        if finished and stage.name == "card":  # a promoted card: PDF, JSON, BOM
            export_promoted_card(self.client, run_id, html_path, self.reports_dir, self.echo)
        return html_path

    def _source_tags(self, stage: Stage | None = None) -> dict[str, str]:
        """MLflow's own tags of a run the runner creates: a stage run's source is its notebook,
        the parent run's the `mlwb` command (`_command`); with the git commit and the user."""
        if stage is None:
            source, kind = self._command(), provenance.COMMAND
        else:
            source = store.notebook_source(stage.notebook.name, stage.notebook.parent)
            kind = provenance.NOTEBOOK
        return provenance.system_tags(source, kind, self.base_tags.get(TAG_GIT, ""))

    def _command(self) -> str:
        """The `mlwb` command this pipeline run came from: `mlwb run CONFIG`, `mlwb sweep
        CONFIG`, or the label of a one-stage job (`mlwb score`, `mlwb monitor`)."""
        if self.label.startswith("mlwb "):
            return self.label
        return f"mlwb {'sweep' if TAG_SWEEP in self.run_tags else 'run'} {self.label}"

    def _note_pipeline(self, parent_id: str, result: PipelineResult) -> None:
        """The parent run's note: one line per stage with its status."""
        lines = []
        for outcome in result.stages:
            line = f"`{outcome.stage}`: {outcome.status}"
            if outcome.reused_from:
                line += f", reused run {outcome.reused_from[:8]} (inputs unchanged)"
            elif outcome.status == SKIPPED:
                line += f", not run: it {outcome.error}, which failed"
            lines.append(line + ".")
        store.write_note(self.client, parent_id, lines)
