"""Run every benchmark (`make bench`); results go to bench/results/ as markdown and JSON."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import bench_drift
import bench_eda
import bench_explain
import bench_production
import bench_train

BENCHMARKS = {
    "eda": bench_eda.run,
    "train": bench_train.run,
    "explain": bench_explain.run,
    "production": bench_production.run,
    "drift": bench_drift.run,
}


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


if __name__ == "__main__":
    main()
