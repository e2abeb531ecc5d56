"""Report building blocks: escaping, call-outs, tables, links, key figures and the folders
reports are written to."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest

from mlworkbench.analysis.explain.fairness import gate_counts
from mlworkbench.reports import elements


def test_escape_escapes_markup_quotes_and_any_value():
    assert elements.escape('<a href="x">Tom & Jerry\'s</a>') == (
        "&lt;a href=&quot;x&quot;&gt;Tom &amp; Jerry&#x27;s&lt;/a&gt;"
    )
    assert elements.escape(3.5) == "3.5"
    assert elements.escape(None) == "None"


def test_callout_has_an_escaped_title_one_item_per_sentence_and_the_tone_colour():
    box = elements.callout("Risk <high>", ["first & one", "<script>x</script>"], tone="bad")
    assert "Risk &lt;high&gt;" in box
    assert box.count("<li>") == 2
    assert "<li>first &amp; one</li>" in box
    assert "<li>&lt;script&gt;x&lt;/script&gt;</li>" in box and "<script>" not in box
    assert "border-left:6px solid #cf222e" in box


@pytest.mark.parametrize(
    ("tone", "colour"),
    [("info", "#1f6feb"), ("ok", "#1a7f37"), ("warn", "#9a6700"), ("unknown", "#1f6feb")],
)
def test_callout_tones(tone, colour):
    assert f"solid {colour};" in elements.callout("t", ["s"], tone=tone)


def test_callout_without_sentences_has_an_empty_list():
    assert '<ul style="margin:4px 0 0 0;padding-left:20px"></ul>' in elements.callout("t", [])


def cells(table: str) -> list[list[str]]:
    """The body cells of an HTML table, row by row, as written (escaped)."""
    body = table.split("<tbody>", 1)[1]
    return [
        re.findall(r"<td>(.*?)</td>", row, re.S)
        for row in re.findall(r"<tr>(.*?)</tr>", body, re.S)
    ]


@pytest.fixture
def frame() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "feature": ["<b>age</b>", "x & y", np.nan],
            "missing_share": [0.25, np.nan, 0.0123],
            "roc_auc": [0.812345, 0.7, np.nan],
            "rows": [32220, 1234567, 5],
            "mean": [32220.5, 0.000123456, 12.345],
        }
    )


def test_table_formats_percentages_decimals_and_other_numbers(frame):
    table = elements.table_html(frame, percent=["missing_share"], decimals={"roc_auc": 3})
    assert cells(table) == [
        ["&lt;b&gt;age&lt;/b&gt;", "25.0%", "0.812", "32,220", "32,220.5"],
        ["x &amp; y", "–", "0.700", "1,234,567", "0.000123"],
        ["–", "1.2%", "–", "5", "12.3"],
    ]


def test_table_escapes_data_and_column_names():
    table = elements.table_html(pd.DataFrame({"<i>col</i>": ["<script>alert(1)</script>"]}))
    assert "<script>" not in table and "&lt;script&gt;alert(1)&lt;/script&gt;" in table
    assert "<i>col</i>" not in table and "&lt;i&gt;col&lt;/i&gt;" in table


def test_table_shows_nan_and_nat_as_a_dash():
    frame = pd.DataFrame(
        {
            "text": pd.Series(["a", np.nan], dtype=object),
            "number": [1.5, np.nan],
            "when": pd.to_datetime(["2024-01-01", None]),
        }
    )
    assert cells(elements.table_html(frame, decimals={"number": 2})) == [
        ["a", "1.50", "2024-01-01 00:00:00"],
        ["–", "–", "–"],
    ]


def test_table_shows_none_and_pandas_na_as_a_dash():
    frame = pd.DataFrame(
        {
            "text": pd.Series(["a", None], dtype=object),
            "count": pd.array([1, None], dtype="Int64"),
            "label": pd.array(["x", None], dtype="string"),
        }
    )
    assert cells(elements.table_html(frame)) == [["a", "1", "x"], ["–", "–", "–"]]


def test_headers_rename_columns_and_formats_follow_the_renamed_columns(frame):
    table = elements.table_html(
        frame,
        percent=["missing_share"],
        decimals={"roc_auc": 2},
        headers={"missing_share": "missing cells", "roc_auc": "ROC AUC"},
    )
    assert "<th>missing cells</th>" in table and "<th>ROC AUC</th>" in table
    assert "missing_share" not in table and "roc_auc" not in table
    assert cells(table)[0][1:3] == ["25.0%", "0.81"]


def test_numbers_are_never_written_in_scientific_notation():
    table = elements.table_html(pd.DataFrame({"x": [3.22e4, 1.5e-7, 2.5e12]}))
    assert "e+" not in table and "e-0" not in table
    assert [row[0] for row in cells(table)] == ["32,200", "0.00000015", "2,500,000,000,000"]


def test_text_columns_are_left_aligned_and_numeric_ones_are_not(frame):
    table = elements.table_html(frame)
    assert table.startswith("<style>")
    assert "td:nth-child(1)" in table and "td:nth-child(2)" not in table
    numbers_only = elements.table_html(frame.drop(columns=["feature"]))
    assert numbers_only.startswith("<table") and "<style>" not in numbers_only


def test_link_escapes_its_address_and_its_text():
    assert elements.link('r.html?a=1&b="2"', "<i>report</i>") == (
        '<a href="r.html?a=1&amp;b=&quot;2&quot;">&lt;i&gt;report&lt;/i&gt;</a>'
    )


@pytest.mark.parametrize(
    ("value", "name", "text"),
    [
        (48842.0, "rows", "48,842"),
        (32220.5, "", "32,220.5"),
        (0.01234, "", "0.0123"),
        (0.01234, "missing_share", "1.2%"),
        (0.5, "missing_share", "50.0%"),
        (0.0, "status_level", "OK"),
        (1.0, "status_level", "WARN"),
        (2.0, "status_level", "ALERT"),
        (1.0, "promoted", "yes"),
        (0.0, "promoted", "no"),
        (0.5, "promoted", "0.5"),
        (1.0, "awaiting_signoff", "yes"),
        (0.0, "awaiting_signoff", "no"),
        (float("nan"), "max_psi", "–"),
        (float("inf"), "", "∞"),
    ],
)
def test_format_figure(value, name, text):
    assert elements.format_figure(value, name) == text


def test_key_figure_labels_name_the_figures_stages_log():
    labels = elements.key_figure_labels()
    assert labels["missing_share"] == "missing cells"
    assert labels["status_level"] == "monitoring status"
    assert labels["max_psi"] == "largest PSI"
    assert labels["rows_per_second"] == "rows per second"
    assert labels["awaiting_signoff"] == "awaiting sign-off"
    eda = ["rows", "columns", "missing_share", "duplicate_rows", "quality_findings"]
    card = ["checklist_pass", "checklist_fail", "checklist_missing", "promoted", "awaiting_signoff"]
    monitor = ["rows", "status_level", "max_psi"]
    for figure in [*eda, *gate_counts([]), *card, *monitor, "rows_per_second"]:
        assert figure in labels, figure
    assert all(isinstance(v, str) and v for v in labels.values())


@pytest.mark.parametrize(
    ("name", "folder"),
    [
        ("german-credit", "german-credit"),
        ("german credit/v2", "german-credit-v2"),
        ("  spaced  ", "spaced"),
        ("../../etc", "..-..-etc"),
        ("///", "experiment"),
    ],
)
def test_experiment_dir_is_a_safe_folder_inside_the_reports_folder(tmp_path, name, folder):
    path = elements.experiment_dir(tmp_path / "reports", name)
    assert path == tmp_path / "reports" / folder
    assert path.parent == tmp_path / "reports"


def test_stage_output_dir_is_the_runners_folder_when_given(tmp_path):
    folder = tmp_path / "run" / "pages"
    assert elements.stage_output_dir(str(folder), "0123456789abcdef") == folder
    assert folder.is_dir()


def test_stage_output_dir_of_a_notebook_on_its_own_is_interactive_in_the_project(
    project, monkeypatch
):
    monkeypatch.chdir(project / "notebooks")
    folder = elements.stage_output_dir("", "0123456789abcdef")
    assert folder == project / "reports" / "interactive" / "01234567"
    assert folder.is_dir()
