"""What each tool calls drift, as comparable sets of findings.

Terraform's side is `terraform show -json` of a `plan -refresh-only`: every `resource_drift` entry,
diffed leaf by leaf between change.before (state) and change.after (refreshed), minus the known
noise (NOISE_RULES). The auditor's side is its JSON result (`changed` paths, `missing`,
`unmanaged`). A finding is (address, kind, path); two findings match when address and kind are
equal and one path is the other or lies inside it (the auditor reports a Terraform set as a whole,
Terraform's differ reports the leaf).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

CHANGED, MISSING, UNMANAGED = "changed", "missing", "unmanaged"
AUDITOR_ONLY, TERRAFORM_ONLY = "auditor only", "terraform only"

Step = str | int


def render_path(path: Sequence[Step]) -> str:
    """('health_check', 0, 'path') -> 'health_check[0].path' (the auditor's notation)."""
    out = ""
    for step in path:
        out += f"[{step}]" if isinstance(step, int) else (f".{step}" if out else str(step))
    return out


def path_within(inner: str, outer: str) -> bool:
    """True when `inner` is `outer` or an attribute/element below it."""
    return inner == outer or inner.startswith((outer + ".", outer + "["))


@dataclass(frozen=True, order=True)
class Finding:
    address: str
    kind: str
    path: str = ""

    def matches(self, other: Finding) -> bool:
        return (self.address, self.kind) == (other.address, other.kind) and (
            path_within(self.path, other.path) or path_within(other.path, self.path))

    def __str__(self) -> str:
        return f"{self.kind} {self.address}" + (f" {self.path}" if self.path else "")


@dataclass(frozen=True, order=True)
class Difference:
    side: str  # AUDITOR_ONLY or TERRAFORM_ONLY
    finding: Finding


def unmatched(ours: Iterable[Finding], theirs: Iterable[Finding]) -> list[Finding]:
    others = list(theirs)
    return sorted(f for f in ours if not any(f.matches(o) for o in others))


def compare(auditor: Iterable[Finding], terraform: Iterable[Finding]) -> frozenset[Difference]:
    """Findings of one tool that no finding of the other covers."""
    a, t = list(auditor), list(terraform)
    return frozenset([Difference(AUDITOR_ONLY, f) for f in unmatched(a, t)]
                     + [Difference(TERRAFORM_ONLY, f) for f in unmatched(t, a)])


# --- security-group rules, one source each (AWS's model, and the split resources') ------------


@dataclass(frozen=True, order=True)
class RuleKey:
    group_id: str
    direction: str  # ingress | egress
    protocol: str
    from_port: int | None
    to_port: int | None
    source: str

    def label(self, names: Mapping[str, str]) -> str:
        ports = "all ports" if self.from_port is None else f"{self.from_port}-{self.to_port}"
        protocol = "all" if self.protocol == "-1" else self.protocol
        return f"{self.direction} {protocol} {ports} from {names.get(self.source, self.source)}"


def _ports(protocol: str, low: Any, high: Any) -> tuple[int | None, int | None]:
    return (None, None) if protocol == "-1" or low is None else (int(low), int(high))


def split_rule_key(values: Mapping[str, Any], direction: str) -> RuleKey:
    """An aws_vpc_security_group_{ingress,egress}_rule's values."""
    protocol = str(values["ip_protocol"])
    source = next(str(values[k]) for k in ("cidr_ipv4", "cidr_ipv6", "prefix_list_id", "referenced_security_group_id")
                  if values.get(k))
    return RuleKey(str(values["security_group_id"]), direction, protocol,
                   *_ports(protocol, values.get("from_port"), values.get("to_port")), source)


def live_rule_key(rule: Mapping[str, Any]) -> RuleKey:
    """A DescribeSecurityGroupRules entry."""
    protocol = str(rule["IpProtocol"])
    referenced = (rule.get("ReferencedGroupInfo") or {}).get("GroupId")
    source = next(str(v) for v in (rule.get("CidrIpv4"), rule.get("CidrIpv6"), rule.get("PrefixListId"), referenced)
                  if v)
    return RuleKey(str(rule["GroupId"]), "egress" if rule["IsEgress"] else "ingress", protocol,
                   *_ports(protocol, rule.get("FromPort"), rule.get("ToPort")), source)


def inline_rule_keys(group_id: str, direction: str, blocks: Iterable[Mapping[str, Any]]) -> set[RuleKey]:
    """aws_security_group ingress/egress blocks, one key per source (a block may list several)."""
    keys: set[RuleKey] = set()
    for block in blocks:
        protocol = str(block["protocol"])
        ports = _ports(protocol, block.get("from_port"), block.get("to_port"))
        sources = [str(s) for k in ("cidr_blocks", "ipv6_cidr_blocks", "prefix_list_ids", "security_groups")
                   for s in block.get(k) or ()]
        if block.get("self"):
            sources.append(group_id)
        keys.update(RuleKey(group_id, direction, protocol, *ports, s) for s in sources)
    return keys


# --- Terraform's noise ------------------------------------------------------------------------


@dataclass(frozen=True)
class NoiseRule:
    id: str
    title: str
    why: str


NULL_VS_EMPTY = NoiseRule(
    "null-vs-empty", "null versus an empty value (`[]`, `{}`, `\"\"`), e.g. `tags` null → `{}`",
    "The provider stores null for an argument the configuration leaves out and reads back AWS's empty "
    "answer. Nothing changed in AWS; `terraform plan` (not refresh-only) proposes no change for it.")
UNSET_BOOL = NoiseRule(
    "unset-bool-false", "null versus `false` for an optional flag the configuration leaves unset",
    "The state keeps null where the configuration set nothing; AWS answers with the flag's default, false "
    "(e.g. `bucket_key_enabled` of an SSE-S3 rule). Same value, two spellings.")
MIRRORED = NoiseRule(
    "mirrored-inline-block",
    "a legacy inline attribute mirrored by split resources (`aws_s3_bucket` `versioning`, `policy`, "
    "`server_side_encryption_configuration`, `lifecycle_rule`…; `aws_security_group` `ingress`/`egress`; "
    "`aws_iam_role` `managed_policy_arns`)",
    "The owner resource reads back what the split resources (`aws_s3_bucket_versioning`, "
    "`aws_vpc_security_group_ingress_rule`, `aws_iam_role_policy_attachment`…) manage; the split resources "
    "carry the drift themselves. Only the part no split resource in the state covers is kept (a security-group "
    "rule that no rule resource manages becomes an `unmanaged` finding, which is what it is).")
COMPUTED = NoiseRule(
    "computed-by-another-resource",
    "a read-only attribute that another resource of the stack sets (`aws_lb_target_group.load_balancer_arns`; "
    "`aws_eip` `association_id`, `network_interface`, `private_ip`, `private_dns` while the state has none)",
    "The listener attaches the target group and the NAT gateway associates the address after they were "
    "created, so the state written at creation has the empty value. Nobody changed these resources.")
TAGS_DERIVED = NoiseRule(
    "tags-derived-from-tags_all", "`tags` re-derived when `tags_all` changed",
    "`tags_all` holds the effective tags; the provider recomputes `tags` as the live tags minus the provider's "
    "`default_tags`, so a changed default tag also shows up in `tags`. The change is counted once, under "
    "`tags.<key>` (the auditor's name for the effective tags).")
NOISE_RULES = (NULL_VS_EMPTY, UNSET_BOOL, MIRRORED, COMPUTED, TAGS_DERIVED)

_EMPTY: tuple[Any, ...] = (None, "", [], {})

# Split resources that take over a legacy inline attribute: owner type -> {attribute: split types}.
_S3_SPLIT = {
    "acceleration_status": "aws_s3_bucket_accelerate_configuration", "acl": "aws_s3_bucket_acl",
    "grant": "aws_s3_bucket_acl", "cors_rule": "aws_s3_bucket_cors_configuration",
    "lifecycle_rule": "aws_s3_bucket_lifecycle_configuration", "logging": "aws_s3_bucket_logging",
    "object_lock_configuration": "aws_s3_bucket_object_lock_configuration", "policy": "aws_s3_bucket_policy",
    "replication_configuration": "aws_s3_bucket_replication_configuration",
    "request_payer": "aws_s3_bucket_request_payment_configuration",
    "server_side_encryption_configuration": "aws_s3_bucket_server_side_encryption_configuration",
    "versioning": "aws_s3_bucket_versioning", "website": "aws_s3_bucket_website_configuration",
}
_COMPUTED_ATTRIBUTES = {
    "aws_lb_target_group": ("load_balancer_arns",),
    "aws_eip": ("association_id", "network_interface", "private_ip", "private_dns"),
}
_ALWAYS_COMPUTED = {"aws_lb_target_group"}


@dataclass(frozen=True, order=True)
class NoiseHit:
    rule: str
    address: str
    path: str


@dataclass(frozen=True)
class LeafDiff:
    path: tuple[Step, ...]
    before: Any
    after: Any


def leaf_diffs(before: Any, after: Any, path: tuple[Step, ...] = ()) -> Iterator[LeafDiff]:
    """Every leaf where two JSON values differ; lists of different lengths differ as a whole."""
    if isinstance(before, dict) and isinstance(after, dict):
        for key in sorted(set(before) | set(after)):
            yield from leaf_diffs(before.get(key), after.get(key), (*path, key))
    elif isinstance(before, list) and isinstance(after, list) and len(before) == len(after):
        for index, (b, a) in enumerate(zip(before, after, strict=True)):
            yield from leaf_diffs(b, a, (*path, index))
    elif before != after:
        yield LeafDiff(path, before, after)


def _leaf_noise(resource_type: str, diff: LeafDiff) -> NoiseRule | None:
    if diff.before in _EMPTY and diff.after in _EMPTY:
        return NULL_VS_EMPTY
    if (diff.before is None and diff.after is False) or (diff.before is False and diff.after is None):
        return UNSET_BOOL
    top = diff.path[0] if diff.path else ""
    if top in _COMPUTED_ATTRIBUTES.get(resource_type, ()) and (
            resource_type in _ALWAYS_COMPUTED or diff.before in _EMPTY):
        return COMPUTED
    return None


@dataclass(frozen=True)
class StateView:
    """The refreshed state of a plan (`prior_state`), indexed for the mirror checks."""

    resources: tuple[Mapping[str, Any], ...]

    @classmethod
    def of_plan(cls, plan: Mapping[str, Any]) -> StateView:
        found: list[Mapping[str, Any]] = []

        def walk(module: Mapping[str, Any]) -> None:
            found.extend(r for r in module.get("resources", ()) if r.get("mode") == "managed")
            for child in module.get("child_modules", ()):
                walk(child)

        walk(((plan.get("prior_state") or {}).get("values") or {}).get("root_module") or {})
        return cls(tuple(found))

    def of_type(self, resource_type: str) -> list[Mapping[str, Any]]:
        return [r["values"] for r in self.resources if r["type"] == resource_type]

    def group_names(self) -> dict[str, str]:
        return {r["values"]["id"]: r["address"] for r in self.resources if r["type"] == "aws_security_group"}

    def split_rule_keys(self, group_id: str, direction: str) -> set[RuleKey]:
        return {split_rule_key(v, direction) for v in self.of_type(f"aws_vpc_security_group_{direction}_rule")
                if v.get("security_group_id") == group_id}


@dataclass(frozen=True)
class TerraformSide:
    findings: frozenset[Finding]
    noise: frozenset[NoiseHit]


def _mirrors(resource_type: str, after: Mapping[str, Any], state: StateView) -> dict[str, Callable[..., Any]]:
    """Attributes of this resource that split resources in the state mirror, with how to read the rest."""
    if resource_type == "aws_s3_bucket":
        bucket = after.get("bucket")
        return {attr: _whole for attr, split in _S3_SPLIT.items()
                if any(v.get("bucket") == bucket for v in state.of_type(split))}
    if resource_type == "aws_iam_role":
        attached = {v.get("policy_arn") for v in state.of_type("aws_iam_role_policy_attachment")
                    if v.get("role") == after.get("name")}
        return {"managed_policy_arns": lambda before, now, address: [
            Finding(address, CHANGED, f"managed_policy_arns.{arn}") for arn in sorted(set(now or ()) - attached)]}
    if resource_type == "aws_security_group":
        return {direction: _security_group_side(direction, after.get("id", ""), state)
                for direction in ("ingress", "egress") if state.split_rule_keys(after.get("id", ""), direction)}
    return {}


def _whole(before: Any, after: Any, address: str) -> list[Finding]:
    return []


def _security_group_side(direction: str, group_id: str, state: StateView) -> Callable[..., list[Finding]]:
    def rest(before: Any, after: Any, address: str) -> list[Finding]:
        managed = state.split_rule_keys(group_id, direction) | inline_rule_keys(group_id, direction, before or ())
        extra = inline_rule_keys(group_id, direction, after or ()) - managed
        names = state.group_names()
        return [Finding(address, UNMANAGED, key.label(names)) for key in sorted(extra)]
    return rest


def terraform_side(plan: Mapping[str, Any]) -> TerraformSide:
    """Findings and removed noise of one `terraform show -json` plan."""
    state = StateView.of_plan(plan)
    findings: set[Finding] = set()
    noise: set[NoiseHit] = set()
    for entry in plan.get("resource_drift", ()):
        if entry.get("mode") != "managed":
            continue
        address, change = entry["address"], entry["change"]
        if "delete" in change["actions"]:
            findings.add(Finding(address, MISSING))
            continue
        before, after = dict(change["before"] or {}), dict(change["after"] or {})
        for attribute, rest in _mirrors(entry["type"], after, state).items():
            b, a = before.pop(attribute, None), after.pop(attribute, None)
            if b != a:
                noise.add(NoiseHit(MIRRORED.id, address, attribute))
                findings.update(rest(b, a, address))
        effective_tags_changed = (before.get("tags_all") or {}) != (after.get("tags_all") or {})
        for diff in leaf_diffs(before, after):
            rule = _leaf_noise(entry["type"], diff)
            if rule is None and effective_tags_changed and diff.path[:1] == ("tags",):
                rule = TAGS_DERIVED
            if rule is not None:
                noise.add(NoiseHit(rule.id, address, render_path(diff.path)))
            elif diff.path[:1] == ("tags_all",):
                findings.add(Finding(address, CHANGED, render_path(("tags", *diff.path[1:]))))
            else:
                findings.add(Finding(address, CHANGED, render_path(diff.path)))
    return TerraformSide(frozenset(findings), frozenset(noise))


# --- the auditor's side ------------------------------------------------------------------------

RuleLookup = Callable[[str], RuleKey]
_RULE_TYPES = ("aws_vpc_security_group_ingress_rule", "aws_vpc_security_group_egress_rule")


def auditor_side(result: Mapping[str, Any], lookup_rule: RuleLookup) -> frozenset[Finding]:
    """changed / missing / unmanaged of an `audit run --format json` result.

    An unmanaged security-group rule becomes (group address, unmanaged, rule label) like Terraform's
    view of it, through `lookup_rule` (the live rule behind an id); other unmanaged resources are
    (type, unmanaged, id) — Terraform has no view of them.
    """
    groups = {r["id"]: r["address"] for r in result["resources"]
              if r["type"] == "aws_security_group" and r.get("address")}
    findings: set[Finding] = set()
    for r in result["resources"]:
        kind = r["kind"]
        if kind == CHANGED:
            findings.update(Finding(r["address"], CHANGED, c["path"]) for c in r["changes"])
        elif kind == MISSING:
            findings.add(Finding(r["address"], MISSING))
        elif kind == UNMANAGED and r["type"] in _RULE_TYPES:
            key = lookup_rule(r["id"])
            findings.add(Finding(groups.get(key.group_id, key.group_id), UNMANAGED, key.label(groups)))
        elif kind == UNMANAGED:
            findings.add(Finding(r["type"], UNMANAGED, r["id"]))
    return frozenset(findings)
