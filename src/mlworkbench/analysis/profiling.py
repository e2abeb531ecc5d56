"""Exploratory data analysis: data-quality checks, target summary and the profiling report.

Pure computation: functions take a DataFrame and settings and return tables, sentences or
figures. The EDA notebook shows them; the benchmark times them without a notebook.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from mlworkbench.analysis import screening
from mlworkbench.analysis.screening import Screening, screen_columns

# Deferred imports: matplotlib and data_profiling load inside the functions that use them, so that
# importing this module (from the command line or a notebook) stays fast.


@dataclass(frozen=True)
class QualityThresholds:
    """When a column is flagged; the defaults suit tabular business data."""

    high_cardinality: int = 50
    leakage_association: float = 0.9
    leakage_check: float = 0.7


def _cramers_v(x: pd.Series, y: pd.Series) -> float:
    """Bias-corrected Cramér's V between two categorical series (0 = none, 1 = determined)."""
    table = pd.crosstab(x, y)
    n = table.to_numpy().sum()
    if n == 0 or min(table.shape) < 2:
        return 0.0
    expected = np.outer(table.sum(axis=1), table.sum(axis=0)) / n
    chi2 = float(((table.to_numpy() - expected) ** 2 / expected).sum())
    r, k = table.shape
    phi2 = max(0.0, chi2 / n - (k - 1) * (r - 1) / (n - 1))
    r_corr, k_corr = r - (r - 1) ** 2 / (n - 1), k - (k - 1) ** 2 / (n - 1)
    denominator = min(k_corr - 1, r_corr - 1)
    return float(np.sqrt(phi2 / denominator)) if denominator > 0 else 0.0


def _as_categories(series: pd.Series, bins: int = 10) -> pd.Series:
    if pd.api.types.is_numeric_dtype(series) and series.nunique() > bins:
        return pd.qcut(series, q=bins, duplicates="drop").astype(str)
    return series.astype(str)


def target_association(feature: pd.Series, target: pd.Series) -> float:
    """How strongly a feature determines the target, from 0 (not at all) to 1 (a copy).

    Numeric feature and numeric target: absolute Spearman correlation. Otherwise the
    bias-corrected Cramér's V after binning numeric values into deciles.
    """
    both = pd.DataFrame({"f": feature, "t": target}).replace([np.inf, -np.inf], np.nan).dropna()
    if len(both) < 3 or both["f"].nunique() < 2:
        return 0.0
    numeric = pd.api.types.is_numeric_dtype
    if numeric(both["f"]) and numeric(both["t"]) and both["t"].nunique() > 2:
        return float(abs(both["f"].corr(both["t"], method="spearman")))
    return _cramers_v(_as_categories(both["f"]), _as_categories(both["t"]))


def quality_table(
    frame: pd.DataFrame,
    target: str,
    thresholds: QualityThresholds | None = None,
    screened: Screening | None = None,
) -> pd.DataFrame:
    """One row per column: type, missing share, distinct values, association with the target
    and the flags raised.

    Identifier-like and high-cardinality flags follow the column screening (`screened`, by
    default the train stage's defaults with `high_cardinality` as `max_categories`), and the
    association is measured on the values as training reads them (numbers written as text
    parsed, dates as decimal years), so the EDA and training agree on every column.
    """
    limits = thresholds or QualityThresholds()
    screened = screened or screen_columns(frame, target, limits.high_cardinality)
    decisions = {d.column: d for d in screened.decisions}
    seen = screening.ColumnScreen(screened).transform(frame)
    rows = []
    for name in frame.columns:
        column = frame[name]
        decision = decisions.get(str(name))
        distinct = int(column.nunique(dropna=True))
        identifier = (
            decision is not None
            and decision.action == "drop"
            and (decision.reason.startswith(("identifier-like", "free text")))
        )
        values = seen[str(name)] if str(name) in seen.columns else column
        association = (
            target_association(values, frame[target])
            if name != target and not identifier
            else float("nan")
        )
        flags = []
        if distinct <= 1:
            flags.append("constant")
        if identifier:
            flags.append("likely identifier")
        elif decision is not None and decision.action == "cap":
            flags.append("high cardinality")
        if association >= limits.leakage_association:
            flags.append("probable leak")
        elif association >= limits.leakage_check:
            flags.append("check: possible leak")
        rows.append(
            {
                "column": str(name),
                "role": "target" if name == target else "feature",
                "dtype": str(column.dtype),
                "missing_share": float(column.isna().mean()),
                "distinct": distinct,
                "target_association": association,
                "flags": ", ".join(flags),
            }
        )
    return pd.DataFrame(rows)


def quality_findings(table: pd.DataFrame, duplicate_rows: int, n_rows: int) -> list[str]:
    """The data-quality problems worth a reader's attention, as plain sentences."""
    findings = []
    for flag, sentence in (
        (
            "probable leak",
            "nearly determine the target on their own: probable leaks (see below)",
        ),
        (
            "check: possible leak",
            "are strongly associated with the target: check when they are recorded",
        ),
        ("likely identifier", "look like identifiers (unique per row; not useful as features)"),
        ("constant", "hold a single value (carry no information)"),
        ("high cardinality", "have many distinct text values (need grouping or encoding)"),
    ):
        names = table.loc[table["flags"].str.contains(flag, regex=False), "column"].tolist()
        if names:
            findings.append(f"{len(names)} column(s) {sentence}: {', '.join(names)}.")
    missing = table[table["missing_share"] > 0].sort_values("missing_share", ascending=False)
    if not missing.empty:
        top = ", ".join(
            f"{c} ({s:.0%})"
            for c, s in zip(missing["column"][:5], missing["missing_share"][:5], strict=False)
        )
        findings.append(f"{len(missing)} column(s) have missing values, most in: {top}.")
    if duplicate_rows:
        findings.append(
            f"{duplicate_rows:,} rows ({duplicate_rows / n_rows:.1%}) are exact duplicates of "
            "another row."
        )
    if table["flags"].str.contains("leak", regex=False).any():
        findings.append(LEAK_WHY)
    return findings


LEAK_WHY = (
    "Why a leak matters: a column that carries the outcome itself, usually because it is "
    "recorded after the outcome is known, makes a model look excellent on historical rows and "
    "useless in production, where its value is not known when the prediction is made. Drop it "
    "(drop_columns) unless it is known at prediction time."
)


def target_distribution(frame: pd.DataFrame, target: str, task: str) -> pd.DataFrame:
    """Counts and shares per class (classification) or summary statistics (regression)."""
    labels = frame[target]
    if task == "classification":
        counts = labels.value_counts(dropna=False)
        return pd.DataFrame(
            {
                "class": counts.index.astype(str),
                "rows": counts.to_numpy(),
                "share": (counts / counts.sum()).to_numpy(),
            }
        )
    stats = labels.describe()
    return pd.DataFrame({"statistic": stats.index, "value": stats.to_numpy()})


def summary_sentences(
    frame: pd.DataFrame,
    target: str,
    task: str,
    findings: list[str],
    source: str,
    missing_share: float,
) -> list[str]:
    """The plain-language summary at the top of the EDA report."""
    sentences = [
        f"The data ({source}) has {len(frame):,} rows and {frame.shape[1]} columns; "
        f"the outcome to predict is '{target}'.",
    ]
    if task == "classification":
        shares = frame[target].value_counts(normalize=True)
        balance = ", ".join(f"{label}: {share:.0%}" for label, share in shares.items())
        rare = shares.min()
        verdict = (
            "the classes are imbalanced, so accuracy alone will flatter a model"
            if rare < 0.2
            else "the classes are reasonably balanced"
        )
        sentences.append(f"Outcome classes: {balance}; {verdict}.")
    else:
        values = frame[target]
        sentences.append(
            f"The outcome ranges from {values.min():,.4g} to {values.max():,.4g} "
            f"(median {values.median():,.4g})."
        )
    sentences.append(
        f"{missing_share:.1%} of all cells are missing."
        if missing_share
        else "No values are missing."
    )
    sentences += findings or ["No data-quality problems were found by the automatic checks."]
    return sentences


def plot_target(frame: pd.DataFrame, target: str, task: str) -> Any:
    """A bar chart of the classes or a histogram of a numeric target."""
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 3.2))
    if task == "classification":
        counts = frame[target].value_counts().sort_index()
        ax.bar(counts.index.astype(str), counts.to_numpy(), color="#1f6feb")
        ax.set_ylabel("rows")
        for x, count in enumerate(counts.to_numpy()):
            ax.annotate(f"{count:,}", (x, count), ha="center", va="bottom", fontsize=9)
    else:
        ax.hist(frame[target].dropna(), bins=40, color="#1f6feb")
        ax.set_ylabel("rows")
    ax.set_xlabel(str(target))
    ax.set_title(f"Distribution of the outcome '{target}'")
    ax.spines[["top", "right"]].set_visible(False)
    fig.tight_layout()
    return fig


@dataclass
class EdaResult:
    """Everything the EDA report shows, computed once."""

    quality: pd.DataFrame
    target: pd.DataFrame
    findings: list[str]
    summary: list[str]
    duplicate_rows: int
    missing_share: float
    n_rows: int
    n_columns: int

    def probable_leaks(self) -> list[str]:
        """Columns flagged as probable leaks (the card checks none of them is a feature)."""
        flagged = self.quality["flags"].str.contains("probable leak", regex=False)
        return self.quality.loc[flagged, "column"].tolist()

    def key_figures(self) -> dict[str, float]:
        """The figures logged as metrics and shown in the report index."""
        return {
            "rows": self.n_rows,
            "columns": self.n_columns,
            "missing_share": self.missing_share,
            "duplicate_rows": self.duplicate_rows,
            "quality_findings": len(self.findings),
        }


def source_label(source: str) -> str:
    """A short name for a data source: the bundled name, or the file name of a path."""
    return (
        source
        if ":" in source and "/" not in source
        else source.replace("\\", "/").rsplit("/", 1)[-1]
    )


def analyse(
    frame: pd.DataFrame,
    target: str,
    task: str,
    source: str,
    thresholds: QualityThresholds | None = None,
    screened: Screening | None = None,
) -> EdaResult:
    """Run every data-quality check and build the plain-language summary (`screened`: the
    column screening training will apply, see `quality_table`)."""
    quality = quality_table(frame, target, thresholds, screened)
    duplicates = int(frame.duplicated().sum())
    findings = quality_findings(quality, duplicates, len(frame))
    missing_share = float(frame.isna().to_numpy().mean())
    return EdaResult(
        quality=quality,
        target=target_distribution(frame, target, task),
        findings=findings,
        summary=summary_sentences(
            frame, target, task, findings, source_label(source), missing_share
        ),
        duplicate_rows=duplicates,
        missing_share=missing_share,
        n_rows=len(frame),
        n_columns=frame.shape[1],
    )


QUALITY_HEADERS = {
    "column": "Column",
    "role": "Role",
    "dtype": "Type",
    "missing_share": "Missing",
    "distinct": "Distinct values",
    "target_association": "Determines outcome (0-1)",
    "flags": "Flags",
}
"""Readable column names of the quality table for reports."""
