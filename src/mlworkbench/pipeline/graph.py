"""Stages as a graph: what each stage needs, and running the ready ones side by side.

A stage notebook declares the stages it needs in its metadata,

```json
"metadata": {"mlworkbench": {"stage": "explain", "needs": ["train"]}}
```

so explain waits for train, while eda (`"needs": []`) can run beside train. A notebook that
declares nothing needs every stage before it, which keeps a folder of plain notebooks
sequential. Only the stages of the run count: a needed stage that is not run this time is
taken from the newest finished run in the experiment, as when the notebook runs alone.
"""

from __future__ import annotations

import concurrent.futures as cf
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from mlworkbench.exceptions import ConfigError

FINISHED, FAILED, SKIPPED = "FINISHED", "FAILED", "SKIPPED"


def dependencies(
    names: Sequence[str], declared: Mapping[str, Sequence[str] | None]
) -> dict[str, tuple[str, ...]]:
    """Each of `names` (in pipeline order) with the stages of `names` it needs.

    Raises:
        ConfigError: a stage needs a later stage, or itself (the pipeline order is the only
            order the notebooks can run in, so that would be a cycle).
    """
    graph: dict[str, tuple[str, ...]] = {}
    for position, name in enumerate(names):
        needs = declared.get(name)
        if needs is None:
            graph[name] = tuple(names[:position])
            continue
        later = [n for n in needs if n in names[position:]]
        if later:
            raise ConfigError(
                f"Stage '{name}' needs {', '.join(later)}, which come(s) after it in the "
                f"notebooks' order (or is the stage itself); renumber the notebooks."
            )
        graph[name] = tuple(n for n in needs if n in names)
    return graph


def dependants(graph: Mapping[str, Sequence[str]], name: str) -> list[str]:
    """Every stage that needs `name`, directly or through another stage, in graph order."""
    found: set[str] = {name}
    for stage, needs in graph.items():  # graph order is a topological order
        if found.intersection(needs):
            found.add(stage)
    return [stage for stage in graph if stage in found and stage != name]


@dataclass
class Outcome:
    """How one node of the graph ended, and why it was skipped."""

    status: str
    reason: str = ""


def run_graph(
    graph: Mapping[str, Sequence[str]],
    execute: Callable[[str], bool],
    jobs: int = 1,
    on_interrupt: Callable[[], None] = lambda: None,
    heartbeat: Callable[[list[str]], None] | None = None,
    heartbeat_seconds: float = 30.0,
) -> dict[str, Outcome]:
    """Execute every node once all it needs has finished, up to `jobs` at a time.

    `execute(name)` returns True when the node finished. A node that fails skips everything
    that depends on it; the independent nodes still run. Ctrl-C in the calling thread calls
    `on_interrupt` (which should make the running executions end), waits for them, and
    re-raises. `heartbeat(running, elapsed)` is called every `heartbeat_seconds` while nodes
    run. Returns each node's outcome, in graph order.
    """
    outcomes: dict[str, Outcome] = {}
    running: dict[cf.Future, str] = {}
    beat = time.monotonic() + heartbeat_seconds
    with cf.ThreadPoolExecutor(max_workers=max(1, jobs), thread_name_prefix="stage") as pool:
        try:
            while len(outcomes) < len(graph):
                for name in _ready(graph, outcomes, running.values()):
                    if len(running) >= max(1, jobs):
                        break
                    running[pool.submit(execute, name)] = name
                if not running:
                    break  # nothing runs and nothing is ready: all remaining are settled
                done, _ = cf.wait(running, timeout=0.25, return_when=cf.FIRST_COMPLETED)
                for future in done:
                    name = running.pop(future)
                    ok = future.result()
                    outcomes[name] = Outcome(FINISHED if ok else FAILED)
                    if not ok:
                        for later in dependants(graph, name):
                            outcomes.setdefault(later, Outcome(SKIPPED, f"needs {name}"))
                if heartbeat and running and time.monotonic() >= beat:
                    heartbeat(sorted(running.values()))
                    beat = time.monotonic() + heartbeat_seconds
        except KeyboardInterrupt:
            on_interrupt()
            cf.wait(running)
            raise
    return {name: outcomes[name] for name in graph if name in outcomes}


def _ready(
    graph: Mapping[str, Sequence[str]], outcomes: Mapping[str, Outcome], running: object
) -> list[str]:
    """Nodes not yet started whose needs have all finished, in graph order."""
    busy = set(running)  # type: ignore[call-overload]
    return [
        name
        for name, needs in graph.items()
        if name not in outcomes
        and name not in busy
        and all(n in outcomes and outcomes[n].status == FINISHED for n in needs)
    ]
