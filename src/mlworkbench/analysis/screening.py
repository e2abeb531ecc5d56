"""Column screening: what training does with each column of a raw table, and why.

Real tables hold identifiers, free text, dates and numbers stored as text, empty and constant
columns. `screen_columns` decides, for every column but the target, one action with a reason
a reader understands:

- `drop`: named in `drop_columns`, empty in every row, a single value, or identifier-like
  (a value of its own in nearly every row, or an id-like name), which a model could only
  memorize;
- `number`: numbers stored as text ("32,220", "12%", "3,5") are parsed; a column of numbers
  with up to three text codes among them ("unknown", "n/a") reads the codes as missing;
- `date`: dates stored as text (or datetime columns) become one number, the decimal year
  (2013-07-02 -> 2013.50), so that they read as dates in every chart;
- `cap`: text with more than `max_categories` distinct values keeps its most frequent values,
  the rest become `other`;
- `use`: everything else, as it is (`keep_columns` forces this for any column).

Personal columns (`analysis.personal_data`: names, contact details, identifiers, free text, and
the config's `privacy.personal_columns`) are always dropped; `keep_columns` may not name one
(`privacy.not_personal` declares a column not personal).

The decisions are taken on the whole table (what the EDA report shows) and applied by
`ColumnScreen`, the first step of every pipeline the workbench trains, so a fitted model still
takes raw rows exactly as they appear in the source data.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from mlworkbench.analysis.text_values import (
    OTHER,
    is_numeric,
    looks_like_dates,
    number_format,
    parse_numbers,
    text_counts,
)
from mlworkbench.analysis.text_values import (
    decimal_years as decimal_years,
)
from mlworkbench.exceptions import UnknownColumnError

# Deferred imports: screening_step (scikit-learn) loads in `__getattr__`, so that deciding on
# columns, as the command line does when it validates a config, does not import scikit-learn.

ACTIONS = ("use", "number", "date", "cap", "drop")
ID_NAME = re.compile(r"(^|[_\s-])(id|uuid|guid|key|code)$|^id[_\s-]|number$", re.I)
IDENTIFIER_SHARE = 0.95
"""Share of distinct values from which a text or integer column is identifier-like."""


@dataclass
class ColumnDecision:
    """What training does with one column, and why."""

    column: str
    action: str
    reason: str
    kind: str = ""  # numeric or categorical, as the model sees it (empty when dropped)
    categories: list[str] = field(default_factory=list)  # kept values of a capped column
    number_format: str = ""  # how a number column's text is read

    @property
    def used(self) -> bool:
        """True when the column reaches the model."""
        return self.action != "drop"


@dataclass
class Screening:
    """The decision for every feature column of a table."""

    target: str
    decisions: list[ColumnDecision]

    def used(self) -> list[ColumnDecision]:
        """Decisions of the columns the model receives, in table order."""
        return [d for d in self.decisions if d.used]

    def features(self, kind: str) -> list[str]:
        """Names of the used columns the model sees as `numeric` or `categorical`."""
        return [d.column for d in self.used() if d.kind == kind]

    def dropped(self) -> list[ColumnDecision]:
        """Decisions of the columns training leaves out."""
        return [d for d in self.decisions if not d.used]

    def table(self) -> pd.DataFrame:
        """One row per column: the action, what the model sees, and the reason."""
        return pd.DataFrame(
            [
                {"column": d.column, "action": d.action, "as": d.kind or "-", "reason": d.reason}
                for d in self.decisions
            ],
            columns=["column", "action", "as", "reason"],
        )

    def as_dict(self) -> dict[str, Any]:
        """The screening as JSON-ready data (`screening/columns.json`)."""
        return {"target": self.target, "columns": [asdict(d) for d in self.decisions]}

    def sentences(self) -> list[str]:
        """A few plain sentences on what screening did."""
        used = self.used()
        lines = [f"{len(used)} of {len(self.decisions)} columns are used as features."]
        for action, words in (
            ("drop", "left out"),
            ("number", "read as numbers written as text"),
            ("date", "read as dates (as decimal years)"),
            ("cap", f"limited to their most frequent values, the rest as '{OTHER}'"),
        ):
            names = [d.column for d in self.decisions if d.action == action]
            if names:
                lines.append(f"{len(names)} {words}: {', '.join(names)}.")
        if not used:
            lines.append("No column is left to train on.")
        return lines


def _identifier_like(name: str, values: pd.Series, n_rows: int) -> str:
    """Why a column is identifier-like (empty when it is not)."""
    present = values.dropna()
    if n_rows < 20 or present.empty or pd.api.types.is_float_dtype(values):
        return ""
    share = present.nunique() / len(present)
    if ID_NAME.search(name) and share >= 0.5:
        return f"identifier-like: an id-like name with {share:.0%} distinct values"
    if share < IDENTIFIER_SHARE:
        return ""
    if pd.api.types.is_integer_dtype(values):
        span = float(present.max()) - float(present.min()) + 1
        if span > 2 * present.nunique():  # a spread-out number, not a running count
            return ""
        return "identifier-like: a running number, different in every row"
    if present.astype(str).str.contains(r"\s").mean() > 0.5:
        return "free text, different in nearly every row: a model could only memorize it"
    return "identifier-like: a value of its own in nearly every row"


def decide(
    name: str, values: pd.Series, n_rows: int, max_categories: int, kept: bool
) -> ColumnDecision:
    """The decision for one column (`kept`: named in keep_columns)."""
    present = values.dropna()
    if kept:
        kind = "numeric" if is_numeric(values) else "categorical"
        return ColumnDecision(name, "use", "named in keep_columns: used as it is", kind)
    if present.empty:
        return ColumnDecision(name, "drop", "empty in every row")
    if present.nunique() <= 1 or text_counts(present).size <= 1:
        return ColumnDecision(name, "drop", f"a single value ({str(present.iloc[0])[:30]!r})")
    if looks_like_dates(values):
        return ColumnDecision(name, "date", "dates: used as the decimal year", "numeric")
    if is_numeric(values):
        why = _identifier_like(name, values, n_rows)
        if why:
            return ColumnDecision(name, "drop", why)
        infinite = int(np.isinf(values.astype(float)).sum())
        note = f"; {infinite:,} infinite value(s) treated as missing" if infinite else ""
        return ColumnDecision(name, "use", f"numbers{note}", "numeric")
    fmt = "" if pd.api.types.is_bool_dtype(values) else number_format(values)
    if fmt:
        unread = values[parse_numbers(values, fmt).isna() & values.notna()].astype(str)
        shown = ", ".join(repr(v[:20]) for v in unread.value_counts().index[:3])
        note = f"; {len(unread):,} value(s) that are not numbers ({shown}) treated as missing"
        return ColumnDecision(
            name,
            "number",
            f"numbers written as text ({fmt})" + (note if len(unread) else ""),
            "numeric",
            number_format=fmt,
        )
    why = _identifier_like(name, values, n_rows)
    if why:
        return ColumnDecision(name, "drop", why)
    counts = text_counts(present)
    distinct = len(counts)
    if distinct > max_categories:
        top = counts.index[:max_categories].astype(str).tolist()
        return ColumnDecision(
            name,
            "cap",
            f"{distinct:,} distinct values: the {max_categories} most frequent kept, the rest "
            f"as '{OTHER}'",
            "categorical",
            top,
        )
    return ColumnDecision(name, "use", f"categories ({distinct:,} distinct values)", "categorical")


def screen_columns(
    frame: pd.DataFrame,
    target: str,
    max_categories: int = 50,
    drop_columns: Sequence[str] = (),
    keep_columns: Sequence[str] = (),
    personal: Mapping[str, str] | None = None,
) -> Screening:
    """Decide what training does with every column of `frame` but `target`; `personal` maps
    each personal column to the kind of personal data it holds.

    Raises:
        UnknownColumnError: `drop_columns` or `keep_columns` name a column `frame` lacks, or
            name the same column, or `keep_columns` names a personal column.
    """
    personal = dict(personal or {})
    columns = [str(c) for c in frame.columns]
    for setting, names in (("drop_columns", drop_columns), ("keep_columns", keep_columns)):
        unknown = [str(c) for c in names if str(c) not in columns or str(c) == target]
        if unknown:
            raise UnknownColumnError(
                f"{setting} names {', '.join(map(repr, unknown))}, which "
                f"{'is' if len(unknown) == 1 else 'are'} not a feature column. Columns: "
                f"{', '.join(c for c in columns if c != target)}."
            )
    both = sorted(set(map(str, drop_columns)) & set(map(str, keep_columns)))
    if both:
        raise UnknownColumnError(f"{', '.join(both)} named in both drop_columns and keep_columns.")
    kept_personal = [str(c) for c in keep_columns if str(c) in personal]
    if kept_personal:
        raise UnknownColumnError(
            f"keep_columns names {', '.join(map(repr, kept_personal))}, which hold(s) personal "
            "data and is never a feature; list it under privacy.not_personal if it is not "
            "personal."
        )
    decisions = []
    for name in frame.columns:
        if str(name) == target:
            continue
        if str(name) in set(map(str, drop_columns)):
            decisions.append(ColumnDecision(str(name), "drop", "named in drop_columns"))
            continue
        if str(name) in personal:
            why = f"personal data ({personal[str(name)]}): never a feature, values never shown"
            decisions.append(ColumnDecision(str(name), "drop", why))
            continue
        decisions.append(
            decide(
                str(name),
                frame[name],
                len(frame),
                max_categories,
                str(name) in set(map(str, keep_columns)),
            )
        )
    return Screening(target, decisions)


def screen_with(
    frame: pd.DataFrame,
    target: str,
    settings: Mapping[str, Any],
    personal: Mapping[str, str] | None = None,
) -> Screening:
    """`screen_columns` with the train stage's settings (`drop_columns`, `keep_columns`,
    `max_categories`; absent ones take their defaults) and the personal columns."""
    return screen_columns(
        frame,
        target,
        settings.get("max_categories", 50),
        settings.get("drop_columns", ()),
        settings.get("keep_columns", ()),
        personal,
    )


def __getattr__(name: str) -> Any:
    """`ColumnScreen` lives in `screening_step` (it imports scikit-learn, which the command
    line does not need to validate a config) and is named here, where pickled models look
    for it."""
    if name == "ColumnScreen":
        from mlworkbench.analysis.screening_step import ColumnScreen

        return ColumnScreen
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def split_pipeline(pipeline: Any) -> tuple[Any, Any]:
    """The screening step of a fitted pipeline (None for models trained without one) and the
    rest of the pipeline, which takes screened rows."""
    steps = getattr(pipeline, "named_steps", {})
    if "screen" in steps:
        return steps["screen"], pipeline[1:]
    return None, pipeline


def model_view(pipeline: Any, rows: pd.DataFrame) -> tuple[Any, pd.DataFrame]:
    """The pipeline after screening and `rows` as it receives them (raw rows for models
    trained without screening)."""
    screen, rest = split_pipeline(pipeline)
    return rest, rows if screen is None else screen.transform(rows)
