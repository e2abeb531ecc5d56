"""Train stage through `mlwb run` against the same fit and evaluation in one plain process.

Datasets: ../shared/data/adult.csv (48,842 x 16, target income) and
default_credit_card_clients_taiwan.csv (30,000 x 24, target "default payment"); the train
stage's defaults (xgboost, 300 trees). Both sides run as fresh processes, alternately; the
table reports median wall time and the largest peak memory of the process tree.
Target: the runner adds less than 30% on top of the plain computation.

Guardrails: the column screening and the single-feature leakage check, timed in process on
the same data and split, must add less than 10% to the train stage (`mlwb run` median of the
same run).
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from pathlib import Path

from common import (
    REPO,
    alternate,
    bench_project,
    comparison_rows,
    data_dir,
    fixed_cost_note,
    mlwb_run,
    write_results,
)

CONFIG = """\
experiment: bench-train-{name}
data:
  source: {source}
  target: "{target}"
  task: classification
  csv: {{na_values: ["?"]}}
stages:
  train: {{registered_model: bench-{name}}}
"""

DATASETS = {
    "adult": ("adult.csv", "income"),
    "taiwan": ("default_credit_card_clients_taiwan.csv", "default payment"),
}


def guardrail_seconds(source: Path, target: str, repeats: int) -> list[float]:
    """Wall seconds of the column screening and the leakage check on the training rows."""
    from mlworkbench.analysis import data, leakage, screening, splits, training

    frame = data.load_dataset(str(source), target, "classification", [], {"na_values": ["?"]})
    split = splits.split_data(frame, target, "classification")
    y, _ = training.encode_target(split.train[target], "classification")
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        screened = screening.screen_columns(frame, target)
        view = screening.ColumnScreen(screened).transform(split.train.drop(columns=[target]))
        leakage.single_feature_check(view, y, "classification")
        times.append(time.perf_counter() - start)
    return times


TRAIN_TARGET = {"adult": 1.6}
"""The train stage's ratio to the plain fit that warm kernels aim at."""


def run(repeats: int = 3) -> str:
    """Run the benchmark and return its markdown table."""
    folder = data_dir()
    rows, notes = [], []
    with tempfile.TemporaryDirectory(prefix="mlwb-bench-") as tmp:
        root = bench_project(Path(tmp))
        for name, (file, target) in DATASETS.items():
            source = folder / file
            config = root / "papermill_configs" / f"{name}.yaml"
            config.write_text(CONFIG.format(name=name, source=source, target=target), "utf-8")
            plain_cmd = [
                sys.executable,
                str(REPO / "bench" / "plain_train.py"),
                str(source),
                target,
            ]
            plain, runner = alternate(name, plain_cmd, mlwb_run(config, root), root, repeats)
            pair, ratio = comparison_rows(plain, runner, dataset=name)
            rows += pair
            guard = guardrail_seconds(source, target, repeats)
            stage = statistics.median(m.seconds for m in runner)
            rows.append(
                {
                    "dataset": name,
                    "what": "of which screening + leakage check (in process)",
                    "median wall s": f"{statistics.median(guard):.2f}",
                    "runs s": ", ".join(f"{g:.2f}" for g in guard),
                    "peak memory MB": "-",
                    "ratio": f"{statistics.median(guard) / stage:.3f} of the stage",
                }
            )
            notes.append(
                f"{name}: screening + leakage check {statistics.median(guard) / stage:.1%} of "
                f"the train stage (target < 10%: "
                f"{'met' if statistics.median(guard) < 0.1 * stage else 'NOT met'})."
            )
            target = TRAIN_TARGET.get(name)
            notes.append(
                f"{name}: `mlwb run --stage train` / plain = {ratio:.2f}"
                + (
                    f" (target <= {target}: {'met' if ratio <= target else 'NOT met'})."
                    if target
                    else "."
                )
            )
            notes.append(fixed_cost_note(name, plain, runner))
    notes.insert(
        0,
        f"Train stage defaults (xgboost, 300 trees, depth 4); {repeats} alternating "
        "repeats; the runner side also logs the model, datasets and reference "
        "statistics and registers a version.",
    )
    return write_results("train", "Train stage: mlwb run vs plain computation", rows, notes)
