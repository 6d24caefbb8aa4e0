"""VPC networking collectors and the network part of the demo seeder, against moto in-process."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

import botocore.exceptions
import pytest
from botocore.stub import Stubber
from moto import mock_aws

from auditor.aws import Aws, AwsSettings
from auditor.catalog import TypeSpec
from auditor.demo.seed_network import seed_network
from auditor.demo.seedkit import SeedContext
from auditor.diff import attribute_changes, comparable
from auditor.inventory import network as net
from auditor.inventory import security_groups as sgs
from auditor.inventory.base import CollectContext
from auditor.models import Origin, Resource

ACCOUNT = "123456789012"
REGION = "us-east-1"
SEED_REGION = "ap-south-1"

CollectFn = Callable[[CollectContext], Iterable[Resource]]
COLLECTORS: dict[str, tuple[TypeSpec, CollectFn]] = {
    spec.type: (spec, fn) for spec, fn in (
        (net.VPC, net.collect_vpcs),
        (net.SUBNET, net.collect_subnets),
        (net.INTERNET_GATEWAY, net.collect_internet_gateways),
        (net.EIP, net.collect_eips),
        (net.NAT_GATEWAY, net.collect_nat_gateways),
        (net.ROUTE_TABLE, net.collect_route_tables),
        (net.ROUTE_TABLE_ASSOCIATION, net.collect_route_table_associations),
        (sgs.SECURITY_GROUP, sgs.collect_security_groups),
        (sgs.INGRESS_RULE, sgs.collect_ingress_rules),
        (sgs.EGRESS_RULE, sgs.collect_egress_rules),
        (sgs.LEGACY_RULE, sgs.collect_legacy_rules),
    )
}


@pytest.fixture
def aws() -> Iterator[Aws]:
    with mock_aws():
        yield Aws(AwsSettings(region=REGION))


def collect(aws: Aws, tf_type: str, region: str = REGION,
            wanted: Mapping[str, frozenset[str]] | None = None) -> dict[str, Resource]:
    """Live resources of one type, by import id."""
    spec, fn = COLLECTORS[tf_type]
    found = {r.id: r for r in fn(CollectContext(aws, region, ACCOUNT, wanted))}
    assert all(r.type == spec.type and r.origin is Origin.LIVE for r in found.values())
    return found


def compared(spec: TypeSpec, attrs: Mapping[str, Any]) -> dict[str, Any]:
    """The compared attributes; every one not in optional_live must really be produced."""
    missing = [a for a in spec.compared if a not in attrs and a not in spec.optional_live]
    assert not missing, f"{spec.type} does not produce {missing}"
    return {a: attrs[a] for a in spec.compared if a in attrs}


def state(tf_type: str, import_id: str, attrs: Mapping[str, Any]) -> Resource:
    return Resource(type=tf_type, id=import_id, attributes=attrs, origin=Origin.STATE, region=REGION)


def tags(**values: str) -> list[dict[str, Any]]:
    return [{"ResourceType": values.pop("kind"), "Tags": [{"Key": k, "Value": v} for k, v in values.items()]}]


# --- converters, type by type -------------------------------------------------------------------


def test_subnet_in_provider_shape(aws: Aws) -> None:
    ec2 = aws.client("ec2", REGION)
    vpc_id = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    subnet = ec2.create_subnet(VpcId=vpc_id, CidrBlock="10.0.3.0/24", AvailabilityZone="us-east-1b",
                               TagSpecifications=tags(kind="subnet", Name="app-b"))["Subnet"]
    ec2.modify_subnet_attribute(SubnetId=subnet["SubnetId"], MapPublicIpOnLaunch={"Value": True})

    live = collect(aws, "aws_subnet")[subnet["SubnetId"]]
    assert compared(net.SUBNET, live.attributes) == {
        "vpc_id": vpc_id, "cidr_block": "10.0.3.0/24", "availability_zone": "us-east-1b",
        "availability_zone_id": subnet["AvailabilityZoneId"], "map_public_ip_on_launch": True,
        "assign_ipv6_address_on_creation": False, "ipv6_cidr_block": "", "ipv6_native": False,
        "enable_dns64": False, "enable_lni_at_device_index": 0,
        "enable_resource_name_dns_a_record_on_launch": False,
        "enable_resource_name_dns_aaaa_record_on_launch": False,
        "private_dns_hostname_type_on_launch": "ip-name", "map_customer_owned_ip_on_launch": False,
        "customer_owned_ipv4_pool": "", "outpost_arn": "",
    }
    assert live.attributes["tags"] == live.attributes["tags_all"] == {"Name": "app-b"}
    assert live.attributes["arn"] == f"arn:aws:ec2:{REGION}:{ACCOUNT}:subnet/{subnet['SubnetId']}"
    assert net.SUBNET.aws_owned is not None and not net.SUBNET.aws_owned(live)


def test_default_vpc_resources_are_aws_owned(aws: Aws) -> None:
    ec2 = aws.client("ec2", REGION)
    default_vpc = next(v["VpcId"] for v in ec2.describe_vpcs()["Vpcs"] if v["IsDefault"])
    own_vpc = ec2.create_vpc(CidrBlock="10.9.0.0/16")["Vpc"]["VpcId"]
    default_igw = ec2.create_internet_gateway()["InternetGateway"]["InternetGatewayId"]
    ec2.attach_internet_gateway(InternetGatewayId=default_igw, VpcId=default_vpc)
    own_subnet = ec2.create_subnet(VpcId=own_vpc, CidrBlock="10.9.0.0/24")["Subnet"]["SubnetId"]
    own_group = ec2.create_security_group(GroupName="app", Description="app", VpcId=own_vpc)["GroupId"]

    def owned(tf_type: str) -> dict[str, bool]:
        spec = COLLECTORS[tf_type][0]
        assert spec.aws_owned is not None
        return {rid: spec.aws_owned(r) for rid, r in collect(aws, tf_type).items()}

    assert owned("aws_vpc") == {default_vpc: True, own_vpc: False}
    subnets = owned("aws_subnet")
    assert subnets.pop(own_subnet) is False
    assert len(subnets) == 6 and all(subnets.values())  # the default VPC's subnets, one per AZ
    assert owned("aws_internet_gateway") == {default_igw: True}
    groups = owned("aws_security_group")
    assert groups.pop(own_group) is False
    assert len(groups) == 2 and all(groups.values())  # "default" of each VPC
    assert all(owned("aws_route_table").values())  # only main route tables exist
    egress = collect(aws, "aws_vpc_security_group_egress_rule").values()
    default_rules = [r for r in egress if r.attributes["security_group_id"] in groups]
    assert sgs.EGRESS_RULE.aws_owned is not None
    assert len(default_rules) == 2 and all(sgs.EGRESS_RULE.aws_owned(r) for r in default_rules)


def test_internet_gateway_in_provider_shape(aws: Aws) -> None:
    ec2 = aws.client("ec2", REGION)
    vpc_id = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    igw = ec2.create_internet_gateway(TagSpecifications=tags(kind="internet-gateway", Name="edge"))
    igw_id = igw["InternetGateway"]["InternetGatewayId"]
    detached = ec2.create_internet_gateway()["InternetGateway"]["InternetGatewayId"]
    ec2.attach_internet_gateway(InternetGatewayId=igw_id, VpcId=vpc_id)

    found = collect(aws, "aws_internet_gateway")
    assert compared(net.INTERNET_GATEWAY, found[igw_id].attributes) == {"vpc_id": vpc_id}
    assert found[igw_id].attributes["tags_all"] == {"Name": "edge"}
    assert found[igw_id].attributes["arn"] == f"arn:aws:ec2:{REGION}:{ACCOUNT}:internet-gateway/{igw_id}"
    assert compared(net.INTERNET_GATEWAY, found[detached].attributes) == {"vpc_id": ""}


def _nat_setup(ec2: Any) -> tuple[str, str, dict[str, Any]]:
    """A VPC with a public subnet and an elastic IP: (subnet id, allocation id, AllocateAddress answer)."""
    vpc_id = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    subnet_id = ec2.create_subnet(VpcId=vpc_id, CidrBlock="10.0.0.0/24")["Subnet"]["SubnetId"]
    address = ec2.allocate_address(Domain="vpc", TagSpecifications=tags(kind="elastic-ip", Name="nat-a"))
    return subnet_id, address["AllocationId"], address


def test_eip_and_nat_gateway_in_provider_shape(aws: Aws) -> None:
    ec2 = aws.client("ec2", REGION)
    subnet_id, allocation, address = _nat_setup(ec2)
    spare = ec2.allocate_address(Domain="vpc")["AllocationId"]
    gateway = ec2.create_nat_gateway(SubnetId=subnet_id, AllocationId=allocation,
                                     TagSpecifications=tags(kind="natgateway", Name="nat-a"))["NatGateway"]
    [primary] = gateway["NatGatewayAddresses"]

    eips = collect(aws, "aws_eip")
    assert set(eips) == {allocation, spare}
    live = eips[allocation].attributes
    # what the provider's read of an address a NAT gateway uses holds (hand-written from its schema)
    assert {a: live[a] for a in ("id", "allocation_id", "arn", "domain", "vpc", "public_ip", "association_id",
                                 "network_interface", "private_ip", "instance", "tags", "tags_all")} == {
        "id": allocation, "allocation_id": allocation,
        "arn": f"arn:aws:ec2:{REGION}:{ACCOUNT}:elastic-ip/{allocation}", "domain": "vpc", "vpc": True,
        "public_ip": address["PublicIp"], "association_id": primary["AssociationId"],
        "network_interface": primary["NetworkInterfaceId"], "private_ip": primary["PrivateIp"], "instance": "",
        "tags": {"Name": "nat-a"}, "tags_all": {"Name": "nat-a"},
    }
    assert eips[spare].attributes["association_id"] == ""

    [nat] = collect(aws, "aws_nat_gateway").values()
    assert nat.id == gateway["NatGatewayId"]
    assert nat.attributes == {
        "id": gateway["NatGatewayId"], "subnet_id": subnet_id, "allocation_id": allocation,
        "association_id": primary["AssociationId"], "network_interface_id": primary["NetworkInterfaceId"],
        "private_ip": primary["PrivateIp"], "public_ip": address["PublicIp"], "secondary_allocation_ids": [],
        "secondary_private_ip_addresses": [], "secondary_private_ip_address_count": 0,
        "tags": {"Name": "nat-a"}, "tags_all": {"Name": "nat-a"},
    }  # moto leaves out ConnectivityType (optional_live)


def test_nat_gateway_primary_and_secondary_addresses_as_the_provider_reads_them() -> None:
    answer = {"NatGatewayId": "nat-1", "SubnetId": "subnet-1", "ConnectivityType": "public", "State": "available",
              "NatGatewayAddresses": [
                  {"AllocationId": "eipalloc-2", "PrivateIp": "10.0.0.9", "IsPrimary": False},
                  {"AllocationId": "eipalloc-1", "PrivateIp": "10.0.0.8", "PublicIp": "3.3.3.3",
                   "AssociationId": "eipassoc-1", "NetworkInterfaceId": "eni-1", "IsPrimary": True}]}
    attrs = net.nat_gateway_attributes(answer)
    assert compared(net.NAT_GATEWAY, attrs) == {
        "subnet_id": "subnet-1", "connectivity_type": "public", "allocation_id": "eipalloc-1",
        "private_ip": "10.0.0.8", "secondary_allocation_ids": ["eipalloc-2"],
        "secondary_private_ip_addresses": ["10.0.0.9"], "secondary_private_ip_address_count": 1}
    assert (attrs["public_ip"], attrs["network_interface_id"]) == ("3.3.3.3", "eni-1")


def test_a_deleted_nat_gateway_is_gone() -> None:
    aws = Aws(AwsSettings(region=REGION))
    gateways = [{"NatGatewayId": f"nat-{n}", "SubnetId": "subnet-1", "State": state, "NatGatewayAddresses": []}
                for n, state in ((1, "available"), (2, "deleted"), (3, "deleting"))]
    with Stubber(aws.client("ec2", REGION)) as stub:
        stub.add_response("describe_nat_gateways", {"NatGateways": gateways}, {})
        found = [r.id for r in net.collect_nat_gateways(CollectContext(aws, REGION, ACCOUNT))]
    assert found == ["nat-1", "nat-3"]  # the provider drops `deleted` only


def test_eip_association_is_compared_only_when_the_state_sets_it(aws: Aws) -> None:
    ec2 = aws.client("ec2", REGION)
    subnet_id, allocation, address = _nat_setup(ec2)
    state_attrs = {"domain": "vpc", "public_ip": address["PublicIp"], "public_ipv4_pool": "amazon",
                   "network_border_group": REGION, "customer_owned_ipv4_pool": "", "instance": "",
                   "network_interface": "", "tags_all": {"Name": "nat-a"}}
    ec2.create_nat_gateway(SubnetId=subnet_id, AllocationId=allocation)  # associates the address
    live = collect(aws, "aws_eip")[allocation]
    held = state("aws_eip", allocation, state_attrs)
    assert net.EIP.mirrored is not None
    skip = net.EIP.mirrored(held, {})
    assert skip == {"instance", "network_interface"}
    assert attribute_changes(net.EIP, state_attrs, live.attributes, skip) == []

    interface = live.attributes["network_interface"]
    moved = {**state_attrs, "network_interface": "eni-0123456789abcdef0"}  # the state associates it itself
    assert net.EIP.mirrored(state("aws_eip", allocation, moved), {}) == {"instance"}
    assert [(c.path, c.live) for c in attribute_changes(net.EIP, moved, live.attributes, {"instance"})] == [
        ("network_interface", interface)]


def _route(**values: str) -> dict[str, str]:
    return {**dict.fromkeys(net.ROUTE_FIELDS, ""), **values}


def test_route_table_and_associations_in_provider_shape(aws: Aws) -> None:
    ec2 = aws.client("ec2", REGION)
    vpc_id = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    igw_id = ec2.create_internet_gateway()["InternetGateway"]["InternetGatewayId"]
    ec2.attach_internet_gateway(InternetGatewayId=igw_id, VpcId=vpc_id)
    subnet_id = ec2.create_subnet(VpcId=vpc_id, CidrBlock="10.0.1.0/24")["Subnet"]["SubnetId"]
    table_id = ec2.create_route_table(VpcId=vpc_id, TagSpecifications=tags(kind="route-table", Name="pub"))[
        "RouteTable"]["RouteTableId"]
    ec2.create_route(RouteTableId=table_id, DestinationCidrBlock="0.0.0.0/0", GatewayId=igw_id)
    ec2.create_route(RouteTableId=table_id, DestinationIpv6CidrBlock="::/0", GatewayId=igw_id)
    assoc_id = ec2.associate_route_table(RouteTableId=table_id, SubnetId=subnet_id)["AssociationId"]

    tables = collect(aws, "aws_route_table")
    live = tables[table_id]
    assert comparable(net.ROUTE_TABLE, compared(net.ROUTE_TABLE, live.attributes)) == comparable(
        net.ROUTE_TABLE, {
            "vpc_id": vpc_id,
            "route": [_route(ipv6_cidr_block="::/0", gateway_id=igw_id),
                      _route(cidr_block="0.0.0.0/0", gateway_id=igw_id)],  # no `local` route
            "propagating_vgws": [],
        })
    assert live.attributes["tags_all"] == {"Name": "pub"}
    main = next(t for t in tables.values() if t.attributes["vpc_id"] == vpc_id and t.id != table_id)
    assert net.ROUTE_TABLE.aws_owned is not None
    assert net.ROUTE_TABLE.aws_owned(main) and not net.ROUTE_TABLE.aws_owned(live)

    associations = collect(aws, "aws_route_table_association")
    assert set(associations) == {assoc_id}  # main associations are not aws_route_table_association
    assert compared(net.ROUTE_TABLE_ASSOCIATION, associations[assoc_id].attributes) == {
        "route_table_id": table_id, "subnet_id": subnet_id, "gateway_id": ""}


def test_route_block_skips_what_the_provider_skips() -> None:
    assert net._route_block({"DestinationCidrBlock": "10.0.0.0/16", "GatewayId": "local"}) is None
    assert net._route_block({"DestinationCidrBlock": "10.1.0.0/16", "GatewayId": "vgw-1",
                             "Origin": "EnableVgwRoutePropagation"}) is None
    assert net._route_block({"DestinationPrefixListId": "pl-1", "GatewayId": "vpce-1"}) is None
    assert net._route_block({"DestinationCidrBlock": "10.2.0.0/16", "GatewayId": "vpce-2"}) == _route(
        cidr_block="10.2.0.0/16", vpc_endpoint_id="vpce-2")
    assert net._route_block({"DestinationCidrBlock": "0.0.0.0/0", "NatGatewayId": "nat-1"}) == _route(
        cidr_block="0.0.0.0/0", nat_gateway_id="nat-1")


def _group_with_rules(ec2: Any, vpc_id: str) -> tuple[str, str]:
    """A group with several kinds of rules, and a peer group it references."""
    peer = ec2.create_security_group(GroupName="peer", Description="peer", VpcId=vpc_id)["GroupId"]
    group = ec2.create_security_group(GroupName="web", Description="web tier", VpcId=vpc_id,
                                      TagSpecifications=tags(kind="security-group", Team="edge"))["GroupId"]
    ec2.authorize_security_group_ingress(GroupId=group, IpPermissions=[
        {"IpProtocol": "tcp", "FromPort": 443, "ToPort": 443,
         "IpRanges": [{"CidrIp": "10.0.0.0/8", "Description": "office"},
                      {"CidrIp": "192.168.0.0/16", "Description": "office"},
                      {"CidrIp": "172.16.0.0/12", "Description": "vpn"}],
         "Ipv6Ranges": [{"CidrIpv6": "2001:db8::/32", "Description": "office"}]},
        {"IpProtocol": "tcp", "FromPort": 8080, "ToPort": 8080, "UserIdGroupPairs": [{"GroupId": peer}]},
        {"IpProtocol": "-1", "UserIdGroupPairs": [{"GroupId": group}]},
    ])
    return group, peer


def _block(protocol: str, low: int, high: int, description: str = "", **lists: Any) -> dict[str, Any]:
    block = {"cidr_blocks": [], "description": description, "from_port": low, "ipv6_cidr_blocks": [],
             "prefix_list_ids": [], "protocol": protocol, "security_groups": [], "self": False,
             "to_port": high}
    block.update(lists)
    return block


def test_security_group_blocks_grouped_like_the_provider(aws: Aws) -> None:
    ec2 = aws.client("ec2", REGION)
    vpc_id = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    group, peer = _group_with_rules(ec2, vpc_id)

    live = collect(aws, "aws_security_group")[group]
    expected = {
        "name": "web", "description": "web tier", "vpc_id": vpc_id,
        "ingress": [
            _block("tcp", 443, 443, "office", cidr_blocks=["192.168.0.0/16", "10.0.0.0/8"],
                   ipv6_cidr_blocks=["2001:db8::/32"]),
            _block("tcp", 443, 443, "vpn", cidr_blocks=["172.16.0.0/12"]),
            _block("tcp", 8080, 8080, security_groups=[peer]),
            _block("-1", 0, 0, self=True),  # the group itself is `self`, not in security_groups
        ],
        "egress": [_block("-1", 0, 0, cidr_blocks=["0.0.0.0/0"])],  # AWS's default, still there
    }
    assert comparable(sgs.SECURITY_GROUP, compared(sgs.SECURITY_GROUP, live.attributes)) == comparable(
        sgs.SECURITY_GROUP, expected)
    with_tags = {**expected, "tags_all": {"Team": "edge"}}
    assert attribute_changes(sgs.SECURITY_GROUP, with_tags, live.attributes) == []
    assert sgs.SECURITY_GROUP.aws_owned is not None and not sgs.SECURITY_GROUP.aws_owned(live)


def test_inline_blocks_compare_by_content_not_layout() -> None:
    grouped = [_block("tcp", 443, 443, "office", cidr_blocks=["10.0.0.0/8", "192.168.0.0/16"]),
               _block("-1", 0, 0, self=True, security_groups=["sg-peer"])]
    split = [_block("6", 443, 443, "office", cidr_blocks=["192.168.0.0/16"]),  # as a configuration may say
             _block("tcp", 443, 443, "office", cidr_blocks=["10.0.0.0/8"]),
             _block("all", 0, 0, self=True), _block("-1", 0, 0, security_groups=["sg-peer"])]
    assert attribute_changes(sgs.SECURITY_GROUP, {"ingress": split}, {"ingress": grouped}) == []
    assert sgs.canonical_rule_blocks(sgs.canonical_rule_blocks(split)) == sgs.canonical_rule_blocks(split)
    opened = [*grouped, _block("tcp", 22, 22, cidr_blocks=["0.0.0.0/0"])]
    [change] = attribute_changes(sgs.SECURITY_GROUP, {"ingress": split}, {"ingress": opened})
    assert change.path == "ingress"
    assert sgs.canonical_rule_blocks(None) is None


def test_modern_rules_one_per_aws_rule(aws: Aws) -> None:
    ec2 = aws.client("ec2", REGION)
    vpc_id = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    group, peer = _group_with_rules(ec2, vpc_id)
    answer = ec2.authorize_security_group_egress(
        GroupId=group, IpPermissions=[{"IpProtocol": "udp", "FromPort": 53, "ToPort": 53,
                                       "IpRanges": [{"CidrIp": "10.0.0.2/32", "Description": "dns"}]}],
        TagSpecifications=tags(kind="security-group-rule", Name="dns-out"))
    dns_rule = answer["SecurityGroupRules"][0]["SecurityGroupRuleId"]

    ingress = collect(aws, "aws_vpc_security_group_ingress_rule")
    mine = {sgs.rule_fingerprint(r.attributes).rsplit("_", 1)[1]: compared(sgs.INGRESS_RULE, r.attributes)
            for r in ingress.values() if r.attributes["security_group_id"] == group}

    def rule(protocol: str, low: int | None, high: int | None, description: str | None,
             **source: str) -> dict[str, Any]:
        base = {"security_group_id": group, "ip_protocol": protocol, "from_port": low, "to_port": high,
                "cidr_ipv4": None, "cidr_ipv6": None, "prefix_list_id": None,
                "referenced_security_group_id": None, "description": description}
        return {**base, **source}

    assert mine == {
        "10.0.0.0/8": rule("tcp", 443, 443, "office", cidr_ipv4="10.0.0.0/8"),
        "192.168.0.0/16": rule("tcp", 443, 443, "office", cidr_ipv4="192.168.0.0/16"),
        "172.16.0.0/12": rule("tcp", 443, 443, "vpn", cidr_ipv4="172.16.0.0/12"),
        "2001:db8::/32": rule("tcp", 443, 443, "office", cidr_ipv6="2001:db8::/32"),
        peer: rule("tcp", 8080, 8080, None, referenced_security_group_id=peer),
        "self": rule("-1", None, None, None, referenced_security_group_id=group),  # ports null for -1
    }
    egress = collect(aws, "aws_vpc_security_group_egress_rule")
    assert compared(sgs.EGRESS_RULE, egress[dns_rule].attributes) == rule(
        "udp", 53, 53, "dns", cidr_ipv4="10.0.0.2/32")
    assert egress[dns_rule].attributes["tags_all"] == {"Name": "dns-out"}
    assert egress[dns_rule].attributes["arn"] == (
        f"arn:aws:ec2:{REGION}:{ACCOUNT}:security-group-rule/{dns_rule}")
    assert not set(ingress) & set(egress)


def test_rules_of_default_groups_are_aws_owned_only_when_aws_made_them(aws: Aws) -> None:
    ec2 = aws.client("ec2", REGION)
    default_group = ec2.describe_security_groups(Filters=[{"Name": "group-name", "Values": ["default"]}])[
        "SecurityGroups"][0]["GroupId"]
    ec2.authorize_security_group_ingress(GroupId=default_group, IpPermissions=[
        {"IpProtocol": "-1", "UserIdGroupPairs": [{"GroupId": default_group}]},
        {"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22, "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}])
    assert sgs.INGRESS_RULE.aws_owned is not None
    verdicts = {(r.attributes["ip_protocol"], r.attributes["from_port"]): sgs.INGRESS_RULE.aws_owned(r)
                for r in collect(aws, "aws_vpc_security_group_ingress_rule").values()
                if r.attributes["security_group_id"] == default_group}
    assert verdicts == {("-1", None): True, ("tcp", 22): False}  # someone opened SSH on it: reported


# --- legacy aws_security_group_rule -------------------------------------------------------------


def _legacy(group: str, cidrs: list[str], description: str, port: int = 443, **extra: Any) -> dict[str, Any]:
    """A legacy rule as provider v5 writes it to state."""
    attrs = {"cidr_blocks": cidrs, "description": description, "from_port": port, "id": "sgrule-1",
             "ipv6_cidr_blocks": [], "prefix_list_ids": [], "protocol": "tcp", "security_group_id": group,
             "security_group_rule_id": "", "self": False, "source_security_group_id": None, "timeouts": None,
             "to_port": port, "type": "ingress"}
    attrs.update(extra)
    return attrs


def _authorize(ec2: Any, group: str, cidrs: list[str], description: str, port: int = 443) -> None:
    ec2.authorize_security_group_ingress(GroupId=group, IpPermissions=[{
        "IpProtocol": "tcp", "FromPort": port, "ToPort": port,
        "IpRanges": [{"CidrIp": c, "Description": description} for c in cidrs]}])


@pytest.fixture
def group(aws: Aws) -> str:
    ec2 = aws.client("ec2", REGION)
    vpc_id = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    return str(ec2.create_security_group(GroupName="legacy", Description="legacy", VpcId=vpc_id)["GroupId"])


def _legacy_live(aws: Aws, *state_rules: Mapping[str, Any]) -> dict[str, Resource]:
    ids = frozenset(i for i in map(sgs.legacy_import_id, state_rules) if i)
    return collect(aws, "aws_security_group_rule", wanted={sgs.LEGACY_RULE.type: ids})


def _assert_in_sync(live: Mapping[str, Resource], *rules: Mapping[str, Any]) -> None:
    for rule in rules:
        twin = live[str(sgs.legacy_import_id(rule))]
        assert attribute_changes(sgs.LEGACY_RULE, rule, twin.attributes) == []


def test_legacy_rule_with_two_cidrs_matches_its_two_live_rules(aws: Aws, group: str) -> None:
    _authorize(aws.client("ec2", REGION), group, ["10.0.0.0/8", "192.168.0.0/16"], "office")
    rule = _legacy(group, ["192.168.0.0/16", "10.0.0.0/8"], "office")
    import_id = sgs.LEGACY_RULE.import_id(rule)
    assert import_id == f"{group}_ingress_tcp_443_443_10.0.0.0/8_192.168.0.0/16"

    for live in (_legacy_live(aws, rule), collect(aws, "aws_security_group_rule")):  # with and without hints
        assert attribute_changes(sgs.LEGACY_RULE, rule, live[import_id].attributes) == []
        assert live[import_id].attributes["id"] == sgs.provider_rule_id(rule)

    modern = [r for r in collect(aws, "aws_vpc_security_group_ingress_rule").values()
              if r.attributes["security_group_id"] == group]
    assert len(modern) == 2
    assert {sgs.rule_fingerprint(r.attributes) for r in modern} == sgs.legacy_fingerprints(rule)
    view = {sgs.LEGACY_RULE.type: [state(sgs.LEGACY_RULE.type, import_id, rule)]}
    assert sgs.INGRESS_RULE.covered is not None
    assert all(sgs.INGRESS_RULE.covered(r, view) for r in modern)


def test_legacy_rules_differing_only_in_sources_stay_apart(aws: Aws, group: str) -> None:
    ec2 = aws.client("ec2", REGION)
    _authorize(ec2, group, ["10.0.0.0/8"], "")
    _authorize(ec2, group, ["192.168.0.0/16"], "")
    office, vpn = _legacy(group, ["10.0.0.0/8"], ""), _legacy(group, ["192.168.0.0/16"], "")
    assert sgs.legacy_import_id(office) != sgs.legacy_import_id(vpn)
    _assert_in_sync(_legacy_live(aws, office, vpn), office, vpn)


def test_legacy_rule_losing_sources_is_changed_then_missing(aws: Aws, group: str) -> None:
    ec2 = aws.client("ec2", REGION)
    _authorize(ec2, group, ["10.0.0.0/8", "192.168.0.0/16"], "office")
    rule = _legacy(group, ["10.0.0.0/8", "192.168.0.0/16"], "office")
    import_id = str(sgs.legacy_import_id(rule))
    revoke = [{"IpProtocol": "tcp", "FromPort": 443, "ToPort": 443, "IpRanges": [{"CidrIp": "10.0.0.0/8"}]}]
    ec2.revoke_security_group_ingress(GroupId=group, IpPermissions=revoke)
    [change] = attribute_changes(sgs.LEGACY_RULE, rule, _legacy_live(aws, rule)[import_id].attributes)
    assert (change.path, change.state, change.live) == (
        "cidr_blocks", ["10.0.0.0/8", "192.168.0.0/16"], ["192.168.0.0/16"])
    revoke[0]["IpRanges"] = [{"CidrIp": "192.168.0.0/16"}]
    ec2.revoke_security_group_ingress(GroupId=group, IpPermissions=revoke)
    assert import_id not in _legacy_live(aws, rule)


def test_legacy_rule_description_edit_is_a_change_not_a_new_rule(aws: Aws, group: str) -> None:
    _authorize(aws.client("ec2", REGION), group, ["10.0.0.0/8"], "edited by hand")
    rule = _legacy(group, ["10.0.0.0/8"], "office")
    live = _legacy_live(aws, rule)
    assert [c.path for c in attribute_changes(sgs.LEGACY_RULE, rule, live[str(sgs.legacy_import_id(rule))]
                                              .attributes)] == ["description"]


def test_legacy_self_and_group_sources(aws: Aws, group: str) -> None:
    ec2 = aws.client("ec2", REGION)
    vpc_id = ec2.describe_security_groups(GroupIds=[group])["SecurityGroups"][0]["VpcId"]
    peer = ec2.create_security_group(GroupName="peer", Description="peer", VpcId=vpc_id)["GroupId"]
    ec2.authorize_security_group_ingress(GroupId=group, IpPermissions=[
        {"IpProtocol": "tcp", "FromPort": 0, "ToPort": 65535, "UserIdGroupPairs": [{"GroupId": group}]},
        {"IpProtocol": "tcp", "FromPort": 5432, "ToPort": 5432, "UserIdGroupPairs": [{"GroupId": peer}]}])
    own = _legacy(group, [], "", self=True, source_security_group_id=group, from_port=0, to_port=65535)
    other = _legacy(group, [], "", port=5432, source_security_group_id=peer)
    assert sgs.legacy_import_id(own) == f"{group}_ingress_tcp_0_65535_self"
    assert sgs.legacy_import_id(other) == f"{group}_ingress_tcp_5432_5432_{peer}"
    _assert_in_sync(_legacy_live(aws, own, other), own, other)


def test_legacy_ids_reproduce_the_providers_sgrule_hash(shared_fixtures: Path) -> None:
    path = shared_fixtures / "driftctl/state/aws_vpc_security_group_rule.tfstate.json"
    doc = json.loads(path.read_text())
    rules = [i["attributes"] for r in doc["resources"] if r["type"] == "aws_security_group_rule"
             for i in r["instances"]]
    assert len(rules) == 11
    for attrs in rules:
        assert sgs.provider_rule_id(attrs) == attrs["id"]
        lists = sum(len(attrs[a] or []) for a in ("cidr_blocks", "ipv6_cidr_blocks", "prefix_list_ids"))
        sources = lists + (1 if attrs["self"] or attrs["source_security_group_id"] else 0)
        assert len(sgs.legacy_fingerprints(attrs)) == sources


def test_protocols_in_provider_form() -> None:
    assert [sgs.normalize_protocol(p) for p in ("ALL", "-1", "6", "TCP", "17", "1", "58", "50")] == [
        "-1", "-1", "tcp", "tcp", "udp", "icmp", "icmpv6", "50"]


# --- who manages a rule: covered and mirrored ---------------------------------------------------


def _live_rule(group: str, direction: str, cidr: str, port: int = 443, default: bool = False) -> Resource:
    spec = sgs.INGRESS_RULE if direction == "ingress" else sgs.EGRESS_RULE
    attrs = {"id": "sgr-1", "security_group_id": group, "ip_protocol": "tcp", "from_port": port,
             "to_port": port, "cidr_ipv4": cidr, "_direction": direction, "_default_group": default}
    return Resource(type=spec.type, id="sgr-1", attributes=attrs, origin=Origin.LIVE, region=REGION)


def test_inline_rules_of_a_group_in_state_are_authoritative() -> None:
    view = {sgs.SECURITY_GROUP.type: [state(sgs.SECURITY_GROUP.type, "sg-a", {"id": "sg-a"})]}
    assert sgs.SECURITY_GROUP.mirrored is not None and sgs.INGRESS_RULE.covered is not None
    assert sgs.SECURITY_GROUP.mirrored(view[sgs.SECURITY_GROUP.type][0], view) == frozenset()
    assert sgs.INGRESS_RULE.covered(_live_rule("sg-a", "ingress", "0.0.0.0/0"), view)


def test_split_rules_take_over_one_side_of_a_group() -> None:
    managed = {"security_group_id": "sg-a", "ip_protocol": "tcp", "from_port": 443, "to_port": 443,
               "cidr_ipv4": "0.0.0.0/0"}
    sg = state(sgs.SECURITY_GROUP.type, "sg-a", {"id": "sg-a"})
    view = {sgs.SECURITY_GROUP.type: [sg],
            sgs.INGRESS_RULE.type: [state(sgs.INGRESS_RULE.type, "sgr-9", managed)]}
    assert sgs.SECURITY_GROUP.mirrored is not None and sgs.INGRESS_RULE.covered is not None
    assert sgs.SECURITY_GROUP.mirrored(sg, view) == frozenset({"ingress"})
    assert not sgs.INGRESS_RULE.covered(_live_rule("sg-a", "ingress", "0.0.0.0/0", port=22), view)
    assert sgs.INGRESS_RULE.covered(_live_rule("sg-a", "egress", "0.0.0.0/0"), view)  # egress still inline
    assert sgs.rule_fingerprint(managed, "ingress") == "sg-a_ingress_tcp_443_443_0.0.0.0/0"


def test_rules_of_an_unmanaged_group_are_reported_with_the_group() -> None:
    view: dict[str, list[Resource]] = {}
    assert sgs.INGRESS_RULE.covered is not None
    assert sgs.INGRESS_RULE.covered(_live_rule("sg-new", "ingress", "0.0.0.0/0"), view)
    assert not sgs.INGRESS_RULE.covered(_live_rule("sg-default", "ingress", "0.0.0.0/0", default=True), view)
    other_rule = {"security_group_id": "sg-shared", "ip_protocol": "tcp", "from_port": 80, "to_port": 80,
                  "cidr_ipv4": "10.0.0.0/8"}
    view = {sgs.INGRESS_RULE.type: [state(sgs.INGRESS_RULE.type, "sgr-2", other_rule)]}
    assert not sgs.INGRESS_RULE.covered(_live_rule("sg-shared", "ingress", "0.0.0.0/0"), view)


def test_rule_fingerprint_needs_a_direction() -> None:
    with pytest.raises(ValueError, match="direction"):
        sgs.rule_fingerprint({"security_group_id": "sg-a", "ip_protocol": "-1", "cidr_ipv4": "0.0.0.0/0"})


# --- the seeded reference network ---------------------------------------------------------------

SEEDED_ADDRESSES = {
    "aws_vpc.main", 'aws_subnet.public["a"]', 'aws_subnet.public["b"]', 'aws_subnet.private["a"]',
    'aws_subnet.private["b"]', "aws_internet_gateway.main", "aws_route_table.public",
    'aws_route_table_association.public["a"]', 'aws_route_table_association.public["b"]',
    'aws_eip.nat["a"]', 'aws_eip.nat["b"]', 'aws_nat_gateway.main["a"]', 'aws_nat_gateway.main["b"]',
    'aws_route_table.private["a"]', 'aws_route_table.private["b"]',
    'aws_route_table_association.private["a"]', 'aws_route_table_association.private["b"]',
    "aws_security_group.alb", "aws_security_group.service",
    "aws_vpc_security_group_ingress_rule.alb_https", "aws_vpc_security_group_ingress_rule.alb_http",
    "aws_vpc_security_group_ingress_rule.service_from_alb",
    "aws_vpc_security_group_egress_rule.alb_to_service",
    "aws_vpc_security_group_egress_rule.service_https_out",
}


@pytest.fixture
def seeded() -> Iterator[tuple[Aws, SeedContext]]:
    with mock_aws():
        aws = Aws(AwsSettings(region=SEED_REGION))
        ctx = SeedContext(aws, SEED_REGION, ACCOUNT)
        seed_network(ctx)
        yield Aws(AwsSettings(region=SEED_REGION)), ctx  # a fresh Aws: its call counter starts at 0


def _state_view(ctx: SeedContext) -> dict[str, list[Resource]]:
    view: dict[str, list[Resource]] = {}
    for item in ctx.items:
        spec = COLLECTORS[item.type][0]
        view.setdefault(item.type, []).append(state(item.type, str(spec.import_id(item.attributes)),
                                                    item.attributes))
    return view


def _live_network(aws: Aws, view: Mapping[str, list[Resource]]) -> dict[str, dict[str, Resource]]:
    wanted = {t: frozenset(r.id for r in rs) for t, rs in view.items()}
    return {t: collect(aws, t, SEED_REGION, wanted) for t in COLLECTORS}


def test_seeded_network_matches_its_live_twin(seeded: tuple[Aws, SeedContext]) -> None:
    aws, ctx = seeded
    assert {item.address for item in ctx.items} == SEEDED_ADDRESSES
    live = _live_network(aws, _state_view(ctx))
    for item in ctx.items:
        spec = COLLECTORS[item.type][0]
        twin = live[item.type].get(str(spec.import_id(item.attributes)))
        assert twin is not None, f"{item.address} not found live"
        skip = {a for a in spec.optional_live if a not in twin.attributes}
        skip |= spec.mirrored(state(item.type, twin.id, item.attributes), {}) if spec.mirrored else set()
        assert comparable(spec, compared(spec, item.attributes), skip) == comparable(spec, compared(
            spec, twin.attributes), skip), item.address
        assert attribute_changes(spec, item.attributes, twin.attributes, skip) == [], item.address
    vpc = ctx.ref("aws_vpc.main")
    assert vpc["tags_all"] == {"Name": "digitallync-core", "Environment": "production",
                               "Project": "digitallync"}
    assert [ctx.ref(f'aws_subnet.{t}["{k}"]')["availability_zone"] for t in ("public", "private")
            for k in "ab"] == ["ap-south-1a", "ap-south-1b"] * 2


def test_seeded_groups_lost_the_default_egress(seeded: tuple[Aws, SeedContext]) -> None:
    aws, ctx = seeded
    groups = collect(aws, "aws_security_group", SEED_REGION)
    for name, port in (("alb", 3000), ("service", 443)):
        [egress] = groups[ctx.ref(f"aws_security_group.{name}")["id"]].attributes["egress"]
        assert (egress["from_port"], egress["protocol"]) == (port, "tcp")


def test_seeded_dependencies_are_recorded_like_terraform(seeded: tuple[Aws, SeedContext]) -> None:
    _, ctx = seeded
    deps = {item.address: set(item.dependencies) for item in ctx.items}
    assert deps["aws_vpc.main"] == set()
    assert deps['aws_subnet.private["b"]'] == {"aws_vpc.main"}
    assert deps['aws_route_table_association.public["a"]'] == {
        "aws_internet_gateway.main", "aws_route_table.public", "aws_subnet.public", "aws_vpc.main"}
    assert deps["aws_vpc_security_group_ingress_rule.service_from_alb"] == {
        "aws_security_group.alb", "aws_security_group.service", "aws_vpc.main"}
    assert deps['aws_route_table_association.private["b"]'] == {
        'aws_eip.nat["b"]', "aws_internet_gateway.main", 'aws_nat_gateway.main["b"]', 'aws_route_table.private["b"]',
        'aws_subnet.private["b"]', 'aws_subnet.public["b"]', "aws_vpc.main"}


def test_each_zone_routes_out_through_its_own_nat_gateway(seeded: tuple[Aws, SeedContext]) -> None:
    _, ctx = seeded
    for zone in "ab":
        nat = ctx.ref(f'aws_nat_gateway.main["{zone}"]')
        assert nat["subnet_id"] == ctx.ref(f'aws_subnet.public["{zone}"]')["id"]
        assert nat["allocation_id"] == ctx.ref(f'aws_eip.nat["{zone}"]')["id"]
        [route] = ctx.ref(f'aws_route_table.private["{zone}"]')["route"]
        assert (route["cidr_block"], route["nat_gateway_id"], route["gateway_id"]) == ("0.0.0.0/0", nat["id"], "")
        association = ctx.ref(f'aws_route_table_association.private["{zone}"]')
        assert association["subnet_id"] == ctx.ref(f'aws_subnet.private["{zone}"]')["id"]
        assert association["route_table_id"] == ctx.ref(f'aws_route_table.private["{zone}"]')["id"]
        assert nat["tags"] == {"Name": f"digitallync-core-{zone}"}
        assert nat["tags_all"] == {"Name": f"digitallync-core-{zone}", "Project": "digitallync",
                                   "Environment": "prod", "ManagedBy": "terraform"}


def _unmanaged(live: Mapping[str, Mapping[str, Resource]], view: Mapping[str, list[Resource]]) -> list[str]:
    """What the diff would report unmanaged among the network types (its rules, for these specs)."""
    managed = {(t, r.id) for t, rs in view.items() for r in rs}
    found = []
    for tf_type, resources in live.items():
        spec = COLLECTORS[tf_type][0]
        for res in resources.values():
            if (tf_type, res.id) in managed or not spec.report_unmanaged:
                continue
            if (spec.aws_owned and spec.aws_owned(res)) or (spec.covered and spec.covered(res, view)):
                continue
            found.append(tf_type)
    return sorted(found)


def test_seeded_region_has_nothing_unmanaged_until_someone_opens_ssh(seeded: tuple[Aws, SeedContext]) -> None:
    aws, ctx = seeded
    view = _state_view(ctx)
    assert _unmanaged(_live_network(aws, view), view) == []  # default VPC and its defaults are AWS-owned
    for group in view[sgs.SECURITY_GROUP.type]:  # split rules manage both sides of both groups
        assert sgs.SECURITY_GROUP.mirrored is not None
        assert sgs.SECURITY_GROUP.mirrored(group, view) == frozenset({"ingress", "egress"})

    ec2 = aws.client("ec2", SEED_REGION)
    ec2.authorize_security_group_ingress(GroupId=ctx.ref("aws_security_group.service")["id"], IpPermissions=[
        {"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22, "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}])
    assert _unmanaged(_live_network(aws, view), view) == ["aws_vpc_security_group_ingress_rule"]


def test_a_hand_made_group_is_reported_once(seeded: tuple[Aws, SeedContext]) -> None:
    aws, ctx = seeded
    view = _state_view(ctx)
    ec2 = aws.client("ec2", SEED_REGION)
    ec2.create_security_group(GroupName="debug-temp", Description="debug",
                              VpcId=ctx.ref("aws_vpc.main")["id"])
    assert _unmanaged(_live_network(aws, view), view) == ["aws_security_group"]  # not also its default egress


def test_one_region_of_networking_costs_eight_calls(seeded: tuple[Aws, SeedContext]) -> None:
    aws, ctx = seeded
    context = CollectContext(aws, SEED_REGION, ACCOUNT)
    for _, fn in COLLECTORS.values():
        list(fn(context))
    assert aws.counter.snapshot() == {f"ec2.{op}": 1 for op in (
        "DescribeAddresses", "DescribeInternetGateways", "DescribeNatGateways", "DescribeRouteTables",
        "DescribeSecurityGroupRules", "DescribeSecurityGroups", "DescribeSubnets", "DescribeVpcs")}
    assert aws.counter.total == 8
    list(net.collect_vpcs(CollectContext(aws, SEED_REGION, ACCOUNT,
                                         {"aws_vpc": frozenset({ctx.ref("aws_vpc.main")["id"]})})))
    assert aws.counter.snapshot()["ec2.DescribeVpcAttribute"] == 2  # only for a VPC a state holds


# --- pagination (moto answers in one page whatever the page size) -------------------------------

PAGED_CASES = [
    pytest.param("describe_subnets", "Subnets", net.collect_subnets,
                 [{"SubnetId": f"subnet-{n}", "VpcId": "vpc-1"} for n in (1, 2)], [], id="subnets"),
    pytest.param("describe_security_group_rules", "SecurityGroupRules", sgs.collect_ingress_rules,
                 [{"SecurityGroupRuleId": f"sgr-{n}", "GroupId": "sg-1", "IsEgress": False,
                   "IpProtocol": "tcp", "FromPort": n, "ToPort": n, "CidrIpv4": "10.0.0.0/8"}
                  for n in (1, 2)],
                 [("describe_security_groups", {"SecurityGroups": []})], id="security-group-rules"),
    pytest.param("describe_vpcs", "Vpcs", net.collect_vpcs,
                 [{"VpcId": f"vpc-{n}", "CidrBlock": "10.0.0.0/16"} for n in (1, 2)], [], id="vpcs"),
    pytest.param("describe_internet_gateways", "InternetGateways", net.collect_internet_gateways,
                 [{"InternetGatewayId": f"igw-{n}"} for n in (1, 2)], [], id="internet-gateways"),
    pytest.param("describe_route_tables", "RouteTables", net.collect_route_tables,
                 [{"RouteTableId": f"rtb-{n}", "VpcId": "vpc-1"} for n in (1, 2)], [], id="route-tables"),
    pytest.param("describe_security_groups", "SecurityGroups", sgs.collect_security_groups,
                 [{"GroupId": f"sg-{n}", "GroupName": f"g{n}"} for n in (1, 2)], [], id="security-groups"),
    pytest.param("describe_nat_gateways", "NatGateways", net.collect_nat_gateways,
                 [{"NatGatewayId": f"nat-{n}", "SubnetId": "subnet-1", "State": "available"} for n in (1, 2)], [],
                 id="nat-gateways"),
]

AFTER_LISTING = {"describe_internet_gateways": [("describe_vpcs", {"Vpcs": []})]}
"""Calls a converter makes once the listing is done (the default VPC, to tell AWS-owned gateways)."""


@pytest.mark.parametrize(("operation", "key", "fn", "items", "before"), PAGED_CASES)
def test_every_describe_follows_next_token(operation: str, key: str, fn: CollectFn,
                                           items: list[dict[str, Any]],
                                           before: list[tuple[str, dict[str, Any]]]) -> None:
    aws = Aws(AwsSettings(region=REGION))
    client = aws.client("ec2", REGION)
    with Stubber(client) as stub:
        for dep_operation, answer in before:
            stub.add_response(dep_operation, answer, {})
        stub.add_response(operation, {key: items[:1], "NextToken": "page-2"}, {})
        stub.add_response(operation, {key: items[1:]}, {"NextToken": "page-2"})
        for dep_operation, answer in AFTER_LISTING.get(operation, []):
            stub.add_response(dep_operation, answer, {})
        found = list(fn(CollectContext(aws, REGION, ACCOUNT)))
        stub.assert_no_pending_responses()
    assert len(found) == 2


def test_one_failed_describe_fails_every_type_it_feeds_after_one_call() -> None:
    aws = Aws(AwsSettings(region=REGION))
    context = CollectContext(aws, REGION, ACCOUNT)
    with Stubber(aws.client("ec2", REGION)) as stub:
        stub.add_client_error("describe_route_tables", "UnauthorizedOperation", "not allowed")
        for fn in (net.collect_route_tables, net.collect_route_table_associations):
            with pytest.raises(botocore.exceptions.ClientError, match="UnauthorizedOperation"):
                list(fn(context))
        stub.assert_no_pending_responses()
