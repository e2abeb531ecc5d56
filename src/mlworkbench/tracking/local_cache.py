"""Values costly to compute and cheap to key, kept in JSON files of this user's cache folder
(`$XDG_CACHE_HOME/mlworkbench`, by default `~/.cache/mlworkbench`).

A cache that cannot be read or written only costs the computation: `read` answers None and
`write` gives up silently. Files are replaced whole, so two processes writing at once leave
one complete file.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any


def cache_dir() -> Path:
    """The folder of mlworkbench's cache files."""
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "mlworkbench"


def read(name: str) -> Any:
    """The value kept as `name`, or None when there is none (or it cannot be read)."""
    try:
        return json.loads((cache_dir() / name).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def write(name: str, value: Any) -> None:
    """Keep `value` (JSON) as `name`."""
    folder = cache_dir()
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile("w", dir=folder, delete=False, suffix=".tmp") as handle:
            json.dump(value, handle)
        os.replace(handle.name, folder / name)
    except OSError:
        return
