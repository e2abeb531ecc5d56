"""Pinned requirements of logged models, computed once per Python environment.

A model is logged with the versions it was trained with (`pinned`). Before saving it, MLflow
checks those pins against the environment, for which it maps every installed module to its
package by reading the file list of every installed distribution: about 3 seconds, paid by
each process that logs or loads a model. `warm` fills that map from a cache file of this
environment's, written the first time, so the map is computed once per environment; the
stages' kernels call it while they wait for their turn (their notebooks' `warm_up` lists).
"""

from __future__ import annotations

import functools
import hashlib
import os
import site
import sys
from importlib.metadata import version
from typing import Any

from mlworkbench.tracking import local_cache

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


def warm() -> None:
    """Fill MLflow's map of installed modules to packages from this environment's cache file,
    or compute it (MLflow's own function) and write that file. Does nothing once filled."""
    from mlflow.utils import requirements_utils

    if requirements_utils._MODULES_TO_PACKAGES is not None:
        return
    name = f"modules-to-packages-{environment_key()}.json"
    cached = local_cache.read(name)
    if isinstance(cached, dict):
        requirements_utils._MODULES_TO_PACKAGES = cached
        return
    requirements_utils._init_modules_to_packages_map()
    local_cache.write(name, requirements_utils._MODULES_TO_PACKAGES)


def load_model(uri: str) -> Any:
    """`mlflow.pyfunc.load_model(uri)`, whose check of the model's requirements reads the map
    of modules to packages from this environment's cache (`warm`)."""
    import mlflow

    warm()
    return mlflow.pyfunc.load_model(uri)
