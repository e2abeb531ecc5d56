"""Jupyter kernels the runner starts ahead of need, warm, so a stage starts on a ready kernel.

A kernel takes seconds to boot and more to import the libraries of its stage (profiling,
xgboost, shap, ...). The runner launches the kernel of a stage before the stage's turn: the
first while it opens the MLflow store and creates the runs, the next ones while earlier stages
run (`PipelineRunner._boot_ahead`). Each kernel imports its notebook's libraries as it starts
(`warm_up_modules`, in a background thread that waits for idle CPU; the line that starts it runs
before the kernel reports ready, outside the history and the notebook's namespace, so execution
counts, outputs and variables are untouched). When its stage starts, the warm-up stops
(`take_over`) and the kernel is handed to Papermill. A kernel runs one stage only: when the
notebook is done, every result is already in MLflow and on disk, so the kernel is stopped at
once rather than given seconds to shut down politely.
"""

from __future__ import annotations

import ast
import contextlib
import importlib
import os
import queue
import threading
import warnings
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

# Deferred imports: jupyter_client, nbformat and psutil load inside the functions that use them,
# so that importing this module (from the command line or a notebook) stays fast.

BASE_MODULES = ("matplotlib.pyplot", "pandas", "mlflow.store.tracking.sqlalchemy_store")
"""Modules every stage imports; every kernel imports them as it starts, cold ones too."""

KERNEL_MEMORY = 1_500_000_000
"""Bytes a warm kernel is assumed to need: kernels are started ahead only while the machine has
that much memory available for each."""


def read_notebook(notebook: Path) -> Any:
    import nbformat

    return nbformat.read(str(notebook), as_version=4)


def kernel_name(nb: Any) -> str:
    """The kernel a notebook asks for in its metadata (`python3` when it names none)."""
    return nb.metadata.get("kernelspec", {}).get("name") or "python3"


def warm_up_modules(nb: Any) -> list[str]:
    """What a kernel of notebook `nb` imports before its turn: the common modules, the modules
    its code cells import at the top level, then its metadata's `mlworkbench.warm_up` list (the
    heavy libraries its package functions import when called; `module:function` also calls
    that function, e.g. to fill a cache)."""
    found = list(BASE_MODULES)
    for cell in nb.cells:
        if cell.cell_type == "code":
            found += _imported(cell.source)
    found += nb.metadata.get("mlworkbench", {}).get("warm_up", [])
    return list(dict.fromkeys(found))


def _imported(source: str) -> list[str]:
    """Modules a cell's top-level import statements name (`from a import b`: `a` and `a.b`,
    which is a module or else fails harmlessly at warm-up)."""
    try:
        tree = ast.parse(source)
    except SyntaxError:  # IPython magics
        return []
    names: list[str] = []
    for node in tree.body:
        if isinstance(node, ast.Import):
            names += [alias.name for alias in node.names]
        elif _absolute(node):
            names += [node.module, *(f"{node.module}.{a.name}" for a in node.names)]
    return names


def _absolute(node: ast.stmt) -> bool:
    """Whether `node` is a `from module import ...` of a named, absolute module."""
    return (
        isinstance(node, ast.ImportFrom)
        and node.module not in (None, "__future__")
        and not node.level
    )


WARM_SWITCH = "MLWB_WARM_KERNELS"
"""Environment variable: `0` starts kernels without the stage warm-up (only `BASE_MODULES`), to
compare or to debug."""

IDLE_CORE = 0.7
"""Share of a core that must be idle for a warming kernel to import its next module."""

WARM_UP_THREAD = "mlwb-warm-up"

_pending: list[str] = []
"""The warm-up's names not imported yet (in a kernel)."""


def warm_up(names: Iterable[str]) -> threading.Thread:
    """Import `names` in a background thread (run inside a starting kernel) that takes only
    CPU the running stages leave idle (`_wait_for_idle_cpu`), until its own stage starts
    (`take_over`). A name that fails to import is skipped: the notebook meets the same error in
    its own cell, at its place.

    Warnings the imports raise are not shown: once the stage runs, the kernel would print them
    into its running cell, with the machine's paths, before the notebook has set up its notes
    (`reports.elements.prepare_notebook`), which silences or rewords them when it imports the
    same modules itself."""
    for module in BASE_MODULES:  # at once, before the kernel reports ready: what they print
        with contextlib.suppress(Exception):  # goes to the kernel's log, not to a cell
            importlib.import_module(module)
    _pending[:] = [name for name in names if name not in BASE_MODULES]
    thread = threading.Thread(
        target=_import_pending, args=(_wait_for_idle_cpu,), name=WARM_UP_THREAD, daemon=True
    )
    shown = warnings.showwarning

    def show(*args: Any, **kwargs: Any) -> None:
        if threading.current_thread() is not thread:
            shown(*args, **kwargs)

    warnings.showwarning = show
    thread.start()
    return thread


def take_over() -> None:
    """Stop the warm-up after the module it is importing (the runner calls it when the
    kernel's stage starts): the notebook imports what is left when it needs it, so a stage
    never waits for a module it does not use, and no import competes with it for the CPU."""
    _pending.clear()


def _import_pending(before_each: Callable[[], None] | None = None) -> None:
    while _pending:
        if before_each is not None:
            before_each()
        try:
            name = _pending.pop(0)
        except IndexError:  # the other thread took the last one
            return
        module, _, function = name.partition(":")
        try:
            loaded = importlib.import_module(module)
            if function:
                getattr(loaded, function)()
        except Exception:  # a warm-up failure only costs its time
            continue


def _wait_for_idle_cpu(sample: float = 0.1) -> None:
    """Return once the machine has most of a core idle, or the stage took the warm-up over.

    Operating-system priorities cannot do this: every kernel runs in a session of its own, and
    Linux shares the CPU fairly between sessions, whatever their threads' priorities. And a
    stage slowed by a kernel warming beside it loses more than the warm-up saves: the threads
    of a parallel fit wait for each other whenever one of them is descheduled."""
    import psutil

    cores = psutil.cpu_count() or 1
    while _pending and psutil.cpu_percent(interval=sample) > 100 * (1 - IDLE_CORE / cores):
        continue


def start_kernel(notebook: Path, env: Mapping[str, str], warm: bool | None = None) -> Any:
    """Launch `notebook`'s kernel in its folder with `env` and return its manager. It imports
    `BASE_MODULES` as it starts and, with `warm` (by default unless `MLWB_WARM_KERNELS=0`), then
    the rest of `warm_up_modules` in the background.

    Returns without waiting for the kernel to be ready; Papermill waits when it connects.
    """
    from jupyter_client.manager import KernelManager

    nb = read_notebook(notebook)
    # The asynchronous client's reads can be cancelled, so a stage running in a worker thread
    # ends when its kernel is killed (a blocking client would wait for the dead kernel forever).
    manager = KernelManager(
        kernel_name=kernel_name(nb),
        client_class="jupyter_client.asynchronous.AsyncKernelClient",
    )
    # The kernel's own log says only that its loopback ports are unencrypted: keep errors.
    extra = ["--IPKernelApp.log_level=ERROR"]
    if warm is None:
        warm = os.environ.get(WARM_SWITCH, "1") != "0"
    names = warm_up_modules(nb) if warm else []
    line = f"__import__('{__name__}').pipeline.kernels.warm_up({names!r});"
    extra.append(f"--IPKernelApp.exec_lines={line}")
    manager.start_kernel(cwd=str(notebook.parent), env=dict(env), extra_arguments=extra)
    return manager


def take_over_warm_up(manager: Any) -> None:
    """Have the kernel of `manager` stop its warm-up (`take_over`) before Papermill's first
    cell."""
    _run_silently(manager, f"__import__('{__name__}').pipeline.kernels.take_over()")


def flush_logging(manager: Any) -> None:
    """Have the kernel of `manager` write what it still logs in the background (its notebook
    may have failed before `store.end_stage_run`), before it is stopped."""
    if manager.is_alive():
        _run_silently(manager, "__import__('mlworkbench.tracking.store').tracking.store.flush()")


def _run_silently(manager: Any, code: str, timeout: float = 120) -> None:
    """Run `code` in the kernel as a silent request: outside the notebook and its history."""
    client = manager.blocking_client()
    client.start_channels()
    try:
        client.wait_for_ready(timeout=timeout)
        client.execute(code, silent=True, store_history=False)
        client.get_shell_msg(timeout=timeout)
    except (RuntimeError, TimeoutError, queue.Empty):
        pass  # a kernel that died or hangs fails its stage in Papermill, with its message
    finally:
        client.stop_channels()


def pool_size(jobs: int) -> int:
    """How many kernels may wait warm at a time: one per job, fewer when memory is short."""
    import psutil

    return max(0, min(jobs, psutil.virtual_memory().available // KERNEL_MEMORY))


def stop_kernel(manager: Any) -> None:
    """Kill the kernel, remove its connection file, close its sockets; again: does nothing.

    Works on the process itself rather than through jupyter_client's event loop, because after
    Ctrl-C that loop still holds the interrupted Papermill tasks and would wait on them.
    """
    process = getattr(manager.provisioner, "process", None)
    if process is not None and process.poll() is None:
        process.kill()
        process.wait(timeout=30)
    manager.cleanup_connection_file()
    # Close the sockets of Papermill's client too: left open, they hold the exit for a second.
    manager.context.destroy(linger=0)


def kill_kernel(manager: Any) -> None:
    """Kill the kernel from another thread than the one running its notebook. That thread's
    client (asynchronous, see `start_kernel`) notices within a second and fails the stage;
    `stop_kernel` cleans up after."""
    process = getattr(manager.provisioner, "process", None)
    if process is not None and process.poll() is None:
        process.kill()
