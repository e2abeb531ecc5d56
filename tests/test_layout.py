"""The package's layout rules: import layers without cycles (import-linter), module and
function sizes, and imports inside functions only where a comment says why."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _check_layout():
    spec = importlib.util.spec_from_file_location("check_layout", ROOT / "scripts/check_layout.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_import_contracts_are_kept():
    lint_imports = Path(sys.executable).parent / "lint-imports"
    done = subprocess.run([str(lint_imports)], cwd=ROOT, capture_output=True, text=True)
    assert done.returncode == 0, done.stdout[-3000:]
    assert "2 kept, 0 broken" in done.stdout


def test_every_module_and_function_is_small_and_imports_at_the_top():
    check = _check_layout()
    problems = [
        p for path in sorted(check.PACKAGE.rglob("*.py")) for p in check.module_problems(path)
    ]
    assert problems == []


def test_the_layout_check_finds_long_functions_and_unexplained_inner_imports(tmp_path):
    check = _check_layout()
    package = tmp_path / "mlworkbench"
    (package / "analysis").mkdir(parents=True)
    body = "\n".join(f"    x{i} = {i}" for i in range(60))
    module = package / "analysis" / "long.py"
    module.write_text(f"def long():\n    import mlflow\n    from mlworkbench import data\n{body}\n")
    problems = check.module_problems(module, package)
    assert problems == [
        "mlworkbench/analysis/long.py:1: long has 63 lines (at most 60)",
        "mlworkbench/analysis/long.py:2: import of mlflow inside a function without a "
        "'# Deferred imports:' comment saying why",
        "mlworkbench/analysis/long.py:3: import of mlworkbench inside a function without a "
        "'# Deferred imports:' comment saying why",
    ]
    module.write_text("# Deferred imports: mlflow is heavy.\n" + module.read_text())
    assert check.module_problems(module, package) == [
        "mlworkbench/analysis/long.py:2: long has 63 lines (at most 60)"
    ]
