"""Drift on one million rows: the workbench's computation against Evidently's data-drift
report on the same reference and current data, in the same run.

Data: ../shared/data/adult.csv resampled to 1,000,000 rows with noise on the numbers, plus
five noise columns (20 features), for the reference and for two current batches: one drawn
the same way (unshifted) and one shifted (age + 10 years; 60% of occupations set to
Exec-managerial). Each side runs as a fresh process on the same Parquet files; the table
reports wall time and peak memory and the drifted features each found. Evidently is
installed into bench/.venv-evidently on first use (the project does not depend on it).
Target: faster than Evidently with the same per-feature verdicts.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
from common import REPO, data_dir, measure, write_results

ROWS = 1_000_000
EVIDENTLY_ENV = REPO / "bench" / ".venv-evidently"


def evidently_python() -> Path:
    """The Python of a separate environment with Evidently, created when missing."""
    python = EVIDENTLY_ENV / "bin" / "python"
    if not python.exists():
        print("  installing Evidently into bench/.venv-evidently (once)", flush=True)
        subprocess.run([sys.executable, "-m", "venv", str(EVIDENTLY_ENV)], check=True)
        subprocess.run(
            [str(python), "-m", "pip", "install", "--quiet", "evidently==0.7.23", "pandas<3",
             "pyarrow"],
            check=True,
        )  # fmt: skip
    return python


def resample(frame: pd.DataFrame, seed: int) -> pd.DataFrame:
    """`ROWS` rows drawn with replacement, noise on the numbers, five noise columns."""
    rng = np.random.default_rng(seed)
    rows = frame.sample(n=ROWS, replace=True, random_state=seed).reset_index(drop=True)
    for column in rows.select_dtypes("number"):
        rows[column] = rows[column] + rng.normal(0, 0.05 * rows[column].std(), ROWS)
    for i in range(5):
        rows[f"noise_{i}"] = rng.normal(size=ROWS)
    return rows


def shifted(frame: pd.DataFrame) -> pd.DataFrame:
    """The documented shift: age + 10 years, 60% of occupations set to Exec-managerial."""
    rows = frame.copy()
    rows["age"] = rows["age"] + 10
    chosen = np.random.default_rng(7).random(len(rows)) < 0.6
    rows.loc[chosen, "occupation"] = "Exec-managerial"
    return rows


def run(repeats: int = 1) -> str:
    """Run the benchmark and return its markdown table."""
    adult = pd.read_csv(data_dir() / "adult.csv", na_values=["?"]).drop(columns=["income"])
    python = evidently_python()
    rows, found = [], {}
    with tempfile.TemporaryDirectory(prefix="mlwb-bench-") as tmp:
        folder = Path(tmp)
        reference = resample(adult, 1)
        reference.to_parquet(folder / "reference.parquet")
        same = resample(adult, 2)
        same.to_parquet(folder / "same.parquet")
        shifted(same).to_parquet(folder / "shifted.parquet")
        sides = {
            "mlworkbench drift": [sys.executable, str(REPO / "bench" / "drift_ours.py")],
            "Evidently DataDriftPreset": [str(python), str(REPO / "bench" / "drift_evidently.py")],
        }
        for batch in ("same", "shifted"):
            for name, command in sides.items():
                print(f"  {name} on the {batch} batch", flush=True)
                output = folder / f"{name.split()[0]}-{batch}.json"
                args = [
                    str(folder / "reference.parquet"),
                    str(folder / f"{batch}.parquet"),
                    str(output),
                ]
                times = [measure(name, [*command, *args], folder) for _ in range(repeats)]
                if any(m.returncode for m in times):
                    raise SystemExit(f"bench: {name} failed on the {batch} batch")
                verdicts = json.loads(output.read_text())
                found[(name, batch)] = {f for f, drifted in verdicts["drifted"].items() if drifted}
                rows.append(
                    {
                        "batch": batch,
                        "what": name,
                        "wall s": f"{min(m.seconds for m in times):.1f}",
                        "drift computation s": f"{sum(verdicts['timings'].values()):.1f}",
                        "peak memory MB": f"{max(m.peak_mb for m in times):.0f}",
                        "drifted features": ", ".join(sorted(found[(name, batch)])) or "none",
                    }
                )
    notes = [
        f"{ROWS:,} rows, 20 features. Wall time: a fresh process reading the Parquet files; "
        "drift computation: inside it, for mlworkbench the reference statistics (which the "
        "train stage logs once) plus the comparison, for Evidently the report."
    ]
    for batch in ("same", "shifted"):
        ours, theirs = (
            found[("mlworkbench drift", batch)],
            found[("Evidently DataDriftPreset", batch)],
        )
        agree = (
            "the same verdicts"
            if ours == theirs
            else (
                f"different verdicts: only mlworkbench {sorted(ours - theirs)}, "
                f"only Evidently {sorted(theirs - ours)}"
            )
        )
        notes.append(f"{batch} batch: {agree}.")
    return write_results("drift", "Drift on 1M rows: mlworkbench against Evidently", rows, notes)
