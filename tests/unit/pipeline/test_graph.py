"""The stage graph: what runs when, side by side, and what a failure stops."""

from __future__ import annotations

import itertools
import threading
import time

import pytest

from mlworkbench.exceptions import ConfigError
from mlworkbench.pipeline.graph import dependants, dependencies, run_graph

PIPELINE = {"eda": [], "train": [], "explain": ["train"], "card": ["eda", "train", "explain"]}


def test_dependencies_keep_declared_needs_and_default_to_every_earlier_stage():
    graph = dependencies(["eda", "train", "explain", "extra"], {**PIPELINE, "extra": None})
    assert graph == {
        "eda": (),
        "train": (),
        "explain": ("train",),
        "extra": ("eda", "train", "explain"),
    }


def test_needs_outside_the_run_are_left_to_the_experiment():
    assert dependencies(["explain", "card"], PIPELINE) == {
        "explain": (),
        "card": ("explain",),
    }


def test_a_stage_needing_a_later_stage_is_refused():
    with pytest.raises(ConfigError, match="'eda' needs train, which come"):
        dependencies(["eda", "train"], {"eda": ["train"], "train": []})


def test_dependants_are_transitive():
    graph = dependencies(list(PIPELINE), PIPELINE)
    assert dependants(graph, "train") == ["explain", "card"]
    assert dependants(graph, "eda") == ["card"]
    assert dependants(graph, "card") == []


def _timed(seconds: float, fail: set[str] = frozenset()):
    spans: dict[str, tuple[float, float]] = {}
    lock = threading.Lock()

    def execute(name: str) -> bool:
        start = time.monotonic()
        time.sleep(seconds)
        with lock:
            spans[name] = (start, time.monotonic())
        return name not in fail

    return spans, execute


def test_independent_stages_overlap_with_two_jobs_and_needs_are_respected():
    spans, execute = _timed(0.3)
    outcomes = run_graph(dependencies(list(PIPELINE), PIPELINE), execute, jobs=2)
    assert {n: o.status for n, o in outcomes.items()} == dict.fromkeys(PIPELINE, "FINISHED")
    assert spans["eda"][0] < spans["train"][1] and spans["train"][0] < spans["eda"][1]
    assert spans["explain"][0] >= spans["train"][1]
    assert spans["card"][0] >= max(spans[n][1] for n in ("eda", "train", "explain"))


def test_one_job_runs_one_stage_at_a_time_in_pipeline_order():
    spans, execute = _timed(0.05)
    run_graph(dependencies(list(PIPELINE), PIPELINE), execute, jobs=1)
    order = sorted(spans, key=lambda n: spans[n][0])
    assert order == ["eda", "train", "explain", "card"]
    assert all(spans[a][1] <= spans[b][0] for a, b in itertools.pairwise(order))


def test_a_failure_skips_its_dependants_and_the_other_branch_finishes():
    spans, execute = _timed(0.05, fail={"train"})
    outcomes = run_graph(dependencies(list(PIPELINE), PIPELINE), execute, jobs=2)
    assert outcomes["eda"].status == "FINISHED"
    assert outcomes["train"].status == "FAILED"
    assert (outcomes["explain"].status, outcomes["explain"].reason) == ("SKIPPED", "needs train")
    assert outcomes["card"].status == "SKIPPED"
    assert set(spans) == {"eda", "train"}


def test_heartbeat_names_the_running_stages():
    beats = []
    _, execute = _timed(0.6)
    run_graph(
        {"a": (), "b": ()},
        execute,
        2,
        heartbeat=beats.append,
        heartbeat_seconds=0.2,
    )
    assert beats and beats[0] == ["a", "b"]
