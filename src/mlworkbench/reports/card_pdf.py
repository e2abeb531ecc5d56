"""A report printed to PDF by headless Chromium, for reviewers who file documents.

The report is printed from a copy beside it carrying the print rules of
`templates/print.css` (A4 pages; tables, rows and images kept whole when they fit on a page;
wide tables held to the page width), so the report itself stays as it is. Chromium is found on
PATH as `chromium`, `chromium-browser` or `google-chrome`; `scripts/chromium.sh install`
installs Debian's package where it is missing.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

from mlworkbench.exceptions import CardExportError

BROWSERS = ("chromium", "chromium-browser", "google-chrome")
"""Names of a Chromium program, in the order they are looked for on PATH."""

PRINT_CSS = Path(__file__).parent / "templates" / "print.css"
PRINT_SECONDS = 180
"""How long Chromium may take to print one report."""


def find_chromium() -> str | None:
    """The first Chromium program on PATH, or None."""
    return next((found for name in BROWSERS if (found := shutil.which(name))), None)


def missing_chromium() -> CardExportError:
    """The error for a machine without Chromium, saying how to install it."""
    return CardExportError(
        f"Printing the model card to PDF needs headless Chromium, and none of "
        f"{', '.join(BROWSERS)} is on PATH: install it with `scripts/chromium.sh install` "
        "(Debian's chromium package) or your system's package manager."
    )


def with_print_rules(page: str) -> str:
    """The HTML of `page` with the print rules as a <style> at the end of its head."""
    style = f"<style>\n{PRINT_CSS.read_text(encoding='utf-8')}</style>\n"
    at = page.lower().rfind("</head>")
    return page[:at] + style + page[at:] if at >= 0 else style + page


def print_pdf(html: Path, output: Path) -> Path:
    """Print the report `html` to the PDF `output` (moved into place once Chromium has written it).

    Raises:
        CardExportError: no Chromium on PATH, or Chromium failed or wrote no PDF.
    """
    browser = find_chromium()
    if browser is None:
        raise missing_chromium()
    output.parent.mkdir(parents=True, exist_ok=True)
    copy = html.with_name(f".{html.stem}.print.html")
    copy.write_text(with_print_rules(html.read_text(encoding="utf-8")), encoding="utf-8")
    try:
        with tempfile.TemporaryDirectory() as profile:
            printed = Path(profile) / "printed.pdf"
            run_chromium(browser, copy, printed, Path(profile))
            shutil.move(printed, output)
    finally:
        copy.unlink(missing_ok=True)
    return output


def run_chromium(browser: str, page: Path, printed: Path, profile: Path) -> None:
    """Run headless Chromium once to print `page` to `printed`, in a profile of its own (so
    prints running at the same time never share one).

    Raises:
        CardExportError: Chromium failed, timed out or wrote no PDF.
    """
    command = [
        browser,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        f"--user-data-dir={profile / 'profile'}",
        f"--print-to-pdf={printed}",
        "--no-pdf-header-footer",
        page.resolve().as_uri(),
    ]
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=PRINT_SECONDS)
    except subprocess.TimeoutExpired as exc:
        raise CardExportError(
            f"Chromium did not print {page.name} within {PRINT_SECONDS} s."
        ) from exc
    if not printed.is_file() or not printed.read_bytes().startswith(b"%PDF"):
        tail = (done.stderr or "").strip().splitlines()[-3:]
        raise CardExportError(
            f"Chromium ({browser}) wrote no PDF of {page.name} (exit code {done.returncode}): "
            + " ".join(tail)
        )
