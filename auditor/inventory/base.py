"""Collectors described as data: one TypeSpec + one collect function per Terraform type.

A collector lists every resource of its type in one region with as few (paginated) calls as
AWS allows, and converts each AWS response into the hashicorp/aws provider's attribute names
and shapes. A collector raises on AWS errors; the runner turns that into `unknown`.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

from auditor.catalog import TypeSpec
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


def chunks(items: list[Any], size: int) -> Iterator[list[Any]]:
    """Split `items` into lists of at most `size` (for batch describe calls)."""
    for start in range(0, len(items), size):
        yield items[start:start + size]
