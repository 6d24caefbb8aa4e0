"""Collectors described as data: one TypeSpec + one collect function per Terraform type.

A collector lists every resource of its type in one region with as few (paginated) calls as
AWS allows, and converts each AWS response into the hashicorp/aws provider's attribute names
and shapes. A collector raises on AWS errors; the runner turns that into `unknown`.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar

import botocore
import botocore.exceptions

from auditor.models import Origin, Resource

if TYPE_CHECKING:
    from auditor.aws import Aws

T = TypeVar("T")
R = TypeVar("R")

DETAIL_WORKERS = 8
"""Per-resource detail calls of one collector in flight at once (see CollectContext.each)."""

TYPE_ALIASES: Mapping[str, str] = {
    "aws_alb": "aws_lb", "aws_alb_listener": "aws_lb_listener", "aws_alb_target_group": "aws_lb_target_group",
    "aws_alb_listener_certificate": "aws_lb_listener_certificate", "aws_alb_listener_rule": "aws_lb_listener_rule",
    "aws_alb_target_group_attachment": "aws_lb_target_group_attachment",
}
"""The provider's older names of the same resource types (no collector module needs importing to know them)."""

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
    a listed item's ARN. A resource GetResources does not return has no tags; where GetResources is denied,
    the per-resource call is made instead."""

    resource_type: str
    arn: Callable[[Any], str]


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
    listing:    how the generic collector lists and converts the type (None: a collector function
                registered with @collector does it).
    calls:      API operations the collector makes besides its listing's (`Operation` in `service`,
                or `client:Operation`): with the listing's they make the type's IAM actions, from
                which the read-only policy in terraform/auditor is derived.
    deployer_owned: given a state resource and all state resources by type, attribute -> a function
                dropping the parts of its value a deployer rewrites on every deployment (a production
                listener's forward target groups and weights under CodeDeploy): applied to both
                sides, so the deployer's changes are never drift.
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
    mirrored: Callable[[Resource, StateView], frozenset[str]] | None = None
    covered: Callable[[Resource, StateView], bool] | None = None
    notes: str = ""
    listing: Listing | None = None
    calls: tuple[str, ...] = ()
    deployer_owned: Callable[[Resource, StateView], Mapping[str, Callable[[Any], Any]]] | None = None

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


class CollectContext:
    """What a collector gets: clients for one region, state hints, and a shared call cache.

    `wanted` maps a type to the import ids the states hold for it in this region, for the few
    types AWS cannot list in bulk; `state_attribute` reads what the state says of one of them
    (the task-definition revision a state holds is the one Terraform refreshes).
    `shared(key, fn)` runs `fn` once per region and hands every caller the same result, so
    two types fed by one API call (route tables and their associations) cost one call.
    """

    def __init__(self, aws: Aws, region: str, account_id: str,
                 wanted: Mapping[str, frozenset[str]] | None = None,
                 state_attributes: Mapping[tuple[str, str], Mapping[str, Any]] | None = None) -> None:
        self.aws = aws
        self.region = region
        self.account_id = account_id
        self.wanted: Mapping[str, frozenset[str]] = wanted or {}
        self._state_attributes = state_attributes or {}
        self._cache: dict[str, Any] = {}
        self._locks: dict[str, threading.Lock] = {}
        self._guard = threading.Lock()

    def client(self, service: str) -> Any:
        return self.aws.client(service, self.region)

    def state_attribute(self, tf_type: str, import_id: str, name: str) -> Any:
        """An attribute of the state object with this import id (e.g. the task-definition revision ARN)."""
        return self.state_attributes(tf_type, import_id).get(name)

    def state_attributes(self, tf_type: str, import_id: str) -> Mapping[str, Any]:
        """Everything the state says of the object with this import id (empty when it holds none)."""
        return self._state_attributes.get((tf_type, import_id), {})

    def each(self, fn: Callable[[T], R], items: Sequence[T]) -> list[R]:
        """`[fn(item) for item in items]`, up to DETAIL_WORKERS calls at a time: for the per-resource
        calls AWS has no batch form of (attributes of each target group). The first error raises."""
        if len(items) < 2:
            return [fn(item) for item in items]
        with ThreadPoolExecutor(max_workers=min(DETAIL_WORKERS, len(items)),
                                thread_name_prefix=f"detail-{self.region}") as pool:
            return list(pool.map(fn, items))

    def shared(self, key: str, fn: Callable[[], Any]) -> Any:
        with self._guard:
            lock = self._locks.setdefault(key, threading.Lock())
        with lock:
            if key not in self._cache:
                try:
                    self._cache[key] = ("ok", fn())
                except Exception as exc:  # remembered so every dependent type fails the same way
                    self._cache[key] = ("error", exc)
            status, value = self._cache[key]
        if status == "error":
            raise value
        return value

    def resource(self, spec: TypeSpec, import_id: str, attributes: dict[str, Any]) -> Resource:
        """Wrap converted attributes as a live Resource of this region."""
        return Resource(type=spec.type, id=import_id, attributes=attributes, origin=Origin.LIVE,
                        region=self.region, source=f"live:{self.region}")


CollectFn = Callable[[CollectContext], Iterable[Resource]]


@dataclass(frozen=True, slots=True)
class Collector:
    spec: TypeSpec
    collect: CollectFn


_REGISTRY: dict[str, Collector] = {}


def collector(spec: TypeSpec) -> Callable[[CollectFn], CollectFn]:
    """Register `fn` as the collector of `spec.type`."""

    def register(fn: CollectFn) -> CollectFn:
        if spec.type in _REGISTRY:
            raise ValueError(f"duplicate collector for {spec.type}")
        _REGISTRY[spec.type] = Collector(spec, fn)
        return fn

    return register


def register(spec: TypeSpec) -> CollectFn:
    """Register the generic collector (`collect_listed`) for a spec that declares its listing; returns it."""
    if spec.listing is None:
        raise ValueError(f"{spec.type} declares no listing")
    return collector(spec)(functools.partial(collect_listed, spec))


def listed(ctx: CollectContext, spec: TypeSpec) -> list[Any]:
    """The raw items of `spec`'s listing in ctx's region (the same shared call its collector makes):
    for a type that hangs off another one (a repository's lifecycle policy)."""
    listing = spec.listing
    assert listing is not None
    key = f"{spec.service}.{listing.operation}" + (f":{sorted(listing.params.items())}" if listing.params else "")
    items: list[Any] = ctx.shared(key, lambda: _list_all(ctx.client(spec.service), listing))
    return items


def collect_listed(spec: TypeSpec, ctx: CollectContext) -> Iterator[Resource]:
    """The generic collector: list the type once per region (paginated, shared), read the declared
    details of the resources a state holds (of every one for `every` details), convert each."""
    listing = spec.listing
    assert listing is not None
    client = ctx.client(spec.service)
    items = listed(ctx, spec)
    if listing.skip is not None:
        items = [item for item in items if not listing.skip(item)]
    wanted = ctx.wanted.get(spec.type, frozenset())
    if listing.held_only:
        items = [item for item in items if listing.import_id(item) in wanted]
    ids = [listing.import_id(item) for item in items]
    held_any = any(i in wanted for i in ids)
    bulk = {d.operation: (d.bulk_tags, tagged) for d in listing.details if d.bulk_tags and held_any
            and (tagged := tags_by_arn(ctx, d.bulk_tags.resource_type)) is not None}

    def details(position: int) -> dict[str, Any]:
        held = ids[position] in wanted
        out = {}
        for d in listing.details:
            if not (d.every or held):
                continue
            if d.operation in bulk:
                spec_tags, tagged = bulk[d.operation]
                out[d.operation] = tagged.get(spec_tags.arn(items[position]), [])
            else:
                out[d.operation] = _detail(client, d, items[position])
        return out

    read = [i for i in range(len(items)) if any(d.every for d in listing.details)
            or (listing.details and ids[i] in wanted)]
    answers = dict(zip(read, ctx.each(details, read), strict=True))
    for position, item in enumerate(items):
        attrs = listing.convert(item, answers.get(position, {}), ctx)
        if attrs is not None:
            yield ctx.resource(spec, ids[position], attrs)


def tags_by_arn(ctx: CollectContext, resource_type: str) -> Mapping[str, list[dict[str, str]]] | None:
    """ARN -> [{Key, Value}] of every tagged resource of `resource_type` (`cloudwatch:alarm`) in ctx's
    region, from the Tagging API's paginated GetResources (made once per region and type); None when
    the caller may not call it (the collector then asks each resource)."""
    def fetch() -> Mapping[str, list[dict[str, str]]] | None:
        tagging = ctx.client("resourcegroupstaggingapi")
        try:
            return {str(m["ResourceARN"]): list(m.get("Tags") or []) for m in paginate(
                tagging, "get_resources", "ResourceTagMappingList", ResourceTypeFilters=[resource_type],
                ResourcesPerPage=100)}
        except botocore.exceptions.ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in _ACCESS_DENIED:
                return None
            raise

    found: Mapping[str, list[dict[str, str]]] | None = ctx.shared(f"tag.GetResources:{resource_type}", fetch)
    return found


_ACCESS_DENIED = frozenset({"AccessDenied", "AccessDeniedException", "UnauthorizedOperation"})


def _list_all(client: Any, listing: Listing) -> list[Any]:
    method = botocore.xform_name(listing.operation)
    if listing.paginated:
        return list(paginate(client, method, listing.result_key, **listing.params))
    return list(getattr(client, method)(**listing.params).get(listing.result_key) or [])


def _detail(client: Any, detail: Detail, item: Any) -> Any:
    method = botocore.xform_name(detail.operation)
    try:
        if detail.paginated:
            return list(paginate(client, method, detail.result_key or "", **detail.params(item)))
        answer = getattr(client, method)(**detail.params(item))
    except botocore.exceptions.ClientError as exc:
        if detail.absent and exc.response.get("Error", {}).get("Code") in detail.absent:
            return None
        raise
    return answer.get(detail.result_key) if detail.result_key else answer


def canonical_type(tf_type: str) -> str:
    """aws_alb -> aws_lb, aws_alb_listener -> aws_lb_listener; other names unchanged."""
    return TYPE_ALIASES.get(tf_type, tf_type)


def registry() -> Mapping[str, Collector]:
    """Every registered collector by canonical type (importing the collector modules first)."""
    from auditor.inventory import load_collectors

    load_collectors()
    return _REGISTRY


def spec_for(tf_type: str) -> TypeSpec | None:
    coll = registry().get(canonical_type(tf_type))
    return coll.spec if coll else None


# --- helpers shared by the converters -------------------------------------------------------


def paginate(client: Any, operation: str, result_key: str, **kwargs: Any) -> Iterator[Any]:
    """Every item of `result_key` over all pages of a paginated operation."""
    for page in client.get_paginator(operation).paginate(**kwargs):
        yield from page.get(result_key, []) or []


def tags_dict(tags: Iterable[Mapping[str, Any]] | None, key: str = "Key", value: str = "Value") -> dict[str, str]:
    """AWS [{Key, Value}] (or {key, value}) -> Terraform's tags map."""
    return {str(t[key]): str(t.get(value, "")) for t in tags or []}


def chunks(items: list[Any], size: int) -> Iterator[list[Any]]:
    """Split `items` into lists of at most `size` (for batch describe calls)."""
    for start in range(0, len(items), size):
        yield items[start:start + size]


def with_tags(attrs: dict[str, Any], details: Mapping[str, Any], key: str = "ListTagsForResource") -> dict[str, Any]:
    """Add `tags`/`tags_all` from a tag-listing detail, when it was read ([{Key, Value}] or a map)."""
    if key in details:
        raw = details[key] or {}
        tags = {str(k): str(v) for k, v in raw.items()} if isinstance(raw, Mapping) else tags_dict(raw)
        attrs["tags"] = tags
        attrs["tags_all"] = dict(tags)
    return attrs


def managed_by(attribute: str, other_type: str, key: str) -> Callable[[Resource, StateView], frozenset[str]]:
    """A `mirrored` function: `attribute` is another resource's when a state holds an `other_type` whose
    `key` attribute names this resource (a topic's `policy` and aws_sns_topic_policy, as the provider
    reads the same document into both)."""
    def mirrored(res: Resource, view: StateView) -> frozenset[str]:
        names = {str(res.id), str(res.attributes.get("arn", "")), str(res.attributes.get("url", ""))} - {""}
        held = any(str(other.attributes.get(key, "")) in names for other in view.get(other_type, ()))
        return frozenset({attribute}) if held else frozenset()

    return mirrored
