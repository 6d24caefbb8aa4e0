"""NET-01..03: no admin ports open to the internet, no public IPs on tasks, tasks in private subnets.

NET-01 judges each shape a Terraform ingress rule takes: the inline `ingress` blocks of
`aws_security_group`, a legacy `aws_security_group_rule` of type ingress, and an
`aws_vpc_security_group_ingress_rule`. Live, every AWS rule is an `aws_vpc_security_group_ingress_rule`
(and its group carries all of them); the legacy shape the collectors rebuild from those same rules is
not judged again. Ports 80 and 443 open to the world (a public load balancer) are fine; 22 (SSH),
3389 (RDP) and rules over every port or protocol are not. A TCP rule from port 0 to port 0 opens
port 0 only.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping, Sequence
from typing import Any

from auditor.code.values import Ref
from auditor.models import Origin, Resource, Unresolved
from auditor.rules.engine import rule
from auditor.rules.joins import ID_KEYS, SUBNET, designated, name_of, subnet_route_table, subnet_values
from auditor.rules.links import address_type
from auditor.rules.model import Peers, RuleContext, Verdict
from auditor.rules.read import as_bool, as_list, blocks, get, show, value_or_default
from auditor.rules.verdicts import Tri, all_of, failed, judge, not_applicable, passed, t_all, t_any, unknown, unresolved

SECURITY_GROUP = "aws_security_group"
LEGACY_RULE = "aws_security_group_rule"
INGRESS_RULE = "aws_vpc_security_group_ingress_rule"
SERVICE = "aws_ecs_service"
ADMIN_PORTS: Mapping[int, tuple[str, ...]] = {22: ("tcp",), 3389: ("tcp", "udp")}
PROTOCOL_NAMES = {"-1": "all", "all": "all", "6": "tcp", "tcp": "tcp", "17": "udp", "udp": "udp"}
WORLD = "0.0.0.0/0 or ::/0"

# --- NET-01 ----------------------------------------------------------------------------------------


def _whole_internet(cidr: Any) -> Tri:
    if isinstance(cidr, Unresolved):
        return None
    if not isinstance(cidr, str):
        return False
    try:
        return ipaddress.ip_network(cidr.strip(), strict=False).prefixlen == 0
    except ValueError:
        return False


def _exposed(protocol: Any, from_port: Any, to_port: Any) -> list[str] | Unresolved:
    """The admin ports (or "all ports") a rule opens."""
    if isinstance(protocol, Unresolved):
        return protocol
    kind = PROTOCOL_NAMES.get(str(protocol).lower(), str(protocol).lower())
    if kind == "all":
        return ["every port and protocol"]
    if kind not in ("tcp", "udp"):
        return []
    for port in (from_port, to_port):
        if isinstance(port, Unresolved):
            return port
    if not isinstance(from_port, int) or not isinstance(to_port, int):
        return Unresolved(f"the {kind} port range is not set")
    opened = [f"{port}/{kind}" for port, kinds in ADMIN_PORTS.items() if kind in kinds and from_port <= port <= to_port]
    if from_port <= 1 and to_port >= 65535:
        opened.insert(0, f"every {kind} port")
    return opened


def _permission(protocol: Any, from_port: Any, to_port: Any, sources: Sequence[Any], what: str) -> Verdict:
    world = [s for s in sources if _whole_internet(s) is not False]
    if not world:
        return passed(f"{what} admits no traffic from {WORLD}")
    shown = ", ".join(show(s) if isinstance(s, Unresolved) else str(s) for s in world)
    opened = _exposed(protocol, from_port, to_port)
    if isinstance(opened, Unresolved):
        return unresolved(f"the ports {what} opens to {shown}", opened)
    if not opened:
        ports = f" {from_port}" if from_port == to_port else f" {from_port}-{to_port}"
        return passed(f"{what} opens only {protocol}{ports if from_port is not None else ''} to {shown}, "
                      "no admin port", shown)
    if not any(_whole_internet(s) for s in world):
        return unknown(f"{what} opens {', '.join(opened)} to {shown}, which may be {WORLD}", opened)
    return failed(f"{what} opens {', '.join(opened)} to {shown}", {"ports": opened, "sources": shown})


def _sources(block: Mapping[str, Any], *names: str) -> list[Any]:
    """The CIDR sources of a rule; an unknown value (one CIDR or a whole list) stands as one unknown source."""
    return [v for name in names for v in as_list(block.get(name)) if v not in (None, "")]


def _inline_ingress(res: Resource) -> Verdict:
    found = blocks(res, "ingress")
    if isinstance(found, Unresolved):
        return unresolved("the ingress blocks", found)
    if not found:
        return passed("it has no inline ingress rules")
    verdicts = []
    for index, block in enumerate(found):
        verdicts.append(_permission(block.get("protocol"), block.get("from_port"), block.get("to_port"),
                                    _sources(block, "cidr_blocks", "ipv6_cidr_blocks"), f"ingress #{index + 1}"))
    return all_of(verdicts)


def _legacy_rule(res: Resource) -> Verdict:
    if res.origin is Origin.LIVE:
        return not_applicable(f"live rules are judged as {INGRESS_RULE} (this legacy shape is rebuilt from them)")
    direction = get(res, "type")
    if isinstance(direction, Unresolved):
        return unresolved("type", direction)
    if direction != "ingress":
        return not_applicable(f"an {direction} rule")
    return _permission(get(res, "protocol"), get(res, "from_port"), get(res, "to_port"),
                       _sources(res.attributes, "cidr_blocks", "ipv6_cidr_blocks"), "the rule")


def _ingress_rule(res: Resource) -> Verdict:
    return _permission(get(res, "ip_protocol"), get(res, "from_port"), get(res, "to_port"),
                       _sources(res.attributes, "cidr_ipv4", "cidr_ipv6"), "the rule")


@rule(
    id="NET-01", title="No 0.0.0.0/0 or ::/0 to admin ports (22, 3389, all-ports rules)", severity="high",
    resource_types=(SECURITY_GROUP, LEGACY_RULE, INGRESS_RULE),
    rationale="""
SSH and RDP open to the whole internet are scanned and brute-forced within minutes of exposure,
and a rule over every port or protocol exposes whatever listens on the host. Port 80/443 open on
a public load balancer's security group is expected and not flagged. Use SSM Session Manager, a
VPN or a bastion restricted to known addresses instead.""",
    remediation="Remove the rule, or restrict its source to known CIDR ranges or a security group; reach hosts "
                "through SSM Session Manager instead of SSH/RDP.",
    terraform="""
resource "aws_vpc_security_group_ingress_rule" "https" {
  security_group_id = aws_security_group.alb.id
  ip_protocol       = "tcp"
  from_port         = 443
  to_port           = 443
  cidr_ipv4         = "0.0.0.0/0"
}
""",
    peers=Peers(checkov=("CKV_AWS_24", "CKV_AWS_25", "CKV_AWS_277"), trivy=("AVD-AWS-0107",),
                securityhub=("EC2.13", "EC2.14", "EC2.19"), aws_config=("restricted-ssh", "restricted-common-ports"),
                prowler=("ec2_securitygroup_allow_ingress_from_internet_to_tcp_port_22",
                         "ec2_securitygroup_allow_ingress_from_internet_to_tcp_port_3389",
                         "ec2_securitygroup_allow_ingress_from_internet_to_high_risk_tcp_ports",
                         "ec2_securitygroup_allow_ingress_from_internet_to_all_ports")),
)
def no_admin_ports_from_internet(res: Resource, ctx: RuleContext) -> Verdict:
    if res.type == SECURITY_GROUP:
        return _inline_ingress(res)
    if res.type == LEGACY_RULE:
        return _legacy_rule(res)
    return _ingress_rule(res)


# --- ECS service networking (NET-02, NET-03) -------------------------------------------------------


@rule(
    id="NET-02", title="Tasks get no public IP", severity="high", resource_types=(SERVICE,),
    rationale="""
A task with a public IP is reachable from the internet on every port its security group allows,
bypassing the load balancer (and its TLS, WAF and logs). Tasks belong in private subnets behind
the load balancer, reaching AWS APIs through NAT or VPC endpoints.""",
    remediation="Set `network_configuration { assign_public_ip = false }` and put the service in private "
                "subnets with a NAT gateway or VPC endpoints.",
    terraform="""
resource "aws_ecs_service" "app" {
  name            = "example"
  cluster         = aws_ecs_cluster.main.id
  task_definition = aws_ecs_task_definition.app.arn

  network_configuration {
    subnets          = [aws_subnet.private_a.id, aws_subnet.private_b.id]
    security_groups  = [aws_security_group.service.id]
    assign_public_ip = false
  }
}
""",
    peers=Peers(checkov=("CKV_AWS_333",), securityhub=("ECS.2",), aws_config=("ecs-service-assign-public-ip-disabled",),
                prowler=("ecs_service_no_assign_public_ip",)),
)
def no_public_task_ip(res: Resource, ctx: RuleContext) -> Verdict:
    found = blocks(res, "network_configuration")
    if isinstance(found, Unresolved):
        return unresolved("network_configuration", found)
    if not found:
        return passed("no awsvpc network_configuration: ECS gives the tasks no network interface of their own")
    value = as_bool(found[0].get("assign_public_ip", False if res.origin is Origin.CODE else None))
    return judge(value, "assign_public_ip", lambda v: v is False, "false")


def _internet_gateway(value: Any) -> Tri:
    if isinstance(value, Ref):
        kind = address_type(value.address)
        return kind is not None and kind[1] == "aws_internet_gateway"
    if isinstance(value, Unresolved):
        return None
    return isinstance(value, str) and value.startswith("igw-")


def _default_route_to_igw(route: Mapping[str, Any]) -> Tri:
    def equals(name: str, cidr: str) -> Tri:
        value = route.get(name)
        return None if isinstance(value, Unresolved) else value == cidr

    return t_all([t_any([equals("cidr_block", "0.0.0.0/0"), equals("ipv6_cidr_block", "::/0")]),
                  _internet_gateway(route.get("gateway_id"))])


def _private_subnet(ctx: RuleContext, value: Any) -> Verdict:
    subnet = designated(ctx, value, (SUBNET,), ID_KEYS)
    if isinstance(subnet, Unresolved):
        return unresolved(f"subnet {show(value)}", subnet)
    where = name_of(subnet)
    public_ip = as_bool(value_or_default(subnet, "map_public_ip_on_launch", False))
    launch = judge(public_ip, f"{where} map_public_ip_on_launch", lambda v: v is False, "false")
    table = subnet_route_table(ctx, subnet)
    if isinstance(table, Unresolved):
        return all_of([launch, unresolved(f"the route table of {where}", table)])
    relations = [(r, _default_route_to_igw(r)) for r in table.routes]
    to_igw = [r for r, hit in relations if hit is True]
    if to_igw:
        gateway = show(to_igw[0].get("gateway_id"))
        routing = failed(f"{where} routes 0.0.0.0/0 to internet gateway {gateway} through {table.name}", gateway)
    elif any(hit is None for _, hit in relations):
        routing = unknown(f"{table.name} of {where} may route 0.0.0.0/0 to an internet gateway")
    else:
        routing = passed(f"{table.name} of {where} has no default route to an internet gateway")
    return all_of([launch, routing])


@rule(
    id="NET-03", title="Task subnets are private", severity="high", resource_types=(SERVICE,),
    rationale="""
A subnet is public when its route table sends 0.0.0.0/0 to an internet gateway, and it hands out
public IPs when `map_public_ip_on_launch` is true. Tasks there are one setting (NET-02) away from
the internet. Each subnet of the service's `network_configuration` is resolved to its `aws_subnet`
and its route table (explicit association, else the VPC's main route table).""",
    remediation="Run the service in private subnets: `map_public_ip_on_launch = false` and a route table whose "
                "default route goes to a NAT gateway (or none, with VPC endpoints).",
    terraform="""
resource "aws_subnet" "private_a" {
  vpc_id            = aws_vpc.main.id
  cidr_block        = "10.0.10.0/24"
  availability_zone = "eu-west-1a"
}

resource "aws_route_table" "private_a" {
  vpc_id = aws_vpc.main.id
  route {
    cidr_block     = "0.0.0.0/0"
    nat_gateway_id = aws_nat_gateway.a.id
  }
}

resource "aws_route_table_association" "private_a" {
  subnet_id      = aws_subnet.private_a.id
  route_table_id = aws_route_table.private_a.id
}

resource "aws_ecs_service" "app" {
  name            = "example"
  cluster         = aws_ecs_cluster.main.id
  task_definition = aws_ecs_task_definition.app.arn

  network_configuration {
    subnets = [aws_subnet.private_a.id]
  }
}
""",
    peers=Peers(checkov=("CKV_AWS_130",), trivy=("AVD-AWS-0164",), securityhub=("EC2.15",),
                aws_config=("subnet-auto-assign-public-ip-disabled",), prowler=("vpc_subnet_no_public_ip_by_default",)),
)
def task_subnets_private(res: Resource, ctx: RuleContext) -> Verdict:
    subnets = subnet_values(res, "network_configuration.subnets")
    if isinstance(subnets, Unresolved):
        return unresolved("network_configuration.subnets", subnets)
    if not subnets:
        return not_applicable("no awsvpc subnets: the tasks use their container instances' network")
    return all_of(_private_subnet(ctx, s) for s in subnets)
