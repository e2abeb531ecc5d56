"""A first look at a new dataset, for `mlwb init`: how to read it, what to predict, who it
describes and which columns to leave out.

Each function proposes, none decides: the task from the target's values, the columns that look
like outcomes, sensitive features by name (English and Dutch) and by association with a named
one, and the identifiers and probable leaks to drop, each with the reason a reader can check.
Identifiers and leaks are found by the same column screening and data-quality checks as the
EDA and training stages, so the proposals agree with what the reports will say.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from mlworkbench.analysis import screening
from mlworkbench.analysis.csv_format import missing_codes, sniff_options
from mlworkbench.analysis.data import read_source
from mlworkbench.analysis.explain.proxies import THRESHOLD, proxy_table
from mlworkbench.analysis.profiling import quality_table
from mlworkbench.analysis.screening import Screening, is_numeric

CSV_SUFFIXES = (".csv", ".txt", ".tsv")
MAX_CLASSES = 20
"""Distinct whole numbers up to which a numeric target is read as classes."""
OUTCOME_WORDS = frozenset(
    {"target", "label", "class", "outcome", "y", "default", "churn", "churned", "survived"}
    | {"income", "risk", "fraud", "response", "result"}
)
"""Words of a column name that suggest an outcome to predict."""
SENSITIVE_WORDS = frozenset(
    {"sex", "gender", "race", "ethnicity", "ethnic", "age", "religion", "religious"}
    | {"nationality", "citizenship", "disability", "disabled", "handicap", "marital"}
    | {"marriage", "married", "foreign", "birth", "dob"}
    | {"geslacht", "leeftijd", "nationaliteit", "etniciteit", "religie", "geloof", "herkomst"}
    | {"afkomst", "geboortedatum", "geboortejaar", "geboorteland", "burgerlijkestaat"}
)
"""Words of a column name that describe a person's protected attribute (English, Dutch)."""
SENSITIVE_PHRASES = (
    ("marital", "status"),
    ("burgerlijke", "staat"),
    ("personal", "status"),
    ("native", "country"),
)
"""Word pairs that name one (personal_status: the German credit data's sex and marital status)."""
SPLIT_VALUES = frozenset({"train", "test", "valid", "validation", "val", "dev", "holdout"})
"""Values of a column that marks the dataset's own train/test split."""
SAMPLE_ROWS = 20000
"""Rows associations (with the target, between columns) are measured on."""


@dataclass
class SniffedData:
    """A dataset as read for a first look, with the CSV options that read it."""

    source: str
    frame: pd.DataFrame
    csv: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Proposal:
    """A column proposed for a config setting, and why."""

    column: str
    why: str
    kind: str = ""  # for a column to drop: identifier, split or leak


def read_sniffed(source: str) -> SniffedData:
    """Read a bundled dataset or a file; a CSV file with the options sniffed from it
    (separator, encoding, decimal mark, missing-value codes)."""
    path = Path(source)
    if path.suffix.lower() not in CSV_SUFFIXES or not path.is_file():
        return SniffedData(source, read_source(source))
    options = sniff_options(path)
    frame = read_source(source, options)
    codes = missing_codes(frame)
    if codes:
        options["na_values"] = codes
        frame = read_source(source, options)
    return SniffedData(source, frame, options)


def infer_task(values: pd.Series) -> str:
    """`classification` for text, booleans, two values or a few whole numbers; `regression`
    for many distinct numbers."""
    present = values.dropna()
    if not is_numeric(present):
        return "classification"
    distinct = present.nunique()
    whole = bool((present == present.round()).all())
    return (
        "classification" if distinct <= 2 or (whole and distinct <= MAX_CLASSES) else "regression"
    )


def name_words(name: str) -> list[str]:
    """The lower-case words of a column name: `applicant_age`, `ApplicantAge` and
    `applicant-age` all give ['applicant', 'age']."""
    spaced = re.sub(r"(?<=[a-z])(?=[A-Z])", " ", str(name))
    return [w for w in re.split(r"[^0-9a-zà-ÿ]+", spaced.lower()) if w]


def _named_word(words: Sequence[str], vocabulary: frozenset[str]) -> str:
    """The first word of `words` in `vocabulary`, or a known pair of words ('' when none)."""
    for first, second in itertools.pairwise(words):
        if (first, second) in SENSITIVE_PHRASES:
            return f"{first} {second}"
    return next((w for w in words if w in vocabulary), "")


def is_split_marker(values: pd.Series) -> bool:
    """True for a column that only says which of the dataset's own splits a row is in."""
    if values.nunique() > 3:
        return False
    present = set(values.dropna().astype(str).str.strip().str.lower().unique())
    return 1 < len(present) <= 3 and present <= SPLIT_VALUES


def candidate_targets(frame: pd.DataFrame, limit: int = 6) -> list[Proposal]:
    """Columns that look like outcomes, most likely first: named like one (a short name
    counts more than a long one that merely holds the word), the last column, two values or a
    few. Identifiers, constants and split markers are left out."""
    last = str(frame.columns[-1]) if frame.shape[1] else ""
    found = []
    for name in frame.columns:
        values, words = frame[name], name_words(str(name))
        distinct = values.nunique()
        if distinct < 2 or is_split_marker(values):
            continue
        score, reasons = 0.0, []
        if any(w in OUTCOME_WORDS for w in words):
            score += 3 if len(words) <= 2 else 1
            reasons.append("named like an outcome")
        if str(name) == last:
            score += 2
            reasons.append("the last column")
        if distinct <= 10:
            score += 1 if distinct == 2 else 0.5
            reasons.append(f"{distinct} distinct values")
        if reasons:
            found.append((score, Proposal(str(name), ", ".join(reasons))))
    found.sort(key=lambda item: item[0], reverse=True)  # stable: table order among equals
    return [proposal for _, proposal in found[:limit]]


def sensitive_by_name(columns: Sequence[Any]) -> list[Proposal]:
    """Columns whose name names a protected attribute (sex, age, marital status, ...,
    geslacht, leeftijd, ...), in table order."""
    proposals = []
    for name in columns:
        word = _named_word(name_words(str(name)), SENSITIVE_WORDS)
        if word:
            proposals.append(Proposal(str(name), f"named like a sensitive attribute ({word})"))
    return proposals


def _sample(frame: pd.DataFrame) -> pd.DataFrame:
    """At most `SAMPLE_ROWS` rows of `frame`, picked at random (seeded), for associations."""
    return frame.sample(SAMPLE_ROWS, random_state=0) if len(frame) > SAMPLE_ROWS else frame


def associated_with(
    frame: pd.DataFrame,
    screened: Screening,
    sensitive: Sequence[str],
    threshold: float = THRESHOLD,
) -> list[Proposal]:
    """Features (as training reads them) associated with a sensitive feature at `threshold` or
    more: they can stand in for it. Measured as in the explain stage's proxy table, on at most
    `SAMPLE_ROWS` rows."""
    rows = _sample(frame)
    features = (
        screening.ColumnScreen(screened)
        .transform(rows)
        .drop(columns=list(sensitive), errors="ignore")
    )
    if not sensitive or features.empty:
        return []
    table = proxy_table(features, rows[list(sensitive)], threshold)
    strongest = table[table["proxy"]].drop_duplicates("feature")
    return [
        Proposal(row.feature, f"associated with {row.sensitive} ({row.association:.2f})")
        for row in strongest.itertuples()
    ]


def drop_proposals(frame: pd.DataFrame, target: str, screened: Screening) -> list[Proposal]:
    """Identifiers, free text, the dataset's own split marker and probable leaks, each with
    its reason: the columns to name in the train stage's `drop_columns`."""
    decisions = {d.column: d for d in screened.decisions}
    rows = _sample(frame)  # the screening took the identifiers on every row
    quality = quality_table(rows, target, screened=screened).set_index("column")
    proposals = []
    for name in frame.columns:
        name = str(name)
        if name == target:
            continue
        flags = quality.loc[name, "flags"]
        if "likely identifier" in flags:
            proposals.append(Proposal(name, decisions[name].reason, "identifier"))
        elif is_split_marker(frame[name]):
            proposals.append(Proposal(name, "marks the dataset's own train/test split", "split"))
        elif "probable leak" in flags:
            association = quality.loc[name, "target_association"]
            why = f"probable leak: alone it nearly determines the target ({association:.2f})"
            proposals.append(Proposal(name, why, "leak"))
    return proposals


def leaves_a_feature(screened: Screening, drop: Sequence[Proposal]) -> bool:
    """True when some column the screening uses is not among the columns to `drop`."""
    return bool({d.column for d in screened.used()} - {p.column for p in drop})


def column_overview(frame: pd.DataFrame, target: str, screened: Screening) -> pd.DataFrame:
    """One row per column: the type it reads as, distinct values, missing share, and what
    training would do with it (the screening's action and reason)."""
    decisions = {d.column: d for d in screened.decisions}
    rows = []
    for name in frame.columns:
        values = frame[name]
        decision = decisions.get(str(name))
        rows.append(
            {
                "column": str(name),
                "type": str(values.dtype),
                "distinct": int(values.nunique()),
                "missing": float(values.isna().mean()),
                "training": "the target"
                if decision is None
                else f"{decision.action}: {decision.reason}",
            }
        )
    return pd.DataFrame(rows, columns=["column", "type", "distinct", "missing", "training"])
