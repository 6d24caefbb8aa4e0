"""Exactly one active scheduler per job store (APScheduler's FAQ: a job store shared by two
schedulers gives duplicate and missed runs).

SQLite: an exclusive `flock` on `<database>.scheduler.lock`. PostgreSQL: a session advisory lock
held on a connection of its own. Both die with the process that holds them, so a standby that
keeps trying takes over within its poll interval when the leader's process dies.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import threading
from pathlib import Path
from typing import Any, Protocol

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool

from auditor.errors import ConfigError

LOCK_KEY = int.from_bytes(hashlib.sha256(b"auditor.schedule leader").digest()[:8], "big", signed=True)
"""The advisory lock's key: one leader per PostgreSQL database."""


class LeaderLock(Protocol):
    def try_acquire(self) -> bool: ...

    def holder(self) -> str: ...

    def healthy(self) -> bool: ...

    def release(self) -> None: ...


class FileLock:
    """An exclusive flock on a file beside the SQLite database."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._fd: int | None = None

    def try_acquire(self) -> bool:
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return False
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        self._fd = fd
        return True

    def holder(self) -> str:
        try:
            pid = self.path.read_text().strip()
        except OSError:
            pid = ""
        return f"pid {pid} (lock file {self.path})" if pid else f"lock file {self.path}"

    def healthy(self) -> bool:
        return self._fd is not None

    def release(self) -> None:
        if self._fd is not None:
            os.close(self._fd)  # closing the descriptor drops the flock
            self._fd = None


class AdvisoryLock:
    """pg_try_advisory_lock on a dedicated connection (never a pooled one that could be recycled)."""

    def __init__(self, url: str) -> None:
        self._engine = create_engine(url, poolclass=NullPool)
        self._conn: Any = None
        self._guard = threading.Lock()

    def try_acquire(self) -> bool:
        conn = self._engine.connect()
        got = conn.execute(text("SELECT pg_try_advisory_lock(:key)"), {"key": LOCK_KEY}).scalar()
        conn.commit()
        if not got:
            conn.close()
            return False
        self._conn = conn
        return True

    def holder(self) -> str:
        with self._engine.connect() as conn:
            pid = conn.execute(text("SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted "
                                    "AND objsubid = 1 AND ((classid::bigint << 32) | objid::bigint) = :key "
                                    "AND database = (SELECT oid FROM pg_database WHERE datname = current_database())"),
                               {"key": LOCK_KEY}).scalar()
        return f"PostgreSQL backend pid {pid}" if pid else "another session"

    def healthy(self) -> bool:
        """The lock's connection still answers (if it dropped, the lock is gone: stop leading)."""
        with self._guard:
            try:
                self._conn.execute(text("SELECT 1")).scalar()
                self._conn.commit()
                return True
            except Exception:
                return False

    def release(self) -> None:
        if self._conn is not None:
            with contextlib.suppress(Exception):  # a dead connection has released the lock already
                self._conn.close()  # the session ends, and its advisory locks with it
            self._conn = None
        self._engine.dispose()


def leader_lock(url: str) -> LeaderLock:
    """The lock that guards the job store at `url`."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if not parsed.database or parsed.database == ":memory:":
            raise ConfigError("the scheduler's job store needs an SQLite file, not an in-memory database")
        return FileLock(Path(f"{parsed.database}.scheduler.lock"))
    if parsed.get_backend_name() == "postgresql":
        return AdvisoryLock(url)
    raise ConfigError(f"the scheduler supports SQLite and PostgreSQL job stores, not {parsed.get_backend_name()}")
