"""Helpers for rule files: read attributes from code, state and live alike, and join resources.

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

Joins (`linked`, `refers_to`) accept what each source holds: names, ids and ARNs (state, live,
literal code) and `Ref`s (code), inside modules too (code addresses are absolute). When the loader
annotates a resource with `_references` (argument -> addresses its expression named), a reference
decides the join even where the value itself was resolved to a literal name.

The `terraform_backend` pseudo-resource
---------------------------------------
STATE-01..03 judge one resource of type `terraform_backend` per configuration / state (see
`backend_resource`). Attributes:

* `type`: the backend type (`s3`, `local`, `remote`, `gcs`, ...; `local` when there is no
  backend block, `cloud` for an HCP Terraform `cloud` block);
* `bucket`, `key`, `region`, `encrypt` (bool), `kms_key_id`, `dynamodb_table`, `use_lockfile`
  (bool), `workspace_key_prefix`: the `backend "s3"` settings (absent when not set; in code a
  setting left for `terraform init -backend-config` is simply absent);
* LIVE only: `_lock_mechanisms_seen` (list of `"dynamodb"` / `"s3"`: lock stores verified to exist,
  a lock table with a `LockID` key or an S3 `<key>.tflock` object), `_sse` (the state object's
  HeadObject `ServerSideEncryption`, "" when the object is not encrypted) and `_sse_kms_key_id`
  (HeadObject `SSEKMSKeyId`). A key that is absent was not observed.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from auditor.code.values import Ref, Template, decoded
from auditor.models import Inventory, ObservationStatus, Origin, Resource
from auditor.rules.model import RuleContext, Status, Unresolved, Verdict
from auditor.state.address import AddressError, parse_instance_address

Tri = bool | None
"""Three-valued truth: True, False, or None for "cannot be known"."""

BACKEND_TYPE = "terraform_backend"
REFERENCES = "_references"
ALL_READ = "*"

# --- reading attributes ------------------------------------------------------------------------


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


# --- verdicts ----------------------------------------------------------------------------------


def passed(message: str, value: Any = None) -> Verdict:
    return Verdict(Status.PASS, message, value)


def failed(message: str, value: Any = None) -> Verdict:
    return Verdict(Status.FAIL, message, value)


def unknown(message: str, value: Any = None) -> Verdict:
    return Verdict(Status.UNKNOWN, message, value)


def not_applicable(message: str) -> Verdict:
    return Verdict(Status.NOT_APPLICABLE, message)


def unresolved(what: str, value: Unresolved) -> Verdict:
    """UNKNOWN because `what` cannot be known statically."""
    return unknown(f"{what} cannot be known statically: {value.reason}", show(value))


def unobserved(what: str) -> Verdict:
    return unknown(f"not observed: {what} (missing evidence is never a pass)")


def all_of(verdicts: Iterable[Verdict]) -> Verdict:
    """Every condition must hold: the first FAIL, else the first UNKNOWN, else one PASS (messages joined)."""
    items = list(verdicts)
    for status in (Status.FAIL, Status.UNKNOWN):
        found = [v for v in items if v.status is status]
        if found:
            return Verdict(status, "; ".join(v.message for v in found), found[0].value)
    applicable = [v for v in items if v.status is Status.PASS]
    if not applicable:
        return not_applicable("; ".join(v.message for v in items) or "nothing to check")
    return Verdict(Status.PASS, "; ".join(v.message for v in applicable), applicable[0].value)


def any_of(verdicts: Iterable[Verdict]) -> Verdict:
    """One condition is enough: the first PASS, else UNKNOWN if any, else FAIL (messages joined)."""
    items = list(verdicts)
    for status in (Status.PASS, Status.UNKNOWN, Status.FAIL):
        found = [v for v in items if v.status is status]
        if found:
            return Verdict(status, "; ".join(v.message for v in found), found[0].value)
    return not_applicable("nothing to check")


def judge(value: Any, what: str, ok: Callable[[Any], bool], expected: str,
          absent: Verdict | None = None) -> Verdict:
    """PASS/FAIL on a known value, UNKNOWN on an unknown one, `absent` (default FAIL) on None."""
    if isinstance(value, Unresolved):
        return unresolved(what, value)
    if value is None:
        return absent if absent is not None else failed(f"{what} is not set; expected {expected}")
    if ok(value):
        return passed(f"{what} is {show(value)}", value)
    return failed(f"{what} is {show(value)}; expected {expected}", value)


def t_all(values: Iterable[Tri]) -> Tri:
    """Kleene AND: False wins, then None."""
    result: Tri = True
    for v in values:
        if v is False:
            return False
        if v is None:
            result = None
    return result


def t_any(values: Iterable[Tri]) -> Tri:
    """Kleene OR: True wins, then None."""
    result: Tri = False
    for v in values:
        if v is True:
            return True
        if v is None:
            result = None
    return result


# --- addresses and joins -----------------------------------------------------------------------


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


# --- KMS keys ----------------------------------------------------------------------------------

CMK_TYPES = frozenset({"aws_kms_key", "aws_kms_replica_key", "aws_kms_external_key", "aws_kms_replica_external_key"})


def customer_managed_key(value: Any, ctx: RuleContext | None = None, *, bare_key: Tri = True) -> Tri:
    """Whether a key argument names a customer-managed KMS key.

    True for a reference to a managed `aws_kms_key` (or replica/external key), False for an empty
    value or an AWS-managed `alias/aws/...`, None when unknown (a variable, a data source). A key id
    or ARN is looked up among the source's `aws_kms_key` resources (live ones say `_aws_managed`);
    when it is not there, `bare_key` answers: True where the provider blanks the AWS-managed key
    (DynamoDB), None where it reports that key's ARN like any other (ECR).
    """
    if isinstance(value, Ref):
        kind = address_type(value.address)
        return True if kind is not None and kind[0] == "managed" and kind[1] in CMK_TYPES else None
    if isinstance(value, Unresolved):
        return None
    if not isinstance(value, str) or not value:
        return False
    if re.search(r"(^|:)alias/aws/", value):
        return False
    for key in ctx.of_type(*CMK_TYPES) if ctx is not None else ():
        names = {get(key, "arn"), get(key, "key_id"), get(key, "id") if key.origin is not Origin.CODE else None}
        if value in names or value.rsplit("/", 1)[-1] in names:
            return get(key, "_aws_managed") is not True
    return bare_key


# --- JSON documents and IAM policies -----------------------------------------------------------


def document(res: Resource | Mapping[str, Any], name: str) -> Any:
    """The structure of a JSON-string attribute (policy, container_definitions) from any source:
    a parsed dict/list, or an Unresolved (unknown, not JSON, not set)."""
    return decoded(attributes(res), name)


def statements(policy: Any) -> list[Mapping[str, Any]] | Unresolved:
    """The statements of a policy document (a single statement object counts as a list of one)."""
    if isinstance(policy, Unresolved):
        return policy
    if not isinstance(policy, Mapping):
        return Unresolved("the policy is not a JSON object")
    found = policy.get("Statement")
    if isinstance(found, Unresolved):
        return found
    out: list[Mapping[str, Any]] = []
    for item in as_list(found):
        if isinstance(item, Unresolved):
            return item
        if isinstance(item, Mapping):
            out.append(item)
    return out


def iam_match(pattern: str, text: str) -> bool:
    """IAM wildcard matching (`*` any run, `?` one character), case-sensitive."""
    regex = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    return re.fullmatch(regex, text, re.DOTALL) is not None


def _tri_item(value: Any, test: Callable[[str], bool]) -> Tri:
    if isinstance(value, Unresolved):
        return None
    return test(value) if isinstance(value, str) else False


def principal_is_everyone(principal: Any) -> Tri:
    """`"*"`, `{"AWS": "*"}` or `{"AWS": ["*", ...]}`: anyone. None when unknown."""
    if isinstance(principal, Unresolved):
        return None
    if isinstance(principal, str):
        return principal == "*"
    if isinstance(principal, Mapping):
        aws = principal.get("AWS")
        if isinstance(aws, Unresolved):
            return None
        return t_any(_tri_item(p, lambda p: p == "*") for p in as_list(aws))
    return False


def principal_is_public(principal: Any) -> Tri:
    """Anyone, or any principal of every account (`arn:aws:iam::*:root`)."""
    everyone = principal_is_everyone(principal)
    if everyone is not False or not isinstance(principal, Mapping):
        return everyone
    return t_any(_tri_item(p, lambda p: "*" in p) for p in as_list(principal.get("AWS")))


def actions_cover(actions: Any, wanted: str) -> Tri:
    """Whether an Action field grants/denies every action matching `wanted` (`s3:*`)."""
    if isinstance(actions, Unresolved):
        return None
    return t_any(_tri_item(a, lambda a: iam_match(a.lower(), wanted.lower())) for a in as_list(actions))


# --- containers and images ---------------------------------------------------------------------


def containers(task: Resource) -> list[Mapping[str, Any]] | Unresolved:
    """The container definitions of an aws_ecs_task_definition, from any source."""
    if task.attributes.get("_unmanaged_only"):
        return Unresolved("the live task definition was not described (no state holds its family)")
    found = document(task, "container_definitions")
    if isinstance(found, Unresolved):
        return found
    if not isinstance(found, list):
        return Unresolved("container_definitions is not a JSON list")
    out: list[Mapping[str, Any]] = []
    for item in found:
        if isinstance(item, Unresolved):
            return item
        if isinstance(item, Mapping):
            out.append(item)
    return out


def container_name(container: Mapping[str, Any], index: int) -> str:
    name = container.get("name")
    return name if isinstance(name, str) else f"container #{index + 1}"


def judge_containers(task: Resource, judge_one: Callable[[Mapping[str, Any]], Verdict]) -> Verdict:
    """Judge every container of a task definition; the worst verdict wins, each named by its container."""
    found = containers(task)
    if isinstance(found, Unresolved):
        return unresolved("container_definitions", found)
    if not found:
        return not_applicable("the task definition has no containers")
    verdicts = []
    for index, container in enumerate(found):
        verdict = judge_one(container)
        verdicts.append(Verdict(verdict.status, f"container {container_name(container, index)}: {verdict.message}",
                                verdict.value))
    return all_of(verdicts)


def image_repository(ctx: RuleContext, image: Any) -> Resource | str | None:
    """The ECR repository an image comes from: the repository resource of this source when it can be
    joined (by `repository_url` reference or value), else the address of a referenced
    `aws_ecr_repository` / `data.aws_ecr_repository` outside this source, else None."""
    first = image.parts[0] if isinstance(image, Template) else image
    repos = ctx.of_type("aws_ecr_repository")
    if isinstance(first, Ref):
        kind = address_type(first.address)
        if kind is None or kind[1] != "aws_ecr_repository" or first.attribute != "repository_url":
            return None
        found = next((r for r in repos if same_address(r.address, first.address)), None)
        return found or first.address
    if isinstance(first, str):
        for repo in repos:
            url = get(repo, "repository_url")
            if isinstance(url, str) and url and (first == url or first.startswith((url + ":", url + "@"))):
                return repo
    return None


# --- the terraform_backend pseudo-resource -----------------------------------------------------


def backend_resource(settings: Mapping[str, Any] | None, *, origin: Origin, source: str | None = None,
                     address: str = "terraform.backend", region: str | None = None) -> Resource:
    """The `terraform_backend` resource of a configuration or a state (attributes: module docstring).

    `settings` is `CodeModule.backend` (the backend block's arguments plus `_type` and `_location`)
    or the same keys built from a state's location; None means no backend block (local state).
    """
    settings = dict(settings or {})
    kind = settings.pop("_type", None) or settings.pop("type", None)
    if kind is None:
        if settings:
            raise ValueError("backend settings need their backend type (`_type` or `type`)")
        kind = "local"
    attrs: dict[str, Any] = {"type": kind, **settings}
    bucket, key = attrs.get("bucket"), attrs.get("key")
    ident = f"{bucket}/{key}" if isinstance(bucket, str) and isinstance(key, str) else address
    if region is None and isinstance(attrs.get("region"), str):
        region = attrs["region"]
    return Resource(type=BACKEND_TYPE, id=ident, attributes=attrs, origin=origin, region=region, address=address,
                    source=source)
