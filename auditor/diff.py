"""State versus live: one Drift per resource (in_sync, changed, missing, unmanaged, unknown, not_covered).

Only the attributes a type's converter really produces are compared (TypeSpec.compared, tags,
json_attributes). Both sides are normalized first so Terraform's own noise is not drift:
null, "", false, [] and {} are the same absence; Terraform sets are sorted; JSON documents are compared
as data. Equal normalized values short-circuit, so DeepDiff runs only on real differences.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from auditor import catalog
from auditor.catalog import TypeSpec
from auditor.ignore import IgnoreRules
from auditor.models import AttributeChange, Drift, DriftKind, Inventory, Resource
from auditor.state.model import REDACTED, SENSITIVE_CHANGED, Sealed
from auditor.state.redact import fingerprint
from auditor.state.resources import StateResources

Path = tuple[str | int, ...]


# --- normalization --------------------------------------------------------------------------


def normalize(value: Any) -> Any:
    """Drop absences recursively: None, "", false, [] and {} all become None; keys with None vanish.

    An optional flag the configuration leaves unset is null in state and AWS reads it back as its
    default, false: the same value spelled twice, which Terraform does not call drift either.
    """
    if value is False:
        return None
    if isinstance(value, Mapping):
        out = {str(k): v for k, v in ((k, normalize(v)) for k, v in value.items()) if v is not None}
        return out or None
    if isinstance(value, list | tuple):
        items = [normalize(v) for v in value]
        return items if any(v is not None for v in items) else None
    if value == "":
        return None
    return value


def _canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, default=str)


def _parse_json_document(value: Any) -> Any:
    if isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


def _sort_sets(value: Any, pattern: Sequence[str]) -> Any:
    """Sort the list found at `pattern` (`*` steps into every list element) inside `value`."""
    if value is None:
        return None
    if not pattern:
        if isinstance(value, list):
            return sorted(value, key=_canonical)
        return value
    head, rest = pattern[0], pattern[1:]
    if head == "*" and isinstance(value, list):
        return [_sort_sets(v, rest) for v in value]
    if isinstance(value, dict) and head in value:
        return {**value, head: _sort_sets(value[head], rest)}
    return value


def comparable(spec: TypeSpec, attributes: Mapping[str, Any], skip: Iterable[str] = ()) -> dict[str, Any]:
    """The normalized, compared projection of a resource's attributes."""
    skipped = set(skip)
    out: dict[str, Any] = {}
    for name in spec.compared:
        if name in skipped or name not in attributes:
            continue
        value = attributes[name]
        if name in spec.normalizers:
            value = spec.normalizers[name](value)
        if name in spec.json_attributes:
            value = _parse_json_document(value)
        out[name] = normalize(value)
    for set_path in sorted(spec.set_paths, key=lambda p: -p.count(".")):
        steps = set_path.split(".")
        if steps[0] in out:
            out[steps[0]] = _sort_sets(out[steps[0]], steps[1:]) if len(steps) > 1 else _sort_sets(
                out[steps[0]], ())
    return out


def mask_like(live: Any, state: Any) -> Any:
    """`live` with every value the state has redacted replaced by the same marker.

    The live value there is a secret too: it never reaches a report. A sealed state value (see
    auditor.state.redact.seal) is compared by fingerprint: the same secret shows as REDACTED on both
    sides, a different one as SENSITIVE_CHANGED; an unsealed one cannot be compared and shows REDACTED.
    """
    if isinstance(state, Sealed) and "" in state.parts:  # compared by fingerprint, shown masked either way
        seen = live.parts[""] if isinstance(live, Sealed) and "" in live.parts else fingerprint(live)  # masked already
        return state if seen == state.parts[""] else SENSITIVE_CHANGED
    if state == REDACTED:
        return REDACTED
    if isinstance(state, Mapping) and isinstance(live, Mapping):
        return {k: mask_like(v, state[k]) if k in state else v for k, v in live.items()}
    if isinstance(state, list | tuple) and isinstance(live, list | tuple):
        return [mask_like(v, state[i]) if i < len(state) else v for i, v in enumerate(live)]
    return live


def _tags(attributes: Mapping[str, Any], *, state: bool) -> dict[str, str]:
    tags = attributes.get("tags_all") if state else attributes.get("tags")
    if tags is None and state:
        tags = attributes.get("tags")
    return {str(k): v if isinstance(v, Sealed) else str(v) for k, v in (tags or {}).items()}


# --- paths ----------------------------------------------------------------------------------


def render_path(path: Path) -> str:
    """('health_check', 0, 'path') -> 'health_check[0].path'; ('tags', 'Env') -> 'tags.Env'."""
    out = ""
    for step in path:
        if isinstance(step, int):
            out += f"[{step}]"
        else:
            out += f".{step}" if out else str(step)
    return out


def _collapse(path: Path, set_paths: Sequence[Sequence[str]]) -> Path:
    """Cut a path at the first Terraform set it enters: set elements have no stable index."""
    for pattern in set_paths:
        if len(path) < len(pattern):
            continue
        if all((p == "*" and isinstance(s, int)) or p == s for p, s in zip(pattern, path, strict=False)):
            return path[: len(pattern)]
    return path


def _lookup(value: Any, path: Path) -> Any:
    for step in path:
        if isinstance(step, int) and isinstance(value, list) and 0 <= step < len(value):
            value = value[step]
        elif isinstance(step, str) and isinstance(value, dict):
            value = value.get(step)
        else:
            return None
    return value


def _shown(normalized: Any, raw: Mapping[str, Any], path: Path, spec: TypeSpec) -> Any:
    """The value to report at `path`: the normalized one, or what the side really holds where
    normalization made it an absence (a false flag is reported as false, not null)."""
    value = _lookup(normalized, path)
    if value is not None or not path or not isinstance(path[0], str):
        return value
    top = raw.get(path[0])
    if path[0] in spec.json_attributes:
        top = _parse_json_document(top)
    return _lookup(top, path[1:])


def attribute_changes(spec: TypeSpec, state: Mapping[str, Any], live: Mapping[str, Any],
                      skip: Iterable[str] = (), *, redacted: bool = False) -> list[AttributeChange]:
    """Every compared attribute path whose normalized state and live values differ.

    `redacted`: the state had values redacted at read; the live values there are masked alike.
    """
    # An attribute the state lacks entirely was unknown to the provider version that wrote it.
    skipped = set(skip) | {a for a in spec.optional_live if a not in live} | {
        a for a in spec.compared if a not in state}
    if redacted:
        live = mask_like(live, state)
    changes: list[AttributeChange] = []
    # Identical raw values normalize identically: most in-sync pairs stop here, unnormalized.
    same = all(state.get(a) == live.get(a) for a in spec.compared if a not in skipped)
    left, right = ({}, {}) if same else (comparable(spec, state, skipped), comparable(spec, live, skipped))
    if left != right:
        set_patterns = sorted((p.split(".") for p in spec.set_paths), key=len)
        seen: set[Path] = set()
        from deepdiff import DeepDiff  # imported on the first real difference: a clean audit never needs it

        tree = DeepDiff(left, right, verbose_level=2, view="tree")
        for report in tree.values():
            for level in report:
                raw = tuple(level.path(output_format="list"))
                path = _collapse(raw, set_patterns)
                if path in seen:
                    continue
                seen.add(path)
                changes.append(AttributeChange(render_path(path), _shown(left, state, path, spec),
                                               _shown(right, live, path, spec)))
    for name in spec.compared:  # secrets hidden inside a value (a task definition's environment)
        if name in skipped:
            continue
        hidden, seen_live = getattr(state.get(name), "parts", {}), getattr(live.get(name), "parts", {})
        for part in sorted((hidden.keys() | seen_live.keys()) - {""}):
            if hidden.get(part) != seen_live.get(part):
                changes.append(AttributeChange(f"{name}{part}", REDACTED if part in hidden else None,
                                               SENSITIVE_CHANGED if part in seen_live else None))
    if spec.tags and "tags" not in skipped:
        state_tags, live_tags = _tags(state, state=True), _tags(live, state=False)
        live_tags = {k: mask_like(v, state_tags[k]) if state_tags.get(k) == REDACTED else v
                     for k, v in live_tags.items()}
        for key in sorted(state_tags.keys() | live_tags.keys()):
            if state_tags.get(key) != live_tags.get(key):
                changes.append(AttributeChange(f"tags.{key}", state_tags.get(key), live_tags.get(key)))
    return sorted(changes, key=lambda c: c.path)


# --- the diff -------------------------------------------------------------------------------


def diff(state: StateResources, inventory: Inventory, ignore: IgnoreRules | None = None,
         unmanaged_doubt: str | None = None) -> list[Drift]:
    """Compare every state resource with its live twin and list live resources no state manages.

    `unmanaged_doubt`: why unmanaged cannot be claimed (a state could not be read, so a live
    resource may belong to it); such resources are then `unknown` with that reason.
    """
    return diff_managed(state, inventory, ignore) + unmanaged(state, inventory, ignore, unmanaged_doubt)


def _view(state: StateResources) -> dict[str, list[Resource]]:
    view: dict[str, list[Resource]] = {}
    for res in (*state.resources, *state.unsupported):  # types the auditor does not read may still say who
        view.setdefault(res.type, []).append(res)       # owns an attribute (a CodeDeploy deployment group)
    return view


def diff_managed(state: StateResources, inventory: Inventory, ignore: IgnoreRules | None = None,
                 select: Callable[[Resource], bool] | None = None) -> list[Drift]:
    """Every state resource (those `select` accepts) against its live twin: in_sync, changed, missing,
    unknown, not_covered. The rest of `state` is context (who owns an attribute, which states hold it)."""
    ignore = ignore or IgnoreRules()
    specs = catalog.specs()
    observed = {(o.region, o.type): o for o in inventory.observations}
    live_by_key = {r.key: r for r in inventory.resources}
    view = _view(state)
    drifts: list[Drift] = []

    def chosen(resources: Iterable[Resource]) -> list[Resource]:
        return [r for r in resources if select is None or select(r)]

    for res in chosen(state.resources):
        names = _names(res)
        if ignore.ignores_resource(names):
            continue
        holders = state.holders.get(res.key, ())
        spec = specs[res.type]
        obs = (observed.get((res.region or "", res.type)) if not spec.global_service
               else next((o for (_, t), o in observed.items() if t == res.type), None))
        if obs is None or obs.status != "observed":
            reason = obs.reason if obs else f"{res.type} was not collected in region {res.region}"
            drifts.append(Drift(res.type, res.id, DriftKind.UNKNOWN, res.address, res.region, (), holders,
                                reason))
            continue
        live = live_by_key.get(res.key)
        if live is None:
            drifts.append(Drift(res.type, res.id, DriftKind.MISSING, res.address, res.region, (), holders,
                                state_attributes=res.attributes))
            continue
        mirrored = spec.mirrored(res, view) if spec.mirrored else frozenset()
        owned = spec.deployer_owned(res, view) if spec.deployer_owned else {}
        compared_spec = _with_normalizers(spec, owned) if owned else spec
        changes = tuple(c for c in attribute_changes(compared_spec, res.attributes, live.attributes, mirrored,
                                                     redacted=res.sensitive)
                        if not ignore.ignores_path(names, c.path))
        if changes:
            drifts.append(Drift(res.type, res.id, DriftKind.CHANGED, res.address, res.region, changes, holders,
                                state_attributes=res.attributes,
                                live_attributes=mask_like(live.attributes, res.attributes) if res.sensitive
                                else live.attributes))
        else:
            drifts.append(Drift(res.type, res.id, DriftKind.IN_SYNC, res.address, res.region, (), holders))

    for res in chosen(state.unsupported):
        if not ignore.ignores_resource(_names(res)):
            drifts.append(Drift(res.type, res.id, DriftKind.NOT_COVERED, res.address, res.region, (),
                                state.holders.get(res.key, (res.source or "",)),
                                f"the auditor does not read {res.type} (see `audit resources`)"))
    for res in chosen(state.unmatched):
        if not ignore.ignores_resource(_names(res)):
            drifts.append(Drift(res.type, res.id, DriftKind.UNKNOWN, res.address, res.region, (),
                                (res.source or "",), "the state object has no id to match it with a live resource"))
    return drifts


def unmanaged(state: StateResources, inventory: Inventory, ignore: IgnoreRules | None = None,
              unmanaged_doubt: str | None = None) -> list[Drift]:
    """Live resources no resource of `state` manages (nor a deposed object of it): unmanaged, or unknown
    with `unmanaged_doubt` when a state could not be read and may hold them."""
    ignore = ignore or IgnoreRules()
    specs = catalog.specs()
    view = _view(state)
    drifts: list[Drift] = []
    managed = {r.key for r in state.resources} | set(state.deposed_ids) | {r.key for r in state.unsupported}
    for live in inventory.resources:
        live_spec = specs.get(live.type)
        if live.key in managed or live_spec is None or not live_spec.report_unmanaged:
            continue
        if live_spec.aws_owned and live_spec.aws_owned(live):
            continue
        if live_spec.covered and live_spec.covered(live, view):
            continue
        if ignore.ignores_resource(_names(live)):
            continue
        if unmanaged_doubt:
            drifts.append(Drift(live.type, live.id, DriftKind.UNKNOWN, None, live.region, reason=unmanaged_doubt))
        else:
            drifts.append(Drift(live.type, live.id, DriftKind.UNMANAGED, None, live.region,
                                live_attributes=live.attributes))
    return drifts


def _with_normalizers(spec: TypeSpec, extra: Mapping[str, Callable[[Any], Any]]) -> TypeSpec:
    """`spec` with `extra` applied after its own normalizer of each attribute."""
    def chain(first: Callable[[Any], Any] | None, then: Callable[[Any], Any]) -> Callable[[Any], Any]:
        return (lambda value: then(first(value))) if first else then

    merged = {**spec.normalizers, **{a: chain(spec.normalizers.get(a), fn) for a, fn in extra.items()}}
    return dataclasses.replace(spec, normalizers=merged)


def _names(res: Resource) -> list[str]:
    """The names a .auditignore line may use for a resource: `TYPE.ID` and its address."""
    return [f"{res.type}.{res.id}", res.address or ""]
