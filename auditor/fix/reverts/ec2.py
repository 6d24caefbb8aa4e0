"""Security groups: rules added or revoked by hand."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from auditor.fix.model import Call, Probe, Risk
from auditor.fix.reverts import Revert, exists_probe, live_attrs, state_attrs
from auditor.models import Drift, DriftKind

_DIRECTIONS = ("ingress", "egress")


def _permission(rule: Mapping[str, Any], group_id: str) -> dict[str, Any]:
    """One aws_security_group `ingress`/`egress` block as an EC2 IpPermission."""
    protocol = str(rule.get("protocol", "-1"))
    description = rule.get("description") or None
    described = {"Description": description} if description else {}
    perm: dict[str, Any] = {"IpProtocol": protocol}
    if protocol not in ("-1", "all"):
        perm.update(FromPort=int(rule.get("from_port", 0)), ToPort=int(rule.get("to_port", 0)))
    ranges = [{"CidrIp": c, **described} for c in rule.get("cidr_blocks") or []]
    ranges6 = [{"CidrIpv6": c, **described} for c in rule.get("ipv6_cidr_blocks") or []]
    prefixes = [{"PrefixListId": p, **described} for p in rule.get("prefix_list_ids") or []]
    groups = [{"GroupId": g, **described} for g in rule.get("security_groups") or []]
    if rule.get("self"):
        groups.append({"GroupId": group_id, **described})
    for key, value in (("IpRanges", ranges), ("Ipv6Ranges", ranges6), ("PrefixListIds", prefixes),
                       ("UserIdGroupPairs", groups)):
        if value:
            perm[key] = value
    return perm


def _rule_key(rule: Mapping[str, Any]) -> tuple[Any, ...]:
    """A rule block compared the way the provider's set does (description included)."""
    return tuple((k, tuple(sorted(map(str, v))) if isinstance(v, list) else v) for k, v in sorted(rule.items()))


def _group_rules(drift: Drift) -> tuple[Call, ...]:
    group_id = drift.id
    calls: list[Call] = []
    for direction in _DIRECTIONS:
        want = {_rule_key(r): r for r in state_attrs(drift).get(direction) or []}
        have = {_rule_key(r): r for r in live_attrs(drift).get(direction) or []}
        extra = [_permission(r, group_id) for k, r in have.items() if k not in want]
        absent = [_permission(r, group_id) for k, r in want.items() if k not in have]
        if extra:
            calls.append(Call("ec2", f"revoke_security_group_{direction}",
                              {"GroupId": group_id, "IpPermissions": extra}))
        if absent:
            calls.append(Call("ec2", f"authorize_security_group_{direction}",
                              {"GroupId": group_id, "IpPermissions": absent}))
    return tuple(calls)


def _group_probe(drift: Drift) -> Probe:
    return exists_probe("ec2", "describe_security_groups", {"GroupIds": [drift.id]}, "SecurityGroups",
                        f"security group {drift.id}")


def _revoke_rule(drift: Drift) -> tuple[Call, ...]:
    attrs = live_attrs(drift)
    direction = "egress" if drift.type.endswith("_egress_rule") else "ingress"
    return (Call("ec2", f"revoke_security_group_{direction}",
                 {"GroupId": str(attrs["security_group_id"]), "SecurityGroupRuleIds": [drift.id]}),)


def _rule_probe(drift: Drift) -> Probe:
    return exists_probe("ec2", "describe_security_group_rules", {"SecurityGroupRuleIds": [drift.id]},
                        "SecurityGroupRules", f"security group rule {drift.id}")


def _authorize_legacy_rule(drift: Drift) -> tuple[Call, ...]:
    attrs = state_attrs(drift)
    direction = str(attrs.get("type", "ingress"))
    group_id = str(attrs["security_group_id"])
    rule = {**attrs, "security_groups": [attrs["source_security_group_id"]]
            if attrs.get("source_security_group_id") else []}
    return (Call("ec2", f"authorize_security_group_{direction}",
                 {"GroupId": group_id, "IpPermissions": [_permission(rule, group_id)]}),)


def _legacy_group_probe(drift: Drift) -> Probe:
    group_id = str(state_attrs(drift).get("security_group_id", ""))
    return exists_probe("ec2", "describe_security_groups", {"GroupIds": [group_id]}, "SecurityGroups",
                        f"security group {group_id}")


_RULE_PERMISSIONS = ("ec2:AuthorizeSecurityGroupEgress", "ec2:AuthorizeSecurityGroupIngress",
                     "ec2:RevokeSecurityGroupEgress", "ec2:RevokeSecurityGroupIngress")

REVERTS: tuple[Revert, ...] = (
    Revert("aws_security_group", "rules", frozenset({DriftKind.CHANGED}), ("ingress", "egress"),
           (*_RULE_PERMISSIONS, "ec2:DescribeSecurityGroups"), Risk.MEDIUM,
           "the security group still exists; rules added by hand are revoked, rules revoked by hand "
           "authorized again, exactly as the state lists them", _group_rules, _group_probe),
    *(Revert(f"aws_vpc_security_group_{direction}_rule", "added-by-hand", frozenset({DriftKind.UNMANAGED}), (),
             (f"ec2:RevokeSecurityGroup{direction.title()}", "ec2:DescribeSecurityGroupRules"), Risk.MEDIUM,
             "the rule still exists, on a security group a state manages (a rule added by hand to a "
             "managed group is revoked; a rule on an unmanaged group is only imported)",
             _revoke_rule, _rule_probe, parent="security_group_id")
      for direction in _DIRECTIONS),
    Revert("aws_security_group_rule", "revoked-by-hand", frozenset({DriftKind.MISSING}), (),
           ("ec2:AuthorizeSecurityGroupEgress", "ec2:AuthorizeSecurityGroupIngress", "ec2:DescribeSecurityGroups"),
           Risk.MEDIUM, "the security group still exists (the rule's id is derived from its content, so "
           "authorizing it again gives back the id the state holds)", _authorize_legacy_rule, _legacy_group_probe),
)
