"""Typed frozen values passed between the pipeline stages: resources, observations, drift, rule
findings, and the run that holds them all."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from auditor.errors import ExitCode

if TYPE_CHECKING:
    from auditor.codedrift import CodeComparison
    from auditor.rules.engine import RulePack
    from auditor.rules.settings import RuleSettings
    from auditor.score import Score
    from auditor.state.model import LoadedState, StateFailure


class Origin(StrEnum):
    """Where a Resource was read from."""

    STATE = "state"
    LIVE = "live"
    CODE = "code"


@dataclass(frozen=True, slots=True)
class Resource:
    """One resource in Terraform's attribute shape, whatever it was read from.

    `id` is the Terraform import id used for matching (VPC id, ARN, name, ...).
    `attributes` uses the hashicorp/aws provider's attribute names and shapes.
    """

    type: str
    id: str
    attributes: Mapping[str, Any]
    origin: Origin
    region: str | None = None
    address: str | None = None
    source: str | None = None  # state URI for STATE, "region" for LIVE, file for CODE
    sensitive: bool = False  # STATE: some attribute values were redacted when read

    @property
    def key(self) -> tuple[str, str]:
        return (self.type, self.id)


class ObservationStatus(StrEnum):
    OBSERVED = "observed"
    UNKNOWN = "unknown"


@dataclass(frozen=True, slots=True)
class Observation:
    """How collecting one resource type in one region went."""

    type: str
    region: str
    status: ObservationStatus
    count: int = 0
    reason: str | None = None  # why it is unknown: "AccessDenied: ...", "Throttling ...", ...


@dataclass(frozen=True, slots=True)
class Inventory:
    """Everything the live collectors saw, and what they could not see."""

    resources: tuple[Resource, ...]
    observations: tuple[Observation, ...]
    api_calls: int
    api_calls_by_operation: Mapping[str, int] = field(default_factory=dict)

    def unknown_types(self, region: str | None = None) -> dict[str, str]:
        """type -> reason for every type that could not be observed (in `region`, if given)."""
        return {
            o.type: o.reason or "not observed"
            for o in self.observations
            if o.status is ObservationStatus.UNKNOWN and (region is None or o.region == region)
        }


class DriftKind(StrEnum):
    IN_SYNC = "in_sync"
    CHANGED = "changed"
    MISSING = "missing"
    UNMANAGED = "unmanaged"
    UNKNOWN = "unknown"
    NOT_COVERED = "not_covered"  # a state holds a type the auditor does not read at all


DRIFTED_KINDS = frozenset({DriftKind.CHANGED, DriftKind.MISSING, DriftKind.UNMANAGED})
UNAUDITED_KINDS = frozenset({DriftKind.UNKNOWN, DriftKind.NOT_COVERED})
"""Verdicts the audit could not reach: out of the drift index, counted against coverage."""


@dataclass(frozen=True, slots=True)
class AttributeChange:
    """One attribute that differs: Terraform attribute path, state value, live value."""

    path: str
    state: Any
    live: Any


@dataclass(frozen=True, slots=True)
class Drift:
    """The verdict on one resource."""

    type: str
    id: str
    kind: DriftKind
    address: str | None = None
    region: str | None = None
    changes: tuple[AttributeChange, ...] = ()
    states: tuple[str, ...] = ()  # URIs of the states that hold it
    reason: str | None = None  # why it is UNKNOWN
    state_attributes: Mapping[str, Any] | None = None  # CHANGED and MISSING: as the state has them
    live_attributes: Mapping[str, Any] | None = None  # CHANGED and UNMANAGED: as read live

    @property
    def key(self) -> tuple[str, str]:
        return (self.type, self.id)


# --- rules: what a rule says, and what one evaluation found -----------------------------------


class Status(StrEnum):
    PASS = "PASS"
    FAIL = "FAIL"
    UNKNOWN = "UNKNOWN"  # evidence missing or unresolvable: never PASS
    NOT_APPLICABLE = "NOT_APPLICABLE"


class Severity(StrEnum):
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    CRITICAL = "critical"

    @property
    def rank(self) -> int:
        return list(Severity).index(self)




class Unresolved:
    """A value that cannot be known statically (a variable without default, a computed attribute)."""

    __slots__ = ("reason",)

    def __init__(self, reason: str) -> None:
        self.reason = reason

    def __repr__(self) -> str:
        return f"Unresolved({self.reason!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Unresolved) and other.reason == self.reason

    def __hash__(self) -> int:
        return hash(("Unresolved", self.reason))




@dataclass(frozen=True, slots=True)
class Suppression:
    rule_id: str
    target: str  # fnmatch pattern over TYPE.ID or the address
    reason: str
    expires: date | None = None
    approver: str | None = None  # who accepted the exception
    approved_on: date | None = None




@dataclass(frozen=True, slots=True)
class Finding:
    rule_id: str
    status: Status
    severity: Severity
    resource_type: str
    resource_id: str
    address: str | None
    origin: str
    message: str
    value: Any = None
    file: str | None = None
    line: int | None = None
    suppressed_by: Suppression | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class ComplianceResult:
    """The findings of one evaluation, with what it needs to be reported and judged."""

    pack: RulePack
    findings: tuple[Finding, ...]
    settings: RuleSettings
    expired_suppressions: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()
    suppressions: tuple[Suppression, ...] = ()  # every configured exception, expired or not

    def counts(self) -> dict[str, int]:
        counts = Counter(f.status.value for f in self.findings if f.suppressed_by is None)
        counts["SUPPRESSED"] = sum(1 for f in self.findings if f.suppressed_by is not None)
        return {s.value: counts.get(s.value, 0) for s in Status} | {"SUPPRESSED": counts["SUPPRESSED"]}

    def blocking(self) -> list[Finding]:
        """Unsuppressed failures at or above the configured severity."""
        return [f for f in self.findings if f.status is Status.FAIL and f.suppressed_by is None
                and f.severity.rank >= self.settings.fail_on.rank]


# --- the run ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class AuditRun:
    """Everything one audit found, ready for the reporters."""

    started_at: datetime
    finished_at: datetime
    tool_version: str
    account_id: str
    regions: tuple[str, ...]
    states: tuple[LoadedState, ...]
    failures: tuple[StateFailure, ...]
    inventory: Inventory
    drifts: tuple[Drift, ...]
    score: Score
    ignore_file: str | None = None
    compliance: ComplianceResult | None = None
    code: tuple[CodeComparison, ...] = ()
    id: str | None = None  # the history's run id, once recorded
    caller: str | None = None  # the ARN the audit ran as (sts:GetCallerIdentity)
    strict: bool = False  # not_covered types and an incomplete unmanaged scan are errors too
    min_coverage: float | None = None  # percent: lower coverage is an error
    out_of_scope: tuple[Resource, ...] = ()  # state resources in regions not audited, or of types not selected

    @property
    def observation_errors(self) -> tuple[Observation, ...]:
        return tuple(o for o in self.inventory.observations if o.status is ObservationStatus.UNKNOWN)

    @property
    def unobserved(self) -> tuple[Observation, ...]:
        """Observation errors that left resources a state holds `unknown`: the audit cannot vouch for them."""
        held = {(d.type, d.region) for d in self.drifts if d.kind is DriftKind.UNKNOWN and d.states}
        return tuple(o for o in self.observation_errors if (o.type, o.region) in held or (o.type, None) in held)

    @property
    def scan_incomplete(self) -> tuple[Observation, ...]:
        """Observation errors of types no state holds in that region: only the search for unmanaged
        resources of the type is incomplete there."""
        unobserved = set(self.unobserved)
        return tuple(o for o in self.observation_errors if o not in unobserved)

    @property
    def incomplete(self) -> bool:
        """Some state (or resource in one) could not be read, some state's lock status is unknown, or some
        resource a state holds could not be observed."""
        return bool(self.failures or self.unobserved
                    or any(s.lock.errors or s.document.unreadable for s in self.states))

    @property
    def has_drift(self) -> bool:
        return any(d.kind in DRIFTED_KINDS for d in self.drifts)

    @property
    def errors(self) -> tuple[str, ...]:
        """Why the run exits 1, one line each (empty when it does not)."""
        out = [f"state not read: {f.uri} ({f.workspace}): {f.error}" for f in self.failures]
        out += [f"not observed: {o.type} in {o.region}: {o.reason}" for o in self.unobserved]
        out += [f"lock status unknown: {s.uri}: {'; '.join(s.lock.errors)}" for s in self.states if s.lock.errors]
        out += [f"resource unreadable: {s.uri}: {address}: {why}"
                for s in self.states for address, why in s.document.unreadable]
        return (*out, *self.policy_failures)

    @property
    def policy_failures(self) -> tuple[str, ...]:
        """What fails only because the user asked for it: --strict, --min-coverage."""
        out: list[str] = []
        if self.strict:
            out += [f"not covered (--strict): {t} ({n} in state)" for t, n in self.score.not_covered.items()]
            out += [f"unmanaged scan incomplete (--strict): {o.type} in {o.region}: {o.reason}"
                    for o in self.scan_incomplete]
        coverage = self.score.overall.coverage
        if self.min_coverage is not None and (coverage is None or coverage < self.min_coverage):
            shown = "n/a (nothing audited)" if coverage is None else f"{coverage:.1f}%"
            out.append(f"coverage {shown} is below the minimum {self.min_coverage:g}%")
        return tuple(out)

    @property
    def exit_code(self) -> ExitCode:
        """1 when the audit is incomplete (it cannot vouch for anything), fails --strict or --min-coverage;
        else 2 on drift or a blocking rule failure; else 0."""
        if self.errors:
            return ExitCode.ERROR
        failing = bool(self.compliance and self.compliance.blocking())
        code_drift = any(c.drifts for c in self.code)
        return ExitCode.DRIFT if self.has_drift or failing or code_drift else ExitCode.CLEAN
