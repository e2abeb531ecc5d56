"""Exporting a version's card: each format written, its SHA-256 tagged on the version, the
version's sign-off at the top of the printed report, and the card stage's hook that exports a
promoted version's card beside its report (real store)."""

from __future__ import annotations

import copy
import hashlib
import json
import re

import mlflow
import pytest
from card_store import REPORT, log_judged_version, new_store

from mlworkbench.exceptions import CardExportError
from mlworkbench.governance import card_record, promotion
from mlworkbench.governance.signoff import signoff_tags
from mlworkbench.reports import card_export, card_pdf
from mlworkbench.tracking.tags import (
    TAG_CARD_EXPORT_CYCLONEDX,
    TAG_CARD_EXPORT_JSON,
    TAG_CARD_EXPORT_PDF,
    TAG_SIGNOFF_AT,
)

HAS_CHROMIUM = card_pdf.find_chromium() is not None


@pytest.fixture(scope="module")
def project(tmp_path_factory, empty_store):
    folder = tmp_path_factory.mktemp("project")
    client, experiment_id = new_store(folder, empty_store)
    promoted = log_judged_version(client, experiment_id, folder)
    rejected = log_judged_version(client, experiment_id, folder, promote=False)
    yield folder, client, promoted, rejected
    mlflow.set_tracking_uri(None)


def sha256(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.mark.parametrize(
    ("fmt", "tag"), [("json", TAG_CARD_EXPORT_JSON), ("cyclonedx", TAG_CARD_EXPORT_CYCLONEDX)]
)
def test_an_export_is_written_and_its_digest_tagged_on_the_version(project, tmp_path, fmt, tag):
    folder, client, _, _ = project
    output = tmp_path / "out" / f"card.{fmt}"
    digest = card_export.export_card(
        client, "models:/credit-model@champion", fmt, output, folder / "reports"
    )
    assert digest == sha256(output)
    assert client.get_model_version("credit-model", "1").tags[tag] == digest
    assert json.loads(output.read_text())  # complete JSON


@pytest.mark.skipif(not HAS_CHROMIUM, reason="needs chromium (scripts/chromium.sh install)")
def test_the_pdf_prints_the_report_logged_with_the_card_run(project, tmp_path):
    folder, client, _, _ = project
    assert not (folder / "reports" / REPORT).exists()  # only the logged copy exists
    output = tmp_path / "card.pdf"
    digest = card_export.export_card(
        client, "models:/credit-model/1", "pdf", output, folder / "reports"
    )
    assert output.read_bytes().startswith(b"%PDF")
    assert client.get_model_version("credit-model", "1").tags[TAG_CARD_EXPORT_PDF] == digest


def test_an_unknown_format_is_refused(project, tmp_path):
    folder, client, _, _ = project
    with pytest.raises(CardExportError, match="Unknown export format 'docx'"):
        card_export.export_card(client, "models:/credit-model/1", "docx", tmp_path / "x", folder)


def test_the_card_stage_exports_a_promoted_version_without_chromium(project, monkeypatch):
    folder, client, promoted, _ = project
    monkeypatch.setenv("PATH", "")  # no chromium: the PDF is skipped with a note
    html = folder / "reports" / REPORT
    html.parent.mkdir(parents=True, exist_ok=True)
    html.write_text("<html><head></head><body>card</body></html>")
    notes = []
    written = card_export.export_promoted_card(
        client, promoted.card_id, html, folder / "reports", notes.append
    )
    assert [p.name for p in written] == ["model_card.json", "model_card.cdx.json"]
    assert len(notes) == 1 and "card export pdf skipped" in notes[0]
    assert "scripts/chromium.sh install" in notes[0]
    logged = {a.path for a in client.list_artifacts(promoted.card_id, "card")}
    assert {"card/model_card.json", "card/model_card.cdx.json"} <= logged
    tags = client.get_model_version("credit-model", "1").tags
    assert tags[TAG_CARD_EXPORT_JSON] == sha256(html.parent / "model_card.json")


def test_a_rejected_version_is_not_exported_by_the_card_stage(project):
    folder, client, _, rejected = project
    html = folder / "reports" / "rejected" / "04-model-card.html"
    written = card_export.export_promoted_card(
        client, rejected.card_id, html, folder / "reports", print
    )
    assert written == [] and not html.parent.exists()
    assert TAG_CARD_EXPORT_JSON not in client.get_model_version("credit-model", "2").tags


PAGE = '<html><head></head><body class="jp-Notebook"><h1>Model card</h1></body></html>'


def reread(client, record):
    """`record` with its version as the registry holds it now."""
    fresh = copy.copy(record)
    fresh.version = client.get_model_version(record.name, record.number)
    return fresh


def test_the_printed_page_carries_the_signoff_at_the_top_of_a_copy(project, tmp_path):
    _, client, _, rejected = project
    page = tmp_path / "04-model-card.html"
    page.write_text(PAGE, encoding="utf-8")
    record = card_record.load_record(client, rejected.version)
    assert card_export.signed_page(record, page, tmp_path) == page, "nothing to add"

    promotion.await_signoff(client, record.name, record.number)
    printed = card_export.signed_page(reread(client, record), page, tmp_path)
    text = printed.read_text(encoding="utf-8")
    assert printed.parent == tmp_path and printed != page
    assert text.startswith('<html><head></head><body class="jp-Notebook"><div style="font-family')
    assert "#9a6700" in text
    assert (
        "<li>Awaiting sign-off: a reviewer signs it off with "
        "mlwb promote credit-model 2 --reason &#x27;...&#x27;</li>"
    ) in text
    assert text.endswith("<h1>Model card</h1></body></html>")

    for key, value in signoff_tags("ana", True, "Checked <all> gates.").items():
        client.set_model_version_tag(record.name, record.number, key, value)
    signed = reread(client, record)
    text = card_export.signed_page(signed, page, tmp_path).read_text(encoding="utf-8")
    at = signed.version.tags[TAG_SIGNOFF_AT]
    assert "#1a7f37" in text
    assert f"<li>Signed off by ana (authenticated) on {at}: Checked &lt;all&gt; gates.</li>" in text
    assert re.search(
        r"<li>As the model registry recorded it when this PDF was exported "
        r"\(\d{4}-\d\d-\d\d \d\d:\d\d UTC\)\.</li>",
        text,
    )
    assert page.read_text(encoding="utf-8") == PAGE, "the report itself stays as it is"


def test_a_pdf_export_prints_the_report_with_the_signoff(project, tmp_path, monkeypatch):
    folder, client, promoted, _ = project
    for key, value in signoff_tags("bo", False, "Reviewed.").items():
        client.set_model_version_tag("credit-model", promoted.version.version, key, value)
    printed = []

    def capture(html, output):  # what Chromium would be given to print
        printed.append(html.read_text(encoding="utf-8"))
        output.write_bytes(b"%PDF-1.4 stand-in")
        return output

    monkeypatch.setattr(card_pdf, "print_pdf", capture)
    card_export.export_card(
        client, "models:/credit-model/1", "pdf", tmp_path / "card.pdf", folder / "reports"
    )
    (text,) = printed
    assert "<li>Signed off by bo (unauthenticated OS user) on " in text
    assert re.search(r"<body[^>]*><div [^>]*><div [^>]*><div [^>]*>Sign-off</div>", text), (
        "first in the body"
    )
