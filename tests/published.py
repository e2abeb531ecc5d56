"""Everything a pipeline publishes, as text, and a search of it for planted personal values.

Written independently of `mlworkbench.governance.privacy` (which the card uses for the same
question), so the product's own check is not what tests it.
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Iterable, Mapping
from pathlib import Path

import pandas as pd

TOKEN = re.compile(r"[A-Za-z0-9]+")
UNICODE_ESCAPE = re.compile(r"\\u[0-9a-fA-F]{4}")
"""JSON's escape of a non-ASCII character (chloé -> chlo\u00e9), which would glue the next
letters to its digits when the text is cut into tokens."""


def published_texts(root: Path, client, outputs: Iterable[str] = ()) -> dict[str, str]:
    """Every file under the project's reports/ and artifact store (mlruns/), whatever its type
    (models and images included, read as bytes), the params and tags of every run, the tags and
    descriptions of every model version, and the commands' `outputs` (their logs)."""
    texts = {}
    for folder in ("reports", "mlruns"):
        for path in (root / folder).rglob("*"):
            if path.is_file():
                texts[str(path.relative_to(root))] = path.read_bytes().decode("utf-8", "ignore")
    for experiment in client.search_experiments():
        for run in client.search_runs([experiment.experiment_id]):
            record = {"params": run.data.params, "tags": run.data.tags, "name": run.info.run_name}
            texts[f"run {run.info.run_id} params and tags"] = json.dumps(record, ensure_ascii=False)
    for model in client.search_registered_models():
        for version in client.search_model_versions(f"name = '{model.name}'"):
            record = {"tags": version.tags, "description": version.description}
            texts[f"model {model.name}/{version.version}"] = json.dumps(record, ensure_ascii=False)
    texts.update({f"command output {i}": text for i, text in enumerate(outputs)})
    return texts


def planted_values(frame: pd.DataFrame, columns: Iterable[str]) -> list[str]:
    """The distinct values of `columns` that can be searched for without false alarms: text of
    six characters or more that is not a plain number."""
    values = set()
    for column in columns:
        text = frame[column].dropna().astype(str).str.strip()
        values.update(v for v in text if len(v) >= 6 and not re.fullmatch(r"[-+\d.,]+", v))
    return sorted(values)


def _forms(value: str) -> set[str]:
    """The ways a value is written into HTML, JSON and notebooks."""
    escaped = html.escape(value)
    return {
        value,
        escaped,
        escaped.replace("&#x27;", "&#39;"),
        html.escape(value, quote=False),
        json.dumps(value)[1:-1],
        json.dumps(value)[1:-1].replace("/", "\\/"),  # pandas' to_json
        json.dumps(escaped)[1:-1],
    }


def leaks(values: Iterable[str], texts: Mapping[str, str]) -> dict[str, list[str]]:
    """Where each value occurs in `texts` (any of its written forms): source -> values."""
    found: dict[str, list[str]] = {}
    values = list(values)
    for source, text in texts.items():
        tokens = set(TOKEN.findall(UNICODE_ESCAPE.sub(" ", text)))
        for value in values:
            if all(t in tokens for t in TOKEN.findall(value)) and any(
                form in text for form in _forms(value)
            ):
                found.setdefault(source, []).append(value)
    return found
