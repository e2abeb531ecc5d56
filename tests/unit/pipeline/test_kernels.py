"""What a stage's kernel imports before its turn, and the pool of kernels waiting warm."""

from __future__ import annotations

import sys
import warnings

import nbformat
import pytest

from mlworkbench.pipeline import kernels


def notebook(*cells: str, warm_up: list[str] | None = None):
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(c) for c in cells]
    if warm_up is not None:
        nb.metadata["mlworkbench"] = {"warm_up": warm_up}
    return nb


def test_warm_up_names_the_common_modules_the_notebooks_imports_and_its_metadata_list():
    nb = notebook(
        "x: int = 1  # parameters",
        "from __future__ import annotations\nimport numpy as np, json\n"
        "from mlworkbench.analysis import data, screening\nfrom . import local\n"
        "def later():\n    import hidden\n",
        "%matplotlib inline\nimport ignored",  # a magic: not Python, skipped
        "import json",
        warm_up=["shap", "mlworkbench.tracking.requirements:warm"],
    )
    assert kernels.warm_up_modules(nb) == [
        *kernels.BASE_MODULES,
        "numpy",
        "json",
        "mlworkbench.analysis",
        "mlworkbench.analysis.data",
        "mlworkbench.analysis.screening",
        "shap",
        "mlworkbench.tracking.requirements:warm",
    ]


def test_every_stage_notebook_warms_up_the_heavy_libraries_of_its_stage():
    from helpers import NOTEBOOKS

    expected = {
        "01-eda.ipynb": "data_profiling",
        "02-train.ipynb": "xgboost",
        "03-explain.ipynb": "shap",
        "04-model-card.ipynb": "mlworkbench.governance.card",
        "05-score.ipynb": "mlflow.pyfunc",
        "06-monitor.ipynb": "mlflow.pyfunc",
    }
    for name, module in expected.items():
        modules = kernels.warm_up_modules(kernels.read_notebook(NOTEBOOKS / name))
        assert module in modules, name
        assert modules[: len(kernels.BASE_MODULES)] == list(kernels.BASE_MODULES)


def test_the_warm_up_imports_on_idle_cpu_and_skips_what_fails(monkeypatch):
    monkeypatch.delitem(sys.modules, "colorsys", raising=False)
    called, waited = [], []
    monkeypatch.setattr(kernels, "_wait_for_idle_cpu", lambda: waited.append(1))
    monkeypatch.setattr("mlworkbench.tracking.local_cache.cache_dir", lambda: called.append(1))
    names = ["no_such_module_here", "colorsys", "mlworkbench.tracking.local_cache:cache_dir"]
    kernels.warm_up(names).join(timeout=30)
    assert kernels._pending == [] and "colorsys" in sys.modules
    assert called == [1] and len(waited) == 3  # the CPU is checked before every module


def test_the_warm_up_stops_when_its_stage_starts(monkeypatch):
    def busy(sample=0.1):  # the machine stays busy: the thread never imports by itself
        while kernels._pending:
            pass

    monkeypatch.setattr(kernels, "_wait_for_idle_cpu", busy)
    monkeypatch.delitem(sys.modules, "wave", raising=False)
    thread = kernels.warm_up(["wave"])
    kernels.take_over()  # the stage starts: what is left is the notebook's to import
    thread.join(timeout=10)
    assert not thread.is_alive() and "wave" not in sys.modules


@pytest.mark.parametrize("jobs", [1, 2, 4])
def test_the_pool_waits_warm_one_kernel_per_job_while_memory_allows(monkeypatch, jobs):
    import psutil

    assert kernels.pool_size(jobs) == min(
        jobs, psutil.virtual_memory().available // kernels.KERNEL_MEMORY
    )

    class Short:
        available = kernels.KERNEL_MEMORY + 1

    monkeypatch.setattr(psutil, "virtual_memory", lambda: Short)
    assert kernels.pool_size(jobs) == 1
    Short.available = kernels.KERNEL_MEMORY - 1
    assert kernels.pool_size(jobs) == 0


def test_warnings_of_the_warm_up_imports_are_not_shown(monkeypatch, tmp_path):
    (tmp_path / "noisy_module_here.py").write_text("import warnings\nwarnings.warn('noise')\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delitem(sys.modules, "noisy_module_here", raising=False)
    shown = []
    monkeypatch.setattr(warnings, "showwarning", lambda *args, **kwargs: shown.append(args[0]))
    monkeypatch.setattr(kernels, "_wait_for_idle_cpu", lambda: None)
    with warnings.catch_warnings():
        warnings.simplefilter("always")
        kernels.warm_up(["noisy_module_here"]).join(timeout=30)
        assert "noisy_module_here" in sys.modules and shown == []
        warnings.warn("a warning of the notebook's own", stacklevel=1)
    assert [str(w) for w in shown] == ["a warning of the notebook's own"]
