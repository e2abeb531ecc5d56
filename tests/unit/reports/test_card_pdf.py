"""Printing a report to PDF with headless Chromium: the print rules, a clear error without
Chromium, and a real print in which no table that fits on a page is cut."""

from __future__ import annotations

import pytest
from pdf_pages import body_rows_split, elements, page_count, used_pages

from mlworkbench.exceptions import CardExportError
from mlworkbench.reports import card_pdf


def page(rows: int) -> str:
    """A report of text, a short table, more text and a table of `rows` rows; the short table
    straddles the end of the first page when printed without the print rules."""
    text = "".join(f"<p>Paragraph {i} of the summary.</p>" for i in range(24))
    short = "<tr><th>metric</th><th>value</th></tr>" + "<tr><td>auc</td><td>0.8</td></tr>" * 8
    long = "".join(f"<tr><td>item {i}</td><td>{'detail ' * 12}</td></tr>" for i in range(rows))
    return (
        "<html><head><title>card</title></head><body><h1>Card</h1>"
        f"{text}<table>{short}</table>{text}<table><thead><tr><th>item</th><th>detail</th></tr>"
        f"</thead><tbody>{long}</tbody></table></body></html>"
    )


def test_the_print_rules_go_at_the_end_of_the_head():
    printable = card_pdf.with_print_rules("<html><head><title>t</title></head><body></body>")
    head, body = printable.split("</head>")
    assert head.startswith("<html><head><title>t</title><style>")
    assert "break-inside: avoid" in head and "@page" in head and body == "<body></body>"
    assert card_pdf.with_print_rules("<p>x</p>").endswith("</style>\n<p>x</p>")


def test_without_chromium_the_error_says_how_to_install_it(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))
    assert card_pdf.find_chromium() is None
    html = tmp_path / "card.html"
    html.write_text(page(3))
    with pytest.raises(CardExportError, match=r"scripts/chromium.sh install"):
        card_pdf.print_pdf(html, tmp_path / "card.pdf")
    assert not (tmp_path / "card.pdf").exists()


@pytest.mark.skipif(card_pdf.find_chromium() is None, reason="needs chromium (scripts/chromium.sh)")
def test_tables_that_fit_a_page_are_never_cut_and_long_ones_only_between_rows(tmp_path):
    html = tmp_path / "card.html"
    html.write_text(page(80))
    output = card_pdf.print_pdf(html, tmp_path / "out" / "card.pdf")
    data = output.read_bytes()
    assert data.startswith(b"%PDF")
    tables = [pages for _, pages in elements(data, b"Table")]
    assert len(tables) == 2
    assert len(tables[0]) == 1  # the short table sits on one page ...
    plain = tmp_path / "plain.pdf"
    card_pdf.run_chromium(card_pdf.find_chromium(), html, plain, tmp_path)
    assert len(elements(plain.read_bytes(), b"Table")[0][1]) == 2  # ... which plain print cuts
    assert len(tables[1]) >= 2  # 80 rows do not fit on one page ...
    assert body_rows_split(data) == 0  # ... and are cut between rows only
    assert page_count(data) == len(used_pages(data))  # no blank page
    assert not list(tmp_path.glob(".*print.html"))  # the printable copy is removed
