"""Terraform-compatible views of a parsed state: `terraform show -json` and `terraform state list`.

`to_show_json` follows Terraform's `jsonstate` package: format_version "1.0", root outputs, the
root module's resources and nested `child_modules` (sorted by address), resources ordered data
before managed, then type, name and instance key, deposed objects after the current one with
their `deposed_key`, `sensitive_values` mirroring each value with `true` at sensitive leaves.

It differs from Terraform only where Terraform consults the provider schema (listed in
docs/state-formats.md): `values` holds the attributes the state holds (Terraform adds the
schema's missing attributes as null and decodes flatmap attributes with their real types),
`sensitive_values` knows the sensitive paths the state records plus the redacted secret names
(not attributes that only the schema marks sensitive), and redacted values read
"(sensitive value)" where Terraform prints the secret.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Mapping, Sequence
from decimal import Decimal
from typing import Any

import orjson

from auditor.state.address import (
    ModulePath,
    format_module,
    key_order,
    module_order,
    parse_module,
    parse_provider_config,
)
from auditor.state.model import PathStep, StateDocument, StateInstance
from auditor.state.parse import gc_paused

FORMAT_VERSION = "1.0"


def state_list(doc: StateDocument) -> list[str]:
    """Instance addresses (managed and data), sorted as `terraform state list` prints them."""
    ordered = sorted(doc.instances, key=_instance_order)
    addresses: list[str] = []
    for inst in ordered:
        if not addresses or addresses[-1] != inst.address:
            addresses.append(inst.address)
    return addresses


def to_show_json(doc: StateDocument) -> dict[str, Any]:
    """The `terraform show -json` document of a state (secrets stay redacted)."""
    with gc_paused():
        return _show_json(doc)


def _show_json(doc: StateDocument) -> dict[str, Any]:
    out: dict[str, Any] = {"format_version": FORMAT_VERSION}
    if not doc.instances and not doc.outputs:
        return out  # Terraform prints only the format version for an empty state
    if doc.terraform_version:
        out["terraform_version"] = doc.terraform_version
    values: dict[str, Any] = {}
    if doc.outputs:
        values["outputs"] = {
            name: {"sensitive": o.sensitive, "value": json_safe(o.value), "type": o.type}
            for name, o in sorted(doc.outputs.items())
        }
    grouped = _by_module(doc.instances)
    values["root_module"] = _module_json((), grouped, _module_tree(grouped))
    out["values"] = values
    return out


def json_safe(value: Any) -> Any:
    """A copy of `value` orjson serializes exactly: Decimals and integers beyond 64 bits (which the
    exact-number reader produces) become raw JSON number fragments."""
    kind = type(value)
    if kind is dict:
        return {k: json_safe(v) for k, v in value.items()}
    if kind is list:
        return [json_safe(v) for v in value]
    if kind is Decimal or (kind is int and not -(2**63) <= value < 2**64):
        return _number(value)
    return value


def json_default(value: Any) -> Any:
    """orjson `default=` hook for exact Decimals (integers beyond 64 bits need `json_safe`)."""
    if isinstance(value, Decimal):
        return _number(value)
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


def _number(value: Decimal | int) -> orjson.Fragment:
    return orjson.Fragment(str(value).encode())


def sensitive_values(value: Any, paths: Sequence[Sequence[PathStep]]) -> Any:
    """Terraform's `sensitive_values`: `value`'s shape, `true` where sensitive, non-sensitive
    object and map entries omitted, list elements kept as `false`."""
    trie: dict[Any, Any] = {}
    for path in paths:
        node = trie
        for step in path:
            node = node.setdefault(_step_key(step), {})
        node[_SENSITIVE] = True
    result = _mirror(value, trie)
    return {} if result is False else result


_SENSITIVE = object()


def _step_key(step: PathStep) -> tuple[type, PathStep]:
    return (type(step), step)


def _mirror(value: Any, node: dict[Any, Any]) -> Any:
    if node.get(_SENSITIVE):
        return True
    kind = type(value)
    if kind is dict:
        out = {}
        for key, item in value.items():
            below = node.get((str, key))
            mirrored = _mirror(item, below) if below is not None else _shape(item)
            if mirrored is not False:
                out[key] = mirrored
        return out
    if kind is list:
        return [
            _mirror(item, below) if (below := node.get((int, i))) is not None else _shape(item)
            for i, item in enumerate(value)
        ]
    return False


def _shape(value: Any) -> Any:
    """_mirror below the last sensitive path: containers keep their shape, leaves are false."""
    kind = type(value)
    if kind is dict:
        out = {}
        for key, item in value.items():
            kind = type(item)
            if kind is dict or kind is list:
                out[key] = _shape(item)
        return out
    if kind is list:
        return [_shape(item) for item in value]
    return False


# --------------------------------------------------------------------------------------------


@functools.lru_cache(maxsize=4096)
def _parse_module_cached(text: str) -> ModulePath:
    return parse_module(text)


@functools.lru_cache(maxsize=256)
def _provider_name(provider: str) -> str:
    return parse_provider_config(provider).provider


def _module_path(inst: StateInstance) -> ModulePath:
    return _parse_module_cached(inst.module or "")


def _instance_order(inst: StateInstance) -> tuple[Any, ...]:
    return (
        module_order(_module_path(inst)),
        0 if inst.mode == "data" else 1,
        inst.type,
        inst.name,
        key_order(inst.index_key),
        inst.deposed or "",
    )


def _by_module(instances: Sequence[StateInstance]) -> dict[ModulePath, list[StateInstance]]:
    grouped: dict[ModulePath, list[StateInstance]] = {}
    for inst in instances:
        grouped.setdefault(_module_path(inst), []).append(inst)
    return grouped


def _module_json(
    path: ModulePath,
    grouped: Mapping[ModulePath, list[StateInstance]],
    children: Mapping[ModulePath, set[ModulePath]],
) -> dict[str, Any]:
    module: dict[str, Any] = {}
    resources = [_resource_json(inst) for inst in sorted(grouped.get(path, ()), key=_instance_order)]
    if resources:
        module["resources"] = resources
    if path:
        module["address"] = format_module(path)
    if path in children:
        modules = [_module_json(child, grouped, children) for child in children[path]]
        module["child_modules"] = sorted(modules, key=lambda m: m["address"])
    return module


def _module_tree(paths: Iterable[ModulePath]) -> dict[ModulePath, set[ModulePath]]:
    """parent -> child module paths, including modules that hold only modules."""
    children: dict[ModulePath, set[ModulePath]] = {}
    for path in paths:
        for depth in range(len(path), 0, -1):
            parent, child = path[: depth - 1], path[:depth]
            siblings = children.setdefault(parent, set())
            if child in siblings:
                break
            siblings.add(child)
    return children


def _resource_json(inst: StateInstance) -> dict[str, Any]:
    entry: dict[str, Any] = {"address": inst.address, "mode": inst.mode, "type": inst.type, "name": inst.name}
    if inst.index_key is not None:
        entry["index"] = inst.index_key
    entry["provider_name"] = _provider_name(inst.provider)
    entry["schema_version"] = 0 if inst.deposed else inst.schema_version  # as Terraform: deposed get 0
    if inst.attributes:
        entry["values"] = json_safe(dict(inst.attributes))
    entry["sensitive_values"] = sensitive_values(inst.attributes, inst.sensitive_paths)
    if inst.dependencies:
        entry["depends_on"] = list(inst.dependencies)
    if inst.tainted:
        entry["tainted"] = True
    if inst.deposed:
        entry["deposed_key"] = inst.deposed
    if inst.identity:
        entry["identity"] = json_safe(dict(inst.identity))
        if inst.identity_schema_version is not None:
            entry["identity_schema_version"] = inst.identity_schema_version
    return entry
