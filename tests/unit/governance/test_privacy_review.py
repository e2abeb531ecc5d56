"""The card's privacy review on real frames and texts: the search for personal values in what
the pipeline published (as is, HTML-escaped, JSON-escaped), and the review's record, detail and
sentences, which name columns and sources but never a value."""

from __future__ import annotations

import json

import pandas as pd

from mlworkbench.governance import privacy
from mlworkbench.governance.privacy import Finding, PersonalData, published_values

EMAIL = "user7@example.org"
NAME = "Seán O'Brien"
UMLAUT = "Zoë Müller"
QUOTED = 'He said "no" at 5/6'


def test_the_scan_finds_values_written_as_is_html_escaped_or_json_escaped():
    texts = [
        ("params of train run", f"owner=Risk team\nreviewer={EMAIL}"),
        ("eda run report/01-eda.html", "<td>Se\u00e1n O&#x27;Brien</td><td>0.5</td>"),
        ("train run report/02-train.html", "<li>Se\u00e1n O&#39;Brien</li>"),
        ("eda run eda/sample.json", json.dumps({"rows": [{"name": UMLAUT}]})),
        ("explain run notebook.ipynb", json.dumps({"text": ["x\n" + EMAIL + "\n"]})),
        ("explain run tables/rows.json", pd.DataFrame({"q": [QUOTED]}).to_json()),
        ("train run report/clean.html", "<td>anon-3f2a9c1b7e</td><td>Ana</td>"),
    ]
    assert published_values(texts, [EMAIL, NAME, UMLAUT, QUOTED, "CR-2019-004512"]) == [
        ("params of train run", EMAIL),
        ("eda run report/01-eda.html", NAME),
        ("train run report/02-train.html", NAME),
        ("eda run eda/sample.json", UMLAUT),
        ("explain run notebook.ipynb", EMAIL),
        ("explain run tables/rows.json", QUOTED),
    ]


def test_the_scan_ignores_absent_values_and_values_inside_longer_words():
    texts = [("page", f"<td>x{EMAIL}</td><td>Seán</td><td>O'Brien-Smith Jr</td>")]
    assert published_values(texts, [EMAIL, "CR-2019-004512"]) == []
    assert published_values(texts, []) == []
    assert published_values([], [EMAIL]) == []
    assert published_values([("a", "Ana Silva and Ana Silva"), ("b", "Ana Silva")], ["Ana Silva"]) \
        == [("a", "Ana Silva"), ("b", "Ana Silva")]  # fmt: skip


def test_written_forms_cover_html_and_json_escaping():
    forms = privacy.written_forms(QUOTED)
    assert {
        QUOTED,
        "He said &quot;no&quot; at 5/6",
        "He said &#34;no&#34; at 5/6",
        'He said \\"no\\" at 5/6',
        'He said \\"no\\" at 5\\/6',
    } <= forms
    assert privacy.written_forms("plain-value") == {"plain-value"}


def customers() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "email": [EMAIL, "ana@example.org", "li@example.org", None],
            "customer_no": [1001, 1002, 1003, 1004],
            "age": [31, 45, 52, 28],
            "risk": [0, 1, 0, 1],
        }
    )


PERSONAL = PersonalData(
    [
        Finding("email", "e-mail address", "column name 'email'"),
        Finding("customer_no", "named in the config", "privacy.personal_columns"),
    ],
    ["age"],
)
SETTINGS = {"personal_columns": ["customer_no"], "not_personal": ["age"]}
CLEAN = [
    ("params of train run", "model=linear"),
    ("train run report/02-train.html", "<td>anon-3f2a9c1b7e</td><td>1001</td>"),
]


def review(texts, features=()):
    return privacy.review(
        PERSONAL, SETTINGS, True, list(features), customers(), texts, ["eda", "train", "explain"]
    )


def test_a_review_passes_when_personal_columns_exist_but_none_of_their_values_is_published():
    passed = review(CLEAN)
    assert passed.passed
    assert (passed.scan.values, passed.scan.texts, passed.scan.published) == (3, 2, {})
    assert passed.detail() == (
        "personal columns: email, customer_no; none of their 3 distinct values appears in the 2 "
        "artifacts, params and tags of the eda, train and explain runs"
    )
    assert passed.sentences() == [
        "2 column(s) hold personal data, as the training run recorded them (privacy/columns.json):",
        "email: e-mail address (column name 'email').",
        "customer_no: named in the config (privacy.personal_columns).",
        "Treatment: dropped from the features, masked in reports (their values appear only as "
        "pseudonyms).",
        "Named personal in the config (privacy.personal_columns): customer_no.",
        "Declared not personal in the config (privacy.not_personal), so treated as any other "
        "column: age, overriding the check's finding for age.",
        "Published values: none of their 3 distinct values appears in the 2 artifacts, params "
        "and tags of the eda, train and explain runs.",
    ]


def test_a_review_fails_naming_the_column_and_the_source_but_never_the_value():
    leaked = [*CLEAN, ("explain run tables/rows.json", json.dumps({"who": EMAIL}))]
    failed = review(leaked)
    assert not failed.passed
    assert failed.scan.published == {"email": ["explain run tables/rows.json"]}
    assert failed.detail() == (
        "personal columns: email, customer_no; values of email published in: explain run "
        "tables/rows.json"
    )
    assert failed.sentences()[-1] == (
        "Published values: values of personal columns appear: email in explain run "
        "tables/rows.json."
    )
    record = failed.as_dict()
    assert record["scan"] == {
        "values_searched": 3, "texts_searched": 3, "runs": ["eda", "train", "explain"],
        "published": {"email": ["explain run tables/rows.json"]},
    }  # fmt: skip
    assert (record["treatment"], record["passed"]) == (privacy.TREATMENT, False)
    assert record["config"] == SETTINGS and record["not_personal"] == ["age"]
    assert record["personal_columns"][0] == {
        "column": "email", "kind": "e-mail address", "evidence": "column name 'email'"
    }  # fmt: skip
    published = [json.dumps(record), failed.detail(), *failed.sentences()]
    assert not any(value in text for value in customers()["email"].dropna() for text in published)


def test_a_review_fails_when_a_personal_column_is_a_model_feature():
    used = review(CLEAN, features=["age", "email"])
    assert not used.passed and used.features == ["email"]
    assert used.detail().startswith("personal columns: email, customer_no; used as model features")
    assert used.sentences()[3] == (
        "Treatment: masked in reports, but used as model features: email, so their values may "
        "be inside the model."
    )


def test_without_personal_columns_nothing_is_read_and_the_review_passes():
    def unread():
        raise AssertionError("no text should be read")
        yield

    none = privacy.review(PersonalData([]), {}, False, ["age"], customers(), unread(), ["train"])
    assert none.passed and none.scan == privacy.Scan(0, 0, ["train"], {})
    assert none.detail() == "no column looks like personal data by name or content"
    assert none.sentences() == [
        "No column looks like personal data by name or content.",
        "The config overrides nothing (no privacy.personal_columns or privacy.not_personal).",
    ]
    numeric = PersonalData([Finding("customer_no", "named in the config", "x")])
    only_numbers = privacy.review(numeric, {}, False, [], customers(), unread(), ["train"])
    assert only_numbers.passed
    assert only_numbers.detail() == (
        "personal columns: customer_no; no value to search for (numbers or shorter than six "
        "characters)"
    )
    assert only_numbers.sentences()[0] == (
        "1 column(s) hold personal data, as the card's check of the data finds them (the "
        "training run recorded none):"
    )
