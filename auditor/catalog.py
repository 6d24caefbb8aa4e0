"""The type catalog: what the auditor knows about each Terraform resource type it covers.

Each type's TypeSpec is declared beside its collector in `auditor/inventory/`; this module holds
the TypeSpec shape, the provider's alias names, and the look-ups the state reader, the code reader,
the diff and the rules use, so none of them depends on how the collectors are written.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from auditor.models import Resource

TYPE_ALIASES: Mapping[str, str] = {
    "aws_alb": "aws_lb", "aws_alb_listener": "aws_lb_listener", "aws_alb_target_group": "aws_lb_target_group",
    "aws_alb_listener_certificate": "aws_lb_listener_certificate", "aws_alb_listener_rule": "aws_lb_listener_rule",
    "aws_alb_target_group_attachment": "aws_lb_target_group_attachment",
}
"""The provider's older names of the same resource types (no collector module needs importing to know them)."""

StateView = Mapping[str, Sequence[Resource]]
"""State resources by canonical type, as the diff hands them to `mirrored` and `covered`."""


@dataclass(frozen=True, slots=True)
class TypeSpec:
    """What the auditor knows about one Terraform resource type.

    compared:   top-level attributes the converter really produces and the diff compares.
    ignored:    attribute -> why it is not compared (computed, provider-only, per-resource call...).
    set_paths:  dotted paths (`*` = every list element) whose list order is meaningless
                (Terraform sets), sorted before comparing.
    tags:       compare tags (state `tags_all`, falling back to `tags`) against live tags.
    json_attributes: attributes holding a JSON document as a string (policies, container
                definitions), compared as parsed data with nulls/empties dropped and keys sorted.
    optional_live: attributes AWS may leave out of its answer; when the live side lacks one,
                it is not compared (rather than reported as drift to null).
    normalizers: attribute -> function applied to the value on both sides before comparing, for
                attributes the provider stores in several equivalent forms (a task definition as
                ARN or `family:revision`; a forward action as `target_group_arn` or `forward`).
                Each function must be idempotent and accept any form (or None).
    state_id:   the Terraform import id from state attributes (default: attributes["id"]).
    aliases:    other Terraform type names for the same resource (aws_alb -> aws_lb), from TYPE_ALIASES.
    aws_owned:  true for live resources AWS creates itself (default VPC...): never unmanaged.
    report_unmanaged: false for types whose live set is only collected for resources in state.
    global_service: the type is not regional (IAM): collected once, in the audit's home region.
    mirrored:   given a state resource and all state resources by type, the attributes of it that
                other state resources manage (an SG's inline `ingress` when split rule resources
                exist): not compared, as Terraform's own refresh noise would.
    covered:    given a live resource and all state resources by type, true when a state resource
                of another type manages it (a rule inside an SG whose inline rules are in state).
    partially_read: the collector reads details (tags, policies, attributes) only for the resources a
                state holds, so a rule on an unmanaged one meets "unobserved" rather than "absent".
    """

    type: str
    service: str
    compared: tuple[str, ...]
    ignored: Mapping[str, str] = field(default_factory=dict)
    set_paths: tuple[str, ...] = ()
    tags: bool = False
    json_attributes: tuple[str, ...] = ()
    optional_live: tuple[str, ...] = ()
    normalizers: Mapping[str, Callable[[Any], Any]] = field(default_factory=dict)
    state_id: Callable[[Mapping[str, Any]], str | None] | None = None
    aws_owned: Callable[[Resource], bool] | None = None
    report_unmanaged: bool = True
    global_service: bool = False
    partially_read: bool = False
    mirrored: Callable[[Resource, StateView], frozenset[str]] | None = None
    covered: Callable[[Resource, StateView], bool] | None = None
    notes: str = ""

    @property
    def aliases(self) -> tuple[str, ...]:
        return tuple(sorted(alias for alias, canonical in TYPE_ALIASES.items() if canonical == self.type))

    def import_id(self, attributes: Mapping[str, Any]) -> str | None:
        """The id a state instance is matched on."""
        if self.state_id is not None:
            return self.state_id(attributes)
        value = attributes.get("id")
        return str(value) if value not in (None, "") else None


def canonical_type(tf_type: str) -> str:
    """aws_alb -> aws_lb, aws_alb_listener -> aws_lb_listener; other names unchanged."""
    return TYPE_ALIASES.get(tf_type, tf_type)


def specs() -> Mapping[str, TypeSpec]:
    """Every covered type's spec by canonical type (importing the collector modules that declare them)."""
    from auditor.inventory.base import registry

    return {tf_type: coll.spec for tf_type, coll in registry().items()}


def spec_for(tf_type: str) -> TypeSpec | None:
    """The spec of `tf_type` (or of the type it is an alias of), None when it is not covered."""
    return specs().get(canonical_type(tf_type))
