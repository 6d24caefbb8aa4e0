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
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

import botocore
import botocore.exceptions

from auditor.catalog import Detail, Listing, StateView, TypeSpec
from auditor.models import Origin, Resource

if TYPE_CHECKING:
    from auditor.aws import Aws

T = TypeVar("T")
R = TypeVar("R")

DETAIL_WORKERS = 8
"""Per-resource detail calls of one collector in flight at once (see CollectContext.each)."""

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
                out[d.operation] = tagged.get(spec_tags.arn(items[position], ctx), [])
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


def held_tags(ctx: CollectContext, resource_type: str, arn: str,
              ask: Callable[[str], Mapping[str, str]]) -> dict[str, str]:
    """Tags of one held resource, for a collector with its own loop: from the region's GetResources listing
    of `resource_type` (absent from it: no tags), or by `ask(arn)` (its own tag call) where that is denied."""
    tagged = tags_by_arn(ctx, resource_type)
    return dict(ask(arn)) if tagged is None else tags_dict(tagged.get(arn))


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


def registry() -> Mapping[str, Collector]:
    """Every registered collector by canonical type (importing the collector modules first)."""
    from auditor.inventory import load_collectors

    load_collectors()
    return _REGISTRY



# --- helpers shared by the converters -------------------------------------------------------


def paginate(client: Any, operation: str, result_key: str, **kwargs: Any) -> Iterator[Any]:
    """Every item of `result_key` over all pages of a paginated operation."""
    for page in client.get_paginator(operation).paginate(**kwargs):
        yield from page.get(result_key, []) or []


def tags_dict(tags: Iterable[Mapping[str, Any]] | None, key: str = "Key", value: str = "Value") -> dict[str, str]:
    """AWS [{Key, Value}] (or {key, value}) -> Terraform's tags map."""
    return {str(t[key]): str(t.get(value, "")) for t in tags or []}


def one_block(value: Mapping[str, Any] | None, fields: Mapping[str, str], default: Any = "") -> list[dict[str, Any]]:
    """An optional AWS structure as the provider's one-element block: AWS key -> attribute for each of
    `fields` (`default` for a key AWS leaves out), [] when AWS has no such structure."""
    if not value:
        return []
    return [{tf: value.get(key, default) for key, tf in fields.items()}]


def moto_lacks(resource_type: str, but: str = "") -> str:
    """A `tags_per_resource` reason: AWS's GetResources lists `resource_type`, the embedded AWS's does not."""
    return (f"AWS's GetResources lists `{resource_type}`, but moto's does not{but}, and the conformance suite "
            "applies real Terraform on moto: a bulk read there would report every held resource's tags as removed")


def arn_partition(region: str) -> str:
    """The ARN partition of a region (cn-north-1 -> aws-cn, us-gov-west-1 -> aws-us-gov, else aws)."""
    return "aws-cn" if region.startswith("cn-") else "aws-us-gov" if region.startswith("us-gov-") else "aws"


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
