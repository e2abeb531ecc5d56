"""Sniffing how a CSV file is written: encoding, separator, decimal mark, missing-value codes."""

from __future__ import annotations

import pandas as pd
import pytest

from mlworkbench.analysis import csv_format


def write(tmp_path, text: str, encoding: str = "utf-8", name: str = "data.csv"):
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return path


@pytest.mark.parametrize(
    ("text", "encoding", "expected"),
    [
        ("naam,stad\nZoë,Utrecht\n", "utf-8", "utf-8"),
        ("naam,stad\nZoë,Utrecht\n", "utf-8-sig", "utf-8-sig"),
        ("naam,bedrag\nRené,€ 12\n", "cp1252", "cp1252"),  # the euro sign is 0x80 in cp1252
        ("naam,stad\nZoë,Genève\n", "latin-1", "latin-1"),
    ],
)
def test_the_encoding_is_the_one_the_file_reads_in(tmp_path, text, encoding, expected):
    path = write(tmp_path, text, encoding)
    assert csv_format.detect_encoding(path) == expected
    assert pd.read_csv(path, encoding=expected).iloc[0, 0] == text.split("\n")[1].split(",")[0]


def test_a_non_utf8_byte_far_into_a_large_file_is_found(tmp_path):
    text = "a,b\n" + "1,2\n" * 200_000 + "3,Genève\n"  # beyond the sample that is sniffed
    assert csv_format.detect_encoding(write(tmp_path, text, "latin-1")) == "latin-1"


@pytest.mark.parametrize("sep", [",", ";", "\t", "|"])
def test_every_separator_is_found(tmp_path, sep):
    rows = [["id", "name", "amount"], ["1", "Anna de Vries", "12"], ["2", "Bram", "7"]]
    path = write(tmp_path, "\n".join(sep.join(r) for r in rows) + "\n")
    lines = csv_format.sample_lines(path, "utf-8")
    assert csv_format.detect_separator(lines) == sep


def test_quoted_separators_do_not_mislead(tmp_path):
    text = 'id;name;note\n1;"Braund, Mr. Owen";"a, b, c"\n2;"Allen, Mr. William";x\n'
    assert csv_format.sniff_options(write(tmp_path, text)) == {"sep": ";"}


def test_decimal_commas_and_dots_as_thousands_are_found_with_a_semicolon(tmp_path):
    text = "bedrag;prijs;klasse\n1.234,5;3,25;ja\n12,0;1.000,75;nee\n7,5;2,5;ja\n"
    options = csv_format.sniff_options(write(tmp_path, text))
    assert options == {"sep": ";", "decimal": ",", "thousands": "."}
    frame = pd.read_csv(tmp_path / "data.csv", **options)
    assert frame["bedrag"].tolist() == [1234.5, 12.0, 7.5]
    assert frame["prijs"].tolist() == [3.25, 1000.75, 2.5]


def test_dot_decimals_with_a_semicolon_keep_the_default_decimal_mark(tmp_path):
    text = "a;b\n1.5;2.25\n3.0;4.5\n"
    assert csv_format.sniff_options(write(tmp_path, text)) == {"sep": ";"}


def test_spaces_after_the_separator_are_skipped(tmp_path):
    text = "age, workclass, income\n39, State-gov, <=50K\n50, Private, >50K\n"
    options = csv_format.sniff_options(write(tmp_path, text))
    assert options == {"skipinitialspace": True}
    assert pd.read_csv(tmp_path / "data.csv", **options)["workclass"].tolist() == [
        "State-gov",
        "Private",
    ]


def test_missing_value_codes_pandas_does_not_know_are_found():
    frame = pd.DataFrame(
        {"work": ["Private", "?", "State-gov"], "hours": ["40", " - ", "38"], "n": [1, 2, 3]}
    )
    assert csv_format.missing_codes(frame) == ["?", "-"]
    assert csv_format.missing_codes(pd.DataFrame({"a": ["x", "unknown"]})) == []


def test_options_are_written_as_the_config_line():
    text = csv_format.options_text({"sep": ";", "encoding": "latin-1", "na_values": ["?"]})
    assert text == 'csv: {sep: ";", encoding: "latin-1", na_values: ["?"]}'


def test_a_table_read_as_one_column_names_its_separator():
    assert csv_format.one_column_separator(pd.DataFrame({"a;b;c": [1]})) == ";"
    assert csv_format.one_column_separator(pd.DataFrame({"a\tb": [1]})) == "\t"
    assert csv_format.one_column_separator(pd.DataFrame({"a": [1], "b;c": [2]})) == ""
