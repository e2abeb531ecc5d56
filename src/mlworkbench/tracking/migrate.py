"""`mlwb migrate`: copy a tracking store into another, runs first (`migrate_runs`), then the
model registry (`migrate_registry`). Copying is idempotent: a new call resumes."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from mlworkbench.exceptions import MigrationFailed, MlwbError
from mlworkbench.tracking.migrate_registry import copy_registry
from mlworkbench.tracking.migrate_runs import Counts, Migration


def migrate(source: str, destination: str, echo: Callable[[str], Any] = print) -> Counts:
    """Copy `source` into `destination` (tracking URIs), print progress, return the counts.

    Raises:
        MigrationError: a store is missing or unreachable (nothing copied).
        MigrationFailed: copying stopped part way (a new call resumes).
    """
    migration = Migration(source, destination, echo)
    try:
        counts = migration.run()
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
