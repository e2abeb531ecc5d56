"""Personal data: which columns hold it, and how their values are kept out of what we publish.

A column is personal when its name says what it holds (name, e-mail, phone, national or
customer identifier, address, birth date), when its values do (e-mail addresses, IBANs, phone
numbers, national-identifier formats, people's names, text identifiers, long free text), or
when the config's `privacy.personal_columns` names it; `privacy.not_personal` overrides a
finding. Personal columns are never features, and every page and artifact a stage writes shows
their values only as pseudonyms: a keyed hash whose key is the project's own secret
(`MLWB_PSEUDONYM_KEY`, else `.mlwb/pseudonym.key` in the project folder, created on first use
and ignored by git), so the same value gets the same pseudonym across runs without the key
ever reaching the repository or MLflow.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import re
import secrets
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from mlworkbench.exceptions import UnknownColumnError
from mlworkbench.tracking.store import find_project_root

NAME_PATTERNS = {
    "name": r"(^|_)(first|last|full|sur|given|family|maiden)?_?name($|_)",
    "e-mail address": r"e_?mail",
    "phone number": r"phone|mobile|(^|_)tel($|_)|telephone",
    "national identifier": r"ssn|social_?security|passport|national_?id|tax_?id|(^|_)nin($|_)"
    r"|insurance_?number|id_?card|driver_?licen[cs]e",
    "customer identifier": r"customer_?(id|number|no)|client_?(id|number|no)|account_?(id|number"
    r"|no)|(^|_)iban($|_)|user_?id|(^|_)(case|patient|employee|member)_?(id|number|no)($|_)",
    "address": r"(^|_)(street|address|postcode|zip_?code|postal_?code)($|_)",
    "birth date": r"birth|(^|_)dob($|_)",
}

DATE = r"\d{4}[./-]\d{1,2}[./-]\d{1,2}|\d{1,2}[./-]\d{1,2}[./-]\d{2,4}"
"""Dates written as text (2023-01-15, 15/01/2023, 15.01.23): digits and separators, like a
phone number, but not one."""

VALUE_PATTERNS = {
    "e-mail address": r"^[\w.+-]+@[\w-]+\.[\w.-]+$",
    "bank account (IBAN)": r"^[A-Z]{2}\d{2} ?[A-Z0-9]{4}(?: ?[A-Z0-9]{2,4}){2,7}$",
    "national identifier": r"^\d{3}-\d{2}-\d{4}$|^[A-Z]{2}\d{6}[A-Z]$",
    "phone number": rf"^(?!(?:{DATE})$)\+?\(?\d[\d ()./-]{{6,}}\d$",
}
"""Checked in this order; the first pattern that half the values match names the column."""

PERSON_NAME = (
    r"^[A-Z][a-zà-ÿ'’-]+,?(?: (?:[A-Z][a-zà-ÿ'’.-]*|\([^)]*\)|\"[^\"]*\"|(?:de|van|der|den|von|"
    r"da|di|du|del|la|le|bin|al|y|ten|ter)))+$"
)
"""A person's name: capitalised words ("Jan de Vries", "Visser, Mrs. Eva Maria")."""
IDENTIFIER = r"^(?=.*\d)(?=.*[A-Za-z])[A-Za-z0-9]+(?:[-/_.][A-Za-z0-9]+)+$"
"""A text identifier: letters and digits in groups (CR-2019-004512, A/5-21171)."""
DISTINCT_SHARE = 0.9
"""Names and text identifiers count only in columns with this share of distinct values (a
city or a product code repeats; a person's name or a case number hardly does)."""
FLAG_VALUES = 5
"""A column named after personal data with at most this many distinct values is a flag or a
category ("telephone: yes / none"), not the data itself."""
FREE_TEXT_MIN_LENGTH = 40
"""Average length of a text column from which it counts as free text."""
PRIVACY_ARTIFACT = "privacy/columns.json"
"""Artifact of a training run: its personal columns (`PersonalData.as_dict`), which scoring and
monitoring read, so a model's batches are treated as its training data was."""
PSEUDONYM_PREFIX = "anon-"
KEY_FILE = Path(".mlwb") / "pseudonym.key"
KEY_ENV = "MLWB_PSEUDONYM_KEY"
PROJECT_ENV = "MLWB_PROJECT_DIR"
"""The project folder, which `mlwb` gives every kernel it starts (its working directory is
the notebooks folder, which may lie outside the project)."""


@dataclass(frozen=True)
class Finding:
    """One column that holds personal data, and why it counts as such."""

    column: str
    kind: str
    evidence: str


def _normalised(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", str(name).lower()).strip("_")


def _by_values(text: pd.Series) -> tuple[str, str] | None:
    """The kind of personal data a text column's values hold, and the evidence."""
    for kind, pattern in VALUE_PATTERNS.items():
        share = text.str.match(pattern).mean()
        if share >= 0.5:
            return kind, f"{share:.0%} of values look like one"
    if text.nunique() >= DISTINCT_SHARE * len(text):
        for kind, pattern in (("name", PERSON_NAME), ("identifier", IDENTIFIER)):
            share = text.str.match(pattern).mean()
            if share >= 0.5:
                return kind, f"{share:.0%} of values look like one, nearly all different"
    length = text.str.len().mean()
    if length >= FREE_TEXT_MIN_LENGTH and text.nunique() > len(text) / 2:
        return "free text", f"{length:.0f} characters on average"
    return None


def personal_data_columns(frame: pd.DataFrame, sample_rows: int = 1000) -> list[Finding]:
    """Columns of `frame` that look like personal data, by name or by content.

    A name counts only for a column with more than `FLAG_VALUES` distinct values. Content is
    judged on up to `sample_rows` non-missing values of each text column: a
    pattern counts when at least half of them match it.
    """
    findings = []
    for column in frame.columns:
        name = _normalised(column)
        by_name = [kind for kind, pattern in NAME_PATTERNS.items() if re.search(pattern, name)]
        if by_name and frame[column].nunique() > FLAG_VALUES:
            findings.append(Finding(str(column), by_name[0], f"column name '{column}'"))
            continue
        values = frame[column].dropna()
        if pd.api.types.is_numeric_dtype(values) or values.empty:
            continue
        found = _by_values(values.head(sample_rows).astype(str))
        if found:
            findings.append(Finding(str(column), *found))
    return findings


def check_section(raw: Any, where: str) -> list[str]:
    """Problems with a config's `privacy:` section (two lists of column names)."""
    if raw is None:
        return []
    if not isinstance(raw, dict):
        return [f"{where}: 'privacy' must be a mapping with personal_columns and not_personal."]
    problems = [
        f"{where}: unknown key 'privacy.{key}'. Allowed: personal_columns, not_personal."
        for key in raw
        if key not in ("personal_columns", "not_personal")
    ]
    for key in ("personal_columns", "not_personal"):
        value = raw.get(key, [])
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            problems.append(f"{where}: 'privacy.{key}' must be a list of column names.")
    both = set(raw.get("personal_columns") or []) & set(raw.get("not_personal") or [])
    if both and not problems:
        problems.append(
            f"{where}: {', '.join(sorted(both))} named in both privacy.personal_columns and "
            "privacy.not_personal."
        )
    return problems


@dataclass
class PersonalData:
    """The personal columns of a table: what was found, what the config added or overrode."""

    findings: list[Finding]
    overridden: list[str] = field(default_factory=list)
    """Columns found by the check that the config's `not_personal` declares not personal."""

    @property
    def columns(self) -> list[str]:
        """Names of the personal columns."""
        return [f.column for f in self.findings]

    def kinds(self) -> dict[str, str]:
        """Each personal column and the kind of personal data it holds."""
        return {f.column: f.kind for f in self.findings}

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready record (`privacy/columns.json`): names and reasons, never values."""
        return {
            "personal_columns": [asdict(f) for f in self.findings],
            "not_personal": self.overridden,
        }

    @classmethod
    def from_dict(cls, record: Mapping[str, Any] | None) -> PersonalData:
        """The record `as_dict` wrote (none: no personal column)."""
        record = record or {}
        findings = [Finding(**f) for f in record.get("personal_columns", [])]
        return cls(findings, list(record.get("not_personal", [])))

    def sentences(self) -> list[str]:
        """What was found and what happens to it, for a report."""
        if not self.findings:
            lines = ["No column looks like personal data by name or content."]
        else:
            found = ", ".join(f"{f.column} ({f.kind})" for f in self.findings)
            lines = [
                f"{len(self.findings)} column(s) hold personal data: {found}. They are never "
                "used as features, and no page or artifact shows their values: only counts, "
                "the share missing and the number of distinct values."
            ]
        if self.overridden:
            lines.append(
                f"Declared not personal in the config (privacy.not_personal), so treated as "
                f"any other column: {', '.join(self.overridden)}."
            )
        return lines


def overview(frame: pd.DataFrame, personal: PersonalData) -> pd.DataFrame:
    """One row per personal column: what it holds and why, and only counts (values present,
    share missing, distinct values), never a value."""
    return pd.DataFrame(
        [
            {
                "column": f.column,
                "holds": f.kind,
                "why": f.evidence,
                "values": int(frame[f.column].notna().sum()),
                "missing_share": float(frame[f.column].isna().mean()),
                "distinct": int(frame[f.column].nunique()),
            }
            for f in personal.findings
        ],
        columns=["column", "holds", "why", "values", "missing_share", "distinct"],
    )


def find_personal(
    frame: pd.DataFrame, target: str, settings: Mapping[str, Any] | None = None
) -> PersonalData:
    """The personal columns of `frame` (its target excluded): the privacy check's findings and
    the config's `personal_columns`, less its `not_personal`.

    Raises:
        UnknownColumnError: the settings name a column `frame` does not have, or the target.
    """
    settings = settings or {}
    named = [str(c) for c in settings.get("personal_columns", [])]
    overrides = [str(c) for c in settings.get("not_personal", [])]
    columns = [str(c) for c in frame.columns]
    unknown = [c for c in (*named, *overrides) if c not in columns or c == target]
    if unknown:
        raise UnknownColumnError(
            f"privacy names {', '.join(map(repr, unknown))}, which "
            f"{'is' if len(unknown) == 1 else 'are'} not a feature column. Columns: "
            f"{', '.join(c for c in columns if c != target)}."
        )
    found = personal_data_columns(frame.drop(columns=[target], errors="ignore"))
    kept = {f.column: f for f in found if f.column not in overrides}
    for column in named:
        kept.setdefault(column, Finding(column, "named in the config", "privacy.personal_columns"))
    ordered = [kept[c] for c in columns if c in kept]
    overridden = [c for c in overrides if c in {f.column for f in found}]
    return PersonalData(ordered, overridden)


def _project_dir() -> Path:
    return Path(os.environ[PROJECT_ENV]) if os.environ.get(PROJECT_ENV) else find_project_root()


def project_key(project_dir: str | Path | None = None) -> bytes:
    """The project's pseudonym key: `MLWB_PSEUDONYM_KEY`, else `.mlwb/pseudonym.key` in the
    project folder, written (readable by its owner only) on first use."""
    if os.environ.get(KEY_ENV):
        return os.environ[KEY_ENV].encode("utf-8")
    path = Path(project_dir or _project_dir()) / KEY_FILE
    if not path.is_file():
        path.parent.mkdir(parents=True, exist_ok=True)
        (path.parent / ".gitignore").write_text("*\n", encoding="utf-8")
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w", encoding="utf-8") as file:
            file.write(secrets.token_hex(32) + "\n")
    return path.read_text(encoding="utf-8").strip().encode("utf-8")


def pseudonym(value: Any, key: bytes) -> str:
    """A stable stand-in for `value`: the first 10 hex digits of its keyed SHA-256 hash."""
    digest = hmac.new(key, str(value).encode("utf-8"), hashlib.sha256).hexdigest()
    return PSEUDONYM_PREFIX + digest[:10]


def number_pseudonym(value: Any, key: bytes) -> int:
    """A stable stand-in for a number (a numeric id keeps a numeric type): nine digits of its
    keyed hash."""
    digest = hmac.new(key, str(value).encode("utf-8"), hashlib.sha256).hexdigest()
    return int(digest[:12], 16) % 10**9


def mask(frame: pd.DataFrame, columns: Iterable[str], key: bytes | None = None) -> pd.DataFrame:
    """A copy of `frame` whose `columns` (those it has) show pseudonyms instead of values
    (numbers for numeric columns, so a schema still holds); missing values stay missing."""
    present = [c for c in columns if c in frame.columns]
    if not present:
        return frame
    key = key if key is not None else project_key()
    masked = frame.copy()
    for column in present:
        values = masked[column]
        numeric = pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values)
        stand_in = number_pseudonym if numeric else pseudonym
        replaced = values.map(lambda v, f=stand_in: f(v, key), na_action="ignore")
        masked[column] = replaced.astype(values.dtype if numeric else object)
    return masked


def searchable_values(frame: pd.DataFrame, columns: Sequence[str], limit: int = 5000) -> list[str]:
    """Distinct values of `columns` worth searching published text for: text of at least six
    characters that is not a plain number (the digits of an integer id occur in any table)."""
    values: set[str] = set()
    for column in columns:
        if column not in frame.columns:
            continue
        text = frame[column].dropna().astype(str).str.strip().drop_duplicates()
        text = text[(text.str.len() >= 6) & ~text.str.fullmatch(r"[-+]?[\d.,]+")]
        values.update(text.head(limit).tolist())
    return sorted(values)
