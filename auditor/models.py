"""Typed frozen values passed between the pipeline stages."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


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
