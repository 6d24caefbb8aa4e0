"""Addresses and joins between resources, as every source names them; `auditor.rules.joins` holds
the joins of particular rules.

Joins (`linked`, `refers_to`) accept what each source holds: names, ids and ARNs (state, live,
literal code) and `Ref`s (code), inside modules too (code addresses are absolute). When the loader
annotates a resource with `_references` (argument -> addresses its expression named), a reference
decides the join even where the value itself was resolved to a literal name.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from auditor.code.values import Ref, Template
from auditor.models import Origin, Resource, Unresolved
from auditor.rules.model import RuleContext, Verdict
from auditor.rules.read import as_list, get, observed, show
from auditor.rules.verdicts import Tri, all_of, unknown, unobserved
from auditor.state.address import AddressError, parse_instance_address

REFERENCES = "_references"



def normalize_address(address: str) -> str:
    """An address in Terraform's canonical spelling (quotes, spacing), unchanged if unparsable."""
    try:
        return str(parse_instance_address(address))
    except AddressError:
        return address


def address_type(address: str) -> tuple[str, str] | None:
    """(mode, type) of a resource address (`data`, `aws_ecr_repository`), None if not one."""
    try:
        parsed = parse_instance_address(address)
    except AddressError:
        return None
    return parsed.mode, parsed.type


def same_address(a: str | None, b: str | None) -> bool:
    return a is not None and b is not None and normalize_address(a) == normalize_address(b)


def in_same_region(a: Resource, b: Resource) -> bool:
    """False only when both regions are known and differ (state regions are guesses: never compared)."""
    if Origin.STATE in (a.origin, b.origin) or a.region is None or b.region is None:
        return True
    return a.region == b.region


def memo(ctx: RuleContext, key: Any, build: Callable[[], Any]) -> Any:
    """`build()` once per evaluation (RuleContext.memo), for indexes every resource would rebuild.
    The types the build read are logged as read by every check that uses the index."""
    if key not in ctx.memo:
        outer = set(ctx.reads)
        ctx.reads.clear()
        try:
            value = build()
            ctx.memo[key] = (value, frozenset(ctx.reads))
        finally:
            ctx.reads.update(outer)
    value, reads = ctx.memo[key]
    ctx.reads.update(reads)
    return value


def known_addresses(ctx: RuleContext) -> frozenset[str]:
    """Every resource address of this source (to tell a reference to another resource apart)."""
    found: frozenset[str] = memo(ctx, ("addresses",), lambda: frozenset(
        normalize_address(r.address) for rs in ctx.resources.values() for r in rs if r.address))
    return found


def identity_values(res: Resource, keys: Sequence[str]) -> list[Any]:
    """The values naming `res` (its `keys` attributes; its id outside code, where id is the address)."""
    values = [get(res, k) for k in keys]
    if res.origin is not Origin.CODE:
        values.append(res.id)
    return [v for v in values if v not in (None, "")]


def referenced_addresses(child: Resource, name: str) -> tuple[str, ...]:
    """Addresses the code expression of argument `name` referred to (the loader's `_references`)."""
    refs = get(child, (REFERENCES, name))
    return tuple(str(a) for a in as_list(refs) if isinstance(a, str))


def refers_to(value: Any, target: Resource, keys: Sequence[str], others: frozenset[str] = frozenset()) -> Tri:
    """Whether a reference-like value (a child's `bucket`, `repository`) designates `target`.

    True: a Ref to target's address, an equal name/id/ARN, or the same unknown value (two
    arguments set from one variable). False: provably something else. None: cannot be known
    (`others` holds the addresses known to be other resources, so a Ref to one of them is False).
    """
    if value is None or value == "":
        return False
    names = identity_values(target, keys)
    if isinstance(value, Unresolved) and any(isinstance(n, Unresolved) and n == value for n in names):
        return True
    if isinstance(value, Ref):
        if same_address(value.address, target.address):
            return True
        return False if normalize_address(value.address) in others else None
    if isinstance(value, Unresolved):
        if isinstance(value, Template):
            known = [n for n in names if isinstance(n, str)]
            if known and all(template_excludes(value, n) for n in known):
                return False
        return None
    if isinstance(value, str):
        if any(isinstance(n, str) and n == value for n in names):
            return True
        return None if any(isinstance(n, Unresolved) for n in names) else False
    return False


def template_excludes(template: Template, text: str) -> bool:
    """True when no value of the unknown parts can make `template` equal `text`."""
    return not text.startswith(template.literal_prefix) or not text.endswith(template.literal_suffix)


@dataclass(frozen=True, slots=True)
class Links:
    """The children that configure a parent, and those that might (with why)."""

    matched: tuple[Resource, ...]
    undecided: tuple[tuple[Resource, str], ...]

    def describe_undecided(self) -> str:
        return "; ".join(f"{c.address or c.id} may configure it ({why})" for c, why in self.undecided)


@dataclass(frozen=True, slots=True)
class _Identities:
    """The resources of one type by the values naming them, and by address."""

    by_value: dict[Any, list[Resource]]
    by_address: dict[str, Resource]

    def designated(self, value: Any) -> list[Resource]:
        """The resources `value` designates for sure (see `refers_to`: the True cases)."""
        found: list[Resource] = []
        if isinstance(value, Ref):
            target = self.by_address.get(normalize_address(value.address))
            found.extend([target] if target is not None else [])
        with contextlib.suppress(TypeError):  # an unhashable value names nothing
            found.extend(r for r in self.by_value.get(value, ()) if all(r is not f for f in found))
        return found


def _identities(ctx: RuleContext, tf_type: str, keys: Sequence[str]) -> _Identities:
    def build() -> _Identities:
        by_value: dict[Any, list[Resource]] = {}
        by_address: dict[str, Resource] = {}
        for res in ctx.of_type(tf_type):
            for value in identity_values(res, keys):
                try:
                    holders = by_value.setdefault(value, [])
                except TypeError:
                    continue
                if all(h is not res for h in holders):
                    holders.append(res)
            if res.address:
                by_address[normalize_address(res.address)] = res
        return _Identities(by_value, by_address)

    found: _Identities = memo(ctx, ("identities", tf_type, tuple(keys)), build)
    return found


@dataclass(frozen=True, slots=True)
class _Children:
    """Children of one kind by the parent they designate (with the other parents the same value
    names, for ambiguous joins), and those designating no parent for sure."""

    claimed: dict[int, list[tuple[Resource, tuple[Resource, ...]]]]
    floating: tuple[Resource, ...]


def _children(ctx: RuleContext, parent_type: str, child_types: Sequence[str], field: str, keys: Sequence[str],
              same_region: bool) -> _Children:
    def build() -> _Children:
        identities = _identities(ctx, parent_type, keys)
        claimed: dict[int, list[tuple[Resource, tuple[Resource, ...]]]] = {}
        floating: list[Resource] = []
        for child in ctx.of_type(*child_types):
            via = [a for a in referenced_addresses(child, field) if address_type(a) == ("managed", parent_type)]
            if via:
                targets = (identities.by_address.get(normalize_address(a)) for a in via)
                for target in {id(t): t for t in targets if t is not None}.values():
                    claimed.setdefault(id(target), []).append((child, ()))
                continue
            value = get(child, field)
            claims = [r for r in identities.designated(value) if not same_region or in_same_region(child, r)]
            if not claims:
                floating.append(child)
                continue
            exact = identities.by_address.get(normalize_address(value.address)) if isinstance(value, Ref) else None
            for target in claims:
                others = () if target is exact else tuple(r for r in claims if r is not target)
                claimed.setdefault(id(target), []).append((child, others))
        return _Children(claimed, tuple(floating))

    found: _Children = memo(ctx, ("children", parent_type, tuple(child_types), field, tuple(keys), same_region),
                            build)
    return found


def linked(ctx: RuleContext, parent: Resource, child_types: Sequence[str], field: str,
           keys: Sequence[str], *, same_region: bool = True) -> Links:
    """The resources of `child_types` whose `field` designates `parent` (see `refers_to`).

    A reference recorded in `_references` decides alone. A child whose value might designate the
    parent is undecided unless it provably designates another resource of the parent's type; so is
    one whose name designates several of them (an ambiguous join is never taken as a match).
    `same_region=False` for global names (S3 buckets: split resources carry no region in state).
    `parent` is a resource of `ctx` (the children are indexed once per evaluation).
    """
    members: frozenset[int] = memo(ctx, ("members", parent.type),
                                   lambda: frozenset(id(r) for r in ctx.of_type(parent.type)))
    if id(parent) not in members:
        raise ValueError(f"{parent.address or parent.id} is not a resource of this rule context")
    children = _children(ctx, parent.type, child_types, field, keys, same_region)
    matched: list[Resource] = []
    undecided: list[tuple[Resource, str]] = []
    for child, others in children.claimed.get(id(parent), ()):
        if not others:
            matched.append(child)
        else:
            names = ", ".join(r.address or r.id for r in others)
            undecided.append((child, f"{field} = {show(get(child, field))} also names {names}"))
    known = known_addresses(ctx)
    for child in children.floating:
        if same_region and not in_same_region(child, parent):
            continue
        value = get(child, field)
        if refers_to(value, parent, keys, known) is None:
            why = value.reason if isinstance(value, Unresolved) else f"{field} = {show(value)}"
            undecided.append((child, why))
    return Links(tuple(matched), tuple(undecided))


def configured_by(ctx: RuleContext, parent: Resource, child_type: str, *, field: str, keys: Sequence[str],
                  judge_child: Callable[[Resource], Verdict], absent: Verdict,
                  legacy: Callable[[Resource], Verdict | None] | None = None,
                  same_region: bool = True) -> Verdict:
    """Judge a setting that lives on separate resources (`aws_s3_bucket_versioning` -> its bucket).

    The children joined to `parent` are judged (all must pass); a child that might belong to it makes
    the verdict UNKNOWN; else `legacy` (an inline block on the parent, None when not set) decides;
    else the setting is `absent`, or unobserved when live collectors did not ask for it.
    """
    links = linked(ctx, parent, (child_type,), field, keys, same_region=same_region)
    if links.matched:
        return all_of(_attributed(judge_child(c), c) for c in links.matched)
    if links.undecided:
        return unknown(f"no {child_type} is known to configure it, but {links.describe_undecided()}")
    if legacy is not None:
        inline = legacy(parent)
        if inline is not None:
            return inline
    if not observed(ctx, parent, child_type):
        return unobserved(f"{child_type} of {parent.id} (live collectors read it only where a state manages it, "
                          "if at all)")
    return absent


def _attributed(verdict: Verdict, child: Resource) -> Verdict:
    return Verdict(verdict.status, f"{child.address or child.type + '.' + child.id}: {verdict.message}",
                   verdict.value)


def bind_self(value: Any, target: Resource, identity: Mapping[str, str]) -> str | None:
    """A string value with references to `target` replaced by `identity` (attribute -> text).

    `"${aws_s3_bucket.b.arn}/*"` -> `"arn:aws:s3:::name/*"` for bucket `b`. None when some part
    stays unknown.
    """
    if isinstance(value, str):
        return value
    if isinstance(value, Ref):
        if same_address(value.address, target.address) and value.attribute in identity:
            return identity[value.attribute]
        return None
    if isinstance(value, Template):
        parts = [bind_self(p, target, identity) for p in value.parts]
        return None if any(p is None for p in parts) else "".join(p for p in parts if p is not None)
    if isinstance(value, Unresolved):
        for attr, text in identity.items():
            if get(target, attr) == value:
                return text
    return None
