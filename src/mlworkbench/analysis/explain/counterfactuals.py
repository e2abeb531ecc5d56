"""Counterfactuals of the rows explained one by one: the smallest changes to the features that
may change which give another decision, found by DiCE within a time cap.

Binary models: the other side of the decision threshold; multiclass: the second most likely
class; regression: a prediction moved by `change` (0: one standard deviation of the
predictions on the explained rows), up for rows predicted below their median, else down.
Frozen features (sensitive and immutable ones) never change, and DiCE only sees the features
the model uses (see `counterfactual_search`). Every counterfactual is scored again by the
pipeline, with the row's unchanged cells as they are, and kept only if it really gets another
decision. `seconds` bounds all rows together: the clock is checked between rows and, in the
main thread, a timer interrupts a row's search when the time is up. Rows cut short, skipped,
with nothing found or that DiCE could not handle are recorded in words, never raised.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from mlworkbench.analysis.explain import counterfactual_search as cf_search
from mlworkbench.analysis.explain.explanation import Subject
from mlworkbench.exceptions import DataError

STATUS_WORDS = {
    "found": "counterfactuals found",
    "none": "no counterfactual within the cap",
    "cut": "the time cap cut the search short",
    "skipped": "skipped, the time cap being used up",
    "failed": "DiCE could not handle the model",
    "fixed": "every feature the model uses is frozen",
}
TABLE_COLUMNS = ["row_id", "reason", "counterfactual", "feature", "original_value", "new_value"]
TABLE_COLUMNS += ["original_score", "new_score", "original_prediction", "new_prediction"]


@dataclass
class Counterfactual:
    """One verified counterfactual: the row's model features with only `changed` differing."""

    values: dict[str, Any]
    changed: list[str]
    score: float
    prediction: str
    sentence: str = ""


@dataclass
class RowCounterfactuals:
    """The counterfactuals of one explained row, simplest first, and how the search went."""

    row_id: Any
    reason: str
    original: dict[str, Any]
    score: float = math.nan
    prediction: str = ""
    counterfactuals: list[Counterfactual] = field(default_factory=list)
    status: str = "found"
    message: str = ""
    seconds: float = 0.0

    @property
    def name(self) -> str:
        """'row 703 (highest score)', or the reason when it names the row."""
        return (
            self.reason if self.reason.startswith("row ") else f"row {self.row_id} ({self.reason})"
        )

    @property
    def sentence(self) -> str:
        """The simplest counterfactual in one plain sentence, or why there is none."""
        if self.counterfactuals:
            return self.counterfactuals[0].sentence
        said = f"Predicted {self.prediction}: " if self.prediction else ""
        return f"{said}{STATUS_WORDS[self.status]}" + (
            f" ({self.message})." if self.message else "."
        )


@dataclass
class CounterfactualResult:
    """Counterfactuals of the explained rows, their notes and the time they took."""

    kind: str
    score_name: str
    frozen: list[str]
    rows: list[RowCounterfactuals]
    notes: list[str]
    seconds: float
    seconds_used: float

    @property
    def enabled(self) -> bool:
        """False when a cap of 0 seconds switched counterfactuals off."""
        return self.seconds > 0

    @property
    def table(self) -> pd.DataFrame:
        """One line per changed cell of every counterfactual (`tables/counterfactuals.csv`)."""
        lines = [
            (
                row.row_id,
                row.reason,
                number,
                feature,
                row.original[feature],
                cf.values[feature],
                row.score,
                cf.score,
                row.prediction,
                cf.prediction,
            )
            for row in self.rows
            for number, cf in enumerate(row.counterfactuals, start=1)
            for feature in cf.changed
        ]
        return pd.DataFrame(lines, columns=TABLE_COLUMNS)

    def sentences(self) -> list[str]:
        """How many rows got counterfactuals, in how long, and what never changes."""
        if not self.enabled:
            return ["Counterfactuals are switched off (counterfactual_seconds is 0)."]
        found = sum(bool(r.counterfactuals) for r in self.rows)
        lead = (
            f"Counterfactuals for {found} of {len(self.rows)} rows explained one by one, found "
            f"in {self.seconds_used:.1f} seconds (cap {self.seconds:g})."
        )
        return [lead, self.frozen_sentence()] if self.frozen else [lead]

    def frozen_sentence(self) -> str:
        """Which features never change, in words ('' when none)."""
        verb = "never changes" if len(self.frozen) == 1 else "never change"
        return f"{_join(self.frozen)} {verb}." if self.frozen else ""

    def metrics(self) -> dict[str, float]:
        """`counterfactuals.rows`, `.rows_with_counterfactual`, `.found`, `.rows_cut_short`,
        `.rows_skipped` and `.rows_failed`. The time used is in the report, not a metric: an
        exact rerun must reproduce every metric."""
        count = {s: float(sum(r.status == s for r in self.rows)) for s in STATUS_WORDS}
        return {
            "counterfactuals.rows": float(len(self.rows)),
            "counterfactuals.rows_with_counterfactual": count["found"],
            "counterfactuals.found": float(sum(len(r.counterfactuals) for r in self.rows)),
            "counterfactuals.rows_cut_short": count["cut"],
            "counterfactuals.rows_skipped": count["skipped"],
            "counterfactuals.rows_failed": count["failed"],
        }


def _join(names: list[str]) -> str:
    """'a', 'a and b', 'a, b and c'."""
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def value_text(value: Any) -> str:
    """A value as a sentence writes it: whole numbers with grouped digits, others to three
    significant digits (one decimal from 100), never in scientific notation."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "missing"
    if isinstance(value, bool | np.bool_) or not isinstance(value, int | float | np.number):
        return str(value)
    number = float(value)
    if number.is_integer() and abs(number) < 1e15:
        return f"{int(number):,}"
    if abs(number) >= 100:
        return f"{number:,.1f}".removesuffix(".0")
    return np.format_float_positional(number, precision=3, fractional=False, trim="-")


def _verified(
    search: cf_search.Search,
    row: RowCounterfactuals,
    goal: dict,
    decision: Any,
    found: pd.DataFrame,
) -> list[Counterfactual]:
    """DiCE's candidates scored again by the pipeline, kept when they get another decision,
    without duplicates, fewest changes first."""
    kept: dict[str, Counterfactual] = {}
    for _, candidate in found.iterrows():
        changes = cf_search.changes(search, candidate)
        key = repr(sorted(changes.items(), key=str))
        if not changes or key in kept or not set(changes) <= set(search.varied):
            continue
        values = {**row.original, **changes}
        scores, decisions = search.outcome(search.to_raw(pd.DataFrame([values])))
        if cf_search.reached(goal, decision, decisions[0]):
            changed = [c for c in search.view.columns if c in changes]
            cf = Counterfactual(
                values, changed, float(scores[0]), _label(search.subject, decisions[0])
            )
            cf.sentence = _sentence(search, row, cf)
            kept[key] = cf
    return sorted(kept.values(), key=lambda cf: len(cf.changed))


def _label(subject: Subject, decision: Any) -> str:
    """A decision in words: a class name, or the prediction."""
    if subject.kind == "regression":
        return value_text(float(decision))
    return str(subject.classes[int(decision)])


def score_name(subject: Subject) -> str:
    """What a row's score is: the probability of the second class, of the predicted class,
    or the prediction."""
    if subject.kind == "binary":
        return f"probability of {subject.classes[1]}"
    return "probability of the predicted class" if subject.kind == "multiclass" else "prediction"


def _sentence(search: cf_search.Search, row: RowCounterfactuals, cf: Counterfactual) -> str:
    """'Predicted bad (probability of good 0.31); good if duration were 12 instead of 36 and
    purpose were car instead of radio/TV (0.62).'"""
    parts = [
        f"{c} were {value_text(cf.values[c])} instead of {value_text(row.original[c])}"
        for c in cf.changed
    ]
    if search.subject.kind == "regression":
        return f"Predicted {row.prediction}; {cf.prediction} if {_join(parts)}."
    name = "probability" if search.subject.kind == "multiclass" else score_name(search.subject)
    return (
        f"Predicted {row.prediction} ({name} {row.score:.2f}); {cf.prediction} if "
        f"{_join(parts)} ({name} {cf.score:.2f})."
    )


def _explain_row(
    search: cf_search.Search,
    row: RowCounterfactuals,
    left: float,
    move: float,
    per_row: int,
    seed: int,
) -> None:
    """Search, verify and record the counterfactuals of one row within `left` seconds."""
    began, search.row_id = time.perf_counter(), row.row_id
    try:
        with cf_search.quiet(), cf_search.time_limit(left):
            raw = search.subject.rows.loc[[row.row_id]]
            scores, decisions = search.outcome(raw)
            row.score, row.prediction = float(scores[0]), _label(search.subject, decisions[0])
            if not search.varied:
                row.status = "fixed"
                return
            goal = cf_search.target(search, raw, decisions[0], move)
            found = cf_search.candidates(search, goal, per_row, seed)
            row.counterfactuals = _verified(search, row, goal, decisions[0], found)
            row.status = "found" if row.counterfactuals else "none"
    except cf_search.OutOfTime:
        row.status = "cut"
    except Exception as exc:  # DiCE's failures are recorded, never raised
        row.status, row.message = "failed", _message(exc)
    finally:
        row.seconds = time.perf_counter() - began


def _has_gaps(search: cf_search.Search, row: RowCounterfactuals) -> bool:
    """True when the row misses a value of a feature that may change."""
    return any(pd.isna(row.original[c]) for c in search.varied)


def _notes(search: cf_search.Search, rows: list[RowCounterfactuals], seconds: float) -> list[str]:
    """Sentences on what went wrong: cap hit, nothing found, failures, missing values."""
    notes = []
    for status, text in (
        ("cut", f"The {seconds:g}-second cap cut the search short for"),
        ("skipped", f"The {seconds:g}-second cap was used up before"),
        ("none", "No counterfactual was found within the cap for"),
        ("fixed", "Every feature the model uses is frozen, so nothing may change for"),
    ):
        names = [r.name for r in rows if r.status == status]
        if names:
            notes.append(f"{text} {_join(names)}.")
    notes += [
        f"DiCE could not handle the model for {r.name}: {r.message}"
        for r in rows
        if r.status == "failed"
    ]
    gaps = [r.name for r in rows if r.counterfactuals and _has_gaps(search, r)]
    if gaps:
        names = _join(gaps)
        notes.append(
            f"{names[:1].upper()}{names[1:]} {'has' if len(gaps) == 1 else 'have'} "
            "missing values in features that may change: the search filled them (numbers with "
            f"the median, categories as '{cf_search.MISSING}'), and every counterfactual was "
            "scored again with the cells it leaves as they are still missing."
        )
    return notes


def explain(
    subject: Subject,
    row_ids: list,
    reasons: list[str],
    frozen: list[str],
    seconds: float = 30.0,
    per_row: int = 3,
    change: float = 0.0,
    seed: int = 42,
) -> CounterfactualResult:
    """Up to `per_row` verified counterfactuals for each of `row_ids` (picked for `reasons`),
    never changing the `frozen` features, within `seconds` for all rows (0: switched off).

    Raises:
        DataError: a row id is not among the explained rows.
    """
    unknown = [r for r in row_ids if r not in subject.rows.index]
    if unknown:
        raise DataError(f"Rows {unknown} are not among the explained rows ({subject.description}).")
    present = [f for f in dict.fromkeys(frozen) if f in subject.rows.columns]
    result = CounterfactualResult(subject.kind, score_name(subject), present, [], [], seconds, 0)
    if seconds <= 0:
        result.notes = ["Counterfactuals are switched off (a time cap of 0 seconds)."]
        return result
    search = cf_search.prepare(subject, present)
    result.rows = [
        RowCounterfactuals(row_id, reason, search.view.loc[row_id].to_dict())
        for row_id, reason in zip(row_ids, reasons, strict=True)
    ]
    move, failure = _setup(search, change)
    started = time.perf_counter()  # loading DiCE is not counted in the cap
    for row in result.rows:
        left = seconds - (time.perf_counter() - started)
        if failure:
            row.status, row.message = "failed", failure
        elif left <= 0:
            row.status = "skipped"
        else:
            _explain_row(search, row, left, move, per_row, seed)
    result.seconds_used = time.perf_counter() - started  # the searches, as capped
    result.notes = _notes(search, result.rows, seconds)
    return result


def _setup(search: cf_search.Search, change: float) -> tuple[float, str]:
    """Load DiCE's explainer into `search`; regression: the median prediction and the move
    (`change`, or one standard deviation of the predictions). Returns the move and why DiCE
    cannot be used ('' when it can)."""
    move = change
    if search.subject.kind == "regression":
        predicted = search.outcome(search.subject.rows)[0]
        search.median, move = float(np.median(predicted)), change or float(np.std(predicted))
    try:
        with cf_search.quiet():
            search.explainer = cf_search.explainer(search)
    except Exception as exc:  # DiCE's failures are recorded, never raised
        return move, _message(exc)
    return move, ""


def _message(exc: Exception) -> str:
    """An exception in one short line."""
    return f"{type(exc).__name__}: {exc}".splitlines()[0][:200]
