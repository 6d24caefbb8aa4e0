"""Legacy state formats: the version 3 -> 4 upgrade, and flatmap attributes.

`upgrade_v3` turns a parsed version 3 state into the version 4 JSON document Terraform's own
in-memory upgrade produces (as `terraform state pull` would write it): resources regrouped from
`type.name.N` instance keys, `each: "list"` for counted resources, schema versions promoted from
`meta.schema_version`, the rest of `meta` kept as base64 `private`, tainted -> `status`, deposed
objects given sequential keys `00000001`..., legacy provider strings, output types implied from
their values, resources and instances sorted the way Terraform writes them.

`unflatten` turns legacy flatmap attributes (`attributes_flat`, `{"tags.%": "1", "tags.Name": "x"}`)
into nested values without a provider schema: `.#` marks a list (or set), `.%` a map (whose keys
may contain dots), other dotted keys nested objects. Every leaf stays a string, because only the
schema knows which strings were numbers or booleans.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping
from typing import Any

from auditor.state.address import ModulePath, ModuleStep, format_module, is_identifier

UNKNOWN_FLATMAP_VALUE = "74D93920-ED26-11E3-AC10-0800200C9A66"
"""What pre-0.12 Terraform stored for a value not known yet."""


class UpgradeError(ValueError):
    """A version 3 state that cannot be upgraded (one-line message)."""


# --------------------------------------------------------------------------------------------
# flatmap


MAX_FLATMAP_DEPTH = 100
"""Most dotted segments in one flatmap key (the rebuild recurses once per segment)."""


def unflatten(flat: Mapping[str, str]) -> dict[str, Any]:
    """Nested attribute values from a flatmap (see the module docstring for the rules)."""
    if any(key.count(".") >= MAX_FLATMAP_DEPTH for key in flat):
        raise UpgradeError(f"a flatmap attribute key has more than {MAX_FLATMAP_DEPTH} dotted parts")
    return _build_object(list(flat.items()))


def _group(items: list[tuple[str, Any]]) -> dict[str, list[tuple[str, Any]]]:
    groups: dict[str, list[tuple[str, Any]]] = {}
    for key, value in items:
        head, dot, rest = key.partition(".")
        groups.setdefault(head, []).append((rest if dot else "", value))
    return groups


def _build_object(items: list[tuple[str, Any]]) -> dict[str, Any]:
    return {name: _build(sub) for name, sub in _group(items).items()}


def _build(items: list[tuple[str, Any]]) -> Any:
    keys = {key for key, _ in items}
    if "" in keys and len(items) == 1:
        return items[0][1]
    if "%" in keys:
        count = dict(items)["%"]
        if count == UNKNOWN_FLATMAP_VALUE:
            return None
        return {key: value for key, value in items if key not in ("%", "")}
    if "#" in keys:
        count = dict(items)["#"]
        if count == UNKNOWN_FLATMAP_VALUE:
            return None
        groups = _group([(k, v) for k, v in items if k not in ("#", "")])
        order = sorted(groups, key=lambda i: (0, int(i), "") if i.isascii() and i.isdigit() else (1, 0, i))
        return [_build(groups[index]) for index in order]
    return _build_object([(k, v) for k, v in items if k != ""])


# --------------------------------------------------------------------------------------------
# versions 1 and 2


def upgrade_v1(raw: Mapping[str, Any]) -> dict[str, Any]:
    """The version 3 document for a parsed version 1 or 2 state, as Terraform's upgrades write it: outputs
    (plain strings in version 1) become typed string outputs, a resource's first `tainted` object becomes
    its tainted primary, `tfversion` becomes `terraform_version`, and a missing lineage stays empty."""
    modules = raw.get("modules") or []
    if not isinstance(modules, list):
        raise UpgradeError("modules must be a list")
    upgraded = []
    for module in modules:
        if not isinstance(module, dict):
            raise UpgradeError("each module must be an object")
        outputs = module.get("outputs") or {}
        if not isinstance(outputs, dict):
            raise UpgradeError("module outputs must be an object")
        resources = module.get("resources") or {}
        if not isinstance(resources, dict):
            raise UpgradeError("module resources must be an object")
        upgraded.append({**module,
                         "outputs": {k: v if isinstance(v, dict) else {"sensitive": False, "type": "string", "value": v}
                                     for k, v in outputs.items()},
                         "resources": {k: _untaint(v) for k, v in resources.items()}})
    return {**raw, "version": 3, "modules": upgraded, "lineage": raw.get("lineage") or "",
            "terraform_version": raw.get("terraform_version") or raw.get("tfversion") or "0.0.0"}


def _untaint(resource: Any) -> Any:
    """A version 1 resource: its `tainted` list's first object is the primary, marked tainted; map
    counts in its flatmap attributes (`triggers.#` over named keys) become `triggers.%`."""
    if not isinstance(resource, dict):
        return resource
    tainted = resource.get("tainted") or []
    out = {k: v for k, v in resource.items() if k != "tainted"}
    if out.get("primary") is None and isinstance(tainted, list) and tainted and isinstance(tainted[0], dict):
        out["primary"] = {**tainted[0], "tainted": True}
    if isinstance(out.get("primary"), dict) and isinstance(out["primary"].get("attributes"), dict):
        out["primary"] = {**out["primary"], "attributes": _map_counts(out["primary"]["attributes"])}
    return out


def _map_counts(flat: dict[str, Any]) -> dict[str, Any]:
    """Version 1 counted maps with `.#` like lists; version 2 counts them with `.%`."""
    out = dict(flat)
    for key in flat:
        if not key.endswith(".#"):
            continue
        prefix = key[:-1]
        members = [k[len(prefix):].split(".", 1)[0] for k in flat if k.startswith(prefix) and k != key]
        if members and not all(m.isdigit() for m in members):
            out[key[:-1] + "%"] = out.pop(key)
    return out


# version 3


def upgrade_v3(raw: Mapping[str, Any]) -> dict[str, Any]:
    """The version 4 document for a parsed version 3 state (raises UpgradeError)."""
    serial = raw.get("serial", 0)
    if type(serial) is not int:
        raise UpgradeError("serial must be a whole number")
    if serial < 0:
        raise UpgradeError("state has a negative serial")
    version = raw.get("terraform_version") or "0.0.0"
    lineage = raw.get("lineage", "")
    if not isinstance(version, str) or not isinstance(lineage, str):
        raise UpgradeError("terraform_version and lineage must be strings")
    modules = raw.get("modules") or []
    if not isinstance(modules, list):
        raise UpgradeError("modules must be a list")
    resources: list[dict[str, Any]] = []
    outputs: dict[str, Any] = {}
    for module in modules:
        if not isinstance(module, dict):
            raise UpgradeError("each module must be an object")
        path = _module_path(module.get("path"))
        resources.extend(_module_resources(path, module.get("resources") or {}))
        if not path:
            outputs = _outputs(module.get("outputs") or {})
    resources.sort(key=lambda r: (r.get("module", ""), r["mode"], r["type"], r["name"]))
    for resource in resources:
        resource["instances"].sort(key=_instance_order)
    return {
        "version": 4,
        "terraform_version": version,
        "serial": serial,
        "lineage": lineage,
        "outputs": outputs,
        "resources": resources,
    }


def _module_path(path: Any) -> ModulePath:
    if not isinstance(path, list) or not path or path[0] != "root" or not all(isinstance(p, str) for p in path):
        raise UpgradeError('a module has an invalid path (it must be a list starting with "root")')
    steps = []
    for name in path[1:]:
        if not is_identifier(name):
            raise UpgradeError(f"module path contains {name[:60]!r}, which is not a valid module name")
        steps.append(ModuleStep(name))
    return tuple(steps)


def _legacy_key(key: str) -> tuple[str, str, str, int | None]:
    """`type.name`, `type.name.N`, `data.type.name[.N]` -> (mode, type, name, index)."""
    parts = key.split(".")
    mode = "managed"
    if len(parts) > 2 and parts[0] == "data":
        mode = "data"
        parts = parts[1:]
    if len(parts) not in (2, 3) or not all(is_identifier(p) for p in parts[:2]):
        raise UpgradeError(f"invalid resource key {key[:80]!r} in a version 3 state")
    index: int | None = None
    if len(parts) == 3:
        if not parts[2].isdigit():
            raise UpgradeError(f"invalid instance index in resource key {key[:80]!r}")
        index = int(parts[2])
    return mode, parts[0], parts[1], index


def _module_resources(path: ModulePath, entries: Any) -> list[dict[str, Any]]:
    if not isinstance(entries, dict):
        raise UpgradeError("module resources must be an object")
    module = format_module(path)
    by_resource: dict[tuple[str, str, str], dict[str, Any]] = {}
    for key, old in entries.items():
        mode, type_, name, index = _legacy_key(key)
        if not isinstance(old, dict):
            raise UpgradeError(f"resource {key[:80]!r} must be an object")
        resource = by_resource.get((mode, type_, name))
        if resource is None:
            resource = {
                "mode": mode,
                "type": type_,
                "name": name,
                "provider": _legacy_provider(old.get("provider"), path, type_),
                "instances": [],
            }
            if module:
                resource = {"module": module, **resource}
            by_resource[(mode, type_, name)] = resource
        depends_on = old.get("depends_on") or []
        if not isinstance(depends_on, list) or not all(isinstance(d, str) for d in depends_on):
            raise UpgradeError(f"depends_on of {key[:80]!r} must be a list of strings")
        primary = old.get("primary")
        if primary is not None:
            resource["instances"].append(_instance(primary, index, None, depends_on, key))
        deposed = old.get("deposed") or []
        if not isinstance(deposed, list):
            raise UpgradeError(f"deposed of {key[:80]!r} must be a list")
        for number, obj in enumerate(deposed, start=1):
            resource["instances"].append(_instance(obj, index, f"{number:08x}", depends_on, key))
        if index is not None:
            resource["each"] = "list"
    for resource in by_resource.values():
        if "each" in resource:  # keep Terraform's key order: each comes before provider
            each = resource.pop("each")
            provider = resource.pop("provider")
            instances = resource.pop("instances")
            resource.update(each=each, provider=provider, instances=instances)
    return list(by_resource.values())


def _legacy_provider(old: Any, path: ModulePath, type_: str) -> str:
    """The legacy provider string Terraform's upgrade writes (`provider.aws`, `module.x.provider.aws`)."""
    if old is not None and not isinstance(old, str):
        raise UpgradeError("a resource provider must be a string")
    if old and "provider." in old:
        return old  # already absolute; the version 4 reader normalizes it
    prefix = "".join(f"module.{step.name}." for step in path)
    if old:
        local, _, alias = old.partition(".")
        if not is_identifier(local) or (alias and not is_identifier(alias)):
            raise UpgradeError(f"invalid legacy provider reference {old[:80]!r}")
        return f"{prefix}provider.{local}" + (f".{alias}" if alias else "")
    return f"{prefix}provider.{type_.split('_', 1)[0]}"


def _instance(old: Any, index: int | None, deposed: str | None, depends_on: list[str], key: str) -> dict[str, Any]:
    if not isinstance(old, dict):
        raise UpgradeError(f"an instance of {key[:80]!r} must be an object")
    attributes = old.get("attributes")
    if attributes is not None and (
        not isinstance(attributes, dict) or not all(isinstance(v, str) for v in attributes.values())
    ):
        raise UpgradeError(f"attributes of {key[:80]!r} must be an object of strings")
    attributes = dict(attributes) if attributes is not None else None
    first_class_id = old.get("id")
    if isinstance(first_class_id, str) and first_class_id:
        attributes = attributes if attributes is not None else {}
        if not attributes.get("id"):
            attributes["id"] = first_class_id
    meta = old.get("meta") or {}
    if not isinstance(meta, dict):
        raise UpgradeError(f"meta of {key[:80]!r} must be an object")
    schema_version, private = _schema_version_and_private(meta)
    obj: dict[str, Any] = {}
    if index is not None:
        obj["index_key"] = index
    if old.get("tainted") is True:
        obj["status"] = "tainted"
    if deposed:
        obj["deposed"] = deposed
    obj["schema_version"] = schema_version
    if attributes is not None:
        obj["attributes_flat"] = attributes
    if private:
        obj["private"] = private
    if depends_on:
        obj["depends_on"] = list(depends_on)
    return obj


def _schema_version_and_private(meta: dict[str, Any]) -> tuple[int, str | None]:
    raw = meta.get("schema_version")
    version: int | None = None
    if isinstance(raw, str) and raw.isdigit():
        version = int(raw)
    elif type(raw) is int and raw >= 0:
        version = raw
    elif isinstance(raw, float) and raw >= 0 and raw.is_integer():
        version = int(raw)
    rest = {k: v for k, v in meta.items() if not (k == "schema_version" and version is not None)}
    private = base64.b64encode(_go_json(rest).encode()).decode() if rest else None
    return version or 0, private


def _go_json(value: Any) -> str:
    """Compact JSON with sorted keys and HTML-safe escapes, as Go's encoding/json writes it."""
    text = json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    for char, escape in (
        ("<", "\\u003c"),
        (">", "\\u003e"),
        ("&", "\\u0026"),
        ("\u2028", "\\u2028"),
        ("\u2029", "\\u2029"),
    ):
        text = text.replace(char, escape)
    return text


def _instance_order(obj: dict[str, Any]) -> tuple[int, int, str, str]:
    key = obj.get("index_key")
    rank = (0, 0, "") if key is None else (1, key, "") if isinstance(key, int) else (2, 0, str(key))
    return (*rank, obj.get("deposed", ""))


def _outputs(entries: Any) -> dict[str, Any]:
    if not isinstance(entries, dict):
        raise UpgradeError("module outputs must be an object")
    outputs: dict[str, Any] = {}
    for name, old in entries.items():
        if not isinstance(old, dict):
            raise UpgradeError(f"output {name[:60]!r} must be an object")
        new: dict[str, Any] = {
            "value": old.get("value"),
            "type": simplify_type(implied_type(old.get("value"))),
        }
        if old.get("sensitive") is True:
            new["sensitive"] = True
        outputs[name] = new
    return outputs


def implied_type(value: Any) -> Any:
    """The cty type (in its JSON form) that Terraform infers for a JSON value."""
    if value is None:
        return "dynamic"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return ["tuple", [implied_type(v) for v in value]]
    if isinstance(value, dict):
        return ["object", {k: implied_type(v) for k, v in value.items()}]
    return "number"  # Decimal from an exact parse


def simplify_type(type_: Any) -> Any:
    """Homogeneous tuples become lists and homogeneous objects maps (pre-0.12 had no others)."""
    if isinstance(type_, list) and type_[0] == "tuple":
        elements = type_[1]
        if not elements or any(e != elements[0] for e in elements[1:]):
            return type_
        return ["list", simplify_type(elements[0])]
    if isinstance(type_, list) and type_[0] == "object":
        attributes = list(type_[1].values())
        if not attributes or any(a != attributes[0] for a in attributes[1:]):
            return type_
        return ["map", simplify_type(attributes[0])]
    return type_
