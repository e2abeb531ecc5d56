"""A warm kernel, started as the runner starts it: its warm-up imports happen outside the
notebook's namespace and history."""

from __future__ import annotations

import os
import time

import nbformat
import pytest

from mlworkbench.pipeline import kernels

pytestmark = pytest.mark.notebook


def warmed(client, module: str, seconds: float = 120) -> bool:
    """Whether the kernel has imported `module` within `seconds`, asked by silent requests."""
    expression = f"__import__('sys').modules.get({module!r}) is not None"
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        reply = client.execute_interactive(
            "", silent=True, user_expressions={"found": expression}, timeout=60
        )
        if reply["content"]["user_expressions"]["found"]["data"]["text/plain"] == "True":
            return True
        time.sleep(0.5)
    return False


def test_a_warm_kernel_has_imported_its_modules_outside_the_notebook(tmp_path):
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell("import json")]
    nb.metadata["mlworkbench"] = {"warm_up": ["wave"]}
    path = tmp_path / "01-warm.ipynb"
    nbformat.write(nb, str(path))
    manager = kernels.start_kernel(path, os.environ)
    try:
        client = manager.blocking_client()
        client.start_channels()
        assert warmed(client, "wave"), "the warm-up did not import its module in 120 s"
        kernels.take_over_warm_up(manager)  # as the stage starts
        printed: list[str] = []
        reply = client.execute_interactive(
            "import sys; print('wave' in sys.modules, 'json' in sys.modules, 'wave' in dir())",
            output_hook=lambda msg: printed.append(msg["content"].get("text", "")),
            timeout=60,
        )
        client.stop_channels()
    finally:
        kernels.stop_kernel(manager)
    assert "".join(printed).split() == ["True", "True", "False"]
    assert reply["content"]["execution_count"] == 1  # the notebook's first cell is still [1]
