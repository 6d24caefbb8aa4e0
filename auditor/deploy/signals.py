"""SIGINT and SIGTERM during a deploy: the first one interrupts (so the deploy rolls back), later ones wait."""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType

from auditor.deploy.model import DeployError


class Interrupted(DeployError):
    """SIGINT or SIGTERM arrived while the deploy was changing traffic."""


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
