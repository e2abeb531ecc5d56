"""Messy tables built by the tests: what real data looks like before anyone cleaned it.

`messy_frame` holds, in one table, every kind of column the guardrails must survive; the
variants (`yes_no_target`, `rare_class`, `leaky`) change the target or add a leak. Values are
random but seeded, so every test sees the same table.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

FIRST = ["Anna", "Bram", "Chloé", "Daan", "Emma", "Finn", "Grace", "Hugo", "Iris", "Jasper"]
LAST = ["de Vries", "Jansen", "Bakker", "Visser", "Smit", "Meijer", "Mulder", "Bos"]
WORDS = ["late", "payment", "moved", "called", "branch", "online", "letter", "review", "ok"]


def messy_frame(rows: int = 600, seed: int = 7) -> pd.DataFrame:
    """A table with an id, names, free text, dates and numbers as text, empty, constant,
    mixed and boolean columns, awkward column names and infinite values; target `outcome`
    ('yes' / 'no', driven by income, age and the region)."""
    rng = np.random.default_rng(seed)
    age = rng.integers(18, 80, rows)
    income = rng.gamma(2.0, 15000, rows).round(0)
    region = rng.choice(["Noord", "Oost", "Zuid", "West"], rows)
    signal = (income - 30000) / 15000 + (age - 45) / 20 + (region == "Zuid") * 0.8
    outcome = np.where(signal + rng.normal(0, 1, rows) > 0, "yes", "no")
    dates = pd.Timestamp("2019-01-01") + pd.to_timedelta(rng.integers(0, 1500, rows), unit="D")
    mixed = rng.integers(0, 100, rows).astype(object)
    mixed[rng.random(rows) < 0.3] = "unknown"
    ratio = rng.normal(1.0, 0.3, rows)
    ratio[rng.choice(rows, 5, replace=False)] = np.inf
    frame = pd.DataFrame(
        {
            "customer_id": np.arange(100001, 100001 + rows),
            "Name": [f"{rng.choice(FIRST)} {rng.choice(LAST)} {i}" for i in range(rows)],
            "notes": [" ".join(rng.choice(WORDS, 6)) + f" #{i}" for i in range(rows)],
            "signup date": dates.strftime("%Y-%m-%d"),
            "income (€)": [f"{v:,.0f}" for v in income],
            "discount": [f"{v}%" for v in rng.integers(0, 30, rows)],
            "age": age,
            "région": region,
            "empty": np.full(rows, np.nan),
            "country": "NL",
            "mixed": mixed,
            "is_member": rng.random(rows) < 0.4,
            "<script>alert(1)</script>": rng.normal(0, 1, rows),
            "ratio": ratio,
            "outcome": outcome,
        }
    )
    return frame


def leaky_frame(rows: int = 600, seed: int = 7) -> pd.DataFrame:
    """`messy_frame` with a column recorded after the outcome: it copies the target."""
    frame = messy_frame(rows, seed)
    frame.insert(3, "closing_status", frame["outcome"].map({"yes": "paid", "no": "defaulted"}))
    return frame


def rare_class_frame(rows: int = 2000, seed: int = 7) -> pd.DataFrame:
    """`messy_frame` whose target has a 1% minority class."""
    frame = messy_frame(rows, seed)
    rare = np.random.default_rng(seed).choice(rows, rows // 100, replace=False)
    frame["outcome"] = "no"
    frame.loc[rare, "outcome"] = "yes"
    return frame


def with_personal_data(frame: pd.DataFrame, seed: int = 7) -> pd.DataFrame:
    """`frame` with the personal data real tables carry: e-mail addresses, phone numbers,
    IBANs, dates of birth, a free-text case reference, and a nickname that only the config's
    `privacy.personal_columns` can name (nothing in its name or values says what it is)."""
    rng = np.random.default_rng(seed + 1)
    rows = len(frame)
    first = rng.choice(FIRST, rows)
    born = pd.Timestamp("1950-01-01") + pd.to_timedelta(rng.integers(0, 18000, rows), unit="D")
    personal = pd.DataFrame(
        {
            "email": [f"{f.lower()}.{i}@mail-example.org" for i, f in enumerate(first)],
            "phone": [f"+31 6 {rng.integers(1000, 9999)} {i:04d}" for i in range(rows)],
            "iban": [f"NL{rng.integers(10, 99)}ABNA{rng.integers(10**9, 10**10)}" for _ in first],
            "date_of_birth": born.strftime("%d/%m/%Y"),
            "case_ref": [f"CR-{rng.integers(2015, 2024)}-{i:06d}" for i in range(rows)],
            "nickname": [f"{f}{rng.choice(['ster', 'ie', 'o'])}{i}" for i, f in enumerate(first)],
        },
        index=frame.index,
    )
    return pd.concat([frame, personal], axis=1)


def write_duplicate_headers(
    path: Path, rows: int = 300, seed: int = 7, personal: bool = False
) -> Path:
    """`messy_frame` as CSV with two columns under one header name (pandas renames one);
    with `personal`, the columns of `with_personal_data` too."""
    frame = messy_frame(rows, seed)
    frame = with_personal_data(frame, seed) if personal else frame
    text = frame.to_csv(index=False).splitlines()
    header = text[0].split(",")
    header[header.index("ratio")] = "discount"
    path.write_text("\n".join([",".join(header), *text[1:]]) + "\n", encoding="utf-8")
    return path
