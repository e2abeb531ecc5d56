"""Ctrl-C and SIGTERM as KeyboardInterrupt, so every run left behind can be marked KILLED."""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any


@contextmanager
def interruptible() -> Iterator[None]:
    """Turn Ctrl-C and SIGTERM (from a scheduler or `kill`) into KeyboardInterrupt.

    Also restores Python's Ctrl-C handling when the process was started with SIGINT ignored
    (a background job of a non-interactive shell), so the runs can still be marked KILLED.
    """

    def interrupt(signum: int, frame: Any) -> None:
        raise KeyboardInterrupt(signal.Signals(signum).name)

    if threading.current_thread() is not threading.main_thread():
        yield
        return
    saved = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}
    for sig in saved:
        signal.signal(sig, interrupt)
    try:
        yield
    finally:
        for sig, handler in saved.items():
            signal.signal(sig, handler)
