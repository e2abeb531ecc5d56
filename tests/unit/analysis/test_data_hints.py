"""Loading errors that say how to fix them: the CSV options that read the file."""

from __future__ import annotations

import pandas as pd
import pytest

from mlworkbench.analysis import data
from mlworkbench.exceptions import TargetMissingError, UnreadableDataError

FRAME = pd.DataFrame(
    {
        "naam": ["Jürgen", "Zoë", "René", "Anaïs"],
        "bedrag": [1.5, 2.25, 3.0, 4.75],
        "klasse": ["ja", "nee", "ja", "nee"],
    }
)


def test_a_latin1_file_names_the_encoding_and_the_other_options_that_read_it(tmp_path):
    path = tmp_path / "klanten.csv"
    FRAME.to_csv(path, sep=";", decimal=",", index=False, encoding="latin-1")
    with pytest.raises(UnreadableDataError) as error:
        data.load_dataset(str(path), "klasse")
    assert str(error.value) == (
        f"Data file '{path}' is not UTF-8; it reads as latin-1: add "
        '`csv: {sep: ";", encoding: "latin-1", decimal: ","}` to the data section.'
    )
    options = {"sep": ";", "encoding": "latin-1", "decimal": ","}
    pd.testing.assert_frame_equal(
        data.load_dataset(str(path), "klasse", csv_options=options), FRAME
    )


def test_a_wrong_encoding_given_is_named(tmp_path):
    path = tmp_path / "euro.csv"
    path.write_bytes("prijs,klasse\n€ 5,ja\n€ 7,nee\n".encode("cp1252"))
    with pytest.raises(UnreadableDataError, match="is not ascii; it reads as cp1252") as error:
        data.read_source(str(path), {"encoding": "ascii"})
    assert 'csv: {encoding: "cp1252"}' in str(error.value)


@pytest.mark.parametrize(("sep", "shown"), [(";", '";"'), ("\t", '"\\t"'), ("|", '"|"')])
def test_a_file_read_as_one_column_names_its_separator(tmp_path, sep, shown):
    path = tmp_path / "data.csv"
    FRAME.to_csv(path, sep=sep, index=False)
    with pytest.raises(UnreadableDataError) as error:
        data.load_dataset(str(path), "klasse")
    message = str(error.value)
    assert f"reads as a single column named 'naam{sep}bedrag{sep}klasse'" in message
    assert f"`csv: {{sep: {shown}}}` to the data section" in message
    assert data.read_source(str(path), {"sep": sep}).shape == (4, 3)


def test_the_decimal_comma_comes_with_the_separator(tmp_path):
    path = tmp_path / "data.csv"
    FRAME.to_csv(path, sep=";", decimal=",", index=False)
    with pytest.raises(UnreadableDataError, match='csv: \\{sep: ";", decimal: ","\\}'):
        data.read_source(str(path))


def test_a_missing_target_in_a_table_of_one_column_says_why():
    frame = pd.DataFrame({"naam;bedrag;klasse": ["Zoë;1,5;ja"]})
    with pytest.raises(TargetMissingError) as error:
        data.check_dataset(frame, "klasse", source="'data.csv'")
    assert str(error.value) == (
        "Target column 'klasse' is not in 'data.csv'. It reads as a single column named "
        "'naam;bedrag;klasse': its separator is probably ';'; add `csv: {sep: \";\"}` to the "
        "data section."
    )


def test_a_missing_target_elsewhere_still_lists_the_columns():
    with pytest.raises(TargetMissingError, match="Columns: naam, bedrag, klasse."):
        data.check_dataset(FRAME, "nope")
