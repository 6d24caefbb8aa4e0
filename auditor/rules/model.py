"""Typed values of the rule engine: metadata beside each rule, verdicts, the context a rule reads."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from auditor.catalog import LISTED_AS
from auditor.models import Resource, Severity, Status
from auditor.rules.settings import RuleSettings


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


@dataclass(frozen=True, slots=True)
class Evidence:
    """LIVE: where each resource type was observed, so the engine can tell "absent" from "not read".

    observed:  type -> regions its collector observed without error (`*`: everywhere, for global
               types and for pseudo-resources such as `terraform_backend` that are always read).
    reasons:   (type, region) -> why it was not observed there (the collector's error; region `*`
               for a global type).
    regions:   every audited region (a resource without a region needs its evidence in all of them).
    covered:   the types a live collector reads at all (the others are never observed live).
    A type another collector lists (catalog.LISTED_AS) was observed where that one was.
    """

    observed: Mapping[str, frozenset[str]]
    reasons: Mapping[tuple[str, str], str] = field(default_factory=dict)
    regions: frozenset[str] = frozenset()
    covered: frozenset[str] = frozenset()

    def missing(self, tf_type: str, region: str | None) -> str | None:
        """Why `tf_type` is not known in `region` (None when it was observed there)."""
        tf_type = LISTED_AS.get(tf_type, tf_type)
        seen = self.observed.get(tf_type, frozenset())
        if "*" in seen:
            return None
        if tf_type not in self.covered:
            return f"{tf_type}: no live collector reads it"
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
    settings: RuleSettings = field(default_factory=RuleSettings)
    # LIVE: the get_registry_scanning_configuration answer (or {region: answer}), when observed
    registry_scanning: Any = None
    # LIVE only: type -> the ids the collectors asked AWS about for that type ("*" = every resource of
    # the type was listed), for types observed without error. A resource asked about and not returned
    # is absent (a bucket without a public access block); one not asked about is unobserved (UNKNOWN).
    live_read: Mapping[str, frozenset[str]] = field(default_factory=dict)
    # LIVE only: where each type was observed; None for code and state, which hold what they hold.
    evidence: Evidence | None = None
    # Indexes the rule helpers (auditor.rules.links.memo) build once per evaluation; not for rules to read.
    memo: dict[Any, Any] = field(default_factory=dict, compare=False, repr=False)
    # The types the running check has read through `of_type` (the engine's evidence log).
    reads: set[str] = field(default_factory=set, compare=False, repr=False)

    def of_type(self, *types: str) -> list[Resource]:
        """Every resource of `types` (rules read other resources only through this: it logs the evidence)."""
        self.reads.update(types)
        return [r for t in types for r in self.resources.get(t, ())]


CheckFn = Callable[[Resource, RuleContext], Verdict | Iterable[Verdict]]

Guard = Callable[[Resource, RuleContext], Verdict | None]
"""Whether a rule applies to a resource: None when it does, else the verdict instead (NOT_APPLICABLE, or
UNKNOWN when that cannot be known)."""


@dataclass(frozen=True, slots=True)
class Rule:
    meta: RuleMeta
    check: CheckFn
    applies: Guard | None = None  # asked first: the check runs only on the resources it lets through
