"""Seed the reference stack's network: VPC, public and private subnets, gateway, routes, security groups.

Each resource is created with the calls Terraform makes for it (hashicorp/aws v5) and recorded with
the attributes the provider writes to state, built from the inputs and AWS's answers only.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import botocore.exceptions

from auditor.aws import error_code
from auditor.demo.seedkit import SeedContext
from auditor.inventory.network import ROUTE_FIELDS  # the provider's `route` block fields (schema, no values)

VPC_CIDR = "10.20.0.0/16"
VPC_TAGS = {"Name": "digitallync-core", "Environment": "production", "Project": "digitallync"}
NAME = "digitallync-core"
SUBNETS = (  # (tier, key, CIDR); the key is the AZ letter
    ("public", "a", "10.20.0.0/24"),
    ("public", "b", "10.20.1.0/24"),
    ("private", "a", "10.20.10.0/24"),
    ("private", "b", "10.20.11.0/24"),
)
SECURITY_GROUPS = {
    "alb": (f"{NAME}-alb", "Load balancer: HTTPS and HTTP from the internet"),
    "service": (f"{NAME}-service", "ECS service tasks: app port from the load balancer only"),
}
VPC_ADDRESS = "aws_vpc.main"
DEFAULT_TAGS = {"Project": "digitallync", "Environment": "prod", "ManagedBy": "terraform"}
"""The stack's provider default_tags: in `tags_all` (and live) but not in `tags`."""


@dataclass(frozen=True, slots=True)
class RuleSeed:
    """One aws_vpc_security_group_*_rule of the stack: a TCP port to or from a CIDR or another group.

    Rules between groups carry no description: moto leaves the description of group-referencing
    rules out of DescribeSecurityGroupRules (AWS does not), which would read as drift in the demo.
    """

    name: str
    direction: str  # ingress | egress
    group: str  # key of SECURITY_GROUPS
    port: int
    description: str | None = None
    cidr: str | None = None
    peer: str | None = None  # key of SECURITY_GROUPS

    @property
    def type(self) -> str:
        return f"aws_vpc_security_group_{self.direction}_rule"


RULES = (
    RuleSeed("alb_https", "ingress", "alb", 443, "HTTPS from the internet", cidr="0.0.0.0/0"),
    RuleSeed("alb_http", "ingress", "alb", 80, "HTTP from the internet, redirected to HTTPS",
             cidr="0.0.0.0/0"),
    RuleSeed("service_from_alb", "ingress", "service", 3000, peer="alb"),
    RuleSeed("alb_to_service", "egress", "alb", 3000, peer="service"),
    RuleSeed("service_https_out", "egress", "service", 443, "HTTPS to AWS APIs and registries",
             cidr="0.0.0.0/0"),
)


def _tag_specs(resource_type: str, tags: dict[str, str]) -> list[dict[str, Any]]:
    return [{"ResourceType": resource_type, "Tags": [{"Key": k, "Value": v} for k, v in tags.items()]}]


def _arn(ctx: SeedContext, resource: str) -> str:
    return f"arn:aws:ec2:{ctx.region}:{ctx.account_id}:{resource}"


def seed_network(ctx: SeedContext) -> None:
    """Create the network of the reference stack in ctx.region (AZs a and b) and record its state."""
    ec2 = ctx.client("ec2")
    vpc_id = _seed_vpc(ctx, ec2)
    _seed_subnets(ctx, ec2, vpc_id)
    igw_id = _seed_internet_gateway(ctx, ec2, vpc_id)
    _seed_public_routes(ctx, ec2, vpc_id, igw_id)
    _seed_nat_gateways(ctx, ec2)
    _seed_private_routes(ctx, ec2, vpc_id)
    _seed_security_groups(ctx, ec2, vpc_id)


def _seed_vpc(ctx: SeedContext, ec2: Any) -> str:
    vpc = ec2.create_vpc(CidrBlock=VPC_CIDR, TagSpecifications=_tag_specs("vpc", VPC_TAGS))["Vpc"]
    vpc_id = vpc["VpcId"]
    ec2.modify_vpc_attribute(VpcId=vpc_id, EnableDnsSupport={"Value": True})
    ec2.modify_vpc_attribute(VpcId=vpc_id, EnableDnsHostnames={"Value": True})
    # The provider's read-after-create fills these computed ids from three describe calls.
    in_vpc = {"Name": "vpc-id", "Values": [vpc_id]}
    main_table = ec2.describe_route_tables(
        Filters=[in_vpc, {"Name": "association.main", "Values": ["true"]}])["RouteTables"][0]["RouteTableId"]
    default_group = ec2.describe_security_groups(
        Filters=[in_vpc, {"Name": "group-name", "Values": ["default"]}])["SecurityGroups"][0]["GroupId"]
    default_acl = ec2.describe_network_acls(
        Filters=[in_vpc, {"Name": "default", "Values": ["true"]}])["NetworkAcls"][0]["NetworkAclId"]
    ctx.add("aws_vpc", "main", {
        "arn": _arn(ctx, f"vpc/{vpc_id}"),
        "assign_generated_ipv6_cidr_block": False,
        "cidr_block": VPC_CIDR,
        "default_network_acl_id": default_acl,
        "default_route_table_id": main_table,
        "default_security_group_id": default_group,
        "dhcp_options_id": vpc.get("DhcpOptionsId", ""),
        "enable_dns_hostnames": True,
        "enable_dns_support": True,
        "enable_network_address_usage_metrics": False,
        "id": vpc_id,
        "instance_tenancy": vpc.get("InstanceTenancy", "default"),
        "ipv4_ipam_pool_id": None,
        "ipv4_netmask_length": None,
        "ipv6_association_id": "",
        "ipv6_cidr_block": "",
        "ipv6_cidr_block_network_border_group": "",
        "ipv6_ipam_pool_id": "",
        "ipv6_netmask_length": 0,
        "main_route_table_id": main_table,
        "owner_id": vpc.get("OwnerId", ctx.account_id),
        "tags": dict(VPC_TAGS),
        "tags_all": dict(VPC_TAGS),
    }, schema_version=1)
    return str(vpc_id)


def _seed_subnets(ctx: SeedContext, ec2: Any, vpc_id: str) -> None:
    for tier, key, cidr in SUBNETS:
        public = tier == "public"
        tags = {"Name": f"{NAME}-{tier}-{key}", "Tier": tier}
        subnet = ec2.create_subnet(VpcId=vpc_id, CidrBlock=cidr, AvailabilityZone=f"{ctx.region}{key}",
                                   TagSpecifications=_tag_specs("subnet", tags))["Subnet"]
        subnet_id = subnet["SubnetId"]
        if public:
            ec2.modify_subnet_attribute(SubnetId=subnet_id, MapPublicIpOnLaunch={"Value": True})
        dns = subnet.get("PrivateDnsNameOptionsOnLaunch") or {}
        ctx.add("aws_subnet", tier, {
            "arn": subnet.get("SubnetArn") or _arn(ctx, f"subnet/{subnet_id}"),
            "assign_ipv6_address_on_creation": False,
            "availability_zone": subnet["AvailabilityZone"],
            "availability_zone_id": subnet.get("AvailabilityZoneId", ""),
            "cidr_block": cidr,
            "customer_owned_ipv4_pool": "",
            "enable_dns64": False,
            "enable_lni_at_device_index": 0,
            "enable_resource_name_dns_a_record_on_launch": False,
            "enable_resource_name_dns_aaaa_record_on_launch": False,
            "id": subnet_id,
            "ipv6_cidr_block": "",
            "ipv6_cidr_block_association_id": "",
            "ipv6_native": False,
            "map_customer_owned_ip_on_launch": False,
            "map_public_ip_on_launch": public,
            "outpost_arn": "",
            "owner_id": subnet.get("OwnerId", ctx.account_id),
            "private_dns_hostname_type_on_launch": dns.get("HostnameType", "ip-name"),
            "tags": dict(tags),
            "tags_all": dict(tags),
            "timeouts": None,
            "vpc_id": vpc_id,
        }, index_key=key, schema_version=1, dependencies=(VPC_ADDRESS,))


def _seed_internet_gateway(ctx: SeedContext, ec2: Any, vpc_id: str) -> str:
    tags = {"Name": NAME}
    igw = ec2.create_internet_gateway(
        TagSpecifications=_tag_specs("internet-gateway", tags))["InternetGateway"]
    igw_id = igw["InternetGatewayId"]
    ec2.attach_internet_gateway(InternetGatewayId=igw_id, VpcId=vpc_id)
    ctx.add("aws_internet_gateway", "main", {
        "arn": _arn(ctx, f"internet-gateway/{igw_id}"),
        "id": igw_id,
        "owner_id": igw.get("OwnerId", ctx.account_id),
        "tags": dict(tags),
        "tags_all": dict(tags),
        "timeouts": None,
        "vpc_id": vpc_id,
    }, dependencies=(VPC_ADDRESS,))
    return str(igw_id)


def _seed_public_routes(ctx: SeedContext, ec2: Any, vpc_id: str, igw_id: str) -> None:
    tags = {"Name": f"{NAME}-public"}
    table = ec2.create_route_table(
        VpcId=vpc_id, TagSpecifications=_tag_specs("route-table", tags))["RouteTable"]
    table_id = table["RouteTableId"]
    ec2.create_route(RouteTableId=table_id, DestinationCidrBlock="0.0.0.0/0", GatewayId=igw_id)
    ctx.add("aws_route_table", "public", {
        "arn": _arn(ctx, f"route-table/{table_id}"),
        "id": table_id,
        "owner_id": table.get("OwnerId", ctx.account_id),
        "propagating_vgws": [],
        "route": [{**dict.fromkeys(ROUTE_FIELDS, ""), "cidr_block": "0.0.0.0/0", "gateway_id": igw_id}],
        "tags": dict(tags),
        "tags_all": dict(tags),
        "timeouts": None,
        "vpc_id": vpc_id,
    }, dependencies=("aws_internet_gateway.main", VPC_ADDRESS))
    for tier, key, _ in SUBNETS:
        if tier != "public":
            continue
        subnet_id = ctx.ref(f'aws_subnet.public["{key}"]')["id"]
        assoc = ec2.associate_route_table(RouteTableId=table_id, SubnetId=subnet_id)
        ctx.add("aws_route_table_association", "public", {
            "gateway_id": "",
            "id": assoc["AssociationId"],
            "route_table_id": table_id,
            "subnet_id": subnet_id,
            "timeouts": None,
        }, index_key=key, dependencies=("aws_internet_gateway.main", "aws_route_table.public",
                                        "aws_subnet.public", VPC_ADDRESS))


def _with_default_tags(tags: dict[str, str]) -> dict[str, Any]:
    """`tags` and `tags_all` of a resource tagged `tags` under the stack's provider default_tags."""
    return {"tags": dict(tags), "tags_all": {**DEFAULT_TAGS, **tags}}


def _zones(tier: str) -> list[str]:
    return [key for t, key, _ in SUBNETS if t == tier]


def _seed_nat_gateways(ctx: SeedContext, ec2: Any) -> None:
    """One elastic IP and one NAT gateway in each public subnet (`for_each = aws_subnet.public`)."""
    for key in _zones("public"):
        subnet = f'aws_subnet.public["{key}"]'
        eip_tags = {"Name": f"{NAME}-nat-{key}"}
        address = ec2.allocate_address(Domain="vpc", TagSpecifications=_tag_specs(
            "elastic-ip", {**DEFAULT_TAGS, **eip_tags}))
        allocation = address["AllocationId"]
        # Recorded as the provider reads it right after AllocateAddress: the NAT gateway associates it later.
        ctx.add("aws_eip", "nat", {
            "address": None, "allocation_id": allocation, "arn": _arn(ctx, f"elastic-ip/{allocation}"),
            "associate_with_private_ip": None, "association_id": "", "carrier_ip": "",
            "customer_owned_ip": "", "customer_owned_ipv4_pool": address.get("CustomerOwnedIpv4Pool", ""),
            "domain": address["Domain"], "id": allocation, "instance": "", "ipam_pool_id": None,
            "network_border_group": address.get("NetworkBorderGroup", ctx.region), "network_interface": "",
            "private_dns": None, "private_ip": "", "ptr_record": "",
            "public_dns": f"ec2-{address['PublicIp'].replace('.', '-')}.{ctx.region}.compute.amazonaws.com",
            "public_ip": address["PublicIp"], "public_ipv4_pool": address.get("PublicIpv4Pool", "amazon"),
            "timeouts": None, "vpc": address["Domain"] == "vpc", **_with_default_tags(eip_tags),
        }, index_key=key, dependencies=("aws_internet_gateway.main", subnet, VPC_ADDRESS))
        nat_tags = {"Name": f"{NAME}-{key}"}
        subnet_id = ctx.ref(subnet)["id"]
        gateway = ec2.create_nat_gateway(AllocationId=allocation, SubnetId=subnet_id, ConnectivityType="public",
                                         TagSpecifications=_tag_specs("natgateway", {**DEFAULT_TAGS, **nat_tags}))
        gateway = gateway["NatGateway"]
        [primary] = gateway["NatGatewayAddresses"]
        ctx.add("aws_nat_gateway", "main", {
            "allocation_id": allocation, "association_id": primary.get("AssociationId", ""),
            "connectivity_type": gateway.get("ConnectivityType", "public"), "id": gateway["NatGatewayId"],
            "network_interface_id": primary.get("NetworkInterfaceId", ""), "private_ip": primary["PrivateIp"],
            "public_ip": primary.get("PublicIp", address["PublicIp"]), "secondary_allocation_ids": [],
            "secondary_private_ip_address_count": 0, "secondary_private_ip_addresses": [],
            "subnet_id": subnet_id, "timeouts": None, **_with_default_tags(nat_tags),
        }, index_key=key, dependencies=(f'aws_eip.nat["{key}"]', "aws_internet_gateway.main", subnet,
                                        VPC_ADDRESS))


def _seed_private_routes(ctx: SeedContext, ec2: Any, vpc_id: str) -> None:
    """A route table per zone whose default route is that zone's NAT gateway, and its association."""
    for key in _zones("private"):
        nat = f'aws_nat_gateway.main["{key}"]'
        nat_id = ctx.ref(nat)["id"]
        tags = {"Name": f"{NAME}-private-{key}"}
        table = ec2.create_route_table(VpcId=vpc_id, TagSpecifications=_tag_specs(
            "route-table", {**DEFAULT_TAGS, **tags}))["RouteTable"]
        table_id = table["RouteTableId"]
        ec2.create_route(RouteTableId=table_id, DestinationCidrBlock="0.0.0.0/0", NatGatewayId=nat_id)
        nat_deps = (f'aws_eip.nat["{key}"]', "aws_internet_gateway.main", nat, f'aws_subnet.public["{key}"]',
                    VPC_ADDRESS)
        ctx.add("aws_route_table", "private", {
            "arn": _arn(ctx, f"route-table/{table_id}"), "id": table_id,
            "owner_id": table.get("OwnerId", ctx.account_id), "propagating_vgws": [],
            "route": [{**dict.fromkeys(ROUTE_FIELDS, ""), "cidr_block": "0.0.0.0/0", "nat_gateway_id": nat_id}],
            "timeouts": None, "vpc_id": vpc_id, **_with_default_tags(tags),
        }, index_key=key, dependencies=nat_deps)
        subnet = f'aws_subnet.private["{key}"]'
        subnet_id = ctx.ref(subnet)["id"]
        association = ec2.associate_route_table(RouteTableId=table_id, SubnetId=subnet_id)
        ctx.add("aws_route_table_association", "private", {
            "gateway_id": "", "id": association["AssociationId"], "route_table_id": table_id,
            "subnet_id": subnet_id, "timeouts": None,
        }, index_key=key, dependencies=(*nat_deps, f'aws_route_table.private["{key}"]', subnet))


def _revoke_default_egress(ec2: Any, group_id: str) -> None:
    """Remove the allow-all egress AWS adds to a new group, as the provider does right after creating it."""
    ec2.revoke_security_group_egress(GroupId=group_id, IpPermissions=[
        {"IpProtocol": "-1", "FromPort": 0, "ToPort": 0, "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}])
    try:
        ec2.revoke_security_group_egress(GroupId=group_id, IpPermissions=[
            {"IpProtocol": "-1", "FromPort": 0, "ToPort": 0, "Ipv6Ranges": [{"CidrIpv6": "::/0"}]}])
    except botocore.exceptions.ClientError as exc:  # no IPv6 default egress in a VPC without IPv6
        message = str(exc.response.get("Error", {}).get("Message", ""))
        if error_code(exc) != "InvalidPermission.NotFound" and not (
                error_code(exc) == "InvalidParameterValue" and "remote-ipv6-range" in message):
            raise


def _rule_permission(rule: RuleSeed, group_ids: dict[str, str]) -> dict[str, Any]:
    source = {"CidrIp": rule.cidr} if rule.cidr else {"GroupId": group_ids[str(rule.peer)]}
    if rule.description:
        source["Description"] = rule.description
    return {"IpProtocol": "tcp", "FromPort": rule.port, "ToPort": rule.port,
            "IpRanges" if rule.cidr else "UserIdGroupPairs": [source]}


def _group_blocks(group: str, direction: str, group_ids: dict[str, str]) -> list[dict[str, Any]]:
    """A group's rules as the provider's refresh lists them in its `ingress`/`egress` (computed) set.

    Every rule of the stack has its own port and description, so each is one block.
    """
    return [{
        "cidr_blocks": [rule.cidr] if rule.cidr else [],
        "description": rule.description or "",
        "from_port": rule.port,
        "ipv6_cidr_blocks": [],
        "prefix_list_ids": [],
        "protocol": "tcp",
        "security_groups": [group_ids[rule.peer]] if rule.peer else [],
        "self": False,
        "to_port": rule.port,
    } for rule in RULES if rule.group == group and rule.direction == direction]


def _seed_security_groups(ctx: SeedContext, ec2: Any, vpc_id: str) -> None:
    group_ids: dict[str, str] = {}
    for key, (name, description) in SECURITY_GROUPS.items():
        group_ids[key] = ec2.create_security_group(
            GroupName=name, Description=description, VpcId=vpc_id,
            TagSpecifications=_tag_specs("security-group", {"Name": name}))["GroupId"]
        _revoke_default_egress(ec2, group_ids[key])

    for rule in RULES:
        group_id = group_ids[rule.group]
        authorize = (ec2.authorize_security_group_ingress if rule.direction == "ingress"
                     else ec2.authorize_security_group_egress)
        answer = authorize(GroupId=group_id, IpPermissions=[_rule_permission(rule, group_ids)])
        rule_id = answer["SecurityGroupRules"][0]["SecurityGroupRuleId"]
        groups = {rule.group} | ({rule.peer} if rule.peer else set())
        ctx.add(rule.type, rule.name, {
            "arn": _arn(ctx, f"security-group-rule/{rule_id}"),
            "cidr_ipv4": rule.cidr,
            "cidr_ipv6": None,
            "description": rule.description,
            "from_port": rule.port,
            "id": rule_id,
            "ip_protocol": "tcp",
            "prefix_list_id": None,
            "referenced_security_group_id": group_ids[rule.peer] if rule.peer else None,
            "security_group_id": group_id,
            "security_group_rule_id": rule_id,
            "tags": None,
            "tags_all": {},
            "to_port": rule.port,
        }, dependencies=(*(f"aws_security_group.{g}" for g in sorted(groups)), VPC_ADDRESS))

    for key, (name, description) in SECURITY_GROUPS.items():
        group_id = group_ids[key]
        ctx.add("aws_security_group", key, {
            "arn": _arn(ctx, f"security-group/{group_id}"),
            "description": description,
            "egress": _group_blocks(key, "egress", group_ids),
            "id": group_id,
            "ingress": _group_blocks(key, "ingress", group_ids),
            "name": name,
            "name_prefix": "",
            "owner_id": ctx.account_id,
            "revoke_rules_on_delete": False,
            "tags": {"Name": name},
            "tags_all": {"Name": name},
            "timeouts": None,
            "vpc_id": vpc_id,
        }, schema_version=1, dependencies=(VPC_ADDRESS,))
