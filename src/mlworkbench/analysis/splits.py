"""Training and test rows: the stratified (random), group and time splits, checked.

Kept apart from model fitting (`training`) because a split is a decision about the data, and
every later figure of the train stage is measured on the test rows it chooses.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from mlworkbench.exceptions import DataError

# Deferred imports: sklearn loads inside the functions that use them, so that importing this
# module (from the command line or a notebook) stays fast.

SPLITS = ("stratified", "group", "time")
"""The split strategies a config can name."""

Parts = tuple[pd.DataFrame, pd.DataFrame, str]
"""Training rows, test rows and the sentence describing how they were chosen."""


@dataclass
class Split:
    """Training and test rows, and how they were chosen."""

    train: pd.DataFrame
    test: pd.DataFrame
    strategy: str
    description: str


def split_data(
    frame: pd.DataFrame,
    target: str,
    task: str,
    strategy: str = "stratified",
    test_size: float = 0.25,
    seed: int = 42,
    group_column: str = "",
    time_column: str = "",
) -> Split:
    """Split rows into training and test sets.

    `stratified` keeps class shares (classification) with a random split; `group` keeps all
    rows of a group on one side; `time` trains on the past and tests on the future.

    Raises:
        DataError: unknown strategy or column, a time column that is not a date, or a class
            with fewer than 2 rows on either side.
    """
    if strategy not in SPLITS:
        raise DataError(f"Unknown split '{strategy}'. Splits: {', '.join(SPLITS)}.")
    if not 0 < test_size < 1:
        raise DataError(f"test_size must be between 0 and 1, got {test_size}.")
    if strategy == "group":
        train, test, description = group_split(frame, test_size, seed, group_column)
    elif strategy == "time":
        train, test, description = time_split(frame, test_size, time_column)
    else:
        train, test, description = random_split(frame, target, task, test_size, seed)
    if task == "classification":
        _check_classes(train, test, target)
    return Split(train.copy(), test.copy(), strategy, description)


def group_split(frame: pd.DataFrame, test_size: float, seed: int, group_column: str) -> Parts:
    """Rows of one group (a customer, a shop) all on one side, about `test_size` of the
    groups held out, so the test measures how the model does on groups it never saw."""
    from sklearn.model_selection import GroupShuffleSplit

    _require_column(frame, group_column, "group_column")
    splitter = GroupShuffleSplit(n_splits=1, test_size=test_size, random_state=seed)
    train_idx, test_idx = next(splitter.split(frame, groups=frame[group_column]))
    description = (
        f"grouped by '{group_column}': no {group_column} appears in both sets, "
        f"about {test_size:.0%} of the groups held out for testing"
    )
    return frame.iloc[train_idx], frame.iloc[test_idx], description


def time_split(frame: pd.DataFrame, test_size: float, time_column: str) -> Parts:
    """The earliest rows for training, the latest `test_size` for testing, so the test
    measures how the model does on the future (equal dates keep their row order)."""
    _require_column(frame, time_column, "time_column")
    when = _as_dates(frame[time_column], time_column)
    order = np.argsort(when.to_numpy(), kind="stable")
    cut = round(len(frame) * (1 - test_size))
    train, test = frame.iloc[order[:cut]], frame.iloc[order[cut:]]
    description = (
        f"by time: trained on rows up to {when.iloc[order[cut - 1]]:%Y-%m-%d}, "
        f"tested on the {len(test):,} later rows"
    )
    return train, test, description


def random_split(frame: pd.DataFrame, target: str, task: str, test_size: float, seed: int) -> Parts:
    """A random split, stratified by class for classification so both sides keep the class
    shares.

    Raises:
        DataError: a class with fewer than 2 rows, which a stratified split cannot place.
    """
    from sklearn.model_selection import train_test_split

    stratify = frame[target] if task == "classification" else None
    if stratify is not None and stratify.value_counts().min() < 2:
        rare = stratify.value_counts().idxmin()
        raise DataError(
            f"Class {rare!r} of '{target}' has fewer than 2 rows; a stratified split needs "
            "at least 2 per class."
        )
    train, test = train_test_split(frame, test_size=test_size, random_state=seed, stratify=stratify)
    description = (
        f"random{' stratified by class' if stratify is not None else ''}: "
        f"{1 - test_size:.0%} for training, {test_size:.0%} held out for testing"
    )
    return train, test, description


def _require_column(frame: pd.DataFrame, column: str, setting: str) -> None:
    """Refuse an empty or unknown column name for a split that needs one."""
    if not column:
        raise DataError(f"This split needs '{setting}' to name a column.")
    if column not in frame.columns:
        raise DataError(
            f"{setting} '{column}' is not a column. Columns: {', '.join(map(str, frame.columns))}."
        )


def _as_dates(values: pd.Series, column: str) -> pd.Series:
    """The time column as dates; numbers are refused (seconds or days since when?)."""
    if pd.api.types.is_datetime64_any_dtype(values):
        return values
    if pd.api.types.is_numeric_dtype(values):
        raise DataError(f"time_column '{column}' holds numbers, not dates.")
    try:
        return pd.to_datetime(values, errors="raise", format="mixed")
    except (ValueError, TypeError) as exc:
        raise DataError(f"time_column '{column}' does not hold dates: {exc}") from exc


def _check_classes(train: pd.DataFrame, test: pd.DataFrame, target: str) -> None:
    """Refuse a split whose training rows hold fewer than 2 rows of some class."""
    counts = train[target].value_counts()
    all_classes = set(train[target]) | set(test[target])
    missing = [c for c in all_classes if counts.get(c, 0) < 2]
    if missing:
        raise DataError(
            f"Class(es) {', '.join(map(repr, missing))} of '{target}' have fewer than 2 rows in "
            "the training set; merge rare classes or change the split."
        )
