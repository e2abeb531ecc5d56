"""The profiling page of the EDA stage (fg-data-profiling): which rows and how much detail it
covers, and the page itself with data escaped."""

from __future__ import annotations

import contextlib
import html
import io
import re
import warnings
from collections.abc import Sequence
from dataclasses import dataclass

import pandas as pd

# Deferred imports: data_profiling loads inside the function that uses it, so that importing this
# module (from the command line or a notebook) stays fast.


@dataclass(frozen=True)
class ProfilePlan:
    """How the profiling report is computed: how many rows, which mode, and why."""

    total_rows: int
    profiled_rows: int
    minimal: bool
    minimal_above_cells: int

    @property
    def sampled(self) -> bool:
        """True when the report covers a random sample rather than every row."""
        return self.profiled_rows < self.total_rows

    def describe(self) -> str:
        """One sentence a reader of the report understands."""
        rows = (
            f"a random sample of {self.profiled_rows:,} of the {self.total_rows:,} rows"
            if self.sampled
            else f"all {self.total_rows:,} rows"
        )
        mode = (
            f"minimal mode (no correlations or interactions), because the data has more than "
            f"{self.minimal_above_cells:,} cells"
            if self.minimal
            else "full mode"
        )
        return f"The profiling report covers {rows}, in {mode}."


def plan_profile(frame: pd.DataFrame, sample_rows: int, minimal_above_cells: int) -> ProfilePlan:
    """Decide the rows to profile and whether minimal mode is needed for this data's size."""
    profiled = min(len(frame), max(sample_rows, 1))
    cells = profiled * frame.shape[1]
    return ProfilePlan(len(frame), profiled, cells > minimal_above_cells, minimal_above_cells)


_MARKUP = re.compile(r"[<>&\"']")


def escape_for_profile(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of `frame` whose column names and markup-like text values are HTML-escaped.

    The profiling page (fg-data-profiling) writes column names into its page unescaped, and
    text values into some attributes; escaping them first keeps a crafted value from becoming
    markup. A value with `<`, `>`, `&` or quotes may then show its escaped form in places,
    which is the safe side.
    """
    safe = frame.rename(columns=lambda c: html.escape(str(c)))
    for column in safe.columns:
        values = safe[column]
        if values.dtype == object or isinstance(values.dtype, pd.StringDtype):
            has_markup = values.astype(str).str.contains(_MARKUP, na=False)
            if has_markup.any():
                safe[column] = values.where(~has_markup, values.astype(str).map(html.escape))
    return safe


def profile_html(
    frame: pd.DataFrame,
    plan: ProfilePlan,
    title: str,
    seed: int = 0,
    personal: Sequence[str] = (),
) -> str:
    """The profiling report (fg-data-profiling) of `frame` as one HTML page, following `plan`.

    The `personal` columns are left out: the page shows sample rows and each column's frequent
    and extreme values, which for them would publish people's data. The EDA report gives their
    counts, share missing and distinct values instead.
    """

    from data_profiling import ProfileReport

    data = frame.sample(n=plan.profiled_rows, random_state=seed) if plan.sampled else frame
    data = data.drop(columns=[c for c in personal if c in data.columns])
    left_out = (
        f" Columns holding personal data are left out, so that no value of theirs is shown: "
        f"{', '.join(map(str, personal))}."
        if personal
        else ""
    )
    data, title = escape_for_profile(data), html.escape(title)
    with warnings.catch_warnings(), contextlib.redirect_stderr(io.StringIO()):
        warnings.simplefilter("ignore")
        report = ProfileReport(
            data,
            title=title,
            minimal=plan.minimal,
            progress_bar=False,
            dataset={"description": html.escape(plan.describe() + left_out)},
        )
        return report.to_html()
