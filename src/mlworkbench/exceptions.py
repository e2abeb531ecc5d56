"""The workbench's exceptions: one small hierarchy rooted at `MlwbError`.

The CLI maps each family to an exit code: configuration and input problems found before any
kernel starts exit with 2, a stage that fails while it runs exits with 1.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any


class MlwbError(Exception):
    """Root of every error the workbench raises on purpose."""

    exit_code = 1


class ConfigError(MlwbError):
    """A pipeline config or a notebook parameter set is invalid.

    Carries every problem found, so one validation reports them all at once.
    """

    exit_code = 2

    def __init__(self, problems: list[str] | str):
        self.problems = [problems] if isinstance(problems, str) else list(problems)
        super().__init__("\n".join(self.problems))


class NotebookContractError(ConfigError):
    """A notebook's parameters cell is missing or cannot be read."""


class DataError(MlwbError):
    """The input data cannot be used as asked."""

    exit_code = 2


class DataSourceNotFoundError(DataError):
    """The data file or bundled dataset does not exist."""


class UnreadableDataError(DataError):
    """The data file exists but cannot be parsed."""


class EmptyDataError(DataError):
    """The dataset has no rows or no columns."""


class TargetMissingError(DataError):
    """The target column is not among the dataset's columns."""


class SingleClassTargetError(DataError):
    """A classification target holds only one class."""


class UnknownColumnError(DataError):
    """A column named in the settings is not in the dataset."""


class StageFailedError(MlwbError):
    """A notebook raised while it ran; its partial output is kept."""

    exit_code = 1


class PipelineInterrupted(MlwbError):
    """The user stopped the pipeline (Ctrl-C); runs are marked KILLED."""

    exit_code = 130


class ClusterError(ConfigError):
    """The Dask cluster cannot run the pipeline: scheduler unreachable, no workers, or workers
    without the project, the data or the tracking server (found before anything is submitted;
    carries one problem per worker and missing thing)."""


class RegistryError(MlwbError):
    """The MLflow model registry could not answer: the store is unreachable or broken, or a
    registered model is missing where one is expected. Promotion fails closed on it: no answer
    from the registry never counts as "no champion yet".

    Exit code 5, apart from bad input (2), so a script can retry once the store is back.
    """

    exit_code = 5


class AccessError(MlwbError):
    """The tracking server refused the user (401 or 403), or a user or role is not known."""

    exit_code = 2


class PromotionError(MlwbError):
    """A manual promotion that cannot be recorded (unknown model or version, no reason)."""

    exit_code = 2


class RunNotFoundError(MlwbError):
    """The run to repeat is not in the tracking store, or is not a pipeline run."""

    exit_code = 2


class DataChangedError(DataError):
    """The data behind a run has changed, so the run cannot be repeated exactly."""


class ServerError(MlwbError):
    """The model server did not start."""

    exit_code = 1


class ScoringInputError(MlwbError):
    """A batch that does not fit the model, an unknown model, or an unusable output path."""

    exit_code = 2


class MigrationError(MlwbError):
    """The source or the destination cannot be used; nothing was copied."""

    exit_code = 2


class MigrationFailed(MlwbError):
    """Copying stopped part way; what was copied stays and a new run of the command resumes."""

    exit_code = 1


class TeamServerError(MlwbError):
    """The team server cannot start: its database or its programs are not usable."""

    exit_code = 2


class ExperimentNotFoundError(MlwbError):
    """The experiment to compare does not exist or has no training runs."""

    exit_code = 2


class ModelConfigError(MlwbError):
    """An unknown model or a hyperparameter the model does not accept."""

    exit_code = 2


class ExplainInputError(MlwbError):
    """No model to explain, or a model the workbench did not log."""

    exit_code = 2


class CardExportError(MlwbError):
    """A model card cannot be exported: a model URI that names no registered version, a version
    no card stage has judged, a document that does not match its schema, or no Chromium to
    print the PDF with."""

    exit_code = 2


def unknown_keys(
    mapping: Mapping[str, Any], allowed: Sequence[str], section: str, where: str
) -> list[str]:
    """One problem per key of a config section that is not in `allowed`, naming it
    `section.key` and listing the allowed keys."""
    return [
        f"{where}: unknown key '{section}.{key}'. Allowed: {', '.join(allowed)}."
        for key in mapping
        if key not in allowed
    ]
