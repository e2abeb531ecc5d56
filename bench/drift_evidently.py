"""Evidently's data-drift verdicts for one benchmark batch (run in a separate environment
with Evidently installed: the project itself does not depend on it).

Usage: drift_evidently.py REFERENCE.parquet CURRENT.parquet VERDICTS.json. Uses the
`DataDriftPreset` with its defaults (on large data: normed Wasserstein distance for numbers,
Jensen-Shannon distance for categories, threshold 0.1).
"""

from __future__ import annotations

import json
import sys
import time

import pandas as pd


def main(reference: str, current: str, output: str) -> None:
    from evidently import Report
    from evidently.presets import DataDriftPreset

    ref, cur = pd.read_parquet(reference), pd.read_parquet(current)
    started = time.perf_counter()
    snapshot = Report([DataDriftPreset()]).run(current_data=cur, reference_data=ref)
    elapsed = time.perf_counter() - started
    verdicts, methods = {}, {}
    for metric in snapshot.dict()["metrics"]:
        config = metric["config"]
        if not config["type"].endswith("ValueDrift"):
            continue
        p_value = "p_value" in config["method"] or "test" in config["method"].lower()
        value, threshold = float(metric["value"]), float(config["threshold"])
        verdicts[config["column"]] = value < threshold if p_value else value >= threshold
        methods[config["column"]] = config["method"]
    with open(output, "w", encoding="utf-8") as handle:
        json.dump(
            {"drifted": verdicts, "methods": methods, "timings": {"report_s": elapsed}}, handle
        )


if __name__ == "__main__":
    main(*sys.argv[1:4])
