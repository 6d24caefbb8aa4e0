"""Scheduler test helpers: a history double that keeps what the scheduler records, and empty audit runs."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import UTC, datetime

from auditor import __version__
from auditor.models import AuditRun, Drift, DriftKind, Inventory
from auditor.score import score


@dataclass(frozen=True)
class Row:
    job: str | None
    trigger: str
    status: str            # "succeeded" | "failed" | "missed"
    started_at: datetime
    finished_at: datetime
    error: str | None = None


class RecordingHistory:
    """Keeps every record_run / record_failure call, as the history store would keep rows."""

    sqlalchemy_url = None

    def __init__(self) -> None:
        self.rows: list[Row] = []
        self.journal: list[tuple[str, str, dict[str, object]]] = []
        self._lock = threading.Lock()

    def record_run(self, run: AuditRun, job: str | None = None, trigger: str = "manual",
                   config_hash: str | None = None) -> str:
        with self._lock:
            self.rows.append(Row(job, trigger, "succeeded", run.started_at, run.finished_at))
            return run.id or str(len(self.rows))

    def prune(self, before: datetime) -> int:
        with self._lock:
            kept = [r for r in self.rows if r.started_at >= before]
            pruned, self.rows[:] = len(self.rows) - len(kept), kept
            return pruned

    def record_failure(self, *, started_at: datetime, finished_at: datetime, error: str, job: str | None = None,
                       trigger: str = "schedule") -> str:
        with self._lock:
            status = "missed" if trigger == "missed" else "failed"
            self.rows.append(Row(job, trigger, status, started_at, finished_at, error))
            return str(len(self.rows))

    def append_journal(self, journal_id: str, kind: str, entry: dict[str, object]) -> None:
        with self._lock:
            self.journal.append((journal_id, kind, entry))

    def close(self) -> None:
        pass


def audit_run(drifted: tuple[str, ...] = (), in_sync: int = 3) -> AuditRun:
    """An AuditRun with `drifted` aws_ecs_service ids changed and `in_sync` others in sync."""
    drifts = [Drift(type="aws_ecs_service", id=i, kind=DriftKind.CHANGED, address=f"aws_ecs_service.{i}",
                    states=("s3://b/k",)) for i in drifted]
    drifts += [Drift(type="aws_s3_bucket", id=f"b{n}", kind=DriftKind.IN_SYNC, states=("s3://b/k",))
               for n in range(in_sync)]
    now = datetime.now(UTC)
    return AuditRun(started_at=now, finished_at=now, tool_version=__version__, account_id="123456789012",
                    regions=("us-east-1",), states=(), failures=(), inventory=Inventory((), (), 0),
                    drifts=tuple(drifts), score=score(drifts))
