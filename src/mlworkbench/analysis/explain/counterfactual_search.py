"""DiCE's search for counterfactuals of one row at a time, for `counterfactuals.explain`.

DiCE (random sampling) sees only the features the model uses, as the model sees them (numbers
written as text already read as numbers, dates as decimal years), with missing values filled
for its search (numbers with the median, categories as "(missing)"), whole-number columns as
integers and every category as text. `Search` is the model DiCE calls: it turns DiCE's rows
back into the model's values and puts the searched row's other raw columns back before calling
the pipeline, so identifiers and names are never varied nor shown. Binary scores reach DiCE
rescaled so that the model's threshold reads as 0.5 (DiCE 0.12 overrides a `stopping_threshold`
on the wrong side of 0.5). `time_limit` interrupts a search when the time is up and `quiet`
keeps DiCE's progress bars, prints and warnings out of the report.
"""

from __future__ import annotations

import contextlib
import io
import math
import random
import signal
import threading
import time
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from mlworkbench.analysis import screening
from mlworkbench.analysis.explain.explanation import Subject

# Deferred imports: dice_ml (which loads scikit-learn helpers and tqdm) loads inside
# `explainer`, so that importing this module stays fast (importing dice_ml takes seconds).

MISSING = "(missing)"
"""How DiCE sees a missing category (the pipeline's imputer uses the same text)."""
OUTCOME = "__outcome__"


class OutOfTime(BaseException):
    """The time cap interrupted a search (a BaseException, so no library swallows it)."""


@dataclass
class Search:
    """What every row's search shares: the features as DiCE sees them, the way back to the
    model's values, and the DiCE explainer (built on first use). DiCE calls its `predict` and
    `predict_proba`, which put the searched row's other raw columns back."""

    subject: Subject
    view: pd.DataFrame  # the explained rows as the model sees them
    data: pd.DataFrame  # the same, filled and typed for DiCE
    categories: dict[str, dict[str, Any]]  # DiCE's text of a category -> the model's value
    precision: dict[str, int]  # decimals of each numeric feature
    varied: list[str]
    median: float = 0.0  # regression: the median prediction of the explained rows
    row_id: Any = None
    explainer: Any = None

    def to_raw(self, frame: pd.DataFrame) -> pd.DataFrame:
        """Rows of model features (DiCE's or the model's values) as raw rows of `row_id`,
        whose missing numbers DiCE left as filled are missing again (so DiCE scores them as
        the pipeline does)."""
        out = {}
        for column in self.view.columns:
            values = frame[column].reset_index(drop=True)
            if column in self.categories:
                lookup = self.categories[column]
                out[column] = values.map(lambda v, lookup=lookup: lookup.get(str(v), v))
                continue
            numbers = pd.to_numeric(values, errors="coerce").astype(float)
            if pd.isna(self.view.at[self.row_id, column]):
                numbers = numbers.mask(np.isclose(numbers, self.data.at[self.row_id, column]))
            out[column] = numbers
        raw = self.subject.rows.loc[[self.row_id]]
        others = raw.drop(columns=list(self.view.columns))
        others = others.loc[others.index.repeat(len(frame))].reset_index(drop=True)
        return pd.concat([others, pd.DataFrame(out)], axis=1)[list(raw.columns)]

    def outcome(self, raw: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
        """Scores (binary: probability of the second class; multiclass: of the predicted
        class; regression: the prediction) and decisions (labels, or predictions)."""
        subject = self.subject
        if subject.kind == "regression":
            values = np.asarray(subject.pipeline.predict(raw), dtype=float)
            return values, values
        proba = np.asarray(subject.pipeline.predict_proba(raw), dtype=float)
        if subject.kind == "binary":
            threshold = 0.5 if subject.threshold is None else subject.threshold
            return proba[:, 1], (proba[:, 1] >= threshold).astype(int)
        return proba.max(axis=1), proba.argmax(axis=1)

    def predict(self, frame: pd.DataFrame) -> np.ndarray:
        """Predictions of a regression pipeline on DiCE's rows."""
        return np.asarray(self.subject.pipeline.predict(self.to_raw(frame)), dtype=float)

    def predict_proba(self, frame: pd.DataFrame) -> np.ndarray:
        """Probabilities on DiCE's rows, binary ones rescaled so that the threshold reads 0.5."""
        proba = np.asarray(self.subject.pipeline.predict_proba(self.to_raw(frame)), dtype=float)
        threshold = self.subject.threshold
        if self.subject.kind != "binary" or threshold is None or not 0 < threshold < 1:
            return proba
        p = proba[:, 1]
        low, high = p / (2 * threshold), 0.5 + (p - threshold) / (2 * (1 - threshold))
        scaled = np.clip(np.where(p < threshold, low, high), 0.0, 1.0)
        return np.column_stack([1 - scaled, scaled])


def _dice_column(values: pd.Series) -> tuple[pd.Series, dict[str, Any] | None, int]:
    """A model column for DiCE: numbers with missing values as the median (integers when all
    are whole) and their decimals, or categories as text with the value of each text."""
    if screening.is_numeric(values):
        median, whole = values.median(), bool(np.all(np.mod(values.dropna(), 1) == 0))
        median = 0.0 if pd.isna(median) else round(median) if whole else median
        filled = values.fillna(median).astype(float)
        if whole:
            return filled.astype("int64"), None, 0
        spread = float(filled.std()) or float(filled.abs().max()) or 1.0
        return filled, None, int(min(6, max(1, 2 - math.floor(math.log10(spread)))))
    lookup = {str(v): v for v in values.dropna().unique()}
    lookup.setdefault(MISSING, np.nan)
    return values.map(str).where(values.notna(), MISSING), lookup, 0


def prepare(subject: Subject, frozen: list[str]) -> Search:
    """The shared search state of `subject`'s explained rows."""
    _, view = screening.model_view(subject.pipeline, subject.rows)
    columns, categories, precision = {}, {}, {}
    for name in view.columns:
        columns[name], lookup, digits = _dice_column(view[name])
        if lookup is None:
            precision[name] = digits
        else:
            categories[name] = lookup
    varied = [c for c in view.columns if c not in set(frozen)]
    return Search(subject, view, pd.DataFrame(columns), categories, precision, varied)


def explainer(search: Search) -> Any:
    """DiCE's random-sampling explainer over the explained rows, with `search` as the model."""
    import dice_ml

    data = dice_ml.Data(
        dataframe=search.data.assign(**{OUTCOME: search.subject.y}),
        continuous_features=list(search.precision),
        outcome_name=OUTCOME,
        continuous_features_precision=search.precision,
    )
    model_type = "regressor" if search.subject.kind == "regression" else "classifier"
    model = dice_ml.Model(model=search, backend="sklearn", model_type=model_type)
    return dice_ml.Dice(data, model, method="random")


@contextlib.contextmanager
def time_limit(seconds: float) -> Iterator[None]:
    """Raise `OutOfTime` in the block after `seconds` (main thread only: elsewhere the block
    runs to its end), then restore the previous SIGALRM handler and timer."""
    if threading.current_thread() is not threading.main_thread() or not hasattr(
        signal, "setitimer"
    ):
        yield
        return
    armed = [True]

    def interrupt(signum: int, frame: Any) -> None:
        if armed[0]:
            raise OutOfTime

    previous = signal.signal(signal.SIGALRM, interrupt)
    delay, interval = signal.setitimer(signal.ITIMER_REAL, max(seconds, 1e-3))
    started = time.perf_counter()
    try:
        try:
            yield
        finally:
            armed[0] = False
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
        if delay > 0:
            left = max(delay - (time.perf_counter() - started), 1e-3)
            signal.setitimer(signal.ITIMER_REAL, left, interval)


@contextlib.contextmanager
def quiet() -> Iterator[None]:
    """No progress bars, prints or warnings from DiCE; the random generators DiCE seeds are
    left as they were."""
    states = random.getstate(), np.random.get_state()
    sink = io.StringIO()
    try:
        with (
            contextlib.redirect_stdout(sink),
            contextlib.redirect_stderr(sink),
            warnings.catch_warnings(),
        ):
            warnings.simplefilter("ignore")
            yield
    finally:
        random.setstate(states[0])
        np.random.set_state(states[1])


def target(search: Search, raw: pd.DataFrame, decision: Any, move: float) -> dict[str, Any]:
    """DiCE's target for a row: the other side of the threshold, the second most likely
    class, or a prediction `move` higher (below the median prediction) or lower."""
    if search.subject.kind == "binary":
        return {"desired_class": int(1 - decision), "stopping_threshold": 0.5}
    if search.subject.kind == "multiclass":
        return {"desired_class": int(np.argsort(search.subject.pipeline.predict_proba(raw)[0])[-2])}
    if decision < search.median:
        return {"desired_range": [float(decision) + move, math.inf]}
    return {"desired_range": [-math.inf, float(decision) - move]}


def reached(goal: dict[str, Any], decision: Any, new: Any) -> bool:
    """True when a re-scored counterfactual really gets another decision (or its range)."""
    if "desired_range" in goal:
        low, high = goal["desired_range"]
        return bool(low <= new <= high)
    return bool(new != decision)


def _permitted(search: Search, query: pd.Series) -> dict[str, list[str]]:
    """Categories a counterfactual may take where the data have missing ones: all but
    "(missing)", which is no change to suggest (unless the row itself has it)."""
    return {
        column: [v for v in lookup if v != MISSING or query[column] == MISSING]
        for column, lookup in search.categories.items()
        if column in search.varied and MISSING in set(search.data[column])
    }


def candidates(search: Search, goal: dict[str, Any], per_row: int, seed: int) -> pd.DataFrame:
    """DiCE's counterfactuals of the searched row (none: an empty frame)."""
    query = search.data.loc[[search.row_id]].reset_index(drop=True)
    try:
        found = search.explainer.generate_counterfactuals(
            query,
            total_CFs=per_row,
            features_to_vary=search.varied,
            permitted_range=_permitted(search, query.iloc[0]) or None,
            random_seed=seed,
            **goal,
        )
    except Exception as exc:
        if "No counterfactuals found" not in str(exc):
            raise
        return search.data.iloc[:0]
    examples = found.cf_examples_list[0]
    frame = examples.final_cfs_df_sparse
    frame = examples.final_cfs_df if frame is None else frame
    return search.data.iloc[:0] if frame is None else frame


def changes(search: Search, candidate: pd.Series) -> dict[str, Any]:
    """The cells a DiCE candidate changes, as the model's values (rounded to DiCE's decimals)."""
    query, changed = search.data.loc[search.row_id], {}
    for column in search.view.columns:
        new, old = candidate[column], query[column]
        if column in search.categories:
            if str(new) != str(old):
                changed[column] = search.categories[column].get(str(new), new)
        elif not math.isclose(float(new), float(old), rel_tol=1e-6, abs_tol=1e-9):
            changed[column] = round(float(new), search.precision[column])
    return changed
