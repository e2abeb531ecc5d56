"""Pinned requirements of logged models, computed once per Python environment.

A model is logged with the versions it was trained with (`pinned`). Before saving it, MLflow
checks those pins against the environment, for which it maps every installed module to its
package by reading the file list of every installed distribution: about 3 seconds, paid by
each process that logs a model. `warm` fills that map from a cache file of this environment's,
written the first time, so the map is computed once per environment, and the train stage's
kernel calls it while it waits for its turn (its notebook's `warm_up` list).
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import site
import sys
import tempfile
from importlib.metadata import version
from pathlib import Path
from typing import Any

# Deferred imports: mlflow loads inside the functions that use them, so that importing this module
# (from the command line or a notebook) stays fast.

PACKAGES = ("mlflow", "scikit-learn", "xgboost", "pandas", "numpy", "cloudpickle", "pyarrow")


@functools.cache
def pinned() -> tuple[str, ...]:
    """Pinned requirements of a logged model: the versions it was trained with."""
    return tuple(f"{name}=={version(name)}" for name in PACKAGES)


def environment_key() -> str:
    """This environment: its prefix and the modification times of its package folders (which
    installing or removing a package changes)."""
    folders = [*site.getsitepackages(), site.getusersitepackages()]
    stamps = [f"{f}:{os.stat(f).st_mtime_ns}" for f in folders if os.path.isdir(f)]
    text = "\n".join([sys.prefix, sys.version, *stamps])
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def cache_file() -> Path:
    """Where this environment's map of modules to packages is kept."""
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return base / "mlworkbench" / f"modules-to-packages-{environment_key()}.json"


def warm() -> None:
    """Fill MLflow's map of installed modules to packages from this environment's cache file,
    or compute it (MLflow's own function) and write that file. Does nothing once filled; a
    cache that cannot be read or written only costs the computation."""
    from mlflow.utils import requirements_utils

    if requirements_utils._MODULES_TO_PACKAGES is not None:
        return
    path = cache_file()
    try:
        requirements_utils._MODULES_TO_PACKAGES = json.loads(path.read_text(encoding="utf-8"))
        return
    except (OSError, ValueError):
        pass
    requirements_utils._init_modules_to_packages_map()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile("w", dir=path.parent, delete=False) as handle:
            json.dump(requirements_utils._MODULES_TO_PACKAGES, handle)
        os.replace(handle.name, path)  # whole or not at all, when two kernels write it
    except OSError:
        pass


def load_model(uri: str) -> Any:
    """`mlflow.pyfunc.load_model(uri)`, whose check of the model's requirements reads the map
    of modules to packages from this environment's cache (`warm`)."""
    import mlflow

    warm()
    return mlflow.pyfunc.load_model(uri)
