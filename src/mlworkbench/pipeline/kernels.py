"""Jupyter kernels the runner starts itself, so their start-up overlaps the runner's own work.

A kernel takes seconds to boot and to import pandas and MLflow. The runner launches the
kernel of a stage before it opens the MLflow store and creates the runs, with those imports
as start-up lines (IPython runs them before the kernel reports ready, outside the history, so
execution counts and outputs are untouched), and hands the running kernel to Papermill. When
the notebook is done, every result is already in MLflow and on disk, so the kernel is stopped
at once rather than given seconds to shut down politely.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

# Deferred imports: jupyter_client and nbformat load inside the functions that use them, so that
# importing this module (from the command line or a notebook) stays fast.

WARM_UP = "import matplotlib.pyplot, pandas, mlflow.store.tracking.sqlalchemy_store"
"""Imports every stage needs, run by the kernel while the runner prepares the MLflow runs."""


def kernel_name(notebook: Path) -> str:
    """The kernel a notebook asks for in its metadata (`python3` when it names none)."""
    import nbformat

    nb = nbformat.read(str(notebook), as_version=4)
    return nb.metadata.get("kernelspec", {}).get("name") or "python3"


def start_kernel(notebook: Path, env: Mapping[str, str], warm_up: str = WARM_UP) -> Any:
    """Launch `notebook`'s kernel in its folder with `env` and return its manager.

    Returns without waiting for the kernel to be ready; Papermill waits when it connects.
    A failing warm-up line only costs its time: IPython reports it and the kernel starts.
    """
    from jupyter_client.manager import KernelManager

    # The asynchronous client's reads can be cancelled, so a stage running in a worker thread
    # ends when its kernel is killed (a blocking client would wait for the dead kernel forever).
    manager = KernelManager(
        kernel_name=kernel_name(notebook),
        client_class="jupyter_client.asynchronous.AsyncKernelClient",
    )
    # The kernel's own log says only that its loopback ports are unencrypted: keep errors.
    extra = ["--IPKernelApp.log_level=ERROR"]
    if warm_up:
        extra.append(f"--IPKernelApp.exec_lines={warm_up}")
    manager.start_kernel(cwd=str(notebook.parent), env=dict(env), extra_arguments=extra)
    return manager


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
