"""Privacy for governance: the sensitive attributes a model uses, the personal-data findings
(`analysis.personal_data`, re-exported here), and the card's privacy review: whether any value
of a personal column was published in the pages, artifacts, params or tags of the pipeline's
runs.

The review names columns and the places a value was found, never a value: its record
(`card/privacy.json`), its sentences and the checklist item are published themselves.
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from mlworkbench.analysis.personal_data import (
    FREE_TEXT_MIN_LENGTH,
    NAME_PATTERNS,
    PRIVACY_ARTIFACT,
    VALUE_PATTERNS,
    Finding,
    PersonalData,
    find_personal,
    personal_data_columns,
    searchable_values,
)

__all__ = [
    "FREE_TEXT_MIN_LENGTH",
    "NAME_PATTERNS",
    "PRIVACY_ARTIFACT",
    "TREATMENT",
    "VALUE_PATTERNS",
    "Finding",
    "PersonalData",
    "Review",
    "Scan",
    "find_personal",
    "personal_data_columns",
    "published_values",
    "review",
    "searchable_values",
    "sensitive_features_used",
]

TREATMENT = "dropped from the features, masked in reports"
"""What the pipeline does with a personal column (screening and every page's masking)."""

WORD = re.compile(r"\w+")
ESCAPE = re.compile(r'\\[nrtbf"\\/]')
"""JSON escapes of one letter: read as a separator, so `\\nAna` still holds the word `Ana`."""


def sensitive_features_used(features: list[str], sensitive: list[str]) -> list[str]:
    """The sensitive attributes of the config that the model takes as features."""
    return [f for f in sensitive if f in features]


def _words(text: str) -> set[str]:
    return set(WORD.findall(ESCAPE.sub(" ", text)))


def written_forms(value: str) -> set[str]:
    """The ways `value` can be written in published text: as is, HTML-escaped (with the
    apostrophe and quote as `&#x27;`, `&#39;`, `&#34;` or left as they are), JSON-escaped
    (ASCII-only or not, with `/` as `\\/` as pandas writes it) and HTML- then JSON-escaped."""
    escaped = html.escape(value)
    forms = {
        value,
        escaped,
        html.escape(value, quote=False),
        escaped.replace("&#x27;", "&#39;"),
        escaped.replace("&#x27;", "&#39;").replace("&quot;", "&#34;"),
    }
    for form in list(forms):
        forms.add(json.dumps(form)[1:-1])
        forms.add(json.dumps(form, ensure_ascii=False)[1:-1])
    return forms | {f.replace("/", "\\/") for f in forms if "/" in f}


def published_values(
    texts: Iterable[tuple[str, str]], values: Iterable[str]
) -> list[tuple[str, str]]:
    """(source, value) for every value of `values` that occurs in a text of `texts`
    (`(source, text)` pairs), in any of its `written_forms`.

    Fast on thousands of values over megabytes of text: a form is looked for in a text only
    when each of its words is a word of the text (so a value counts as a whole word, not
    inside a longer one), and then as a substring.
    """
    forms = [
        (value, form, frozenset(_words(form)))
        for value in dict.fromkeys(values)
        for form in sorted(written_forms(value))
    ]
    found: dict[tuple[str, str], None] = {}
    for source, text in texts:
        words = _words(text)
        for value, form, needed in forms:
            if (source, value) not in found and needed <= words and form in text:
                found[(source, value)] = None
    return list(found)


@dataclass
class Scan:
    """What the published-values scan searched and where it found values: counts, run
    stages and sources, never a value.

    Attributes:
        values: distinct values of the personal columns searched for.
        texts: texts searched (artifacts, and the params, tags and artifact names of each run).
        stages: the stages whose runs were searched.
        published: by column, the sources where one of its values was found.
    """

    values: int = 0
    texts: int = 0
    stages: list[str] = field(default_factory=list)
    published: dict[str, list[str]] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready record of the scan."""
        return {
            "values_searched": self.values,
            "texts_searched": self.texts,
            "runs": list(self.stages),
            "published": {c: list(s) for c, s in self.published.items()},
        }

    def where(self) -> str:
        """The runs searched, in words ("the eda, train and explain runs")."""
        stages = self.stages or ["no"]
        named = ", ".join(stages[:-1]) + " and " + stages[-1] if len(stages) > 1 else stages[0]
        return f"the {named} run{'s' if len(stages) > 1 else ''}"


def scan(
    frame: pd.DataFrame, columns: list[str], texts: Iterable[tuple[str, str]], stages: list[str]
) -> Scan:
    """Search `texts` for the `searchable_values` of each personal column of `frame`."""
    by_value: dict[str, list[str]] = {}
    for column in columns:
        for value in searchable_values(frame, [column]):
            by_value.setdefault(value, []).append(column)
    read = 0

    def counted() -> Iterable[tuple[str, str]]:
        nonlocal read
        for pair in texts:
            read += 1
            yield pair

    hits = published_values(counted(), by_value) if by_value else []
    published: dict[str, list[str]] = {}
    for source, value in hits:
        for column in by_value[value]:
            sources = published.setdefault(column, [])
            if source not in sources:
                sources.append(source)
    ordered = {c: published[c] for c in columns if c in published}
    return Scan(len(by_value), read, list(stages), ordered)


@dataclass
class Review:
    """The card's privacy review: the personal columns, the config's overrides, the personal
    columns the model takes as features and the published-values scan.

    Attributes:
        personal: the personal columns and the findings the config overrode.
        settings: the config's `privacy:` section.
        recorded: True when `personal` is the training run's record (`PRIVACY_ARTIFACT`),
            False when the card found the columns itself (runs older than that record).
        features: personal columns the model takes as features (none when screened out).
        scan: what the scan searched and found.
    """

    personal: PersonalData = field(default_factory=lambda: PersonalData([]))
    settings: dict[str, Any] = field(default_factory=dict)
    recorded: bool = False
    features: list[str] = field(default_factory=list)
    scan: Scan = field(default_factory=Scan)

    @property
    def passed(self) -> bool:
        """No value of a personal column published, and none a model feature."""
        return not self.scan.published and not self.features

    def origin(self) -> str:
        """Where the personal columns come from, in words."""
        if self.recorded:
            return f"as the training run recorded them ({PRIVACY_ARTIFACT})"
        return "as the card's check of the data finds them (the training run recorded none)"

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready record (`card/privacy.json`): names, reasons, counts and sources; never
        a value."""
        return {
            **self.personal.as_dict(),
            "recorded_by_training": self.recorded,
            "treatment": TREATMENT,
            "used_as_features": list(self.features),
            "config": {
                key: [str(c) for c in self.settings.get(key) or []]
                for key in ("personal_columns", "not_personal")
            },
            "scan": self.scan.as_dict(),
            "passed": self.passed,
        }

    def detail(self) -> str:
        """The checklist item's detail: which columns, what was searched, where values were
        found."""
        columns = self.personal.columns
        if not columns:
            return "no column looks like personal data by name or content"
        parts = [f"personal columns: {', '.join(columns)}"]
        if self.features:
            parts.append(f"used as model features: {', '.join(self.features)}")
        for column, sources in self.scan.published.items():
            parts.append(f"values of {column} published in: {', '.join(sources)}")
        if self.passed:
            parts.append(self._searched())
        return "; ".join(parts)

    def _searched(self) -> str:
        if not self.scan.values:
            return "no value to search for (numbers or shorter than six characters)"
        return (
            f"none of their {self.scan.values:,} distinct values appears in the "
            f"{self.scan.texts:,} artifacts, params and tags of {self.scan.where()}"
        )

    def sentences(self) -> list[str]:
        """The card's privacy section: what was found, how it was treated, the config's
        overrides and the scan's outcome."""
        findings = self.personal.findings
        if not findings:
            lines = ["No column looks like personal data by name or content."]
        else:
            lines = [f"{len(findings)} column(s) hold personal data, {self.origin()}:"]
            lines += [f"{f.column}: {f.kind} ({f.evidence})." for f in findings]
            lines.append(self._treatment())
        lines += self._overrides()
        if findings:
            lines.append(self._outcome())
        return lines

    def _treatment(self) -> str:
        if self.features:
            return (
                f"Treatment: masked in reports, but used as model features: "
                f"{', '.join(self.features)}, so their values may be inside the model."
            )
        return (
            "Treatment: dropped from the features, masked in reports (their values appear only "
            "as pseudonyms)."
        )

    def _overrides(self) -> list[str]:
        named = [str(c) for c in self.settings.get("personal_columns") or []]
        declared = [str(c) for c in self.settings.get("not_personal") or []]
        lines = []
        if named:
            lines.append(
                f"Named personal in the config (privacy.personal_columns): {', '.join(named)}."
            )
        if declared:
            overrode = [c for c in declared if c in self.personal.overridden]
            instead = (
                f", overriding the check's finding for {', '.join(overrode)}" if overrode else ""
            )
            lines.append(
                "Declared not personal in the config (privacy.not_personal), so treated as any "
                f"other column: {', '.join(declared)}{instead}."
            )
        return lines or [
            "The config overrides nothing (no privacy.personal_columns or privacy.not_personal)."
        ]

    def _outcome(self) -> str:
        if not self.scan.published:
            return f"Published values: {self._searched()}."
        found = "; ".join(
            f"{column} in {', '.join(sources)}" for column, sources in self.scan.published.items()
        )
        return f"Published values: values of personal columns appear: {found}."


def review(
    personal: PersonalData,
    settings: Mapping[str, Any] | None,
    recorded: bool,
    features: Iterable[str],
    frame: pd.DataFrame,
    texts: Iterable[tuple[str, str]],
    stages: list[str],
) -> Review:
    """The privacy review of a model: its personal columns, those among its `features`, and
    the scan of `texts` for their values in `frame` (no text is read when there is nothing
    to search for)."""
    columns = personal.columns
    used = [c for c in columns if c in set(features)]
    searched = scan(frame, columns, texts, stages)
    return Review(personal, dict(settings or {}), recorded, used, searched)
