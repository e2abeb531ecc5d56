"""Production readiness on the model card: the load-test figures of a version against the
config's thresholds (latencies are maxima, rows per second a minimum)."""

from __future__ import annotations

from mlworkbench.governance.readiness import readiness
from mlworkbench.tracking.tags import TAG_LOADTEST_PREFIX

FIGURES = {
    "p50_ms": "4.20",
    "p95_ms": "12.50",
    "p99_ms": "30.00",
    "rows_per_second": "5000.00",
    "in_process_rows_per_second": "90000.00",
    "at": "2026-03-01 09:30 UTC",
    "setup": "200 single-row requests, 10 requests of 1000 rows, one client thread, local server",
}


def loadtest_tags(**changes: str) -> dict[str, str]:
    figures = {**FIGURES, **changes}
    return {f"{TAG_LOADTEST_PREFIX}{key}": value for key, value in figures.items()}


def test_a_version_without_load_test_says_how_to_run_one():
    assert readiness({}, {"p95_ms": 50.0}) == [
        "Not load-tested yet: run `mlwb loadtest models:/NAME/VERSION`."
    ]
    other_tags = {"mlwb.decision": "promoted", f"{TAG_LOADTEST_PREFIX}p50_ms": "3.0"}
    assert readiness(other_tags, {})[0].startswith("Not load-tested yet"), "p95 is required"


def test_the_first_sentence_reports_every_figure():
    (sentence,) = readiness(loadtest_tags(), {})
    assert sentence == (
        "Load test of 2026-03-01 09:30 UTC (200 single-row requests, 10 requests of 1000 rows, "
        "one client thread, local server): single-row latency p50 4.20 ms, p95 12.50 ms, "
        "p99 30.00 ms; 5000.00 rows per second over HTTP, 90000.00 in process."
    )


def test_figures_missing_from_the_tags_read_as_a_question_mark():
    tags = {f"{TAG_LOADTEST_PREFIX}p95_ms": "12.50"}
    (sentence,) = readiness(tags, {})
    assert sentence.startswith("Load test of ? (?): single-row latency p50 ? ms, p95 12.50 ms")


def test_latencies_are_maxima():
    sentences = readiness(loadtest_tags(), {"p50_ms": 5.0, "p95_ms": 12.5, "p99_ms": 25.0})
    assert sentences[1:] == [
        "p50_ms 4.2 <= 5 required: PASS.",
        "p95_ms 12.5 <= 12.5 required: PASS.",  # the limit itself passes
        "p99_ms 30 <= 25 required: FAIL.",
    ]


def test_rows_per_second_is_a_minimum():
    assert readiness(loadtest_tags(), {"rows_per_second": 5000.0})[1:] == [
        "rows_per_second 5000 >= 5000 required: PASS."
    ]
    assert readiness(loadtest_tags(), {"rows_per_second": 6000.0})[1:] == [
        "rows_per_second 5000 >= 6000 required: FAIL."
    ]
    assert readiness(loadtest_tags(rows_per_second="12000.5"), {"rows_per_second": 6000})[1:] == [
        "rows_per_second 12000.5 >= 6000 required: PASS."
    ]


def test_one_sentence_per_threshold_in_the_configs_order():
    thresholds = {"rows_per_second": 1000.0, "p95_ms": 10.0, "p50_ms": 50.0}
    sentences = readiness(loadtest_tags(), thresholds)
    assert len(sentences) == 4
    assert [s.split()[0] for s in sentences[1:]] == ["rows_per_second", "p95_ms", "p50_ms"]
    assert [s.rsplit(" ", 1)[1] for s in sentences[1:]] == ["PASS.", "FAIL.", "PASS."]


def test_a_threshold_on_a_figure_never_measured_fails():
    sentences = readiness(loadtest_tags(), {"p999_ms": 100.0})
    assert sentences[1] == "p999_ms nan <= 100 required: FAIL."


def test_the_default_threshold_of_the_card_notebook_is_checked():
    assert readiness(loadtest_tags(p95_ms="49.99"), {"p95_ms": 50.0})[1:] == [
        "p95_ms 49.99 <= 50 required: PASS."
    ]
    assert readiness(loadtest_tags(p95_ms="50.01"), {"p95_ms": 50.0})[1:] == [
        "p95_ms 50.01 <= 50 required: FAIL."
    ]
