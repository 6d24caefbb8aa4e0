"""Typed values of the rule engine: metadata beside each rule, verdicts, findings."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from typing import Any

from auditor.models import Resource


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


@dataclass(frozen=True, slots=True)
class Peers:
    """The same control in the tools auditors already know."""

    checkov: tuple[str, ...] = ()
    trivy: tuple[str, ...] = ()
    securityhub: tuple[str, ...] = ()
    aws_config: tuple[str, ...] = ()
    prowler: tuple[str, ...] = ()

    def as_dict(self) -> dict[str, list[str]]:
        return {k: list(getattr(self, k)) for k in ("checkov", "trivy", "securityhub", "aws_config", "prowler")}


@dataclass(frozen=True, slots=True)
class RuleMeta:
    id: str
    title: str
    severity: Severity
    resource_types: tuple[str, ...]
    rationale: str
    remediation: str
    terraform: str  # a Terraform snippet that passes
    peers: Peers = Peers()


@dataclass(frozen=True, slots=True)
class Verdict:
    """What a rule says about one resource; FAIL names the offending value."""

    status: Status
    message: str
    value: Any = None


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
class RuleSettings:
    """Thresholds that differ between authorities: configuration, not code."""

    tls_profile: str = "aws-recommended"  # or "securityhub-elb17"
    min_azs: int = 2
    min_log_retention_days: int = 30
    min_desired_count: int = 2
    bucket_scope: str = "state"  # STATE-04/05: "state" buckets only, or "all" buckets as the peers do
    fail_on: Severity = Severity.HIGH  # exit 2 when a rule at or above this fails


@dataclass(frozen=True, slots=True)
class Evidence:
    """LIVE: where each resource type was observed, so the engine can tell "absent" from "not read".

    observed:  type -> regions its collector observed without error (`*`: everywhere, for global
               types and for pseudo-resources such as `terraform_backend` that are always read).
    reasons:   (type, region) -> why it was not observed there (the collector's error; region `*`
               for a global type).
    regions:   every audited region (a resource without a region needs its evidence in all of them).
    """

    observed: Mapping[str, frozenset[str]]
    reasons: Mapping[tuple[str, str], str] = field(default_factory=dict)
    regions: frozenset[str] = frozenset()

    def missing(self, tf_type: str, region: str | None) -> str | None:
        """Why `tf_type` is not known in `region` (None when it was observed there)."""
        seen = self.observed.get(tf_type, frozenset())
        if "*" in seen:
            return None
        wanted = sorted(self.regions) if region is None else [region]
        for where in wanted:
            if where not in seen:
                why = self.reasons.get((tf_type, where)) or self.reasons.get((tf_type, "*")) or "not read by this audit"
                return f"{tf_type} in {where}: {why}"
        return None


@dataclass(frozen=True, slots=True)
class RuleContext:
    """Everything a rule may look at besides its own resource: the other resources of the same source."""

    resources: Mapping[str, Sequence[Resource]]
    settings: RuleSettings = RuleSettings()
    # LIVE: the get_registry_scanning_configuration answer (or {region: answer}), when observed
    registry_scanning: Any = None
    # LIVE only: type -> the ids the collectors asked AWS about for that type ("*" = every resource of
    # the type was listed), for types observed without error. A resource asked about and not returned
    # is absent (a bucket without a public access block); one not asked about is unobserved (UNKNOWN).
    live_read: Mapping[str, frozenset[str]] = field(default_factory=dict)
    # LIVE only: where each type was observed; None for code and state, which hold what they hold.
    evidence: Evidence | None = None
    # Indexes the rule helpers (auditor.rules.lib) build once per evaluation; not for rules to read.
    memo: dict[Any, Any] = field(default_factory=dict, compare=False, repr=False)
    # The types the running check has read through `of_type` (the engine's evidence log).
    reads: set[str] = field(default_factory=set, compare=False, repr=False)

    def of_type(self, *types: str) -> list[Resource]:
        """Every resource of `types` (rules read other resources only through this: it logs the evidence)."""
        self.reads.update(types)
        return [r for t in types for r in self.resources.get(t, ())]


CheckFn = Callable[[Resource, RuleContext], Verdict | Iterable[Verdict]]


@dataclass(frozen=True, slots=True)
class Rule:
    meta: RuleMeta
    check: CheckFn


@dataclass(frozen=True, slots=True)
class Suppression:
    rule_id: str
    target: str  # fnmatch pattern over TYPE.ID or the address
    reason: str
    expires: date | None = None


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
