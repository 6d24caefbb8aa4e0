"""Turn parsed states into Resources: managed, current objects only, one per (type, import id)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from auditor.catalog import canonical_type, spec_for
from auditor.models import Origin, Resource
from auditor.state.model import LoadedState, StateInstance


@dataclass(frozen=True, slots=True)
class StateResources:
    """Every managed resource the states hold, merged across states.

    resources:   one Resource per (type, id); `source` is the first state (by URI) holding it.
    holders:     (type, id) -> every state URI holding it (a resource may sit in several states).
    unsupported: state instances of a type the auditor does not read (reported `not_covered`).
    unmatched:   instances with no usable import id (no `id` attribute): reported `unknown`.
    deposed_ids: (type, id) of deposed objects: real AWS resources Terraform will destroy, so
                 never reported unmanaged.
    """

    resources: tuple[Resource, ...]
    holders: dict[tuple[str, str], tuple[str, ...]]
    unsupported: tuple[Resource, ...]
    unmatched: tuple[Resource, ...]
    deposed_ids: frozenset[tuple[str, str]]


def region_of(instance: StateInstance, default_region: str | None) -> str | None:
    """The region a state resource lives in: its `region` attribute, its ARN, else the default."""
    attrs = instance.attributes
    region = attrs.get("region")
    if isinstance(region, str) and region:
        return region
    for key in ("arn", "id"):
        value = attrs.get(key)
        if isinstance(value, str) and value.startswith("arn:"):
            parts = value.split(":", 5)
            if len(parts) > 3 and parts[3]:
                return parts[3]
    return default_region


def to_resources(states: Sequence[LoadedState], default_region: str) -> StateResources:
    """Managed, current instances of every state as Resources keyed by Terraform import id."""
    merged: dict[tuple[str, str], Resource] = {}
    holders: dict[tuple[str, str], list[str]] = {}
    unsupported: dict[tuple[str, str], Resource] = {}
    unmatched: list[Resource] = []
    deposed: set[tuple[str, str]] = set()
    for loaded in sorted(states, key=lambda s: s.uri):
        provider_regions = _provider_regions(loaded.document.instances)
        for inst in loaded.document.instances:
            if not inst.managed:
                continue
            tf_type = canonical_type(inst.type)
            spec = spec_for(tf_type)
            import_id = spec.import_id(inst.attributes) if spec else _plain_id(inst)
            region = None if spec is not None and spec.global_service else (
                region_of(inst, provider_regions.get(inst.provider) or default_region))
            resource = Resource(type=tf_type, id=import_id or "", attributes=inst.attributes,
                                origin=Origin.STATE, region=region,
                                address=inst.address, source=loaded.uri, sensitive=bool(inst.sensitive_paths))
            if not import_id:
                unmatched.append(resource)
                continue
            key = (tf_type, import_id)
            if inst.deposed:
                deposed.add(key)
                continue
            holders.setdefault(key, [])
            if loaded.uri not in holders[key]:
                holders[key].append(loaded.uri)
            (merged if spec is not None else unsupported).setdefault(key, resource)
    return StateResources(
        resources=tuple(merged.values()),
        holders={k: tuple(v) for k, v in holders.items()},
        unsupported=tuple(unsupported.values()),
        unmatched=tuple(unmatched),
        deposed_ids=frozenset(deposed),
    )


def _provider_regions(instances: Sequence[StateInstance]) -> dict[str, str]:
    """Provider configuration -> the region most of its instances that name one are in (ties: the first
    by name): where its instances that name none (a lifecycle policy, a listener rule) live too."""
    counts: dict[str, Counter[str]] = {}
    for inst in instances:
        region = region_of(inst, None)
        if region:
            counts.setdefault(inst.provider, Counter())[region] += 1
    return {provider: min(found, key=lambda r: (-found[r], r)) for provider, found in counts.items()}


def _plain_id(inst: StateInstance) -> str | None:
    value = inst.attributes.get("id")
    return str(value) if value not in (None, "") else None
