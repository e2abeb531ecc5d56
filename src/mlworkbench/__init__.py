"""mlworkbench: parameterized notebooks run by Papermill, tracked in MLflow, reported as HTML."""

import importlib
import importlib.abc
import importlib.util
import sys
from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("mlworkbench")
except PackageNotFoundError:  # running from a source tree that is not installed
    __version__ = "0.0.0"

__all__ = ["__version__"]

# Models logged before the package had subpackages refer to functions and classes by their
# old module names (`mlworkbench.screening.ColumnScreen`, `mlworkbench.models`, ...). Those
# names stay importable: each one is the module it moved to, imported on first use.
MOVED_MODULES = {
    "cache": "pipeline.reuse",
    "card": "governance.card",
    "card_report": "reports.card_page",
    "cli_production": "cli.production",
    "cli_team": "cli.team",
    "cluster": "pipeline.cluster",
    "cohorts": "analysis.explain.cohorts",
    "comparison": "reports.comparison",
    "config": "pipeline.config",
    "dashboard": "reports.dashboard",
    "data": "analysis.data",
    "demo": "production.demo",
    "dependence": "analysis.explain.dependence",
    "drift": "production.drift",
    "evaluation": "analysis.evaluation",
    "explain": "analysis.explain.explanation",
    "fairness": "analysis.explain.fairness",
    "formatting": "reports.formatting",
    "graph": "pipeline.graph",
    "jobs": "production.jobs",
    "kernels": "pipeline.kernels",
    "leakage": "analysis.leakage",
    "loadtest": "production.loadtest",
    "migrate": "tracking.migrate_runs",
    "migrate_registry": "tracking.migrate_registry",
    "models": "production.models",
    "monitoring": "production.monitoring",
    "notes": "reports.notes",
    "params": "pipeline.contracts",
    "privacy": "governance.privacy",
    "profiling": "analysis.profiling",
    "promotion": "governance.promotion",
    "proxies": "analysis.explain.proxies",
    "reruns": "pipeline.reruns",
    "runner": "pipeline.runner",
    "scoring": "production.scoring",
    "screening": "analysis.screening",
    "serving": "production.serving",
    "shapley": "analysis.explain.shapley",
    "signals": "pipeline.interrupts",
    "sweep": "pipeline.sweep",
    "teamserver": "tracking.teamserver",
    "trainer": "analysis.train_stage",
    "training": "analysis.training",
}


class _MovedModules(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Finds `mlworkbench.<old name>` and answers with the module at its new place."""

    def find_spec(self, fullname, path=None, target=None):
        old = fullname.removeprefix("mlworkbench.")
        if fullname.startswith("mlworkbench.") and old in MOVED_MODULES:
            return importlib.util.spec_from_loader(fullname, self)
        return None

    def exec_module(self, module) -> None:
        new = importlib.import_module(f"mlworkbench.{MOVED_MODULES[module.__name__[12:]]}")
        sys.modules[module.__name__] = new  # the import system returns what is here


if not any(isinstance(finder, _MovedModules) for finder in sys.meta_path):
    sys.meta_path.append(_MovedModules())
