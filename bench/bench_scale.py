"""The one-million-row run: eda, train and explain through `mlwb run` on a large table.

Dataset: ../shared/data/adult.csv (48,842 x 16, target income, sensitive features sex, race
and age) resampled with replacement to ROWS rows (fixed seed), with small gaussian jitter on
age, hours-per-week and fnlwgt (rounded, kept within the column's range); the other columns
are copied as they are. The table is written as Parquet into a temporary project. Each stage
runs with its default sampling parameters as one `mlwb run CONFIG --stage <name>` process,
in pipeline order; the table reports wall time, the peak memory of the whole process tree
(kernel included), the size of every HTML report and the sentence in which it states its
sampling.
Targets: every stage finishes, peak memory stays well within the machine's memory, every HTML
report is under 10 MB and states the sampling it used.
"""

from __future__ import annotations

import html
import re
import statistics
import tempfile
from pathlib import Path

from common import Measurement, bench_project, data_dir, measure, mlwb_run, write_results

ROWS = 1_000_000
SEED = 42
STAGES = ("eda", "train", "explain")
REPORT_LIMIT_MB = 10.0
JITTER = {"age": 1.0, "hours-per-week": 1.0, "fnlwgt": 0.02}
"""Gaussian noise per numeric column: a standard deviation in the column's units, or for
fnlwgt (a survey weight in the hundreds of thousands) a share of its standard deviation."""

EXPERIMENT = "bench-scale-adult"
CONFIG = f"""\
experiment: {EXPERIMENT}
data:
  source: {{source}}
  target: income
  task: classification
  sensitive_features: [sex, race, age]
stages:
  eda: {{{{}}}}
  train: {{{{registered_model: {EXPERIMENT}}}}}
  explain: {{{{}}}}
"""

SAMPLING = {
    "01-eda.html": [r"The profiling report covers [^.]*\."],
    "01-eda-profile.html": [r"The profiling report covers [^.]*\."],
    "02-train.html": [r"[\d,]+ training rows, [\d,]+ test rows\."],
    "03-explain.html": [
        r"SHAP values for [^.]*\.",
        r"PDP/ICE averaged over [^;]*;[^.]*\.",
        r"Fairness and error cohorts on [^.]*\.",
    ],
}
"""Per report: the sentences that state its sampling (all must be present)."""


def make_table(rows: int, path: Path, seed: int = SEED) -> None:
    """adult.csv resampled with replacement to `rows` rows, numeric columns jittered."""
    import numpy as np
    import pandas as pd

    source = pd.read_csv(data_dir() / "adult.csv", na_values=["?"])
    rng = np.random.default_rng(seed)
    table = source.iloc[rng.integers(0, len(source), rows)].reset_index(drop=True)
    for column, scale in JITTER.items():
        values = source[column]
        sd = scale * values.std() if column == "fnlwgt" else scale
        noisy = table[column] + rng.normal(0.0, sd, rows)
        table[column] = noisy.round().clip(values.min(), values.max()).astype(values.dtype)
    table.to_parquet(path, index=False)


def _text(page: str) -> str:
    """The visible text of an HTML page, roughly: tags and embedded data removed."""
    page = re.sub(r"(?is)<(script|style)\b.*?</\1>", " ", page)
    page = re.sub(r"(?s)<[^>]+>", " ", page)
    return re.sub(r"\s+", " ", html.unescape(page))


def sampling_statement(report: Path) -> str:
    """`yes: <sentences>` when the report states its sampling, else `NO`."""
    text = _text(report.read_text(encoding="utf-8", errors="replace"))
    found = [re.search(p, text) for p in SAMPLING.get(report.name, [])]
    if not found or not all(found):
        return "NO"
    return "yes: " + " ".join(f'"{m.group(0).strip()}"' for m in found if m)


def _reports(root: Path) -> set[Path]:
    return set((root / "reports").rglob("*.html"))


def _stage_once(config: Path, root: Path, stage: str) -> tuple[Measurement, list[Path]]:
    """Run one stage as its own process; return its measurement and the reports it wrote."""
    before = _reports(root)
    measured = measure(stage, [*mlwb_run(config, root), "--stage", stage], root)
    written = sorted(p for p in _reports(root) - before if p.name in SAMPLING)
    return measured, written


def run(repeats: int = 1, rows: int = ROWS) -> str:
    """Run the benchmark and return its markdown table."""
    runs: dict[str, list[Measurement]] = {s: [] for s in STAGES}
    reports: dict[str, list[Path]] = {}
    table: list[dict] = []
    with tempfile.TemporaryDirectory(prefix="mlwb-bench-") as tmp:
        root = bench_project(Path(tmp))
        source = root / f"adult-{rows}.parquet"
        print(f"  writing the {rows:,}-row table", flush=True)
        make_table(rows, source)
        config = root / "papermill_configs" / "scale.yaml"
        config.write_text(CONFIG.format(source=source), encoding="utf-8")
        failed = False
        for i in range(repeats):
            for stage in STAGES:
                print(f"  {stage} repeat {i + 1}/{repeats}", flush=True)
                measured, written = _stage_once(config, root, stage)
                runs[stage].append(measured)
                reports[stage] = written
                failed = measured.returncode != 0
                if failed:
                    break
            if failed:
                break
        for stage in STAGES:
            done = runs[stage]
            finished = bool(done) and all(m.returncode == 0 for m in done)
            seconds = statistics.median(m.seconds for m in done) if done else float("nan")
            for report in reports.get(stage) or [None]:
                size = report.stat().st_size / 2**20 if report else float("nan")
                table.append(
                    {
                        "stage": stage,
                        "finished": "yes" if finished else "NO",
                        "wall s": f"{seconds:.1f}",
                        "runs s": ", ".join(f"{m.seconds:.1f}" for m in done),
                        "peak memory MB": f"{max((m.peak_mb for m in done), default=0):.0f}",
                        "report": report.name if report else "(none)",
                        "report MB": f"{size:.2f}",
                        "< 10 MB": "yes" if size < REPORT_LIMIT_MB else "NO",
                        "sampling stated": sampling_statement(report) if report else "NO",
                    }
                )
    if repeats == 1:
        for row in table:
            del row["runs s"]
    notes = [
        f"Data: adult.csv resampled with replacement to {rows:,} rows x 16 columns (seed "
        f"{SEED}), gaussian jitter on age and hours-per-week (sd 1, rounded, clipped to the "
        "column's range) and fnlwgt (sd 2% of its standard deviation); categorical columns, "
        "education-num and the capital columns copied as they are; written as Parquet.",
        "Each stage is one `mlwb run CONFIG --stage <name> --no-progress --force` process, in "
        "pipeline order (eda, train, explain), with the stages' default sampling parameters "
        "(eda: profile_sample_rows=100000, profile_minimal_above_cells=1000000; train: all "
        "rows, test_size=0.25; explain: explain_rows=2000, pdp_rows=1000, ice_lines=100). "
        + (
            f"{repeats} repeats: wall s is the median, peak memory the largest."
            if repeats > 1
            else "One run."
        ),
        "Peak memory is the summed RSS of the process tree (runner, Papermill and kernel), "
        "sampled every 50 ms. Report sizes are of the HTML files under ROOT/reports; the EDA "
        "stage writes two (the report and the profiling page).",
        "Sampling stated: the sentences found in the page's text that say which rows each "
        "part covers.",
    ]
    ok = all(r["finished"] == "yes" and r["< 10 MB"] == "yes" for r in table) and all(
        r["sampling stated"] != "NO" for r in table
    )
    notes.append(
        f"Targets (all finish, reports < 10 MB, sampling stated): {'met' if ok else 'NOT met'}."
    )
    return write_results("scale", f"{rows:,}-row run: eda, train, explain", table, notes)
