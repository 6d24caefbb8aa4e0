"""The scheduler's own small table beside its job store (in the history's schema): per job, the last
nominal slot accounted for and the last run's summary (what notifications compare the next run with).

APScheduler's job store keeps only the next run time and the pickled job: it cannot say which
nights were missed (apscheduler #319) nor what the previous run found, so this table does.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, select
from sqlalchemy.engine import Engine

from auditor.history.schema import schedule_state as _TABLE


def default_store_url() -> str:
    """For `schedule once` with a history that is not SQL (s3://): a local SQLite file."""
    base = Path(os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share") / "auditor"
    base.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{base / 'schedule.db'}"


@dataclass(frozen=True, slots=True)
class JobState:
    last_slot: datetime | None
    summary: dict[str, Any] | None
    digest_day: str | None


class ScheduleStore:
    """Reads and writes the per-job rows; every write is one transaction. The table belongs to the
    history's versioned schema (auditor.history.schema, v3): opening the store migrates its database
    as opening the history does (under the history's write lock; a newer schema is refused)."""

    def __init__(self, url: str, engine: Engine | None = None) -> None:
        from auditor.history import open_history

        open_history(url).close()
        self.engine = engine or create_engine(url, pool_pre_ping=True)

    def get(self, job: str) -> JobState:
        with self.engine.begin() as conn:
            row = conn.execute(select(_TABLE).where(_TABLE.c.job == job)).mappings().first()
        if row is None:
            return JobState(None, None, None)
        slot = datetime.fromtimestamp(row["last_slot"], UTC) if row["last_slot"] is not None else None
        return JobState(slot, json.loads(row["summary"]) if row["summary"] else None, row["digest_day"])

    def update(self, job: str, **values: Any) -> None:
        """Set last_slot (datetime), summary (dict) and/or digest_day (str) of `job`."""
        row: dict[str, Any] = {}
        if "last_slot" in values:
            row["last_slot"] = values["last_slot"].timestamp()
        if "summary" in values:
            row["summary"] = json.dumps(values["summary"], sort_keys=True)
        if "digest_day" in values:
            row["digest_day"] = values["digest_day"]
        with self.engine.begin() as conn:
            done = conn.execute(_TABLE.update().where(_TABLE.c.job == job).values(**row)).rowcount
            if not done:
                conn.execute(_TABLE.insert().values(job=job, **row))

    def close(self) -> None:
        self.engine.dispose()
