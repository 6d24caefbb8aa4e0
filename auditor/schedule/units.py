"""A job's run split into independent audit units, run by an executor, merged into one AuditRun.

A unit is one account with the states whose resources live in it, over the job's regions. It is
not split further by state or region: `unmanaged` means "live in this account and region, in no
state read", so every state of an account-region must be read by the same unit, and global types
(IAM) are collected once per account. Units of different accounts share nothing, so they run in
parallel (`parallel_units`), and each bounds its own API concurrency (`account_concurrency`):
AWS rate limits are per account.

The seam is `UnitExecutor`: `LocalExecutor` runs units on this machine's threads; a distributed
executor (docs/scheduling.md says which and why) submits the same picklable `Unit` values to
workers and hands back the same `UnitOutcome`s, which `merge_runs` folds into one recorded run.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from typing import Protocol

from auditor.aws import Aws
from auditor.config import AuditConfig
from auditor.errors import AuditError
from auditor.models import AuditRun, Inventory
from auditor.pipeline import run_audit
from auditor.schedule.config import Account, Job
from auditor.score import score
from auditor.state.model import StateFailure


@dataclass(frozen=True, slots=True)
class Unit:
    """One independent piece of a job's run: plain values, picklable, so it can travel to a worker."""

    account: Account | None
    config: AuditConfig

    @property
    def label(self) -> str:
        return f"account {self.account.id}" if self.account else "default account"


@dataclass(frozen=True, slots=True)
class UnitOutcome:
    """What one unit produced: its run, or the one-line reason it could not run."""

    unit: Unit
    run: AuditRun | None = None
    error: str | None = None


class UnitExecutor(Protocol):
    """Runs units and returns one outcome per unit, in the units' order."""

    def run(self, units: Sequence[Unit], audit: Callable[[Unit], AuditRun]) -> list[UnitOutcome]: ...


class LocalExecutor:
    """This machine: up to `parallel` units at once on threads."""

    def __init__(self, parallel: int = 4) -> None:
        self.parallel = parallel

    def run(self, units: Sequence[Unit], audit: Callable[[Unit], AuditRun]) -> list[UnitOutcome]:
        if len(units) == 1:
            return [_outcome(units[0], audit)]
        with ThreadPoolExecutor(max_workers=min(self.parallel, len(units)), thread_name_prefix="unit") as pool:
            return list(pool.map(lambda unit: _outcome(unit, audit), units))


def _outcome(unit: Unit, audit: Callable[[Unit], AuditRun]) -> UnitOutcome:
    try:
        return UnitOutcome(unit, run=audit(unit))
    except AuditError as exc:  # expected failures (assume-role denied, no state readable) stay in the run
        return UnitOutcome(unit, error=str(exc))


def plan_units(job: Job, base: AuditConfig, account_concurrency: int) -> list[Unit]:
    """The job's units: one per account (one in all when the job names none)."""
    config = replace(job.audit_config(base), max_workers=account_concurrency)
    if not job.accounts:
        return [Unit(None, config)]
    units = []
    for account in job.accounts:
        states = tuple(s for s in config.states if s.uri in account.states) if account.states else config.states
        units.append(Unit(account, replace(config, states=states, role_arn=account.role_arn or config.role_arn)))
    return units


def audit_unit(aws: Aws) -> Callable[[Unit], AuditRun]:
    """The audit of one unit on this machine: exactly `audit run`'s pipeline."""
    return lambda unit: run_audit(unit.config, aws)


def run_units(units: Sequence[Unit], executor: UnitExecutor, audit: Callable[[Unit], AuditRun]) -> AuditRun:
    """Run every unit and merge them. A single unit's expected failure is the run's failure (AuditError),
    as with `audit run`; with several, a failed unit is a failure inside the merged run (incomplete)."""
    outcomes = executor.run(units, audit)
    if len(outcomes) == 1 and outcomes[0].error is not None:
        raise AuditError(outcomes[0].error)
    runs = [o.run for o in outcomes if o.run is not None]
    if not runs:
        raise AuditError("; ".join(f"{o.unit.label}: {o.error}" for o in outcomes))
    failed = tuple(StateFailure(uri=o.unit.label, workspace="*", error=o.error)
                   for o in outcomes if o.error is not None)
    return merge_runs(runs, failed, units[0].config)


def merge_runs(runs: Sequence[AuditRun], failed: tuple[StateFailure, ...], config: AuditConfig) -> AuditRun:
    """Fold unit runs into one (the score is recomputed over every drift)."""
    if len(runs) == 1 and not failed:
        return runs[0]
    first = runs[0]
    drifts = tuple(d for r in runs for d in r.drifts)
    by_op: dict[str, int] = {}
    for r in runs:
        for op, n in r.inventory.api_calls_by_operation.items():
            by_op[op] = by_op.get(op, 0) + n
    compliance = None
    judged = [r.compliance for r in runs if r.compliance is not None]
    if judged:
        compliance = replace(judged[0], findings=tuple(f for c in judged for f in c.findings),
                             expired_suppressions=tuple(sorted({s for c in judged for s in c.expired_suppressions})),
                             notes=tuple(dict.fromkeys(n for c in judged for n in c.notes)))
    return replace(
        first,
        started_at=min(r.started_at for r in runs), finished_at=max(r.finished_at for r in runs),
        account_id=",".join(dict.fromkeys(r.account_id for r in runs)),
        regions=tuple(sorted({g for r in runs for g in r.regions})),
        states=tuple(s for r in runs for s in r.states),
        failures=tuple(f for r in runs for f in r.failures) + failed,
        inventory=Inventory(resources=tuple(x for r in runs for x in r.inventory.resources),
                            observations=tuple(o for r in runs for o in r.inventory.observations),
                            api_calls=sum(r.inventory.api_calls for r in runs), api_calls_by_operation=by_op),
        drifts=drifts, score=score(list(drifts), config.weights), compliance=compliance,
        code=tuple(c for r in runs for c in r.code),
    )
