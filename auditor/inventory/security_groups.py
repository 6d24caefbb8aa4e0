"""Security groups and their rules (EC2 DescribeSecurityGroups and DescribeSecurityGroupRules).

Security-group rules come in three Terraform shapes over one AWS object (a rule with one source):

- `aws_vpc_security_group_ingress_rule` / `_egress_rule`: one resource per AWS rule (`sgr-...`).
- `aws_security_group_rule` (legacy): no AWS id; one resource may list several sources. It is
  matched on the import id Terraform itself accepts for the type,
  `SGID_TYPE_PROTOCOL_FROMPORT_TOPORT_SOURCE[_SOURCE...]` (see `legacy_import_id`).
- the `ingress` / `egress` blocks of `aws_security_group`, flattened the way the provider does.
"""

from __future__ import annotations

import zlib
from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from auditor.catalog import StateView, TypeSpec
from auditor.inventory.base import CollectContext, collector, tags_dict
from auditor.inventory.network import PROVIDER_ONLY, described, ec2_arn, tagged
from auditor.models import Resource

# --- security-group rule model ------------------------------------------------------------------

_PROTOCOL_NAMES = {"1": "icmp", "6": "tcp", "17": "udp", "58": "icmpv6"}
_RULE_SOURCE_KEYS = (("CidrIpv4", "cidr_ipv4"), ("CidrIpv6", "cidr_ipv6"), ("PrefixListId", "prefix_list_id"))
_SOURCE_ORDER = {"cidr_ipv4": 0, "cidr_ipv6": 1, "prefix_list_id": 2, "referenced_security_group_id": 3}


def normalize_protocol(value: Any) -> str:
    """The provider's protocol normal form: lower case, "-1" for all, names for tcp/udp/icmp/icmpv6."""
    protocol = str(value if value is not None else "").strip().lower()
    if protocol in ("-1", "all"):
        return "-1"
    return _PROTOCOL_NAMES.get(protocol, protocol)


def _key_ports(protocol: str, from_port: Any, to_port: Any) -> tuple[int, int]:
    """Ports as a rule key uses them: AWS keeps no ports for protocol -1 (Terraform writes 0 and 0)."""
    if protocol == "-1":
        return 0, 0
    return (int(from_port) if from_port is not None else 0, int(to_port) if to_port is not None else 0)


def _rule_key(group_id: str, direction: str, protocol: Any, from_port: Any, to_port: Any,
              sources: Sequence[str]) -> str:
    """`SGID_TYPE_PROTOCOL_FROMPORT_TOPORT_SOURCE[_SOURCE...]`, Terraform's legacy-rule import id format."""
    proto = normalize_protocol(protocol)
    low, high = _key_ports(proto, from_port, to_port)
    return "_".join((group_id, direction, proto, str(low), str(high), *sources))


@dataclass(frozen=True, slots=True)
class LiveRule:
    """One AWS security-group rule (DescribeSecurityGroupRules): one protocol, port range and source."""

    rule_id: str
    group_id: str
    egress: bool
    ip_protocol: str  # as AWS answers it, lower case
    from_port: int  # as AWS answers it (-1 for "all")
    to_port: int
    source_attr: str  # cidr_ipv4 | cidr_ipv6 | prefix_list_id | referenced_security_group_id
    source: str  # the CIDR, prefix list id or [account/]group id
    description: str
    tags: Mapping[str, str]
    default_group: bool  # the rule sits in a VPC's default security group

    @property
    def direction(self) -> str:
        return "egress" if self.egress else "ingress"

    @property
    def protocol(self) -> str:
        return normalize_protocol(self.ip_protocol)

    @property
    def is_self(self) -> bool:
        return self.source_attr == "referenced_security_group_id" and self.source == self.group_id

    @property
    def legacy_source(self) -> str:
        """The source as a legacy import id writes it ("self" for the group itself)."""
        return "self" if self.is_self else self.source

    @property
    def fingerprint(self) -> str:
        return _rule_key(self.group_id, self.direction, self.ip_protocol, self.from_port, self.to_port,
                         (self.legacy_source,))

    @property
    def aws_default(self) -> bool:
        """One of the rules AWS puts in a default security group (all from itself in, all out)."""
        if not self.default_group or self.protocol != "-1":
            return False
        if self.egress:
            return self.source in ("0.0.0.0/0", "::/0")
        return self.is_self


def _group_ref(group_id: str, user_id: str | None, account_id: str) -> str:
    """A referenced group as the provider writes it: `sg-x`, or `account/sg-x` for another account's."""
    return f"{user_id}/{group_id}" if user_id and user_id != account_id else group_id


def _live_rule(raw: Mapping[str, Any], account_id: str, default_groups: frozenset[str]) -> LiveRule:
    ref = raw.get("ReferencedGroupInfo") or {}
    for key, attr in _RULE_SOURCE_KEYS:
        if raw.get(key):
            source_attr, source = attr, str(raw[key])
            break
    else:
        if not ref.get("GroupId"):
            raise ValueError(f"security group rule {raw.get('SecurityGroupRuleId')} has no source")
        source_attr = "referenced_security_group_id"
        source = _group_ref(ref["GroupId"], ref.get("UserId"), account_id)
    protocol = str(raw.get("IpProtocol", "-1")).lower()
    return LiveRule(
        rule_id=raw["SecurityGroupRuleId"], group_id=raw["GroupId"], egress=bool(raw.get("IsEgress")),
        ip_protocol=protocol, from_port=int(raw.get("FromPort", -1)), to_port=int(raw.get("ToPort", -1)),
        source_attr=source_attr, source=source, description=str(raw.get("Description") or ""),
        tags=tags_dict(raw.get("Tags")), default_group=raw["GroupId"] in default_groups)


def security_groups(ctx: CollectContext) -> list[dict[str, Any]]:
    return described(ctx, "DescribeSecurityGroups", "SecurityGroups")


def _live_rules(ctx: CollectContext) -> list[LiveRule]:
    default_groups = frozenset(g["GroupId"] for g in security_groups(ctx) if g.get("GroupName") == "default")
    raw_rules = described(ctx, "DescribeSecurityGroupRules", "SecurityGroupRules")
    return [_live_rule(r, ctx.account_id or r.get("GroupOwnerId", ""), default_groups) for r in raw_rules]


# --- aws_security_group -------------------------------------------------------------------------

_PERMISSION_SOURCES = (("IpRanges", "CidrIp", "cidr_blocks"), ("Ipv6Ranges", "CidrIpv6", "ipv6_cidr_blocks"),
                       ("PrefixListIds", "PrefixListId", "prefix_list_ids"))
_BLOCK_LISTS = ("cidr_blocks", "ipv6_cidr_blocks", "prefix_list_ids", "security_groups")

_Entry = tuple[str, int, int, str, str, str]
"""One source of an ingress/egress block: protocol, ports, description, list attribute (or "self"), value."""


def _entry(protocol: Any, from_port: Any, to_port: Any, description: Any, attr: str, value: str) -> _Entry:
    proto = normalize_protocol(protocol)
    low, high = _key_ports(proto, from_port, to_port)
    return proto, low, high, str(description or ""), attr, value


def _grouped_blocks(entries: Iterable[_Entry]) -> list[dict[str, Any]]:
    """Sources grouped the provider's way: one block per (protocol, ports, description)."""
    blocks: dict[tuple[str, int, int, str], dict[str, Any]] = {}
    for protocol, low, high, description, attr, value in entries:
        block = blocks.setdefault((protocol, low, high, description), {
            "cidr_blocks": [], "description": description, "from_port": low, "ipv6_cidr_blocks": [],
            "prefix_list_ids": [], "protocol": protocol, "security_groups": [], "self": False,
            "to_port": high})
        if attr == "self":
            block["self"] = True
        elif value not in block[attr]:
            block[attr].append(value)
    return list(blocks.values())


def permission_blocks(group_id: str, owner_id: str, permissions: Iterable[Mapping[str, Any]] | None
                      ) -> list[dict[str, Any]]:
    """IpPermissions flattened into `ingress`/`egress` blocks the way the provider reads them.

    One block per (protocol, ports, description): every source with that description joins it;
    the group itself becomes `self = true`; other groups go to `security_groups`.
    """
    entries: list[_Entry] = []
    for perm in permissions or []:
        rule = (perm.get("IpProtocol", "-1"), perm.get("FromPort"), perm.get("ToPort"))
        for list_key, value_key, attr in _PERMISSION_SOURCES:
            entries += [_entry(*rule, item.get("Description"), attr, str(item[value_key]))
                        for item in perm.get(list_key) or []]
        for pair in perm.get("UserIdGroupPairs") or []:
            ref = _group_ref(str(pair.get("GroupId", "")), pair.get("UserId"), owner_id)
            attr = "self" if ref == group_id else "security_groups"
            entries.append(_entry(*rule, pair.get("Description"), attr, ref))
    return _grouped_blocks(entries)


def canonical_rule_blocks(blocks: Any) -> Any:
    """Normalizer of `ingress`/`egress`: any equivalent block layout -> the provider's read-back layout.

    A configuration may split one (protocol, ports, description) group over several blocks, or
    write protocol "6" for "tcp"; the provider keeps such a layout in state while AWS holds the
    same rules. Regrouping both sides makes equal rule sets compare equal. Idempotent.
    """
    if not isinstance(blocks, list):
        return blocks
    entries: list[_Entry] = []
    for block in blocks:
        if not isinstance(block, Mapping):
            return blocks
        rule = (block.get("protocol"), block.get("from_port"), block.get("to_port"),
                block.get("description"))
        entries += [_entry(*rule, attr, str(v)) for attr in _BLOCK_LISTS for v in block.get(attr) or []]
        if block.get("self"):
            entries.append(_entry(*rule, "self", ""))
    return _grouped_blocks(entries)


@dataclass(frozen=True, slots=True)
class _RuleOwnership:
    """Who in the states manages which security-group rules (for `mirrored` and `covered`)."""

    groups: frozenset[str]  # security groups held as aws_security_group or aws_default_security_group
    split: Mapping[str, frozenset[str]]  # group id -> directions managed by separate rule resources
    legacy: frozenset[str]  # fingerprints of every source of every legacy aws_security_group_rule


_ownership_cache: list[tuple[StateView, _RuleOwnership]] = []


def _ownership(view: StateView) -> _RuleOwnership:
    """Index the state view once per diff (the diff asks once per live rule)."""
    if _ownership_cache and _ownership_cache[0][0] is view:
        return _ownership_cache[0][1]
    split: dict[str, set[str]] = defaultdict(set)
    for spec, direction in ((INGRESS_RULE, "ingress"), (EGRESS_RULE, "egress")):
        for res in view.get(spec.type, ()):
            split[str(res.attributes.get("security_group_id", ""))].add(direction)
    legacy: set[str] = set()
    for res in view.get(LEGACY_RULE.type, ()):
        split[str(res.attributes.get("security_group_id", ""))].add(str(res.attributes.get("type", "")))
        legacy |= legacy_fingerprints(res.attributes)
    held = (*view.get(SECURITY_GROUP.type, ()), *view.get("aws_default_security_group", ()))
    index = _RuleOwnership(groups=frozenset(r.id for r in held),
                           split={k: frozenset(v) for k, v in split.items()}, legacy=frozenset(legacy))
    _ownership_cache[:] = [(view, index)]
    return index


def _split_directions(res: Resource, view: StateView) -> frozenset[str]:
    """`mirrored` for aws_security_group: the inline blocks that separate rule resources manage."""
    return _ownership(view).split.get(res.id, frozenset())


SECURITY_GROUP = TypeSpec(
    type="aws_security_group",
    calls=("DescribeSecurityGroups", "DescribeSecurityGroupRules"),
    service="ec2",
    compared=("name", "description", "vpc_id", "ingress", "egress"),
    set_paths=("ingress", "egress", *(f"{d}.*.{f}" for d in ("ingress", "egress") for f in _BLOCK_LISTS)),
    tags=True,
    ignored={
        "arn": "derived from the id",
        "owner_id": "computed",
        "name_prefix": "configuration only (derived from name by the provider)",
        "revoke_rules_on_delete": "provider-only flag",
        "timeouts": PROVIDER_ONLY,
    },
    normalizers={"ingress": canonical_rule_blocks, "egress": canonical_rule_blocks},
    aws_owned=lambda r: bool(r.attributes.get("_default")),
    mirrored=_split_directions,
    notes="ingress/egress from DescribeSecurityGroups, one block per (protocol, ports, description) like "
          "the provider's refresh; both sides are regrouped that way before comparing "
          "(canonical_rule_blocks), so a configuration that splits one group over several blocks is not "
          "drift. When separate rule resources in a state manage a group's ingress or egress, that side "
          "is `mirrored` (not compared): the rule resources are compared instead. Default groups are "
          "AWS-owned.",
)


@collector(SECURITY_GROUP)
def collect_security_groups(ctx: CollectContext) -> Iterator[Resource]:
    for group in security_groups(ctx):
        group_id = group["GroupId"]
        owner = str(group.get("OwnerId") or ctx.account_id)
        attrs: dict[str, Any] = {
            "id": group_id,
            "arn": group.get("SecurityGroupArn") or ec2_arn(ctx, owner, f"security-group/{group_id}"),
            "owner_id": owner,
            "name": group.get("GroupName", ""),
            "description": group.get("Description", ""),
            "vpc_id": group.get("VpcId", ""),
            "ingress": permission_blocks(group_id, owner, group.get("IpPermissions")),
            "egress": permission_blocks(group_id, owner, group.get("IpPermissionsEgress")),
            "_default": group.get("GroupName") == "default",
        }
        yield ctx.resource(SECURITY_GROUP, group_id, tagged(attrs, tags_dict(group.get("Tags"))))


# --- aws_vpc_security_group_ingress_rule / _egress_rule -----------------------------------------


def rule_fingerprint(attrs: Mapping[str, Any], direction: str | None = None) -> str:
    """The content key of one modern rule (live or state attributes), in the legacy key's terms.

    It is the `legacy_import_id` a one-source aws_security_group_rule for the same permission
    would have: `SGID_TYPE_PROTOCOL_FROMPORT_TOPORT_SOURCE`, with protocol in provider form, ports
    0/0 for protocol -1 and `self` for the group itself. A legacy state rule covers exactly the
    fingerprints in `legacy_fingerprints(its attributes)`. `direction` ("ingress"/"egress")
    defaults to the live resource's private `_direction`.
    """
    direction = direction or attrs.get("_direction")
    if direction not in ("ingress", "egress"):
        raise ValueError("rule_fingerprint needs the rule's direction (ingress or egress)")
    group_id = str(attrs.get("security_group_id", ""))
    source = next((str(attrs[a]) for a in _SOURCE_ORDER if attrs.get(a)), "")
    if source == group_id:
        source = "self"
    return _rule_key(group_id, direction, attrs.get("ip_protocol"), attrs.get("from_port"),
                     attrs.get("to_port"), (source,))


def _rule_covered(live: Resource, view: StateView) -> bool:
    """`covered` for modern rules: a state manages this live rule through another resource type.

    True when a legacy aws_security_group_rule in a state lists its source; when its group is held
    as an aws_security_group whose inline blocks on this side are authoritative (no separate rule
    resources for that side); or when no state holds its group nor any rule of it, so the group is
    reported unmanaged as a whole (rules of AWS default groups excepted, so hand-made ones show).
    """
    own = _ownership(view)
    attrs = live.attributes
    if rule_fingerprint(attrs) in own.legacy:
        return True
    group_id = str(attrs.get("security_group_id", ""))
    managed_sides = own.split.get(group_id, frozenset())
    if group_id in own.groups:
        return attrs.get("_direction") not in managed_sides
    return not managed_sides and not attrs.get("_default_group")


def _modern_rule_spec(direction: str) -> TypeSpec:
    return TypeSpec(
        type=f"aws_vpc_security_group_{direction}_rule",
        calls=("DescribeSecurityGroups", "DescribeSecurityGroupRules"),
        service="ec2",
        compared=("security_group_id", "ip_protocol", "from_port", "to_port", "cidr_ipv4", "cidr_ipv6",
                  "prefix_list_id", "referenced_security_group_id", "description"),
        tags=True,
        normalizers={"ip_protocol": normalize_protocol},
        ignored={"arn": "derived from the id", "security_group_rule_id": "equal to the id"},
        aws_owned=lambda r: bool(r.attributes.get("_aws_default")),
        covered=_rule_covered,
        notes="One resource per AWS rule id from DescribeSecurityGroupRules (IsEgress splits the types). "
              "from_port/to_port are null for protocol -1. The rules AWS creates in a default group are "
              "AWS-owned; other rules there are reported. Not unmanaged when a state manages the rule "
              "as a legacy aws_security_group_rule or through its group's authoritative inline blocks "
              "(see `covered`).",
    )


INGRESS_RULE = _modern_rule_spec("ingress")
EGRESS_RULE = _modern_rule_spec("egress")


def _modern_attrs(ctx: CollectContext, rule: LiveRule) -> dict[str, Any]:
    attrs: dict[str, Any] = {
        "id": rule.rule_id,
        "security_group_rule_id": rule.rule_id,
        "arn": ec2_arn(ctx, None, f"security-group-rule/{rule.rule_id}"),
        "security_group_id": rule.group_id,
        "ip_protocol": rule.ip_protocol,
        "from_port": None if rule.protocol == "-1" else rule.from_port,
        "to_port": None if rule.protocol == "-1" else rule.to_port,
        "description": rule.description or None,
        "_direction": rule.direction,
        "_default_group": rule.default_group,
        "_aws_default": rule.aws_default,
    }
    for attr in _SOURCE_ORDER:
        attrs[attr] = rule.source if attr == rule.source_attr else None
    return tagged(attrs, rule.tags)


def _collect_modern_rules(ctx: CollectContext, spec: TypeSpec, egress: bool) -> Iterator[Resource]:
    for rule in _live_rules(ctx):
        if rule.egress == egress:
            yield ctx.resource(spec, rule.rule_id, _modern_attrs(ctx, rule))


@collector(INGRESS_RULE)
def collect_ingress_rules(ctx: CollectContext) -> Iterator[Resource]:
    return _collect_modern_rules(ctx, INGRESS_RULE, egress=False)


@collector(EGRESS_RULE)
def collect_egress_rules(ctx: CollectContext) -> Iterator[Resource]:
    return _collect_modern_rules(ctx, EGRESS_RULE, egress=True)


# --- aws_security_group_rule (legacy) -----------------------------------------------------------


def _legacy_sources(attrs: Mapping[str, Any]) -> list[str]:
    """A legacy rule's sources in canonical order: IPv4, IPv6, prefix lists (each sorted), self, group."""
    group_id = str(attrs.get("security_group_id", ""))
    sources: list[str] = []
    for attr in ("cidr_blocks", "ipv6_cidr_blocks", "prefix_list_ids"):
        sources += sorted({str(v) for v in attrs.get(attr) or [] if v})
    other = str(attrs.get("source_security_group_id") or "")
    if attrs.get("self") or other == group_id:
        sources.append("self")
    if other and other != group_id:
        sources.append(other)
    return sources


def legacy_import_id(attrs: Mapping[str, Any]) -> str | None:
    """The import id of an aws_security_group_rule (state or live attributes): the match key.

    `SGID_TYPE_PROTOCOL_FROMPORT_TOPORT_SOURCE[_SOURCE...]` exactly as `terraform import` takes it,
    with canonical protocol, ports and source order, so the same rule always gives the same id.
    """
    group_id, direction = attrs.get("security_group_id"), attrs.get("type")
    sources = _legacy_sources(attrs)
    if not group_id or direction not in ("ingress", "egress") or not sources or not attrs.get("protocol"):
        return None
    return _rule_key(str(group_id), str(direction), attrs["protocol"], attrs.get("from_port"),
                     attrs.get("to_port"), sources)


def legacy_fingerprints(attrs: Mapping[str, Any]) -> frozenset[str]:
    """The `rule_fingerprint` of every AWS rule a legacy aws_security_group_rule stands for."""
    import_id = legacy_import_id(attrs)
    if import_id is None:
        return frozenset()
    return _fingerprints_of(import_id)


def _fingerprint_prefix(key: str) -> str:
    """`SGID_TYPE_PROTOCOL_FROMPORT_TOPORT` of a rule key (what every source of one rule shares)."""
    return "_".join(key.split("_")[:5])


def _fingerprints_of(import_id: str) -> frozenset[str]:
    prefix = _fingerprint_prefix(import_id)
    return frozenset(f"{prefix}_{source}" for source in import_id.split("_")[5:])


def provider_rule_id(attrs: Mapping[str, Any]) -> str:
    """The `sgrule-N` id the provider gives a legacy rule (CRC-32 of its content, as it computes it)."""
    group_id = str(attrs.get("security_group_id", ""))
    protocol = normalize_protocol(attrs.get("protocol"))
    low, high = _key_ports(protocol, attrs.get("from_port"), attrs.get("to_port"))
    text = f"{group_id}-" + "".join(f"{p}-" for p in (low, high) if p > 0)
    text += f"{protocol}-{attrs.get('type')}-"
    for attr in ("cidr_blocks", "ipv6_cidr_blocks", "prefix_list_ids"):
        text += "".join(f"{v}-" for v in sorted(attrs.get(attr) or []))
    pairs = {group_id} if attrs.get("self") else set()
    other = str(attrs.get("source_security_group_id") or "")
    if other and other != group_id:
        pairs.add(other.split("/")[-1])
    text += "".join(f"{pair}--" for pair in sorted(pairs))
    return f"sgrule-{zlib.crc32(text.encode())}"


def _legacy_attrs(members: Sequence[LiveRule]) -> dict[str, Any]:
    """Live rules of one group, direction, protocol and ports as one legacy rule's attributes."""
    first = members[0]
    by_attr: dict[str, list[str]] = defaultdict(list)
    for rule in members:
        if not rule.is_self:
            by_attr[rule.source_attr].append(rule.source)
    groups = by_attr["referenced_security_group_id"]
    is_self = any(rule.is_self for rule in members)
    low, high = _key_ports(first.protocol, first.from_port, first.to_port)
    attrs: dict[str, Any] = {
        "security_group_id": first.group_id,
        "type": first.direction,
        "protocol": first.protocol,
        "from_port": low,
        "to_port": high,
        "cidr_blocks": sorted(by_attr["cidr_ipv4"]),
        "ipv6_cidr_blocks": sorted(by_attr["cidr_ipv6"]),
        "prefix_list_ids": sorted(by_attr["prefix_list_id"]),
        "self": is_self,
        "source_security_group_id": first.group_id if is_self else (groups[0] if groups else ""),
        "description": next((rule.description for rule in members if rule.description), ""),
        "security_group_rule_id": first.rule_id if len(members) == 1 else "",
    }
    attrs["id"] = provider_rule_id(attrs)
    return attrs


LEGACY_RULE = TypeSpec(
    type="aws_security_group_rule",
    calls=("DescribeSecurityGroups", "DescribeSecurityGroupRules"),
    service="ec2",
    compared=("security_group_id", "type", "protocol", "from_port", "to_port", "cidr_blocks",
              "ipv6_cidr_blocks", "prefix_list_ids", "self", "description"),
    set_paths=("cidr_blocks", "ipv6_cidr_blocks", "prefix_list_ids"),
    normalizers={"protocol": normalize_protocol},
    ignored={
        "id": "the provider's sgrule-N hash of the content (reproduced, but matching uses the import id)",
        "security_group_rule_id": "computed; set only for single-source rules",
        "source_security_group_id": "part of the match key; with self=true providers record the group "
                                    "itself or nothing depending on the version",
        "timeouts": PROVIDER_ONLY,
    },
    state_id=legacy_import_id,
    report_unmanaged=False,
    notes="AWS has one rule per source; a legacy rule may list several. Both sides are keyed by Terraform's "
          "own import id for the type, SGID_TYPE_PROTOCOL_FROMPORT_TOPORT_SOURCE[_SOURCE...] "
          "(legacy_import_id), which names every source. The collector rebuilds each id a state holds "
          "(CollectContext.wanted) from the live rules with those sources, so a state rule with N sources "
          "matches its N live rules and two state rules that differ only in sources never collide; "
          "sources that are gone show as a change of cidr_blocks..., all gone as missing. The description "
          "is compared, not keyed, so editing it is a change. Live rules no state rule claims are grouped "
          "by (group, direction, protocol, ports, description), CIDR-like sources together and each "
          "referenced group alone, the shape a typical legacy rule has. Never reported unmanaged: live "
          "rules are reported as aws_vpc_security_group_*_rule, and rule_fingerprint / legacy_fingerprints "
          "tell which of those a legacy state rule covers.",
)


@collector(LEGACY_RULE)
def collect_legacy_rules(ctx: CollectContext) -> Iterator[Resource]:
    rules = _live_rules(ctx)
    by_fingerprint: dict[str, list[LiveRule]] = defaultdict(list)
    for rule in rules:
        by_fingerprint[rule.fingerprint].append(rule)
    claimed: set[str] = set()
    for import_id in sorted(ctx.wanted.get(LEGACY_RULE.type, ())):
        found = [r for fp in sorted(_fingerprints_of(import_id)) for r in by_fingerprint.get(fp, ())]
        if found:
            claimed.update(r.rule_id for r in found)
            yield ctx.resource(LEGACY_RULE, import_id, _legacy_attrs(found))
    groups: dict[tuple[str, ...], list[LiveRule]] = defaultdict(list)
    for rule in rules:
        if rule.rule_id in claimed:
            continue
        kind = rule.legacy_source if rule.source_attr == "referenced_security_group_id" else "cidr"
        groups[(_fingerprint_prefix(rule.fingerprint), rule.description, kind)].append(rule)
    for members in groups.values():
        attrs = _legacy_attrs(members)
        key = legacy_import_id(attrs)
        if key is not None:
            yield ctx.resource(LEGACY_RULE, key, attrs)
