"""The `monitoring:` section of a pipeline config: its keys and the drift thresholds, checked
with the rest of the config before any kernel starts. `mlwb monitor` and the monitor
notebook read the same settings."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from mlworkbench.exceptions import unknown_keys

SECTION_KEYS = ("thresholds", "metric_warn", "metric_alert", "alert_command", "after_score")


@dataclass(frozen=True)
class Thresholds:
    """Effect sizes at which a feature is WARN or ALERT: PSI 0.1 and 0.25 (common practice);
    KS or JS distance 0.15 and 0.3 (a few hundred rows show a KS distance near 0.1 from
    sampling alone); missing share change 5 and 20 points; unseen categories 1% and 5%."""

    psi_warn: float = 0.1
    psi_alert: float = 0.25
    distance_warn: float = 0.15
    distance_alert: float = 0.3
    missing_warn: float = 0.05
    missing_alert: float = 0.2
    unseen_warn: float = 0.01
    unseen_alert: float = 0.05


def check_section(section: Any, where: str) -> list[str]:
    """Problems with a config's `monitoring:` section."""
    if section is None:
        return []
    if not isinstance(section, dict):
        return [f"{where}: 'monitoring' must be a mapping."]
    problems = unknown_keys(section, SECTION_KEYS, "monitoring", where)
    known = Thresholds.__dataclass_fields__
    problems += [
        f"{where}: unknown threshold 'monitoring.thresholds.{k}'. Allowed: {', '.join(known)}."
        for k in section.get("thresholds") or {}
        if k not in known
    ]
    return problems
