"""SIGINT and SIGTERM during a deploy: the first one interrupts (so the deploy rolls back), later ones wait."""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType

from auditor.deploy.model import DeployError


class Interrupted(KeyboardInterrupt):
    """SIGINT or SIGTERM arrived while the deploy was changing traffic.

    A BaseException, like KeyboardInterrupt: raised by the signal handler wherever the main thread is,
    it must not be taken for a failed request. botocore wraps any Exception raised while it sends one
    into HTTPClientError, which is retried, so an Exception subclass landing there was swallowed and the
    deploy went on baking with later signals ignored.
    """

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def failure_reason(failure: BaseException) -> str:
    """Why a deploy rolls back, in one line."""
    if isinstance(failure, (DeployError, Interrupted)):
        return failure.message
    if isinstance(failure, KeyboardInterrupt):
        return "interrupted (SIGINT)"
    return f"{type(failure).__name__}: {failure}"


@contextmanager
def catch_signals(enabled: bool) -> Iterator[threading.Event]:
    """SIGINT/SIGTERM raise Interrupted in the main thread until the event is set (then they are ignored,
    so a rollback under way finishes)."""
    stopping = threading.Event()
    if not enabled or threading.current_thread() is not threading.main_thread():
        yield stopping
        return

    def handler(signum: int, _frame: FrameType | None) -> None:
        if not stopping.is_set():
            stopping.set()
            raise Interrupted(f"interrupted by {signal.Signals(signum).name}")

    before = {s: signal.signal(s, handler) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield stopping
    finally:
        for s, old in before.items():
            signal.signal(s, old)
