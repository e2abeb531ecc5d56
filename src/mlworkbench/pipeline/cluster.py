"""Stages on a Dask cluster: `mlwb run|sweep --executor dask --scheduler tcp://HOST:PORT`.

The stage graph, the cache and the MLflow runs stay with the client exactly as with the local
executor; only the execution of a stage moves. A Dask task on a worker starts a kernel and
makes the same Papermill call in a temporary folder, then returns the executed notebook and
the pages the notebook wrote beside its report; the client writes them under reports/ and
logs them as it does for a local stage.

Before anything is submitted every worker is asked for its workbench code and package
versions (cache keys depend on them), the data files and the tracking store; what is missing
is reported per worker.

A worker that dies mid-stage: Dask hands the task to another worker, which finds the attempt
recorded on the stage's run, marks that run FAILED ("worker died") and runs the stage again as
a new run of the same pipeline. A second death fails the stage. No run is left RUNNING.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mlworkbench import __version__
from mlworkbench.exceptions import ClusterError
from mlworkbench.pipeline import kernels, reuse
from mlworkbench.tracking import provenance, store
from mlworkbench.tracking.tags import TAG_ATTEMPTS, TAG_ERROR, TAG_RETRY_OF, TAG_WORKER

# Deferred imports: distributed, mlflow and papermill load inside the functions that use them, so
# that importing this module (from the command line or a notebook) stays fast.

MAX_ATTEMPTS = 2
"""A stage whose worker dies is retried once on another worker."""
INSTALL_HINT = "pip install 'mlworkbench[team]'"


@dataclass
class Execution:
    """What a worker sends back for one stage."""

    status: str
    """FINISHED, FAILED or KILLED."""
    run_id: str
    """The run holding the result: a retry's own run when a worker died."""
    worker: str = ""
    notebook: bytes | None = None
    pages: dict[str, bytes] = field(default_factory=dict)
    """Files the notebook wrote beside its report, by path relative to the report folder."""
    cell: dict[str, Any] | None = None
    """The failing cell: ename, evalue, exec_count, source (a PapermillExecutionError)."""
    message: str = ""
    """Why the stage could not run, when no cell failed."""

    def write(self, output: Path) -> None:
        """Write the executed notebook to `output` and the pages beside it."""
        output.parent.mkdir(parents=True, exist_ok=True)
        for relative, content in self.pages.items():
            target = output.parent / relative
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(content)
        if self.notebook is not None:
            output.write_bytes(self.notebook)


# --- checks run on every worker -------------------------------------------------------------


def worker_facts(uri: str, files: list[str]) -> dict[str, Any]:
    """What a worker has: run on every worker by `DaskExecutor.check`."""

    return {
        "version": __version__,
        "code": reuse.code_digest(),
        "packages": provenance.package_versions(),
        "missing": [f for f in files if not Path(f).is_file()],
        "tracking": store.store_problem(uri),
    }


def worker_problems(address: str, facts: Any, expected: dict[str, Any]) -> list[str]:
    """What keeps the worker at `address` from running stages like this client would."""
    if isinstance(facts, BaseException):
        if isinstance(facts, ModuleNotFoundError | ImportError):
            return [f"{address}: the workbench is not installed ({facts}); install the project"]
        return [f"{address}: the check failed: {type(facts).__name__}: {facts}"]
    problems = [f"{address}: data file {name} not found" for name in facts["missing"]]
    if facts["tracking"]:
        problems.append(f"{address}: {facts['tracking']}")
    if facts["code"] != expected["code"]:
        problems.append(
            f"{address}: mlworkbench {facts['version']} with other code than this client's "
            f"{expected['version']} (install the same commit on every worker and restart it)"
        )
    different = [
        f"{name} {facts['packages'].get(name)} (here {have})"
        for name, have in expected["packages"].items()
        if facts["packages"].get(name) != have
    ]
    if different:
        problems.append(f"{address}: other package versions: {', '.join(different)}")
    return problems


# --- the task run on a worker ---------------------------------------------------------------


def _claim_attempt(client: Any, first_run: str, worker: str) -> str:
    """Record this attempt on the stage's first run and return the run it logs into.

    An attempt recorded earlier means its worker died (Dask reruns a task only then): that
    run is marked FAILED and this attempt gets a new run with the same tags. After
    `MAX_ATTEMPTS` the stage fails.
    """
    from mlflow.entities import RunStatus

    run = client.get_run(first_run)
    attempts = json.loads(run.data.tags.get(TAG_ATTEMPTS, "[]"))
    if attempts:
        dead_worker, dead_run = attempts[-1]
        if client.get_run(dead_run).info.status == RunStatus.to_string(RunStatus.RUNNING):
            client.set_tag(dead_run, TAG_ERROR, f"Worker {dead_worker} died during the stage.")
            client.set_terminated(dead_run, "FAILED")
        if len(attempts) >= MAX_ATTEMPTS:
            raise ClusterError(
                f"The workers running this stage died {len(attempts)} times "
                f"({', '.join(w for w, _ in attempts)}); not retried again."
            )
    run_id = first_run
    if attempts:
        skip = {TAG_ATTEMPTS, "mlflow.runName", TAG_ERROR}
        tags = {k: v for k, v in run.data.tags.items() if k not in skip}
        retry = client.create_run(
            run.info.experiment_id,
            run_name=run.info.run_name,
            tags={**tags, TAG_RETRY_OF: first_run},
        )
        run_id = retry.info.run_id
    client.set_tag(first_run, TAG_ATTEMPTS, json.dumps([*attempts, [worker, run_id]]))
    client.set_tag(run_id, TAG_WORKER, worker)
    return run_id


def _cancel_event(first_run: str, client: Any = None) -> Any:
    """Set by the command on Ctrl-C; the task polls it and kills its kernel."""
    from distributed import Event

    return Event(f"mlwb-cancel-{first_run}", client=client)


def _threads(worker: Any) -> int:
    """Threads a stage may use: `MLWB_THREADS` where the worker was started with it, else
    the machine's cores shared among the worker's task threads."""
    if os.environ.get("MLWB_THREADS"):
        return int(os.environ["MLWB_THREADS"])
    return max(1, (os.cpu_count() or 1) // max(1, worker.state.nthreads))


def _papermill(
    notebook: Path, output: Path, parameters: dict[str, Any], kernel: Any, first_run: str
) -> tuple[BaseException | None, bool]:
    """Execute `notebook` in `kernel`, killing it when the command cancels the stage:
    (the exception Papermill raised or None, whether the kernel was killed)."""
    import papermill

    outcome: dict[str, BaseException] = {}

    def execute() -> None:
        try:
            papermill.execute_notebook(
                str(notebook), str(output), parameters, progress_bar=False, km=kernel
            )
        except BaseException as exc:
            outcome["error"] = exc

    thread = threading.Thread(target=execute, daemon=True)
    thread.start()
    cancel, killed = _cancel_event(first_run), False
    while thread.is_alive():
        thread.join(1.0)
        if not killed and cancel.is_set():
            kernels.kill_kernel(kernel)
            killed = True
    return outcome.get("error"), killed


def _outcome(result: Execution, error: BaseException | None, output: Path, pages: Path) -> None:
    """Fill `result` with the status, the failing cell or reason, the notebook and pages."""
    from papermill.exceptions import PapermillExecutionError

    if isinstance(error, PapermillExecutionError):
        result.status = "FAILED"
        result.cell = {k: getattr(error, k) for k in ("ename", "evalue", "exec_count", "source")}
    elif error is not None:
        result.status = "FAILED"
        result.message = f"{type(error).__name__}: {error}"
    if output.exists():
        result.notebook = output.read_bytes()
    if pages.is_dir():
        result.pages = {
            p.relative_to(pages).as_posix(): p.read_bytes() for p in pages.rglob("*") if p.is_file()
        }


def run_stage(
    notebook_name: str,
    notebook_text: str,
    parameters: dict[str, Any],
    uri: str,
    first_run: str,
    report_folder: str,
) -> Execution:
    """The Dask task: execute one stage's notebook on this worker with Papermill.

    `report_folder` is the stage's report folder relative to reports/ on the client; the
    notebook writes its pages into the same relative folder under a temporary one here (so
    relative links between reports stay right) and they travel back with the notebook.
    """
    import mlflow
    from distributed import get_worker

    worker = get_worker()
    client = mlflow.MlflowClient(uri)
    run_id = _claim_attempt(client, first_run, worker.address)
    threads = str(_threads(worker))
    env = {**os.environ, "MLFLOW_TRACKING_URI": uri, "MLWB_THREADS": threads}
    env["OMP_NUM_THREADS"] = threads
    result = Execution("FINISHED", run_id, worker.address)
    with tempfile.TemporaryDirectory(prefix="mlwb-stage-") as folder:
        notebook = Path(folder) / "notebook" / notebook_name
        notebook.parent.mkdir()
        notebook.write_text(notebook_text, encoding="utf-8")
        pages = Path(folder) / "reports" / report_folder
        output = Path(folder) / "executed.ipynb"
        parameters = {**parameters, "mlflow_run_id": run_id, "report_dir": str(pages)}
        kernel = kernels.start_kernel(notebook, env)
        try:
            kernels.take_over_warm_up(kernel)
            error, killed = _papermill(notebook, output, parameters, kernel, first_run)
            if not killed:
                kernels.flush_logging(kernel)
        finally:
            kernels.stop_kernel(kernel)
        if killed:
            result.status = "KILLED"
            client.set_terminated(run_id, "KILLED")  # final even if the command is gone
        _outcome(result, None if killed else error, output, pages)
    return result


# --- the client side ------------------------------------------------------------------------


class DaskExecutor:
    """Submits stage executions to the Dask scheduler at `scheduler`."""

    def __init__(self, scheduler: str, timeout: float = 10):
        try:
            from distributed import Client
        except ImportError:
            raise ClusterError(f"The Dask executor needs distributed: {INSTALL_HINT}") from None
        self.scheduler = scheduler
        try:
            self.client = Client(scheduler, timeout=timeout, set_as_default=False)
        except (OSError, TimeoutError, ValueError) as exc:
            raise ClusterError(
                f"No Dask scheduler answers at {scheduler}: {exc}. Start one with "
                "`dask scheduler` and workers with `dask worker <address>` (docs: "
                "Teams, 'Running on a Dask cluster')."
            ) from None
        self._checked: set[tuple[str, tuple[str, ...]]] = set()

    def workers(self) -> dict[str, int]:
        """Address and task threads of every worker connected now."""
        info = self.client.scheduler_info(n_workers=-1)["workers"]
        return {address: w.get("nthreads", 1) for address, w in info.items()}

    def slots(self) -> int:
        """How many stages the cluster runs at the same time."""
        return max(1, sum(self.workers().values()))

    def check(self, uri: str, files: list[str]) -> None:
        """Raise `ClusterError` naming every worker that lacks the project, the same code and
        package versions as this client, one of `files` or the tracking store at `uri`."""

        key = (uri, tuple(files))
        if key in self._checked:
            return
        if not self.workers():
            raise ClusterError(
                f"The Dask scheduler at {self.scheduler} has no workers. Start them with "
                f"`dask worker {self.scheduler}` on machines with the project installed."
            )
        if client_problem := store.store_problem(uri):
            raise ClusterError(f"This client cannot use the tracking store: {client_problem}")
        expected = {
            "version": __version__,
            "code": reuse.code_digest(),
            "packages": provenance.package_versions(),
        }
        facts = self.client.run(worker_facts, uri, files, on_error="return")
        problems = [p for a, f in sorted(facts.items()) for p in worker_problems(a, f, expected)]
        if problems:
            raise ClusterError(problems)
        self._checked.add(key)

    def execute(
        self,
        notebook: Path,
        parameters: dict[str, Any],
        uri: str,
        first_run: str,
        report_folder: str,
        cancelled: threading.Event,
    ) -> Execution:
        """Run one stage on a worker and wait for it; `cancelled` set: kill it there."""
        from distributed import KilledWorker

        for _ in range(MAX_ATTEMPTS):
            future = self.client.submit(
                run_stage,
                notebook.name,
                notebook.read_text(encoding="utf-8"),
                parameters,
                uri,
                first_run,
                report_folder,
                pure=False,
            )
            try:
                if (done := self._wait(future, first_run, cancelled)) is not None:
                    return done
                return Execution("KILLED", current_run(uri, first_run))
            except KilledWorker as exc:
                # The scheduler gave up on the task (its `allowed-failures`); the next
                # submission finds the attempts on the run and retries or fails the stage.
                last_error = f"{type(exc).__name__}: {exc}"
            except ClusterError as exc:
                return Execution("FAILED", current_run(uri, first_run), message=str(exc))
        return Execution("FAILED", current_run(uri, first_run), message=last_error)

    def _wait(self, future: Any, first_run: str, cancelled: threading.Event) -> Execution | None:
        """The task's result, or None when `cancelled` was set first."""
        while True:
            try:
                return future.result(timeout=1)
            except TimeoutError:
                if cancelled.is_set():
                    # The task kills its kernel and ends the run; wait for it, so the run is
                    # not set RUNNING again by a notebook still starting.
                    _cancel_event(first_run, self.client).set()
                    with contextlib.suppress(Exception):
                        future.result(timeout=30)
                    future.cancel()
                    return None

    def close(self) -> None:
        self.client.close()


def current_run(uri: str, first_run: str) -> str:
    """The run of the stage's latest attempt (the first run when it was never retried)."""
    import mlflow

    tags = mlflow.MlflowClient(uri).get_run(first_run).data.tags
    attempts = json.loads(tags.get(TAG_ATTEMPTS, "[]"))
    return attempts[-1][1] if attempts else first_run
