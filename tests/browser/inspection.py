"""What a page looks like in Chromium: console errors, images, widths on screen and in print,
local links. One visit per page records it all in a `Page` the tests then check."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote, urlparse
from urllib.request import url2pathname

STAGES = ("01-eda", "02-train", "03-explain", "04-model-card", "05-score", "06-monitor")
"""The stage reports of the demo project: its pipeline, then scoring and monitoring."""
PAGES = ("index.html", "monitoring.html", "compare.html", *(f"{s}.html" for s in STAGES))
"""Every page the browser tests open."""
PRINT_WIDTH = 718
"""Printable width of an A4 page at 96 px per inch with Chromium's default margins of about
1 cm: 210 mm is 794 px, less 2 x 38 px."""

BROKEN_IMAGES = """
return Array.from(document.images)
  .filter(img => !(img.complete && img.naturalWidth > 0))
  .map(img => (img.getAttribute('src') || '').slice(0, 80));
"""

WIDTHS = """
return [document.documentElement.scrollWidth, window.innerWidth];
"""

UNBOXED_TABLES = """
const edge = document.documentElement.clientWidth + 1;
const scrolls = el => ['auto', 'scroll'].includes(getComputedStyle(el).overflowX);
return Array.from(document.querySelectorAll('table'))
  .filter(table => table.getBoundingClientRect().right > edge)
  .filter(table => {
    for (let box = table.parentElement; box; box = box.parentElement) {
      if (scrolls(box) && box.getBoundingClientRect().right <= edge) return false;
    }
    return true;
  })
  .map(table => (table.querySelector('th') || table).textContent.trim().slice(0, 60));
"""

PAST_RIGHT_EDGE = """
const edge = document.documentElement.clientWidth + 1;
const past = el => {
  const box = el.getBoundingClientRect();
  return box.width > 0 && box.height > 0 && box.right > edge;
};
return Array.from(document.querySelectorAll('body *'))
  .filter(el => past(el) && !(el.parentElement && past(el.parentElement)))
  .map(el => `${el.tagName.toLowerCase()} ${Math.round(el.getBoundingClientRect().right)} px: `
       + el.textContent.trim().slice(0, 60));
"""

LINKS = """
const anchors = Array.from(document.querySelectorAll('a[href]'));
const missing = anchors
  .map(a => a.getAttribute('href'))
  .filter(href => href.startsWith('#') && href.length > 1)
  .filter(href => {
    const id = decodeURIComponent(href.slice(1));
    return !document.getElementById(id) && document.getElementsByName(id).length === 0;
  });
return [missing, anchors.map(a => a.href)];
"""


@dataclass
class Page:
    """What one visit to a page found."""

    path: Path
    console_errors: list[str] = field(default_factory=list)
    broken_images: list[str] = field(default_factory=list)
    image_count: int = 0
    scroll_width: int = 0
    window_width: int = 0
    unboxed_tables: list[str] = field(default_factory=list)
    past_print_edge: list[str] = field(default_factory=list)
    broken_links: list[str] = field(default_factory=list)
    local_links: int = 0
    screenshots: list[Path] = field(default_factory=list)


def local_target(url: str) -> Path | None:
    """The file a resolved link points to, or None for links off this disk (http, mailto)."""
    parsed = urlparse(url)
    if parsed.scheme != "file":
        return None
    return Path(url2pathname(unquote(parsed.path)))


def broken_links(missing_anchors: list[str], urls: list[str]) -> list[str]:
    """Links of a page to an anchor it lacks or to a local file that does not exist."""
    broken = [f"{href} (no such anchor)" for href in missing_anchors]
    for url in urls:
        target = local_target(url)
        if target is not None and not target.exists():
            broken.append(f"{url} (no such file)")
    return broken


def look_on_screen(driver, page: Page) -> None:
    """Console errors, images, widths and links of the page just loaded, at screen size."""
    page.console_errors = [
        entry["message"] for entry in driver.get_log("browser") if entry["level"] == "SEVERE"
    ]
    page.broken_images = driver.execute_script(BROKEN_IMAGES)
    page.image_count = driver.execute_script("return document.images.length;")
    page.scroll_width, page.window_width = driver.execute_script(WIDTHS)
    page.unboxed_tables = driver.execute_script(UNBOXED_TABLES)
    missing, urls = driver.execute_script(LINKS)
    page.broken_links = broken_links(missing, urls)
    page.local_links = sum(local_target(url) is not None for url in urls)


def look_in_print(driver, page: Page, screenshot: Path, screen: tuple[int, int]) -> None:
    """Elements past the right edge of an A4 page, with print styles; then back to screen."""
    driver.execute_cdp_cmd("Emulation.setEmulatedMedia", {"media": "print"})
    driver.execute_cdp_cmd(
        "Emulation.setDeviceMetricsOverride",
        {"width": PRINT_WIDTH, "height": screen[1], "deviceScaleFactor": 1, "mobile": False},
    )
    try:
        page.past_print_edge = driver.execute_script(PAST_RIGHT_EDGE)
        driver.save_screenshot(str(screenshot))
        page.screenshots.append(screenshot)
    finally:
        driver.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})
        driver.execute_cdp_cmd("Emulation.setEmulatedMedia", {"media": ""})


def inspect_page(driver, path: Path, screenshots: Path, screen: tuple[int, int]) -> Page:
    """Open `path` in `driver` and record everything the browser tests check."""
    page = Page(path)
    driver.get_log("browser")  # drop what earlier pages logged
    driver.get(path.as_uri())
    look_on_screen(driver, page)
    stem = path.name.removesuffix(".html")
    driver.save_screenshot(str(screenshots / f"{stem}.png"))
    page.screenshots.append(screenshots / f"{stem}.png")
    look_in_print(driver, page, screenshots / f"{stem}.print.png", screen)
    return page
