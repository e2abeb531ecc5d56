"""Run every benchmark (`make bench`); results go to bench/results/ as markdown and JSON."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import bench_drift
import bench_eda
import bench_evaluate
import bench_explain
import bench_pipeline
import bench_production
import bench_scale
import bench_sweep
import bench_team
import bench_train

BENCHMARKS = {
    "eda": bench_eda.run,
    "train": bench_train.run,
    "explain": bench_explain.run,
    "production": bench_production.run,
    "drift": bench_drift.run,
    "evaluate": bench_evaluate.run,
    "scale": bench_scale.run,
    "pipeline": bench_pipeline.run,
    "demo": bench_pipeline.run_demo,
    "sweep": bench_sweep.run,
    "team": bench_team.run,
}


README = Path(__file__).resolve().parent / "README.md"
START, END = "<!-- results: written by bench/run.py -->", "<!-- /results -->"


def update_readme() -> None:
    """Put the latest table of every benchmark into bench/README.md, between the markers."""
    results = Path(__file__).resolve().parent / "results"
    tables = []
    for name in BENCHMARKS:
        path = results / f"{name}.md"
        if path.is_file():
            table = path.read_text(encoding="utf-8")
            tables.append("### " + table[2:] if table.startswith("# ") else table)
    text = README.read_text(encoding="utf-8")
    head, rest = text.split(START, 1)
    tail = rest.split(END, 1)[1]
    README.write_text(f"{head}{START}\n\n" + "\n".join(tables) + f"\n{END}{tail}", "utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "names",
        nargs="*",
        choices=[[], *BENCHMARKS],
        default=[],
        help="benchmarks to run (default: all)",
    )
    parser.add_argument(
        "--repeats",
        type=int,
        default=None,
        help="repeats per side (default: each benchmark's own, 3 to 5)",
    )
    args = parser.parse_args()
    for name in args.names or BENCHMARKS:
        print(f"Benchmark '{name}':", flush=True)
        options = {"repeats": args.repeats} if args.repeats else {}
        print(BENCHMARKS[name](**options))
    update_readme()
    print(f"Latest tables: {README}")


if __name__ == "__main__":
    main()
