"""`interruptible()`: SIGTERM and Ctrl-C become KeyboardInterrupt inside the block, and the
handlers the process had before are restored after it (real signals sent to this process)."""

from __future__ import annotations

import signal
import threading

import pytest

from mlworkbench.pipeline.interrupts import interruptible


@pytest.fixture(autouse=True)
def _keep_handlers():
    """Whatever a test does, the process keeps the handlers pytest gave it."""
    saved = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}
    yield
    for sig, handler in saved.items():
        signal.signal(sig, handler)


def test_sigterm_inside_the_block_raises_keyboard_interrupt_named_after_it():
    with pytest.raises(KeyboardInterrupt) as caught, interruptible():
        signal.raise_signal(signal.SIGTERM)
        pytest.fail("SIGTERM did not interrupt the block")
    assert caught.value.args == ("SIGTERM",)


def test_sigint_inside_the_block_raises_keyboard_interrupt_named_after_it():
    with pytest.raises(KeyboardInterrupt) as caught, interruptible():
        signal.raise_signal(signal.SIGINT)
        pytest.fail("SIGINT did not interrupt the block")
    assert caught.value.args == ("SIGINT",)


def test_handlers_are_restored_after_the_block_ends_normally():
    def term_handler(signum, frame):
        raise RuntimeError("not expected")

    signal.signal(signal.SIGTERM, term_handler)
    before_int = signal.getsignal(signal.SIGINT)
    with interruptible():
        assert signal.getsignal(signal.SIGTERM) is not term_handler
        assert signal.getsignal(signal.SIGINT) is not before_int
    assert signal.getsignal(signal.SIGTERM) is term_handler
    assert signal.getsignal(signal.SIGINT) is before_int


def test_handlers_are_restored_after_an_interrupt():
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    with pytest.raises(KeyboardInterrupt), interruptible():
        signal.raise_signal(signal.SIGTERM)
    assert signal.getsignal(signal.SIGTERM) is signal.SIG_DFL


def test_ctrl_c_works_inside_the_block_even_when_the_process_ignored_it():
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # a background job of a non-interactive shell
    with pytest.raises(KeyboardInterrupt, match="SIGINT"), interruptible():
        signal.raise_signal(signal.SIGINT)
    assert signal.getsignal(signal.SIGINT) is signal.SIG_IGN, "ignored again afterwards"


def test_an_exception_in_the_block_propagates_and_restores_the_handlers():
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    with pytest.raises(ValueError, match="boom"), interruptible():
        raise ValueError("boom")
    assert signal.getsignal(signal.SIGTERM) is signal.SIG_DFL


def test_outside_the_main_thread_the_block_runs_and_touches_no_handler():
    before = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}
    seen: dict[str, object] = {}

    def worker():
        try:
            with interruptible():
                seen["ran"] = True
                seen["handlers"] = {
                    sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)
                }
        except Exception as exc:  # signal.signal raises ValueError outside the main thread
            seen["error"] = exc

    thread = threading.Thread(target=worker)
    thread.start()
    thread.join(timeout=10)
    assert "error" not in seen, seen.get("error")
    assert seen["ran"] is True
    assert seen["handlers"] == before
    assert {sig: signal.getsignal(sig) for sig in before} == before
