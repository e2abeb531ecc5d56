"""The workbench's drift verdicts for one benchmark batch (run in the project environment).

Usage: drift_ours.py REFERENCE.parquet CURRENT.parquet VERDICTS.json. Times the reference
statistics (what the train stage logs) and the comparison separately.
"""

from __future__ import annotations

import json
import sys
import time

import pandas as pd

from mlworkbench.analysis import training
from mlworkbench.production import drift


def main(reference: str, current: str, output: str) -> None:
    ref, cur = pd.read_parquet(reference), pd.read_parquet(current)
    started = time.perf_counter()
    statistics = training.reference_statistics(ref, target="")
    middle = time.perf_counter()
    table = drift.feature_table(statistics, cur, drift.Thresholds())
    ended = time.perf_counter()
    verdicts = {row.feature: row.status != "OK" for row in table.itertuples()}
    timings = {"reference_s": middle - started, "compare_s": ended - middle}
    with open(output, "w", encoding="utf-8") as handle:
        json.dump({"drifted": verdicts, "timings": timings}, handle)


if __name__ == "__main__":
    main(*sys.argv[1:4])
