"""Notes on this run: warnings collected in plain words, without the machine's paths."""

from __future__ import annotations

import logging
import warnings

import numpy as np
import pytest
from pandas.errors import PerformanceWarning
from sklearn.exceptions import ConvergenceWarning, UndefinedMetricWarning

from mlworkbench.reports import elements, notes


@pytest.fixture
def collector(monkeypatch):
    """`notes.install()` in this process, undone after the test."""
    logger = logging.getLogger("py.warnings")
    monkeypatch.setattr(warnings, "showwarning", warnings.showwarning)
    monkeypatch.setattr(logger, "handlers", list(logger.handlers))
    monkeypatch.setattr(logger, "propagate", logger.propagate)
    notes.install()
    yield
    notes.clear()


def test_paths_module_files_and_line_numbers_are_stripped():
    assert notes.strip_paths("could not read /data/in/credit.csv now") == (
        "could not read credit.csv now"
    )
    assert notes.strip_paths("from /usr/lib/python3/site-packages/sklearn/_logistic.py:469") == (
        "from"
    )
    assert notes.strip_paths(r"open C:\Users\bob\batch.parquet") == "open batch.parquet"
    assert (
        notes.strip_paths("file '/home/Jo Smith/my data.csv' is old") == "file 'my data.csv' is old"
    )
    assert notes.strip_paths("in _logistic.py:12 and/or 0.5") == "in and/or 0.5"
    url = "see https://scikit-learn.org/stable/modules/preprocessing.html"
    assert notes.strip_paths(url) == url


@pytest.mark.parametrize(
    ("category", "message", "expected"),
    [
        (ConvergenceWarning, "lbfgs failed to converge after 1 iteration(s)", "solver stopped"),
        (UndefinedMetricWarning, "Precision is ill-defined and being set to 0.0", "set to 0"),
        (PerformanceWarning, "DataFrame is highly fragmented.", "results are not affected"),
        (FutureWarning, "The default of observed=False is deprecated", "no effect on results"),
        (RuntimeWarning, "divide by zero encountered in log", "divided by zero"),
        (RuntimeWarning, "invalid value encountered in divide", "no defined result"),
    ],
)
def test_common_warnings_read_in_plain_words(category, message, expected):
    sentence = notes.plain_sentence(category, message)
    assert expected in sentence
    assert message not in sentence and "Warning" not in sentence


def test_other_warnings_keep_their_first_sentence_and_category_without_paths():
    sentence = notes.plain_sentence(
        UserWarning, "Cache /srv/app/.cache/x.parquet is stale. Rebuilt from /data/raw.csv."
    )
    assert sentence == "Cache x.parquet is stale. (UserWarning)"
    assert notes.plain_sentence("UserWarning", "") == (
        "A warning of type UserWarning was raised without a message."
    )


def test_install_collects_real_warnings_counted_instead_of_printing(collector, capsys):
    from sklearn.datasets import load_iris
    from sklearn.linear_model import LogisticRegression

    features, target = load_iris(return_X_y=True)
    with warnings.catch_warnings():
        warnings.simplefilter("always")
        LogisticRegression(max_iter=1).fit(features, target)
        for _ in range(3):
            warnings.warn("Batch /srv/x/batch.csv has no dates.", UserWarning, stacklevel=1)
        np.log(np.zeros(1))
    assert notes.notes() == [
        notes.plain_sentence(ConvergenceWarning, ""),
        "Batch batch.csv has no dates. (UserWarning) (3 times)",
        notes.plain_sentence(RuntimeWarning, "divide by zero"),
    ]
    assert "Warning" not in capsys.readouterr().err


def test_warnings_routed_through_logging_become_notes(collector, capsys):
    logging.captureWarnings(True)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("always")
            warnings.warn("Model at /srv/models/m.pkl is old.", UserWarning, stacklevel=1)
    finally:
        logging.captureWarnings(False)
    assert notes.notes() == ["Model at m.pkl is old. (UserWarning)"]
    assert "/srv" not in capsys.readouterr().err


def test_notes_html_escapes_notes_and_says_when_there_are_none(collector):
    page = elements.notes_html()
    assert "Notes on this run" in page and notes.EMPTY in page and "<li>" not in page
    elements.add_note("Rows <b>dropped</b> from /srv/data/x.csv.")
    elements.add_note("Rows <b>dropped</b> from /srv/data/x.csv.")
    page = elements.notes_html()
    assert "<li>Rows &lt;b&gt;dropped&lt;/b&gt; from x.csv. (2 times)</li>" in page
    assert "/srv" not in page and notes.EMPTY not in page
