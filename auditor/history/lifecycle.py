"""Findings across runs: first seen, last seen, and new / persisting / resolved / reopened.

A finding is a drift (type + id + attribute path) or a rule failure (rule + resource). A run that could
not judge a finding (its resource unobserved, a state unreadable, the rules not run) leaves it as it was:
absence of evidence never resolves anything.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime

from auditor.history.record import Detail, Observed, RunRecord

NEW, PERSISTING, REOPENED, RESOLVED = "new", "persisting", "reopened", "resolved"
UNVERIFIED = "unverified"  # a run's view of an open finding it could not observe: still open, not re-seen
OPEN_STATUSES = frozenset({NEW, PERSISTING, REOPENED})


@dataclass(frozen=True, slots=True)
class FindingState:
    """A finding's lifecycle as of the latest run that judged it."""

    detail: Detail
    first_seen: datetime
    first_run: str
    last_seen: datetime
    last_run: str
    status: str
    resolved_at: datetime | None = None
    resolved_run: str | None = None
    reopened: int = 0  # times it came back after being resolved

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES


def advance(known: Mapping[str, FindingState], run_id: str, at: datetime,
            observed: Observed) -> tuple[dict[str, FindingState], dict[str, str]]:
    """Apply one run to the known findings: (the findings it changed, this run's status of each finding
    it says something about)."""
    changed: dict[str, FindingState] = {}
    statuses: dict[str, str] = {}
    for key, detail in observed.open.items():
        prev = known.get(key)
        if prev is None:
            changed[key] = FindingState(detail, at, run_id, at, run_id, NEW)
        elif prev.is_open:
            changed[key] = replace(prev, detail=detail, last_seen=at, last_run=run_id, status=PERSISTING)
        else:
            changed[key] = replace(prev, detail=detail, last_seen=at, last_run=run_id, status=REOPENED,
                                   resolved_at=None, resolved_run=None, reopened=prev.reopened + 1)
        statuses[key] = changed[key].status
    for key, prev in known.items():
        if key in observed.open or not prev.is_open:
            continue
        if observed.can_judge(prev.detail):
            changed[key] = replace(prev, status=RESOLVED, resolved_at=at, resolved_run=run_id)
            statuses[key] = RESOLVED
        else:
            statuses[key] = UNVERIFIED
    return changed, statuses


def replay(records: Iterable[RunRecord]) -> tuple[dict[str, FindingState], dict[str, dict[str, str]]]:
    """The findings after `records` (oldest first), and each run's statuses (run id -> key -> status)."""
    known: dict[str, FindingState] = {}
    per_run: dict[str, dict[str, str]] = {}
    for record in records:
        if record.observed is None:
            continue
        changed, statuses = advance(known, record.info.id, record.info.started_at, record.observed)
        known.update(changed)
        per_run[record.info.id] = statuses
    return known, per_run
