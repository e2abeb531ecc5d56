"""The demo's pages in headless Chromium: the index, the monitoring dashboard, the comparison
of training runs and every stage report open without console errors, show every image, fit
the window at 1300 px and an A4 page when printed, and link only to files and anchors that
exist."""

from __future__ import annotations

import pytest
from browser.inspection import PAGES, PRINT_WIDTH

pytestmark = pytest.mark.browser


@pytest.fixture(params=PAGES)
def page(request, pages):
    """One page of the demo, as the browser found it."""
    name = request.param
    if name not in pages:
        pytest.fail(f"the demo project holds no single {name} (see the `demo_reports` fixture)")
    return pages[name]


def test_the_demo_wrote_every_page_once(pages):
    assert sorted(pages) == sorted(PAGES)


def test_no_console_errors(page):
    assert page.console_errors == [], f"{page.path.name}: {page.console_errors}"


def test_every_image_loads(page):
    assert page.broken_images == [], f"{page.path.name}: images not shown {page.broken_images}"


def test_nothing_is_wider_than_the_window(page):
    assert page.scroll_width <= page.window_width == 1300, page.path.name
    assert page.unboxed_tables == [], f"{page.path.name}: tables past the edge, not scrolling"


def test_printed_nothing_runs_past_the_right_edge(page):
    assert page.past_print_edge == [], (
        f"{page.path.name}, printed {PRINT_WIDTH} px wide: {page.past_print_edge[:5]}"
    )


def test_every_local_link_resolves(page):
    assert page.broken_links == [], f"{page.path.name}: {page.broken_links}"


def test_the_pages_have_what_they_are_checked_for(pages):
    """The checks above find something to check: images in the reports, links in the index."""
    assert pages["03-explain.html"].image_count >= 5
    assert pages["monitoring.html"].image_count >= 1
    assert pages["index.html"].local_links >= len(PAGES) - 1
    assert all(shot.stat().st_size > 0 for page in pages.values() for shot in page.screenshots)
