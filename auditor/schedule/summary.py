"""What the scheduler keeps of a run for logs, metrics and notifications: counts, names, no values.

A summary names drifted resources by kind, type and address (or id) and failing rules by rule id
and resource, never an attribute value: state values may be secrets and a message leaves the
account.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

from auditor.models import DRIFTED_KINDS, AuditRun, Status

KINDS = ("changed", "missing", "unmanaged", "unknown")


@dataclass(frozen=True, slots=True)
class RunSummary:
    job: str
    status: str                      # "succeeded" | "failed"
    started_at: str                  # ISO 8601, UTC
    finished_at: str
    exit_code: int
    run_id: str | None = None
    drift_index: float | None = None
    coverage: float | None = None
    counts: dict[str, int] = field(default_factory=dict)
    failing_rules: tuple[str, ...] = ()   # "RULE-ID type.address", unsuppressed FAILs
    drifted: tuple[str, ...] = ()         # "kind type address-or-id"
    by_state: dict[str, dict[str, Any]] = field(default_factory=dict)
    error: str | None = None
    report_url: str | None = None
    publish_error: str | None = None      # the run is recorded, its report could not be published

    @property
    def duration(self) -> float:
        return (datetime.fromisoformat(self.finished_at) - datetime.fromisoformat(self.started_at)).total_seconds()

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["failing_rules"], out["drifted"] = list(self.failing_rules), list(self.drifted)
        return out

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> RunSummary:
        return cls(**{**raw, "failing_rules": tuple(raw.get("failing_rules", ())),
                      "drifted": tuple(raw.get("drifted", ()))})


def summarize(job: str, run: AuditRun, run_id: str | None, report_url: str | None) -> RunSummary:
    overall = run.score.overall
    failing: tuple[str, ...] = ()
    if run.compliance is not None:
        failing = tuple(sorted({f"{f.rule_id} {f.address or f'{f.resource_type}.{f.resource_id}'}"
                                for f in run.compliance.findings
                                if f.status is Status.FAIL and f.suppressed_by is None}))
    drifted = tuple(sorted(f"{d.kind.value} {d.type} {d.address or d.id}" for d in run.drifts
                           if d.kind in DRIFTED_KINDS))
    return RunSummary(
        job=job, status="succeeded", started_at=run.started_at.isoformat(), finished_at=run.finished_at.isoformat(),
        exit_code=int(run.exit_code), run_id=run_id, drift_index=overall.drift_index, coverage=overall.coverage,
        counts={k: overall.counts.get(k, 0) for k in KINDS}, failing_rules=failing, drifted=drifted,
        by_state={uri: {"drift_index": b.drift_index, "coverage": b.coverage,
                        **{k: b.counts.get(k, 0) for k in KINDS}} for uri, b in run.score.by_state.items()},
        report_url=report_url,
    )


def failed(job: str, started: datetime, finished: datetime, error: str, run_id: str | None) -> RunSummary:
    return RunSummary(job=job, status="failed", started_at=started.isoformat(), finished_at=finished.isoformat(),
                      exit_code=1, run_id=run_id, error=error)
