"""Read attributes from code, state and live alike.

Every rule sees `auditor.models.Resource` values in the hashicorp/aws provider's state shape
(nested blocks are lists of dicts). What differs between the three sources is what can be missing:

* CODE (`auditor.code.load_code`): an argument left out takes the provider's default; a value only
  known at apply time is an `Unresolved` (a `Ref` to another resource's attribute, a `Template`
  string with unknown parts, an `Encoded` JSON document whose structure is kept beside it as
  `_decoded_<name>`). Known references to literal arguments are already replaced by the literal.
* STATE: every attribute the provider writes is present.
* LIVE (`auditor.inventory`): what the collectors read. Details read only for some resources
  (split S3 configuration, lifecycle policies, the tables a state holds) are absent for the
  others: `observed` says whether "not there" means absent or unobserved, from
  `RuleContext.live_read`.

A rule that meets an Unresolved or unobserved value answers UNKNOWN with the reason, never PASS.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from auditor.code.values import Ref, Template
from auditor.models import Inventory, ObservationStatus, Origin, Resource, Unresolved
from auditor.rules.model import RuleContext

ALL_READ = "*"



def attributes(source: Resource | Mapping[str, Any]) -> Mapping[str, Any]:
    return source.attributes if isinstance(source, Resource) else source


def get(source: Resource | Mapping[str, Any] | Any, path: str | Sequence[str | int]) -> Any:
    """The value at a dotted path (`versioning_configuration.0.status`); list steps are numbers.

    None when the path is absent or null; the Unresolved itself when an unknown value stands on
    the way (a dynamic block with an unknown `for_each`, a computed attribute).
    """
    value: Any = attributes(source) if isinstance(source, Resource | Mapping) else source
    steps = path.split(".") if isinstance(path, str) else list(path)
    for step in steps:
        if isinstance(value, Unresolved) or value is None:
            return value
        if isinstance(value, Mapping):
            value = value.get(step if isinstance(step, str) else str(step))
        elif isinstance(value, list | tuple):
            try:
                value = value[int(step)]
            except (ValueError, IndexError):
                return None
        else:
            return None
    return value


def value_or_default(res: Resource, path: str, default: Any) -> Any:
    """The value at `path`; an argument left out of code takes the provider's `default`. None when a
    state or live resource lacks it (unobserved)."""
    value = get(res, path)
    return default if value is None and res.origin is Origin.CODE else value


def blocks(source: Resource | Mapping[str, Any], path: str) -> list[Mapping[str, Any]] | Unresolved:
    """A nested block as a list of objects: [] when absent; an Unresolved when its instances are unknown."""
    value = get(source, path)
    if isinstance(value, Unresolved):
        return value
    if value is None:
        return []
    if isinstance(value, Mapping):
        return [value]
    if not isinstance(value, list | tuple):
        return Unresolved(f"{path} is not a block ({type(value).__name__})")
    out: list[Mapping[str, Any]] = []
    for item in value:
        if isinstance(item, Unresolved):
            return item
        if isinstance(item, Mapping):
            out.append(item)
    return out


def as_bool(value: Any) -> bool | Unresolved | None:
    """Terraform's bool conversion: True/False, "true"/"false"; None when unset."""
    if value is None or isinstance(value, bool | Unresolved):
        return value
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    return Unresolved(f"{value!r} is not a bool")


def as_list(value: Any) -> list[Any]:
    """A JSON policy field that may be one item or a list of them."""
    if value is None:
        return []
    return list(value) if isinstance(value, list | tuple) else [value]


def show(value: Any) -> str:
    """A value for a message: known values as repr, unknown ones by what they are."""
    if isinstance(value, Template):
        return repr(value.display)
    if isinstance(value, Ref):
        return f"${{{value.target}}}"
    if isinstance(value, Unresolved):
        return f"<unknown: {value.reason}>"
    return repr(value)


def has(source: Resource | Mapping[str, Any], name: str) -> bool:
    """True when the attribute is present (even null or empty)."""
    return name in attributes(source)


def observed(ctx: RuleContext, res: Resource, tf_type: str | None = None) -> bool:
    """Whether the absence of `tf_type` details for `res` is known (default: `res`'s own details).

    Code and state hold what Terraform manages, so what is not there is absent. Live, only the ids
    the collectors asked AWS about (RuleContext.live_read) are: a split S3 configuration, a lifecycle
    policy, a table's backups are read only for resources a state manages them for.
    """
    if res.origin is not Origin.LIVE:
        return True
    read = ctx.live_read.get(tf_type or res.type)
    return read is not None and (ALL_READ in read or res.id in read)


def live_read_from(inventory: Inventory, wanted: Mapping[str, Mapping[str, Iterable[str]]],
                   listed: Iterable[str] = ()) -> dict[str, frozenset[str]]:
    """`RuleContext.live_read` for an inventory: per type observed without error in a region, the ids
    wanted there (`CollectContext.wanted`), plus `*` for the `listed` types, whose collectors read
    every resource in full."""
    out: dict[str, set[str]] = {}
    full = set(listed)
    for obs in inventory.observations:
        if obs.status is not ObservationStatus.OBSERVED:
            continue
        ids = out.setdefault(obs.type, set())
        ids.update(wanted.get(obs.region, {}).get(obs.type, ()))
        if obs.type in full:
            ids.add(ALL_READ)
    return {t: frozenset(ids) for t, ids in out.items()}
