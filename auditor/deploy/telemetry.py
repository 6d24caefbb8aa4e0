"""Deploy figures for the report, from the journals in the history store: per deploy its duration,
green provisioning time, outcome and rollback reason; across them the failed-deployment rate."""

from __future__ import annotations

import statistics
from dataclasses import dataclass

from auditor.deploy.journal import KIND, JournalStore, last


@dataclass(frozen=True, slots=True)
class DeployRecord:
    deploy_id: str
    way: str
    result: str
    started_at: float
    duration_seconds: float | None
    green_provisioning_seconds: float | None
    rollback_reason: str | None


@dataclass(frozen=True, slots=True)
class DeployStats:
    deploys: tuple[DeployRecord, ...]

    @property
    def ended(self) -> tuple[DeployRecord, ...]:
        return tuple(d for d in self.deploys if d.result != "unfinished")

    @property
    def failed_rate(self) -> float | None:
        """Share of ended deploys that did not succeed (rolled back or failed)."""
        ended = self.ended
        return sum(d.result != "succeeded" for d in ended) / len(ended) if ended else None

    @property
    def median_provisioning_seconds(self) -> float | None:
        times = [d.green_provisioning_seconds for d in self.deploys if d.green_provisioning_seconds is not None]
        return statistics.median(times) if times else None

    def to_dict(self) -> dict[str, object]:
        return {"deploys": len(self.deploys), "ended": len(self.ended), "failed_rate": self.failed_rate,
                "median_green_provisioning_seconds": self.median_provisioning_seconds,
                "by_result": {r: sum(d.result == r for d in self.deploys)
                              for r in sorted({d.result for d in self.deploys})},
                "records": [{"deploy_id": d.deploy_id, "way": d.way, "result": d.result, "started_at": d.started_at,
                             "duration_seconds": d.duration_seconds,
                             "green_provisioning_seconds": d.green_provisioning_seconds,
                             "rollback_reason": d.rollback_reason} for d in self.deploys]}


def deploy_stats(history: JournalStore) -> DeployStats:
    """Every deploy journal summarised; one without an outcome is `unfinished` (its process died)."""
    records = []
    for deploy_id in history.list_journals(KIND):
        entries = history.read_journal(deploy_id)
        start, outcome = last(entries, "start"), last(entries, "outcome")
        if start is None:
            continue
        records.append(DeployRecord(
            deploy_id=deploy_id, way=str(start.get("way", "")),
            result=str(outcome["result"]) if outcome else "unfinished", started_at=float(start.get("at", 0.0)),
            duration_seconds=outcome.get("duration_seconds") if outcome else None,
            green_provisioning_seconds=outcome.get("green_provisioning_seconds") if outcome else None,
            rollback_reason=outcome.get("rollback_reason") if outcome else None))
    return DeployStats(tuple(records))
