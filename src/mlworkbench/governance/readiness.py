"""Production readiness of a model version: its load-test figures against the config's
thresholds, as sentences of the model card."""

from __future__ import annotations

from mlworkbench.tracking.tags import TAG_LOADTEST_PREFIX


def readiness(tags: dict[str, str], thresholds: dict[str, float]) -> list[str]:
    """The production-readiness sentences of a model card: the version's load-test figures
    against the config's thresholds (latencies are maxima, rows per second a minimum)."""
    if f"{TAG_LOADTEST_PREFIX}p95_ms" not in tags:
        return ["Not load-tested yet: run `mlwb loadtest models:/NAME/VERSION`."]

    def figure(key: str) -> str:
        return tags.get(TAG_LOADTEST_PREFIX + key, "?")

    sentences = [
        f"Load test of {figure('at')} ({figure('setup')}): single-row latency p50 "
        f"{figure('p50_ms')} ms, p95 {figure('p95_ms')} ms, p99 {figure('p99_ms')} ms; "
        f"{figure('rows_per_second')} rows per second over HTTP, "
        f"{figure('in_process_rows_per_second')} in process."
    ]
    for key, limit in thresholds.items():
        value = float(tags.get(TAG_LOADTEST_PREFIX + key, "nan"))
        ok = value >= limit if key == "rows_per_second" else value <= limit
        rule = ">=" if key == "rows_per_second" else "<="
        sentences.append(f"{key} {value:g} {rule} {limit:g} required: {'PASS' if ok else 'FAIL'}.")
    return sentences
