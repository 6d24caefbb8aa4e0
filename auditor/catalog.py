"""The type catalog: what the auditor knows about each Terraform resource type it covers.

Each type's TypeSpec is declared beside its collector in `auditor/inventory/`; this module holds
the TypeSpec shape, the provider's alias names, and the look-ups the state reader, the code reader,
the diff and the rules use, so none of them depends on how the collectors are written.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from auditor.models import Resource

if TYPE_CHECKING:
    from auditor.inventory.base import CollectContext

TYPE_ALIASES: Mapping[str, str] = {
    "aws_alb": "aws_lb", "aws_alb_listener": "aws_lb_listener", "aws_alb_target_group": "aws_lb_target_group",
    "aws_alb_listener_certificate": "aws_lb_listener_certificate", "aws_alb_listener_rule": "aws_lb_listener_rule",
    "aws_alb_target_group_attachment": "aws_lb_target_group_attachment",
}
"""The provider's older names of the same resource types (no collector module needs importing to know them)."""

LISTED_AS: Mapping[str, str] = {
    "aws_default_route_table": "aws_route_table", "aws_route": "aws_route_table",
    "aws_kms_replica_key": "aws_kms_key", "aws_kms_external_key": "aws_kms_key",
    "aws_kms_replica_external_key": "aws_kms_key",
}
"""Types whose live resources another type's collector lists: DescribeRouteTables returns a VPC's main
route table, and every table's routes inline, as aws_route_table; ListKeys returns replica keys and keys
with imported material as aws_kms_key. Live, these types never appear under their own name, and they
were observed wherever the type listing them was."""

StateView = Mapping[str, Sequence[Resource]]
"""State resources by canonical type, as the diff hands them to `mirrored` and `covered`."""


IAM_PREFIX: Mapping[str, str] = {"elbv2": "elasticloadbalancing", "resourcegroupstaggingapi": "tag"}
"""boto3 client names whose IAM service prefix differs."""

IAM_ACTION_NAMES: Mapping[str, str] = {
    "s3:ListObjectsV2": "ListBucket", "s3:ListObjects": "ListBucket", "s3:HeadObject": "GetObject",
    "s3:HeadBucket": "ListBucket", "s3:GetBucketEncryption": "GetEncryptionConfiguration",
    "s3:GetPublicAccessBlock": "GetBucketPublicAccessBlock", "s3:ListBuckets": "ListAllMyBuckets",
    "s3:GetBucketLifecycleConfiguration": "GetLifecycleConfiguration",
    "s3:GetBucketOwnershipControls": "GetBucketOwnershipControls", "s3:GetBucketLogging": "GetBucketLogging",
}
"""API operations whose IAM action has another name (by IAM prefix:operation)."""


def iam_action(service: str, operation: str) -> str:
    """boto3 client name + API operation name -> the IAM action that allows it (elbv2 -> elasticloadbalancing)."""
    prefix = IAM_PREFIX.get(service, service)
    return f"{prefix}:{IAM_ACTION_NAMES.get(f'{prefix}:{operation}', operation)}"


@dataclass(frozen=True, slots=True)
class Detail:
    """A per-resource call the generic collector makes for each listed resource a state holds
    (for every listed one when `every`), e.g. GetRole for a role's tags and permissions boundary.

    The converter finds the answer (its `result_key` part, all pages of it when `paginated`) under
    `details[operation]`; a resource whose detail was not read has no such key. An error code in
    `absent` means "none" (the converter gets None), any other error fails the type (unknown).
    """

    operation: str
    params: Callable[[Any], Mapping[str, Any]]
    result_key: str | None = None
    absent: tuple[str, ...] = ()
    every: bool = False
    paginated: bool = False
    bulk_tags: BulkTags | None = None


@dataclass(frozen=True, slots=True)
class BulkTags:
    """A tag-listing detail that the Resource Groups Tagging API can replace: one paginated GetResources
    (ResourceTypeFilters=[resource_type]) per region instead of one call per held resource. `arn` gives
    a listed item's ARN (the context says the region and account where AWS leaves it out). A resource
    GetResources does not return has no tags; where GetResources is denied,
    the per-resource call is made instead."""

    resource_type: str
    arn: Callable[[Any, CollectContext], str]


Convert = Callable[[Any, Mapping[str, Any], "CollectContext"], dict[str, Any] | None]
"""converter(listed item, details by operation, context) -> the provider's attributes, or None when
the item holds no resource of the type (a repository without a policy)."""


@dataclass(frozen=True, slots=True)
class Listing:
    """How the generic collector lists a type: one (paginated) API call per region, shared by every
    type listing the same call, then the per-resource `details`, up to DETAIL_WORKERS at a time.

    operation: API name (DescribeLogGroups); result_key: the list in its answer; id_field: the key
    of an item holding the import id, or a function of the item; skip: items that are not resources
    of the type (a key pending deletion); held_only: only items a state holds are converted (a
    repository's policy: one detail call per repository would be needed to know the others).
    """

    operation: str
    result_key: str
    id_field: str | Callable[[Any], str]
    convert: Convert
    params: Mapping[str, Any] = field(default_factory=dict)
    details: tuple[Detail, ...] = ()
    paginated: bool = True
    skip: Callable[[Any], bool] | None = None
    held_only: bool = False

    def import_id(self, item: Any) -> str:
        return str(item[self.id_field]) if isinstance(self.id_field, str) else self.id_field(item)


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
    listing:    how the generic collector lists and converts the type (None: a collector function
                registered with @collector does it).
    calls:      API operations the collector makes besides its listing's (`Operation` in `service`,
                or `client:Operation`): with the listing's they make the type's IAM actions, from
                which the read-only policy in terraform/auditor is derived.
    deployer_owned: given a state resource and all state resources by type, attribute -> a function
                dropping the parts of its value a deployer rewrites on every deployment (a production
                listener's forward target groups and weights under CodeDeploy): applied to both
                sides, so the deployer's changes are never drift.
    tags_per_resource: why the type's tags are read by a per-resource call rather than in bulk by the
                Tagging API's GetResources (docs/tag-sources.md says it; required of every such type).
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
    listing: Listing | None = None
    calls: tuple[str, ...] = ()
    deployer_owned: Callable[[Resource, StateView], Mapping[str, Callable[[Any], Any]]] | None = None
    tags_per_resource: str = ""

    @property
    def operations(self) -> tuple[tuple[str, str], ...]:
        """(boto3 client name, API operation) of every call the type's collector may make."""
        ops = [(self.service, self.listing.operation)] if self.listing else []
        ops += [(self.service, d.operation) for d in (self.listing.details if self.listing else ())]
        if any(d.bulk_tags for d in (self.listing.details if self.listing else ())):
            ops.append(("resourcegroupstaggingapi", "GetResources"))
        ops += [tuple(c.split(":", 1)) if ":" in c else (self.service, c) for c in self.calls]  # type: ignore[misc]
        return tuple(dict.fromkeys(ops))

    @property
    def iam_actions(self) -> tuple[str, ...]:
        """The IAM actions reading this type needs."""
        return tuple(sorted({iam_action(service, op) for service, op in self.operations}))

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
