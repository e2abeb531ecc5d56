"""Exporting a model version's card for reviewers and auditors: PDF (the card's HTML report
printed by Chromium), JSON (the Model Card Toolkit field layout, `governance.card_json`) and a
CycloneDX 1.6 ML-BOM (`governance.card_bom`), each with the version's human sign-off as the
registry holds it at export. Each written file's SHA-256 is tagged on the version
(`mlwb.card_export.<format>`), so a document handed over can be checked against the registry.

`mlwb card export` writes one format; the runner calls `export_promoted_card` after the card
stage's report is rendered, which writes all three for a promoted version beside the report
and logs them under `card/` of the card run.
"""

from __future__ import annotations

import functools
import hashlib
import json
import re
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from mlworkbench.exceptions import CardExportError, MlwbError
from mlworkbench.governance import card_bom, card_json, card_record
from mlworkbench.governance.card_evidence import report_artifact
from mlworkbench.governance.card_record import CardRecord
from mlworkbench.governance.promotion import AWAITING, PROMOTED
from mlworkbench.reports import card_pdf, elements
from mlworkbench.reports.dashboard import promote_command
from mlworkbench.reports.rendering import write_page
from mlworkbench.tracking.tags import (
    TAG_CARD_EXPORT_CYCLONEDX,
    TAG_CARD_EXPORT_JSON,
    TAG_CARD_EXPORT_PDF,
    TAG_DECISION,
    TAG_MODEL,
    TAG_REPORT,
    TAG_SIGNOFF,
    TAG_STAGE,
)


@dataclass(frozen=True)
class ExportFormat:
    """A format a card is exported in: the version tag of its digest and its file name."""

    tag: str
    file_name: str


FORMATS = {
    "pdf": ExportFormat(TAG_CARD_EXPORT_PDF, "model_card.pdf"),
    "json": ExportFormat(TAG_CARD_EXPORT_JSON, "model_card.json"),
    "cyclonedx": ExportFormat(TAG_CARD_EXPORT_CYCLONEDX, "model_card.cdx.json"),
}
"""Every export format by its `--format` name."""

ARTIFACT_FOLDER = "card"
"""Where the card run keeps the exports the card stage wrote."""


def sha256(path: Path) -> str:
    """The SHA-256 of a file, in hex."""
    return hashlib.sha256(path.read_bytes()).hexdigest()


def report_page(client: Any, record: CardRecord, reports_dir: Path, scratch: Path) -> Path:
    """The card run's HTML report: in the project's reports folder (its `mlwb.report` tag), or
    else the copy logged with the run, downloaded into `scratch`.

    Raises:
        CardExportError: the card run has no report in either place.
    """
    run = record.card_run
    tagged = run.data.tags.get(TAG_REPORT, "")
    if tagged and (reports_dir / tagged).is_file():
        return reports_dir / tagged
    text = card_record.artifact_text(client, run.info.run_id, report_artifact(run))
    if text is None:
        raise CardExportError(
            f"The card run {run.info.run_id} of '{record.name}' version {record.number} has no "
            f"HTML report, neither under {reports_dir} nor among its artifacts."
        )
    return write_page(scratch / Path(report_artifact(run)).name, text)


def signed_page(record: CardRecord, page: Path, scratch: Path) -> Path:
    """The report to print: a copy of `page` in `scratch` with the version's sign-off as the
    registry holds it now in a callout at the top (the report was rendered when the card stage
    judged the version, before anyone signed it off); `page` itself when there is none."""
    state = record.signoff
    if not state:
        return page
    now = datetime.now(tz=UTC).strftime("%Y-%m-%d %H:%M UTC")
    awaiting = record.version.tags.get(TAG_SIGNOFF) == card_json.SIGNOFF_AWAITING
    hint = f": a reviewer signs it off with {promote_command(record.name, record.number)}"
    note = elements.callout(
        "Sign-off",
        [
            state[0].upper() + state[1:] + (hint if awaiting else ""),
            f"As the model registry recorded it when this PDF was exported ({now}).",
        ],
        "warn" if awaiting else "ok",
    )
    text = page.read_text(encoding="utf-8")
    body = re.search(r"<body[^>]*>", text, re.IGNORECASE)
    at = body.end() if body else 0
    note = f'<div style="font-family:var(--jp-content-font-family,sans-serif)">{note}</div>'
    return write_page(scratch / f"{page.stem}.signoff.html", text[:at] + note + text[at:])


def printed_page(client: Any, record: CardRecord, reports_dir: Path, scratch: Path) -> Path:
    """The page the PDF prints: the card run's report with the version's sign-off."""
    return signed_page(record, report_page(client, record, reports_dir, scratch), scratch)


def write_export(record: CardRecord, fmt: str, output: Path, page: Callable[[], Path]) -> None:
    """Write `record`'s card in `fmt` to `output`; `page()` gives the HTML report (PDF only)."""
    if fmt == "pdf":
        card_pdf.print_pdf(page(), output)
        return
    document = card_json.card_document(record)
    if fmt == "json":
        write_page(output, json.dumps(document, indent=2, ensure_ascii=False) + "\n")
    else:
        write_page(output, card_bom.card_bom(record, document))


def export(client: Any, record: CardRecord, fmt: str, output: Path, reports_dir: Path) -> str:
    """Export `record`'s card in `fmt` to `output` and tag its SHA-256 on the version.

    Returns:
        The SHA-256 of the written file.

    Raises:
        CardExportError: unknown format; no report, no Chromium or a failed print (PDF); a
            document that does not validate (JSON, CycloneDX).
    """
    if fmt not in FORMATS:
        raise CardExportError(f"Unknown export format '{fmt}': use one of {', '.join(FORMATS)}.")
    with tempfile.TemporaryDirectory() as scratch:
        page = functools.partial(printed_page, client, record, reports_dir, Path(scratch))
        write_export(record, fmt, output, page)
    digest = sha256(output)
    client.set_model_version_tag(record.name, record.number, FORMATS[fmt].tag, digest)
    return digest


def export_card(client: Any, uri: str, fmt: str, output: Path, reports_dir: Path) -> str:
    """Export the card of the version `uri` names (`models:/<name>/<version>` or
    `models:/<name>@<alias>`) in `fmt` to `output`; returns the file's SHA-256."""
    record = card_record.load_record(client, card_record.resolve_version(client, uri))
    return export(client, record, fmt, output, reports_dir)


def promoted_version(client: Any, run: Any) -> Any:
    """The model version a finished card run promoted, or None (another stage, a rejected
    version)."""
    tags = run.data.tags
    if tags.get(TAG_STAGE) != "card" or tags.get(TAG_DECISION) not in (PROMOTED, AWAITING):
        return None
    name, _, number = tags.get(TAG_MODEL, "").rpartition("/")
    return client.get_model_version(name, number) if name and number else None


def export_promoted_card(
    client: Any, run_id: str, html: Path, reports_dir: Path, echo: Callable[[str], Any]
) -> list[Path]:
    """After the card stage's report `html` (in `reports_dir`) is rendered: when the run
    promoted its version, write the card as PDF, JSON and CycloneDX beside the report, log them
    under `card/` of the run and tag their digests on the version. Returns the files written.

    An export never fails the pipeline, whose decision is recorded by then: without Chromium
    the PDF is skipped with a note, and any other failure is printed (`mlwb card export`
    repeats an export).
    """
    try:
        version = promoted_version(client, client.get_run(run_id))
        record = card_record.load_record(client, version) if version is not None else None
    except Exception as exc:  # the store failed after the stage: say so, keep the pipeline
        echo(f"      card exports skipped: {type(exc).__name__}: {exc}")
        return []
    return [] if record is None else export_formats(client, record, run_id, html, reports_dir, echo)


def export_formats(
    client: Any,
    record: CardRecord,
    run_id: str,
    html: Path,
    reports_dir: Path,
    echo: Callable[[str], Any],
) -> list[Path]:
    """Write every format beside `html` and log it to the card run; print what failed."""
    written = []
    for fmt, spec in FORMATS.items():
        output = html.parent / spec.file_name
        try:
            export(client, record, fmt, output, reports_dir)
            client.log_artifact(run_id, str(output), ARTIFACT_FOLDER)
        except MlwbError as exc:
            echo(f"      card export {fmt} skipped: {exc}")
            continue
        except Exception as exc:  # a failed export must not leave the stage's run unfinished
            echo(f"      card export {fmt} failed: {type(exc).__name__}: {exc}")
            continue
        written.append(output)
    return written
