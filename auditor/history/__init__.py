"""The audit history: every run, its findings' lifecycle, and the deployer's and fixer's journals.

    h = open_history(None)            # SQLite at $XDG_DATA_HOME/auditor/history.db
    h = open_history("postgresql://user@host/db")
    h = open_history("s3://bucket/prefix")   # one immutable object per run (conditional puts)
    run_id = h.record_run(run)
"""

from __future__ import annotations

import os
from abc import ABC, abstractmethod
from collections.abc import Collection, Mapping
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from auditor.errors import AuditError
from auditor.history.lifecycle import FindingState
from auditor.history.record import RunInfo, RunRecord, Score, failure_record, from_document

if TYPE_CHECKING:
    from auditor.models import AuditRun

__all__ = ["History", "HistoryError", "RunInfo", "RunRecord", "default_url", "open_history"]

JOURNAL_KINDS = ("deploy", "fix", "publish")  # publish: a scheduled run whose report could not be published


class HistoryError(AuditError):
    """The history store cannot be opened, read or written."""


def default_url() -> str:
    """sqlite:///$XDG_DATA_HOME/auditor/history.db (XDG_DATA_HOME defaults to ~/.local/share)."""
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return f"sqlite:///{Path(base) / 'auditor' / 'history.db'}"


class History(ABC):
    """A history store. Runs are kept newest-first for listing; findings carry their lifecycle."""

    url: str

    def record_run(self, run: AuditRun, job: str | None = None, trigger: str = "manual",
                   config_hash: str | None = None) -> str:
        """Record one finished audit; returns its run id."""
        from auditor.report.json_report import to_dict

        return self.record(from_document(to_dict(run), run.id, job=job, trigger=trigger,
                                         config_digest=config_hash))

    def record_document(self, doc: Mapping[str, Any], job: str | None = None, trigger: str = "manual") -> str:
        """Record an audit from its JSON result (schema auditor.audit/v1)."""
        return self.record(from_document(doc, job=job, trigger=trigger))

    def record_failure(self, *, started_at: datetime, finished_at: datetime, error: str, job: str | None = None,
                       trigger: str = "manual") -> str:
        """Record a run that could not finish (it judges no finding); returns its run id."""
        return self.record(failure_record(started_at, finished_at, error, job, trigger))

    @abstractmethod
    def record(self, record: RunRecord) -> str:
        """Store one run and advance the findings' lifecycle."""

    @abstractmethod
    def runs(self, limit: int | None = None, since: datetime | None = None) -> list[RunInfo]:
        """Recorded runs, newest first."""

    @abstractmethod
    def _load(self, run_id: str) -> RunRecord:
        """The stored record of the run with exactly this id (HistoryError when there is none)."""

    def resolve(self, ref: str) -> str:
        """A run id from an id, a unique prefix of one, `latest` or `previous`."""
        if ref in ("latest", "previous"):
            done = [r for r in self.runs(limit=50) if r.status == "completed"]
            index = 0 if ref == "latest" else 1
            if len(done) <= index:
                raise HistoryError(f"no {ref} run in the history at {self.url}")
            return done[index].id
        matches = [r.id for r in self.runs() if r.id.startswith(ref)]
        if len(matches) == 1:
            return matches[0]
        if not matches:
            raise HistoryError(f"no run {ref!r} in the history at {self.url}", "see `audit history list`")
        raise HistoryError(f"run {ref!r} is ambiguous ({len(matches)} runs start so)", "give more of the id")

    def run(self, ref: str) -> RunRecord:
        """The record of one run (with its JSON result), by id, unique prefix, `latest` or `previous`."""
        return self._load(self.resolve(ref))

    @abstractmethod
    def findings(self, run_id: str | None = None) -> dict[str, FindingState]:
        """Every finding ever seen (or only those run `run_id` said something about), as of the latest run:
        key -> lifecycle."""

    @abstractmethod
    def run_statuses(self, run_id: str) -> dict[str, str]:
        """What one run said about each finding: key -> new / persisting / reopened / resolved / unverified."""

    @abstractmethod
    def statuses(self, since: datetime | None = None,
                 only: Collection[str] | None = None) -> list[tuple[str, datetime, str, str]]:
        """(run id, started at, finding key, status) of every run, oldest first: the findings' whole story
        (only the statuses in `only`, when given)."""

    @abstractmethod
    def scores(self, scope: str | None = None, since: datetime | None = None) -> list[tuple[str, datetime, Score]]:
        """(run id, started at, score) of completed runs, oldest first; `scope`: state / type / account / rule."""

    @abstractmethod
    def prune(self, before: datetime) -> int:
        """Forget the runs that started before `before`; returns how many. Findings keep their first-seen."""

    @abstractmethod
    def append_journal(self, journal_id: str, kind: str, entry: dict[str, Any]) -> None:
        """Append one entry to a deploy/fix journal (written before each action)."""

    @abstractmethod
    def read_journal(self, journal_id: str) -> list[dict[str, Any]]:
        """A journal's entries, in order (empty when there is none)."""

    @abstractmethod
    def list_journals(self, kind: str) -> list[str]:
        """The ids of the journals of one kind, oldest first."""

    @property
    @abstractmethod
    def sqlalchemy_url(self) -> str | None:
        """The SQL URL of the store (None for s3://)."""

    @abstractmethod
    def close(self) -> None:
        """Release connections."""

    def __enter__(self) -> History:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def check_kind(kind: str) -> None:
    if kind not in JOURNAL_KINDS:
        raise HistoryError(f"unknown journal kind {kind!r}", f"one of {', '.join(JOURNAL_KINDS)}")


def open_history(url: str | None) -> History:
    """The store at `url`: sqlite:///PATH, postgresql://..., s3://BUCKET/PREFIX; None -> the default SQLite."""
    url = url or default_url()
    if url.startswith("s3://"):
        from auditor.history.s3 import S3History

        return S3History(url)
    if url.startswith(("sqlite:", "postgresql:", "postgresql+psycopg:", "postgres:")):
        from auditor.history.sql import SqlHistory

        return SqlHistory(url)
    if "://" not in url:  # a bare path is a SQLite file
        from auditor.history.sql import SqlHistory

        return SqlHistory(f"sqlite:///{Path(url).expanduser().resolve()}")
    raise HistoryError(f"unsupported history URL {url!r}",
                       "use sqlite:///PATH, postgresql://USER@HOST/DB or s3://BUCKET/PREFIX")
