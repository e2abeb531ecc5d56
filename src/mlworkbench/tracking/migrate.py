"""`mlwb migrate`: copy a tracking store into another, runs first (`migrate_runs`), then the
model registry (`migrate_registry`). Copying is idempotent: a new call resumes."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Iterator
from typing import Any

from mlworkbench.exceptions import MigrationFailed, MlwbError
from mlworkbench.tracking.migrate_registry import copy_registry
from mlworkbench.tracking.migrate_runs import Counts, Migration

# Deferred imports: mlflow loads inside the function that uses it, so that importing this module
# (from the command line) stays fast.


@contextlib.contextmanager
def _global_tracking_uri(uri: str) -> Iterator[None]:
    """Point MLflow's process-wide tracking URI at `uri` for a while: a SQLite registry
    resolves a `models:/<id>` version source through it, not through the client that
    registers the version."""
    import mlflow  # deferred: keeps `mlwb --help` fast

    previous, variable = mlflow.get_tracking_uri(), os.environ.get("MLFLOW_TRACKING_URI")
    mlflow.set_tracking_uri(uri)
    try:
        yield
    finally:
        mlflow.set_tracking_uri(previous)
        if variable is None:
            os.environ.pop("MLFLOW_TRACKING_URI", None)
        else:
            os.environ["MLFLOW_TRACKING_URI"] = variable


def migrate(source: str, destination: str, echo: Callable[[str], Any] = print) -> Counts:
    """Copy `source` into `destination` (tracking URIs), print progress, return the counts.

    Raises:
        MigrationError: a store is missing or unreachable (nothing copied).
        MigrationFailed: copying stopped part way (a new call resumes).
    """
    migration = Migration(source, destination, echo)
    try:
        counts = migration.run()
        with _global_tracking_uri(destination):
            copy_registry(migration)
    except MlwbError:
        raise
    except Exception as exc:
        raise MigrationFailed(
            f"the migration stopped: {exc}. What was copied stays; run the same command again "
            "to resume."
        ) from exc
    echo(counts.summary())
    return counts
