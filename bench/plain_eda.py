"""The EDA stage's computation in one plain Python process: the benchmark's baseline.

Same data loading, quality checks, target chart and profiling page (fg-data-profiling) as
notebooks/01-eda.ipynb with its defaults, without Papermill, a kernel, MLflow or nbconvert.
"""

from __future__ import annotations

import io
import sys
from pathlib import Path

from mlworkbench.analysis import data, profile_page, profiling
from mlworkbench.reports import elements


def main(source: str, target: str, output: Path) -> None:
    """Compute everything the EDA report shows and write the profiling page to `output`."""
    elements.prepare_notebook()
    frame = data.load_dataset(source, target, "classification", [], {"na_values": ["?"]})
    result = profiling.analyse(frame, target, "classification", source)
    elements.table_html(result.quality, percent=["missing_share"])
    profiling.plot_target(frame, target, "classification").savefig(io.BytesIO(), format="png")
    plan = profile_page.plan_profile(frame, sample_rows=100_000, minimal_above_cells=1_000_000)
    output.write_text(profile_page.profile_html(frame, plan, f"Profile of {source}"), "utf-8")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], Path(sys.argv[3]))
