"""Cross-resource joins of the ALB, CloudWatch, ECS and network rules.

Each join reads what every source holds (see `auditor.rules.read`): `Ref`s in code, ids, names and
ARNs in state and live. A join that cannot be decided says why (an `Unresolved`, or the reasons kept
beside what was found), so the rule answers UNKNOWN instead of guessing.

* load balancers: the one a listener is attached to (`listener_load_balancer`), the type of one
  (`load_balancer_type`), the load balancers a target group serves (`target_group_load_balancers`);
* availability zones: subnets (ids or `Ref`s) -> the distinct zones of their `aws_subnet`s
  (`subnet_zones`, judged by `zone_spread`);
* alarms: the metrics an alarm watches, top level or in `metric_query` (`alarm_metrics`), and whether
  a dimension names a load balancer or target group by its ARN suffix (`names_arn_suffix`);
  (`candidate_watches` finds the alarms that may watch a resource without scanning every alarm);
* routing: the route table a subnet uses, explicit association or its VPC's main table
  (`subnet_route_table`).

Indexes over the whole source are built once per evaluation (`links.memo`, keys prefixed `joins.`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from auditor.code.values import Ref
from auditor.models import Origin, Resource, Status, Unresolved
from auditor.rules.links import (
    identity_values,
    known_addresses,
    linked,
    memo,
    normalize_address,
    refers_to,
    same_address,
)
from auditor.rules.model import RuleContext, Verdict
from auditor.rules.read import blocks, get, show
from auditor.rules.verdicts import Tri, t_all

LB = "aws_lb"
LISTENER = "aws_lb_listener"
LISTENER_RULE = "aws_lb_listener_rule"
SUBNET = "aws_subnet"
SERVICE = "aws_ecs_service"
ARN_KEYS = ("arn", "id")
ID_KEYS = ("id",)
APPLICATION = "application"
LB_TYPES = ("application", "network", "gateway")
ALB_NAMESPACE = "AWS/ApplicationELB"

# --- finding the resource a value designates -----------------------------------------------------


def _by_address(ctx: RuleContext) -> Mapping[str, Resource]:
    found: Mapping[str, Resource] = memo(ctx, "joins.by_address", lambda: {
        normalize_address(r.address): r for rs in ctx.resources.values() for r in rs if r.address})
    return found


def resource_at(ctx: RuleContext, address: str) -> Resource | None:
    """The resource of this source at `address` (module paths and aliases as written), if any."""
    return _by_address(ctx).get(normalize_address(address))


@dataclass(frozen=True, slots=True)
class _Identities:
    """Resources of some types by the literal names, ids and ARNs that identify them; `vague` are those
    whose identity is (partly) unknown, which a literal value can only maybe designate."""

    exact: Mapping[str, tuple[Resource, ...]]
    vague: tuple[Resource, ...]


def _identities(ctx: RuleContext, types: Sequence[str], keys: Sequence[str]) -> _Identities:
    def build() -> _Identities:
        exact: dict[str, list[Resource]] = {}
        vague: list[Resource] = []
        for candidate in ctx.of_type(*types):
            values = identity_values(candidate, keys)
            for value in values:
                holders = exact.setdefault(value, []) if isinstance(value, str) else None
                if holders is not None and all(h is not candidate for h in holders):
                    holders.append(candidate)
            if any(isinstance(v, Unresolved) for v in values):
                vague.append(candidate)
        return _Identities({k: tuple(v) for k, v in exact.items()}, tuple(vague))

    found: _Identities = memo(ctx, ("joins.identities", tuple(types), tuple(keys)), build)
    return found


def designated(ctx: RuleContext, value: Any, types: Sequence[str], keys: Sequence[str]) -> Resource | Unresolved:
    """The resource of `types` that a reference-like value names (a `Ref`, an id, a name or an ARN).

    An Unresolved says why it cannot be told: the value is unknown (a variable, a data source, a
    resource outside this source), or it names nothing of these types here.
    """
    kinds = " or ".join(types)
    if value is None or value == "":
        return Unresolved("it is not set")
    if isinstance(value, Ref):
        target = resource_at(ctx, value.address)
        if target is None:
            return value
        return target if target.type in types else Unresolved(f"{value.target} is no {kinds}")
    if isinstance(value, str):
        identities = _identities(ctx, types, keys)
        found = identities.exact.get(value, ())
        if len(found) == 1:
            return found[0]
        if found:  # an ambiguous join is never taken
            return Unresolved(f"{value!r} names several: {', '.join(name_of(r) for r in found)}")
        candidates: Sequence[Resource] = identities.vague
    else:
        candidates = ctx.of_type(*types)
    undecided: list[Resource] = []
    for candidate in candidates:
        relation = refers_to(value, candidate, keys)  # a Ref was settled above
        if relation is True:
            return candidate
        if relation is None:
            undecided.append(candidate)
    if undecided:
        return Unresolved(f"{show(value)} may be {', '.join(name_of(c) for c in undecided)}")
    if isinstance(value, Unresolved):
        return value
    return Unresolved(f"{show(value)} names no {kinds} of this source")


def name_of(res: Resource) -> str:
    return res.address or f"{res.type}.{res.id}"


# --- load balancers, listeners and target groups -------------------------------------------------


def load_balancer_type(lb: Resource) -> str | Unresolved:
    """`load_balancer_type`, `application` when left out (the provider's default)."""
    kind = get(lb, "load_balancer_type")
    if isinstance(kind, Unresolved):
        return kind
    return str(kind) if kind else APPLICATION


def listener_load_balancer(ctx: RuleContext, listener: Resource) -> Resource | Unresolved:
    return designated(ctx, get(listener, "load_balancer_arn"), (LB,), ARN_KEYS)


@dataclass(frozen=True, slots=True)
class Served:
    """The load balancers a target group serves: resources of this source or ARNs (state and live
    `load_balancer_arns`); `unknown_lb` names users whose load balancer cannot be told (an ECS
    service, a listener on an unknown load balancer); `undecided` those that may use it."""

    load_balancers: tuple[Resource | str, ...]
    unknown_lb: tuple[str, ...]
    undecided: tuple[str, ...]


def target_group_load_balancers(ctx: RuleContext, tg: Resource) -> Served:
    """Who sends traffic to `tg`: `load_balancer_arns`, listeners and listener rules forwarding to it,
    ECS services registering into it."""
    found: list[Resource | str] = []
    unknown_lb: list[str] = []
    undecided: list[str] = []

    def add(lb: Resource | str) -> None:
        key = lb if isinstance(lb, str) else get(lb, "arn")
        if any(x is lb or (isinstance(key, str) and key and (x == key or get(x, "arn") == key)) for x in found):
            return
        found.append(lb)

    arns = get(tg, "load_balancer_arns")
    for arn in arns if isinstance(arns, list) else []:
        if isinstance(arn, str) and arn:
            lb = designated(ctx, arn, (LB,), ARN_KEYS)
            add(lb if isinstance(lb, Resource) else arn)
    uses, maybe = _uses_of(ctx, tg)
    for use in uses:
        if use.lb is None:
            unknown_lb.append(name_of(use.user))
        elif isinstance(use.lb, Resource):
            add(use.lb)
        else:
            unknown_lb.append(f"{name_of(use.user)} (its load balancer: {use.lb.reason})")
    undecided += [name_of(u.user) for u in maybe if all(u.user is not x.user for x in uses)]
    return Served(tuple(found), tuple(dict.fromkeys(unknown_lb)), tuple(dict.fromkeys(undecided)))


@dataclass(frozen=True, slots=True)
class _Use:
    """A listener, listener rule or ECS service naming a target group `value`; `lb` is the listener's load
    balancer (Unresolved when it cannot be told), None for an ECS service."""

    user: Resource
    value: Any
    lb: Resource | Unresolved | None


@dataclass(frozen=True, slots=True)
class _UseIndex:
    by_address: Mapping[str, tuple[_Use, ...]]
    by_literal: Mapping[str, tuple[_Use, ...]]
    vague: tuple[_Use, ...]  # unknown values (a variable, a template, a resource outside this source)


def _use_index(ctx: RuleContext) -> _UseIndex:
    def build() -> _UseIndex:
        by_address: dict[str, list[_Use]] = {}
        by_literal: dict[str, list[_Use]] = {}
        vague: list[_Use] = []
        for use in _target_group_uses(ctx):
            value = use.value
            if isinstance(value, Ref) and resource_at(ctx, value.address) is not None:
                by_address.setdefault(normalize_address(value.address), []).append(use)
            elif isinstance(value, str):
                by_literal.setdefault(value, []).append(use)
            elif isinstance(value, Unresolved):
                vague.append(use)
        return _UseIndex({k: tuple(v) for k, v in by_address.items()},
                         {k: tuple(v) for k, v in by_literal.items()}, tuple(vague))

    found: _UseIndex = memo(ctx, "joins.target_group_uses", build)
    return found


def _uses_of(ctx: RuleContext, tg: Resource) -> tuple[list[_Use], list[_Use]]:
    """The uses that name `tg`, and those that may."""
    index = _use_index(ctx)
    uses = list(index.by_address.get(normalize_address(tg.address), ())) if tg.address else []
    identities = identity_values(tg, ARN_KEYS)
    for value in identities:
        if isinstance(value, str):
            uses += index.by_literal.get(value, ())
    maybe = list(index.vague)
    if any(isinstance(v, Unresolved) for v in identities):  # a literal may be this group's unknown ARN
        maybe += [u for us in index.by_literal.values() for u in us]
    addresses = known_addresses(ctx)
    relations = [(u, refers_to(u.value, tg, ARN_KEYS, addresses)) for u in maybe]
    uses += [u for u, relation in relations if relation is True]
    return uses, [u for u, relation in relations if relation is None]


def _target_group_uses(ctx: RuleContext) -> list[_Use]:
    """Every target group value named by a listener, listener rule or ECS service of this source."""
    out: list[_Use] = []
    for listener in ctx.of_type(LISTENER):
        lb = listener_load_balancer(ctx, listener)
        out += [_Use(listener, v, lb) for v in _action_values(blocks(listener, "default_action"))]
    for rule_ in ctx.of_type(LISTENER_RULE):
        owner = designated(ctx, get(rule_, "listener_arn"), (LISTENER,), ARN_KEYS)
        lb = listener_load_balancer(ctx, owner) if isinstance(owner, Resource) else owner
        out += [_Use(rule_, v, lb) for v in _action_values(blocks(rule_, "action"))]
    for service in ctx.of_type(SERVICE):
        entries = blocks(service, "load_balancer")
        values = [entries] if isinstance(entries, Unresolved) else [e.get("target_group_arn") for e in entries]
        out += [_Use(service, v, None) for v in values if v not in (None, "")]
    return out


def _action_values(actions: list[Mapping[str, Any]] | Unresolved) -> list[Any]:
    """The target groups actions forward to (`target_group_arn`, `forward.target_group[].arn`); an
    unknown part stands as one unknown value."""
    if isinstance(actions, Unresolved):
        return [actions]
    found: list[Any] = []
    for action in actions:
        found.append(action.get("target_group_arn"))
        forward = blocks(action, "forward")
        for block in [forward] if isinstance(forward, Unresolved) else forward:
            groups = block if isinstance(block, Unresolved) else blocks(block, "target_group")
            found += [groups] if isinstance(groups, Unresolved) else [g.get("arn") for g in groups]
    return [v for v in found if v not in (None, "")]


# --- subnets and availability zones --------------------------------------------------------------


def subnet_values(res: Resource, *paths: str) -> list[Any] | Unresolved:
    """The subnets named at `paths`, each once. A path is a list attribute (`subnets`), a list in a block
    (`network_configuration.subnets`) or one subnet per block (`subnet_mapping[].subnet_id`)."""
    out: list[Any] = []
    for path in paths:
        head, _, field = path.partition(".")
        one_per_block = head.endswith("[]")
        found = blocks(res, head.removesuffix("[]")) if field else [res.attributes]
        if isinstance(found, Unresolved):
            return found
        for block in found:
            value = block.get(field or head)
            if isinstance(value, Unresolved) and not one_per_block:
                return value
            for item in value if isinstance(value, list | tuple) else [value]:
                if item not in (None, "") and item not in out:
                    out.append(item)
    return out


@dataclass(frozen=True, slots=True)
class Zones:
    """The distinct availability zones of some subnets, and why others' zones cannot be known."""

    known: tuple[str, ...]
    unknown: tuple[str, ...]


def subnet_zones(ctx: RuleContext, subnets: Sequence[Any]) -> Zones:
    names: set[str] = set()
    ids: set[str] = set()
    unknown: list[str] = []
    for value in subnets:
        subnet = designated(ctx, value, (SUBNET,), ID_KEYS)
        if isinstance(subnet, Unresolved):
            unknown.append(f"subnet {show(value)}: {subnet.reason}")
            continue
        zone, zone_id = get(subnet, "availability_zone"), get(subnet, "availability_zone_id")
        if isinstance(zone, str) and zone:
            names.add(zone)
        elif isinstance(zone_id, str) and zone_id:
            ids.add(zone_id)
        else:
            why = (zone.reason if isinstance(zone, Unresolved) else zone_id.reason if isinstance(zone_id, Unresolved)
                   else "no availability_zone is set (AWS picks one)")
            unknown.append(f"{name_of(subnet)}: {why}")
    if names and ids:  # a zone name and a zone id cannot be compared: count the larger set only
        smaller = ids if len(ids) <= len(names) else names
        unknown.append(f"zones {', '.join(sorted(smaller))} may repeat zones named the other way (names vs ids)")
        names, ids = (names, set()) if smaller is ids else (set(), ids)
    return Zones(tuple(sorted(names | ids)), tuple(unknown))


def zone_spread(zones: Zones, minimum: int, what: str) -> Verdict:
    """PASS when `zones` has at least `minimum` distinct zones; UNKNOWN when unknown zones could reach it."""
    count = f"{len(zones.known)} availability zone{'' if len(zones.known) == 1 else 's'} " \
            f"({', '.join(zones.known) or 'none'})"
    if len(zones.known) >= minimum:
        return Verdict(Status.PASS, f"{what} spans {count}", list(zones.known))
    if zones.unknown:
        return Verdict(Status.UNKNOWN, f"{what} is known to span {count} of the {minimum} required; cannot tell "
                                       f"for {'; '.join(zones.unknown)}", list(zones.known))
    return Verdict(Status.FAIL, f"{what} spans only {count}; at least {minimum} are required", list(zones.known))


# --- alarms and the metrics they watch -----------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Metric:
    """One metric an alarm evaluates: namespace, name and dimensions (a mapping, or Unresolved)."""

    namespace: Any
    name: Any
    dimensions: Any


def alarm_metrics(alarm: Resource) -> list[Metric] | Unresolved:
    """The metric of a single-metric alarm and every `metric_query[].metric` of a metric-math alarm."""
    out: list[Metric] = []
    name = get(alarm, "metric_name")
    if name not in (None, ""):
        out.append(Metric(get(alarm, "namespace"), name, get(alarm, "dimensions") or {}))
    queries = blocks(alarm, "metric_query")
    if isinstance(queries, Unresolved):
        return queries
    for query in queries:
        metrics = blocks(query, "metric")
        if isinstance(metrics, Unresolved):
            return metrics
        out.extend(Metric(m.get("namespace"), m.get("metric_name"), m.get("dimensions") or {}) for m in metrics)
    return out


def _equals(value: Any, expected: str) -> Tri:
    return None if isinstance(value, Unresolved) else value == expected


def arn_suffix(target: Resource | str) -> str | None:
    """The ARN suffix CloudWatch names a load balancer (`app/<name>/<id>`) or target group
    (`targetgroup/<name>/<id>`) by; None while it is unknown (code)."""
    if isinstance(target, Resource):
        suffix = get(target, "arn_suffix")
        if isinstance(suffix, str) and suffix:
            return suffix
        arn = get(target, "arn")
        if not isinstance(arn, str) or not arn:
            arn = target.id if target.origin is not Origin.CODE else None
        if not isinstance(arn, str):
            return None
        target = arn
    if ":loadbalancer/" in target:
        return target.split(":loadbalancer/", 1)[1]
    if ":targetgroup/" in target:
        return target[target.index(":targetgroup/") + 1:]
    return None


def names_arn_suffix(ctx: RuleContext, value: Any, target: Resource | str) -> Tri:
    """Whether a dimension value names `target` (a resource of this source, or an ARN) by its ARN suffix.

    A reference must be to the target's `arn_suffix` (its `arn` or `name` names no CloudWatch metric).
    """
    if isinstance(value, Ref):
        if isinstance(target, Resource) and same_address(value.address, target.address):
            return value.attribute == "arn_suffix"
        referenced = resource_at(ctx, value.address)
        if referenced is None:
            return None
        if isinstance(target, str) and value.attribute == "arn_suffix":
            mine, theirs = arn_suffix(referenced), arn_suffix(target)
            return None if mine is None or theirs is None else mine == theirs
        return False
    if isinstance(value, Unresolved):
        return None
    if not isinstance(value, str):
        return False
    suffix = arn_suffix(target)
    if suffix is not None:
        return value == suffix
    name = get(target, "name") if isinstance(target, Resource) else None
    parts = value.split("/")
    if isinstance(name, str) and name and len(parts) >= 2 and parts[-2] != name:
        return False
    return None


def watches(ctx: RuleContext, metric: Metric, metric_name: str,
            dimensions: Mapping[str, Resource | str | None]) -> Tri:
    """Whether `metric` is AWS/ApplicationELB `metric_name` with exactly the wanted dimensions (a wanted
    value of None: any value)."""
    kind = t_all([_equals(metric.namespace, ALB_NAMESPACE), _equals(metric.name, metric_name)])
    if kind is False:
        return False
    dims = metric.dimensions
    if isinstance(dims, Unresolved):
        return None
    if not isinstance(dims, Mapping) or set(dims) != set(dimensions):
        return False
    return t_all([kind, *(True if wanted is None else names_arn_suffix(ctx, dims[key], wanted)
                          for key, wanted in dimensions.items())])


@dataclass(frozen=True, slots=True)
class Watch:
    """One metric of one alarm; `metric` is an Unresolved when the alarm's metrics cannot be read."""

    alarm: Resource
    metric: Metric | Unresolved


@dataclass(frozen=True, slots=True)
class _AlarmIndex:
    """AWS/ApplicationELB alarm metrics by (metric name, what a dimension names): a reference's address, a
    literal value, the name part of a literal ARN suffix; `vague` may watch anything of a metric name
    (unknown dimensions), `unknown` anything at all (unknown namespace, name or metrics)."""

    by_address: Mapping[tuple[str, str], tuple[Watch, ...]]
    by_literal: Mapping[tuple[str, str], tuple[Watch, ...]]
    by_name_part: Mapping[tuple[str, str], tuple[Watch, ...]]
    vague: Mapping[str, tuple[Watch, ...]]
    unknown: tuple[Watch, ...]


def _alarm_index(ctx: RuleContext) -> _AlarmIndex:
    def build() -> _AlarmIndex:
        tables: tuple[dict[tuple[str, str], list[Watch]], ...] = ({}, {}, {})
        vague: dict[str, list[Watch]] = {}
        unknown: list[Watch] = []
        for alarm in ctx.of_type("aws_cloudwatch_metric_alarm"):
            metrics = alarm_metrics(alarm)
            for metric in [metrics] if isinstance(metrics, Unresolved) else metrics:
                watch = Watch(alarm, metric)
                if isinstance(metric, Unresolved) or not isinstance(metric.name, str) \
                        or not isinstance(metric.namespace, str):
                    unknown.append(watch)
                elif metric.namespace == ALB_NAMESPACE:
                    for table, key in _watch_keys(metric):
                        tables[table].setdefault((metric.name, key), []).append(watch)
                    if not isinstance(metric.dimensions, Mapping) or any(
                            _unknown_dimension(ctx, v) for v in metric.dimensions.values()):
                        vague.setdefault(metric.name, []).append(watch)
        frozen = [{k: tuple(v) for k, v in table.items()} for table in tables]
        return _AlarmIndex(frozen[0], frozen[1], frozen[2], {k: tuple(v) for k, v in vague.items()}, tuple(unknown))

    found: _AlarmIndex = memo(ctx, "joins.alarm_index", build)
    return found


def _unknown_dimension(ctx: RuleContext, value: Any) -> bool:
    """A dimension value that may name anything: unknown, or a reference to a resource outside this source."""
    if isinstance(value, Ref):
        return resource_at(ctx, value.address) is None
    return isinstance(value, Unresolved)


def _watch_keys(metric: Metric) -> list[tuple[int, str]]:
    """(table, key) for each dimension value: 0 by address, 1 by literal, 2 by a literal suffix's name part."""
    keys: list[tuple[int, str]] = []
    for value in metric.dimensions.values() if isinstance(metric.dimensions, Mapping) else ():
        if isinstance(value, Ref):
            keys.append((0, normalize_address(value.address)))
        elif isinstance(value, str):
            keys.append((1, value))
            if value.count("/") >= 2:
                keys.append((2, value.split("/")[-2]))
    return keys


def candidate_watches(ctx: RuleContext, target: Resource, metric_name: str) -> list[Watch]:
    """The alarm metrics that may watch AWS/ApplicationELB `metric_name` of `target`: those whose dimensions
    name it (by reference, ARN suffix or, for a suffix unknown until apply, its name) and those whose
    namespace, name or dimensions are unknown. `watches` decides each."""
    index = _alarm_index(ctx)
    found: list[Watch] = []
    if target.address:
        found += index.by_address.get((metric_name, normalize_address(target.address)), ())
    suffix = arn_suffix(target)
    if suffix is not None:
        found += index.by_literal.get((metric_name, suffix), ())
    elif isinstance(get(target, "name"), str):
        found += index.by_name_part.get((metric_name, get(target, "name")), ())
    else:  # neither suffix nor name known: any literal may name it
        found += [w for (name, _), ws in index.by_literal.items() if name == metric_name for w in ws]
    found += index.vague.get(metric_name, ())
    found += index.unknown
    return list({id(w): w for w in found}.values())


# --- routing -------------------------------------------------------------------------------------

ROUTE_TABLES = ("aws_route_table", "aws_default_route_table")


@dataclass(frozen=True, slots=True)
class RouteTable:
    """A route table a subnet uses: what to call it, and its routes as `route` blocks
    (`cidr_block`, `ipv6_cidr_block`, `gateway_id`, ...), separate `aws_route`s included."""

    name: str
    routes: tuple[Mapping[str, Any], ...]


def subnet_route_table(ctx: RuleContext, subnet: Resource) -> RouteTable | Unresolved:
    """The route table of `subnet`: its explicit association, else its VPC's main route table."""
    links = linked(ctx, subnet, ("aws_route_table_association",), "subnet_id", ID_KEYS)
    if links.undecided and not links.matched:
        return Unresolved(f"its route table association cannot be told: {links.describe_undecided()}")
    if links.matched:
        value = get(links.matched[0], "route_table_id")
        table = designated(ctx, value, ROUTE_TABLES, ID_KEYS)
        if isinstance(table, Unresolved):
            return Unresolved(f"route table {show(value)}: {table.reason}")
        return _table(ctx, table, name_of(table))
    return _main_route_table(ctx, subnet)


def _main_route_table(ctx: RuleContext, subnet: Resource) -> RouteTable | Unresolved:
    vpc_value = get(subnet, "vpc_id")
    for table in ctx.of_type("aws_route_table"):  # live: the VPC's main table carries `_main`
        if get(table, "_main") is True and isinstance(vpc_value, str) and get(table, "vpc_id") == vpc_value:
            return _table(ctx, table, f"{name_of(table)} (main route table of {vpc_value})")
    vpc = designated(ctx, vpc_value, ("aws_vpc",), ID_KEYS)
    if isinstance(vpc, Unresolved):
        return Unresolved(f"it has no explicit route table association and its VPC's main route table is not "
                          f"known ({vpc.reason})")
    for assoc in ctx.of_type("aws_main_route_table_association"):
        if refers_to(get(assoc, "vpc_id"), vpc, ID_KEYS, known_addresses(ctx)) is True:
            main = designated(ctx, get(assoc, "route_table_id"), ROUTE_TABLES, ID_KEYS)
            if isinstance(main, Unresolved):
                return Unresolved(f"the main route table of {name_of(vpc)}: {main.reason}")
            return _table(ctx, main, f"{name_of(main)} (main route table of {name_of(vpc)})")
    main_ids = _main_table_values(vpc)
    for table in ctx.of_type("aws_default_route_table"):
        if any(get(table, "default_route_table_id") == v for v in main_ids):
            return _table(ctx, table, f"{name_of(table)} (main route table of {name_of(vpc)})")
    if vpc.origin is not Origin.CODE:
        return Unresolved(f"it has no explicit route table association and the main route table of "
                          f"{name_of(vpc)} was not found")
    extra = tuple(_route_resource(r) for r in ctx.of_type("aws_route")
                  if any(get(r, "route_table_id") == v for v in main_ids))
    return RouteTable(f"the main route table of {name_of(vpc)} (only the routes this configuration adds)", extra)


def _main_table_values(vpc: Resource) -> list[Any]:
    """What a reference to the VPC's main route table looks like (Refs in code, ids in state)."""
    values: list[Any] = []
    for attribute in ("main_route_table_id", "default_route_table_id"):
        if vpc.address:
            values.append(Ref(vpc.address, attribute))
        value = get(vpc, attribute)
        if isinstance(value, str) and value:
            values.append(value)
    return values


def _table(ctx: RuleContext, table: Resource, name: str) -> RouteTable | Unresolved:
    inline = blocks(table, "route")
    if isinstance(inline, Unresolved):
        return Unresolved(f"the routes of {name}: {inline.reason}")
    others = known_addresses(ctx)
    separate = [_route_resource(r) for r in ctx.of_type("aws_route")
                if refers_to(get(r, "route_table_id"), table, ID_KEYS, others) is True]
    return RouteTable(name, (*inline, *separate))


def _route_resource(route: Resource) -> Mapping[str, Any]:
    """An `aws_route` as a `route` block."""
    attrs = route.attributes
    return {"cidr_block": attrs.get("destination_cidr_block"),
            "ipv6_cidr_block": attrs.get("destination_ipv6_cidr_block"),
            **{k: v for k, v in attrs.items() if k.endswith("_id") and k != "route_table_id"},
            "_resource": name_of(route)}
