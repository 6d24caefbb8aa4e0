"""A job's run split into audit units (state × account × region), run by an executor, merged into one run.

A unit is one `[[states]]` entry of one account, in one region: that state's resources there (global
ones, IAM, in the account's home region) diffed against that account-region's live inventory. The
work units share is done once, whichever unit asks first (`LocalAudit`): an account's states are read
once, and each account × region is observed once — one listing per type, global types only in the
home region — under the account's lock, so an account's API concurrency stays `account_concurrency`
(AWS rate limits are per account) while units of different accounts run in parallel (`parallel_units`).

`unmanaged` is not a unit's business: "live, and in no state" needs every state. `merge_runs`
computes it once per account × region, against the union of all the account's states (a resource is
unmanaged only if none of them holds it; another account's state is no evidence, as names such as a
log group's repeat across accounts), then judges the rules per account and scores the run.

The seam is `UnitExecutor`: `LocalExecutor` runs units on this machine's threads, `ProcessExecutor` on
its processes (one account per process at a time); a distributed
executor (docs/scheduling.md says which and why) submits the same picklable `Unit` values and hands
back the same `UnitOutcome`s, each a self-contained AuditRun (its state, its scope's inventory, its
drifts), which `merge_runs` folds into one recorded run.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from itertools import zip_longest
from multiprocessing import get_context
from typing import Protocol

from auditor import __version__
from auditor.aws import Aws, AwsSettings
from auditor.catalog import specs
from auditor.config import AuditConfig
from auditor.diff import diff_managed, unmanaged
from auditor.errors import AuditError
from auditor.ignore import load_ignore
from auditor.models import AuditRun, Inventory, Resource
from auditor.pipeline import StatesRead, in_scope, judge, observe, read_states
from auditor.schedule.config import Account, Job
from auditor.score import score
from auditor.state.model import DEFAULT_WORKSPACE, LoadedState, StateFailure, StateRequest
from auditor.state.resources import to_resources
from auditor.state.sources import key_matcher, split_workspace_key


@dataclass(frozen=True, slots=True)
class Unit:
    """One state × account × region of a job's run: plain values, picklable, so it can travel to a worker."""

    account: Account | None
    state: str            # the uri of one [[states]] entry (a glob may name several objects)
    region: str | None    # None: every region the account's states live in (the job names none)
    config: AuditConfig   # the account's audit: all its states, the job's regions, its API workers

    @property
    def account_label(self) -> str:
        return f"account {self.account.id}" if self.account else "default account"

    @property
    def label(self) -> str:
        return f"{self.state} in {self.account_label}" + (f", {self.region}" if self.region else "")


@dataclass(frozen=True, slots=True)
class UnitOutcome:
    """What one unit produced: its run (managed drifts only), or the one-line reason it could not run."""

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
            return [unit_outcome(units[0], audit)]
        with ThreadPoolExecutor(max_workers=min(self.parallel, len(units)), thread_name_prefix="unit") as pool:
            return list(pool.map(lambda unit: unit_outcome(unit, audit), units))


class ProcessExecutor:
    """This machine's cores: each account's units in one worker process (so its reads and listings are
    still done once), up to `parallel` accounts at once. `audit` must be picklable: LocalAudit travels
    as its AWS settings and starts afresh in the worker."""

    def __init__(self, parallel: int = 4) -> None:
        self.parallel = parallel

    def run(self, units: Sequence[Unit], audit: Callable[[Unit], AuditRun]) -> list[UnitOutcome]:
        groups: dict[str, list[int]] = {}
        for index, unit in enumerate(units):
            groups.setdefault(unit.account_label, []).append(index)
        outcomes: list[UnitOutcome | None] = [None] * len(units)
        # spawn: a fresh interpreter, no lock held by another thread of this one copied into it
        with ProcessPoolExecutor(max_workers=min(self.parallel, len(groups)), mp_context=get_context("spawn")) as pool:
            futures = {pool.submit(_run_in_turn, [units[i] for i in indexes], audit): indexes
                       for indexes in groups.values()}
            for future, indexes in futures.items():
                for index, outcome in zip(indexes, future.result(), strict=True):
                    outcomes[index] = outcome
        return [o for o in outcomes if o is not None]


def _run_in_turn(units: Sequence[Unit], audit: Callable[[Unit], AuditRun]) -> list[UnitOutcome]:
    return [unit_outcome(unit, audit) for unit in units]


def unit_outcome(unit: Unit, audit: Callable[[Unit], AuditRun]) -> UnitOutcome:
    """`audit(unit)`, an expected failure (assume-role denied, state unreadable) kept as the unit's error."""
    try:
        return UnitOutcome(unit, run=audit(unit))
    except AuditError as exc:
        return UnitOutcome(unit, error=str(exc))


def plan_units(job: Job, base: AuditConfig, account_concurrency: int) -> list[Unit]:
    """The job's units: each account's states × the job's regions (accounts: the default one when the
    job names none; regions: one unit over the states' own regions when neither job nor file names any)."""
    config = replace(job.audit_config(base), max_workers=account_concurrency)
    regions: list[str | None] = [*sorted(set(config.regions))] or [None]
    per_account: list[list[Unit]] = []
    for account in job.accounts or (None,):
        states = config.states
        if account is not None and account.states:
            states = tuple(s for s in config.states if s.uri in account.states)
        account_config = replace(config, states=states,
                                 role_arn=(account.role_arn if account else None) or config.role_arn)
        per_account.append([Unit(account, s.uri, r, account_config) for r in regions for s in states])
    # accounts interleaved: the executor's first units start every account's work, none waits on another's
    return [unit for column in zip_longest(*per_account) for unit in column if unit is not None]


class LocalAudit:
    """Audits units in this process. The work units share is done once, by whichever asks first: an
    account's states read, an account × region observed (under the account's lock: one account's API
    calls never exceed its `account_concurrency`)."""

    def __init__(self, aws: Aws) -> None:
        self.aws = aws
        self._guard = threading.Lock()
        self._locks: dict[str, threading.Lock] = {}
        self._reads: dict[str, StatesRead | AuditError] = {}
        self._scopes: dict[tuple[str, tuple[str, ...]], Inventory] = {}

    def __call__(self, unit: Unit) -> AuditRun:
        read = self._read(unit)
        regions = (unit.region,) if unit.region else read.regions
        inventory = self._observe(unit, read, regions)
        request = next(s for s in unit.config.states if s.uri == unit.state)
        mine = {s.uri for s in read.loaded if owner(unit.config.states, s) is request}

        def selected(resource: Resource) -> bool:
            return (resource.source or "") in mine and (
                unit.region is None or resource.region == unit.region
                or (resource.region is None and unit.region == read.home))

        home = unit.region in (None, read.home)  # the unreadable resources of a state count once, at home
        drifts = diff_managed(read.state, inventory, read.ignore, selected) + [
            d for d in read.unreadable() if home and set(d.states) & mine]
        return AuditRun(started_at=read.started_at, finished_at=datetime.now(UTC), tool_version=__version__,
                        account_id=read.account_id, regions=regions,
                        states=tuple(s for s in read.loaded if s.uri in mine),
                        failures=tuple(f for f in read.failures if f.uri == unit.state),
                        inventory=inventory, drifts=tuple(drifts), score=score(drifts, unit.config.weights),
                        ignore_file=read.ignore.source, caller=read.caller,
                        out_of_scope=tuple(r for r in read.out_of_scope if (r.source or "") in mine))

    def __reduce__(self) -> tuple[Callable[[AwsSettings], LocalAudit], tuple[AwsSettings]]:
        return _local_audit, (self.aws.settings,)

    def _lock(self, unit: Unit) -> threading.Lock:
        with self._guard:
            return self._locks.setdefault(unit.account_label, threading.Lock())

    def _read(self, unit: Unit) -> StatesRead:
        with self._lock(unit):
            read = self._reads.get(unit.account_label)
            if read is None:
                try:  # the account's own call counter: its inventories count its calls, not others'
                    read = read_states(unit.config, self.aws.fork())
                except AuditError as exc:
                    read = exc
                self._reads[unit.account_label] = read
        if isinstance(read, AuditError):
            raise read
        return read

    def _observe(self, unit: Unit, read: StatesRead, regions: tuple[str, ...]) -> Inventory:
        key = (unit.account_label, regions)
        with self._lock(unit):
            if key not in self._scopes:
                self._scopes[key] = observe(unit.config, read, regions)
            return self._scopes[key]


def _local_audit(settings: AwsSettings) -> LocalAudit:
    return LocalAudit(Aws(settings))


def owner(requests: Sequence[StateRequest], loaded: LoadedState) -> StateRequest | None:
    """The first `[[states]]` entry naming the state object `loaded` (its workspace included)."""
    for request in requests:
        if request.is_s3 != loaded.uri.startswith("s3://"):
            continue
        bucket, _, pattern = request.uri.removeprefix("s3://").partition("/")
        key = loaded.uri.removeprefix("s3://").partition("/")[2] if request.is_s3 else loaded.uri
        if request.is_s3 and not loaded.uri.startswith(f"s3://{bucket}/"):
            continue
        if loaded.workspace != DEFAULT_WORKSPACE:
            split = split_workspace_key(request.workspace_key_prefix, key)
            if split is None or split[0] != loaded.workspace:
                continue
            key = split[1]
        if key_matcher(pattern if request.is_s3 else request.uri)(key) and (
                loaded.workspace in request.workspaces or "*" in request.workspaces):
            return request
    return None


def audit_unit(aws: Aws) -> Callable[[Unit], AuditRun]:
    """The audit of one run's units on this machine (share the returned callable across the run's units)."""
    return LocalAudit(aws)


def run_units(units: Sequence[Unit], executor: UnitExecutor, audit: Callable[[Unit], AuditRun]) -> AuditRun:
    """Run every unit and merge them. When no unit could run, the run fails (AuditError) with their
    reasons, as `audit run` does; otherwise a failed unit is a failure inside the merged run (incomplete)."""
    return merge_runs(executor.run(units, audit))


def merge_runs(outcomes: Sequence[UnitOutcome]) -> AuditRun:
    """Fold unit runs into one: per account, its scopes' inventories, its units' drifts, the live
    resources no state of the account holds (unmanaged), the rules; then every account together.
    An account whose units all failed for one reason is one failure named after the account."""
    if not any(o.run for o in outcomes):
        raise AuditError("; ".join(dict.fromkeys(o.error or "" for o in outcomes)))
    by_account: dict[str, list[UnitOutcome]] = {}
    for outcome in outcomes:
        by_account.setdefault(outcome.unit.account_label, []).append(outcome)
    merged: list[AuditRun] = []
    failed: list[StateFailure] = []
    for label, members in by_account.items():
        errors = [o for o in members if o.error is not None]
        if len(errors) == len(members) and len({o.error for o in errors}) == 1:
            failed.append(StateFailure(uri=label, workspace="*", error=str(errors[0].error)))
            continue
        failed.extend(StateFailure(uri=o.unit.label, workspace="*", error=str(o.error)) for o in errors)
        if len(errors) < len(members):  # an account whose units all failed has no run (one run at least has)
            merged.append(_account_run([o for o in members if o.run is not None], len(errors)))
    if len(merged) == 1 and not failed:
        return merged[0]
    first, config = merged[0], outcomes[0].unit.config
    drifts = tuple(d for r in merged for d in r.drifts)
    compliance = None
    judged = [r.compliance for r in merged if r.compliance is not None]
    if judged:
        compliance = replace(judged[0], findings=tuple(f for c in judged for f in c.findings),
                             expired_suppressions=tuple(sorted({s for c in judged for s in c.expired_suppressions})),
                             notes=tuple(dict.fromkeys(n for c in judged for n in c.notes)))
    return replace(
        first,
        started_at=min(r.started_at for r in merged), finished_at=max(r.finished_at for r in merged),
        account_id=",".join(dict.fromkeys(r.account_id for r in merged)),
        regions=tuple(sorted({g for r in merged for g in r.regions})),
        states=tuple(s for r in merged for s in r.states),
        failures=tuple(f for r in merged for f in r.failures) + tuple(failed),
        inventory=_union_inventory({(i,): r.inventory for i, r in enumerate(merged)}, one_account=False),
        drifts=drifts, score=score(list(drifts), config.weights), compliance=compliance,
        code=tuple(c for r in merged for c in r.code),
        out_of_scope=tuple(x for r in merged for x in r.out_of_scope),
    )


def _account_run(members: Sequence[UnitOutcome], failed_units: int) -> AuditRun:
    """One account's run from its units: `audit run`'s verdicts over the account, unmanaged against every
    state of the account (a name another account's state holds is no evidence here: ids such as log group
    names repeat across accounts), in doubt (unknown) while a state of this account could not be read."""
    config = members[0].unit.config
    runs = [o.run for o in members if o.run is not None]
    loaded = _distinct_states(runs)
    inventory = _union_inventory({(o.unit.region,): o.run.inventory for o in members if o.run is not None},
                                 one_account=True)
    failures = tuple(dict.fromkeys(f for r in runs for f in r.failures))
    regions = tuple(sorted({g for r in runs for g in r.regions}))
    home = config.regions[0] if len(set(config.regions)) == 1 else regions[0]
    state, _ = in_scope(to_resources(loaded, home), regions, config.types or tuple(specs()))
    read = StatesRead(
        started_at=min(r.started_at for r in runs), loaded=loaded, failures=failures, state=state,
        out_of_scope=tuple(dict.fromkeys(x for r in runs for x in r.out_of_scope)), regions=regions, home=home,
        types=(), live_aws=None, account_id=runs[0].account_id, caller=runs[0].caller,
        ignore=load_ignore(config.ignore_file))
    doubt = read.unmanaged_doubt or (f"not in any state read, but {failed_units} unit(s) of this account failed"
                                     if failed_units else None)
    drifts = [d for r in runs for d in r.drifts] + unmanaged(state, inventory, read.ignore, doubt)
    return judge(config, read, inventory, drifts)


def _audited(resource: Resource, regions: Sequence[str]) -> bool:
    return resource.region is None or resource.region in regions


def _distinct_states(runs: Iterable[AuditRun]) -> tuple[LoadedState, ...]:
    seen: dict[tuple[str, str], LoadedState] = {}
    for run in runs:
        for state in run.states:
            seen.setdefault((state.uri, state.workspace), state)
    return tuple(seen.values())


def _union_inventory(scopes: Mapping[tuple[object, ...], Inventory], *, one_account: bool) -> Inventory:
    """The inventories of distinct scopes together (the units of one account × region share one). An
    account's scopes count its calls on one counter, observed in turn: the last count is the account's."""
    parts = list(scopes.values())
    by_op: Counter[str] = Counter()
    for part in parts:
        if one_account:
            by_op |= Counter(part.api_calls_by_operation)  # the larger count of each operation
        else:
            by_op.update(part.api_calls_by_operation)
    return Inventory(resources=tuple(x for p in parts for x in p.resources),
                     observations=tuple(o for p in parts for o in p.observations),
                     api_calls=sum(by_op.values()), api_calls_by_operation=dict(by_op))
