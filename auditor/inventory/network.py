"""VPC networking: VPCs, subnets, internet and NAT gateways, elastic IPs, route tables.

One paginated describe call per API, shared by every type it feeds (CollectContext.shared), so a
whole region's network costs eight calls: DescribeVpcs, DescribeSubnets, DescribeInternetGateways,
DescribeAddresses, DescribeNatGateways, DescribeRouteTables, and (in security_groups.py)
DescribeSecurityGroups and DescribeSecurityGroupRules (plus two DescribeVpcAttribute calls per VPC
that a state holds). The EC2 helpers both modules use live here.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import Any

import botocore

from auditor.catalog import Listing, StateView, TypeSpec
from auditor.inventory.base import CollectContext, collector, paginate, register, tags_dict
from auditor.models import Resource

PROVIDER_ONLY = "provider-only setting"


# --- shared calls and small converters ----------------------------------------------------------


def described(ctx: CollectContext, operation: str, result_key: str) -> list[dict[str, Any]]:
    """Every item of one paginated EC2 describe call (API name), fetched once per region for all types
    (under the key the generic collector's listing of the same call uses)."""
    ec2 = ctx.client("ec2")
    return ctx.shared(f"ec2.{operation}", lambda: list(paginate(ec2, botocore.xform_name(operation), result_key)))


def ec2_arn(ctx: CollectContext, owner_id: str | None, resource: str) -> str:
    return f"arn:aws:ec2:{ctx.region}:{owner_id or ctx.account_id}:{resource}"


def tagged(attrs: dict[str, Any], tags: Mapping[str, str]) -> dict[str, Any]:
    """Set `tags` and `tags_all` to the live tag map (the diff compares state tags_all with it)."""
    attrs["tags"] = dict(tags)
    attrs["tags_all"] = dict(tags)
    return attrs


def _associated_ipv6(associations: Iterable[Mapping[str, Any]] | None) -> Mapping[str, Any]:
    """The IPv6 CIDR association in state `associated` (AWS allows one at a time), or {}."""
    for assoc in associations or []:
        if assoc.get("Ipv6CidrBlockState", {}).get("State") == "associated":
            return assoc
    return {}


def _default_vpc_ids(ctx: CollectContext) -> frozenset[str]:
    return frozenset(v["VpcId"] for v in described(ctx, "DescribeVpcs", "Vpcs") if v.get("IsDefault"))


# --- aws_vpc ------------------------------------------------------------------------------------

VPC = TypeSpec(
    type="aws_vpc",
    calls=("DescribeVpcs", "DescribeVpcAttribute"),
    service="ec2",
    compared=("cidr_block", "instance_tenancy", "ipv6_cidr_block", "dhcp_options_id",
              "enable_dns_support", "enable_dns_hostnames"),
    tags=True,
    ignored={
        "arn": "derived from the id",
        "owner_id": "computed",
        "main_route_table_id": "computed, changes only with the main route table association",
        "default_network_acl_id": "computed by AWS",
        "default_route_table_id": "computed by AWS",
        "default_security_group_id": "computed by AWS",
        "ipv6_association_id": "computed",
        "enable_network_address_usage_metrics": "needs one more per-VPC call; rarely changed",
        "assign_generated_ipv6_cidr_block": "create-time option",
        "ipv4_ipam_pool_id": "create-time option", "ipv4_netmask_length": "create-time option",
        "ipv6_ipam_pool_id": "create-time option", "ipv6_netmask_length": "create-time option",
        "ipv6_cidr_block_network_border_group": "create-time option",
        "enable_classiclink": "removed from AWS", "enable_classiclink_dns_support": "removed from AWS",
    },
    aws_owned=lambda r: bool(r.attributes.get("_is_default")),
    notes="enable_dns_* need DescribeVpcAttribute, called only for VPCs held by a state.",
)


@collector(VPC)
def collect_vpcs(ctx: CollectContext) -> Iterator[Resource]:
    ec2 = ctx.client("ec2")
    wanted = ctx.wanted.get(VPC.type, frozenset())
    for vpc in described(ctx, "DescribeVpcs", "Vpcs"):
        vpc_id = vpc["VpcId"]
        ipv6 = _associated_ipv6(vpc.get("Ipv6CidrBlockAssociationSet"))
        attrs: dict[str, Any] = {
            "id": vpc_id,
            "arn": f"arn:aws:ec2:{ctx.region}:{vpc.get('OwnerId', ctx.account_id)}:vpc/{vpc_id}",
            "cidr_block": vpc["CidrBlock"],
            "instance_tenancy": vpc.get("InstanceTenancy", "default"),
            "dhcp_options_id": vpc.get("DhcpOptionsId", ""),
            "ipv6_cidr_block": ipv6.get("Ipv6CidrBlock", ""),
            "owner_id": vpc.get("OwnerId", ""),
            "tags": tags_dict(vpc.get("Tags")),
            "_is_default": bool(vpc.get("IsDefault")),
        }
        attrs["tags_all"] = dict(attrs["tags"])
        if vpc_id in wanted:
            for name, attr in (("enableDnsSupport", "enable_dns_support"),
                               ("enableDnsHostnames", "enable_dns_hostnames")):
                answer = ec2.describe_vpc_attribute(VpcId=vpc_id, Attribute=name)
                attrs[attr] = bool(answer[name[0].upper() + name[1:]]["Value"])
        yield ctx.resource(VPC, vpc_id, attrs)


# --- aws_subnet ---------------------------------------------------------------------------------

SUBNET = TypeSpec(
    type="aws_subnet",
    service="ec2",
    compared=("vpc_id", "cidr_block", "availability_zone", "availability_zone_id", "map_public_ip_on_launch",
              "assign_ipv6_address_on_creation", "ipv6_cidr_block", "ipv6_native", "enable_dns64",
              "enable_lni_at_device_index", "enable_resource_name_dns_a_record_on_launch",
              "enable_resource_name_dns_aaaa_record_on_launch", "private_dns_hostname_type_on_launch",
              "map_customer_owned_ip_on_launch", "customer_owned_ipv4_pool", "outpost_arn"),
    tags=True,
    ignored={
        "arn": "derived from the id",
        "owner_id": "computed",
        "ipv6_cidr_block_association_id": "computed (changes whenever the IPv6 block is re-associated)",
        "timeouts": PROVIDER_ONLY,
    },
    aws_owned=lambda r: bool(r.attributes.get("_default_for_az")),
    notes="Everything comes from DescribeSubnets; the default VPC's subnets (DefaultForAz) are AWS-owned.",
    listing=Listing("DescribeSubnets", "Subnets", "SubnetId",
                    convert=lambda subnet, _, ctx: subnet_attributes(ctx, subnet)),
)


def subnet_attributes(ctx: CollectContext, subnet: Mapping[str, Any]) -> dict[str, Any]:
    """A DescribeSubnets item in aws_subnet state shape."""
    subnet_id = subnet["SubnetId"]
    ipv6 = _associated_ipv6(subnet.get("Ipv6CidrBlockAssociationSet"))
    dns = subnet.get("PrivateDnsNameOptionsOnLaunch") or {}
    attrs: dict[str, Any] = {
        "id": subnet_id,
        "arn": subnet.get("SubnetArn") or ec2_arn(ctx, subnet.get("OwnerId"), f"subnet/{subnet_id}"),
        "owner_id": subnet.get("OwnerId", ""),
        "vpc_id": subnet["VpcId"],
        "cidr_block": subnet.get("CidrBlock", ""),
        "availability_zone": subnet.get("AvailabilityZone", ""),
        "availability_zone_id": subnet.get("AvailabilityZoneId", ""),
        "map_public_ip_on_launch": bool(subnet.get("MapPublicIpOnLaunch")),
        "assign_ipv6_address_on_creation": bool(subnet.get("AssignIpv6AddressOnCreation")),
        "ipv6_cidr_block": ipv6.get("Ipv6CidrBlock", ""),
        "ipv6_cidr_block_association_id": ipv6.get("AssociationId", ""),
        "ipv6_native": bool(subnet.get("Ipv6Native")),
        "enable_dns64": bool(subnet.get("EnableDns64")),
        "enable_lni_at_device_index": int(subnet.get("EnableLniAtDeviceIndex") or 0),
        "enable_resource_name_dns_a_record_on_launch": bool(dns.get("EnableResourceNameDnsARecord")),
        "enable_resource_name_dns_aaaa_record_on_launch": bool(
            dns.get("EnableResourceNameDnsAAAARecord")),
        "private_dns_hostname_type_on_launch": dns.get("HostnameType", ""),
        "map_customer_owned_ip_on_launch": bool(subnet.get("MapCustomerOwnedIpOnLaunch")),
        "customer_owned_ipv4_pool": subnet.get("CustomerOwnedIpv4Pool", ""),
        "outpost_arn": subnet.get("OutpostArn", ""),
        "_default_for_az": bool(subnet.get("DefaultForAz")),
    }
    return tagged(attrs, tags_dict(subnet.get("Tags")))


collect_subnets = register(SUBNET)


# --- aws_internet_gateway -----------------------------------------------------------------------

INTERNET_GATEWAY = TypeSpec(
    type="aws_internet_gateway",
    service="ec2",
    compared=("vpc_id",),
    tags=True,
    ignored={"arn": "derived from the id", "owner_id": "computed", "timeouts": PROVIDER_ONLY},
    aws_owned=lambda r: bool(r.attributes.get("_default_vpc")),
    notes="vpc_id is the first attachment, as the provider reads it. The gateway attached to the default "
          "VPC is AWS-owned (that takes the shared DescribeVpcs answer).",
    listing=Listing("DescribeInternetGateways", "InternetGateways", "InternetGatewayId",
                    convert=lambda igw, _, ctx: internet_gateway_attributes(ctx, igw)),
    calls=("DescribeVpcs",),
)


def internet_gateway_attributes(ctx: CollectContext, igw: Mapping[str, Any]) -> dict[str, Any]:
    """A DescribeInternetGateways item in aws_internet_gateway state shape."""
    default_vpcs = _default_vpc_ids(ctx)
    igw_id = igw["InternetGatewayId"]
    attachments = igw.get("Attachments") or []
    vpc_id = attachments[0].get("VpcId", "") if attachments else ""
    attrs: dict[str, Any] = {
        "id": igw_id,
        "arn": ec2_arn(ctx, igw.get("OwnerId"), f"internet-gateway/{igw_id}"),
        "owner_id": igw.get("OwnerId", ""),
        "vpc_id": vpc_id,
        "_default_vpc": vpc_id in default_vpcs,
    }
    return tagged(attrs, tags_dict(igw.get("Tags")))


collect_internet_gateways = register(INTERNET_GATEWAY)


# --- aws_route_table and aws_route_table_association --------------------------------------------

ROUTE_FIELDS = ("carrier_gateway_id", "cidr_block", "core_network_arn", "destination_prefix_list_id",
                "egress_only_gateway_id", "gateway_id", "ipv6_cidr_block", "local_gateway_id",
                "nat_gateway_id", "network_interface_id", "transit_gateway_id", "vpc_endpoint_id",
                "vpc_peering_connection_id")
"""The provider v5 `route` block of aws_route_table (every field present, "" when unset)."""

_ROUTE_KEYS = {
    "DestinationCidrBlock": "cidr_block",
    "DestinationIpv6CidrBlock": "ipv6_cidr_block",
    "DestinationPrefixListId": "destination_prefix_list_id",
    "CarrierGatewayId": "carrier_gateway_id",
    "CoreNetworkArn": "core_network_arn",
    "EgressOnlyInternetGatewayId": "egress_only_gateway_id",
    "LocalGatewayId": "local_gateway_id",
    "NatGatewayId": "nat_gateway_id",
    "NetworkInterfaceId": "network_interface_id",
    "TransitGatewayId": "transit_gateway_id",
    "VpcPeeringConnectionId": "vpc_peering_connection_id",
}


def _route_block(route: Mapping[str, Any]) -> dict[str, str] | None:
    """One AWS route as a provider `route` block; None for routes the provider leaves out."""
    gateway = str(route.get("GatewayId") or "")
    if gateway in ("local", "VpcLattice") or route.get("Origin") == "EnableVgwRoutePropagation":
        return None
    if route.get("DestinationPrefixListId") and gateway.startswith("vpce-"):
        return None  # gateway-endpoint routes belong to aws_vpc_endpoint
    block = dict.fromkeys(ROUTE_FIELDS, "")
    for key, attr in _ROUTE_KEYS.items():
        if route.get(key):
            block[attr] = str(route[key])
    if gateway:
        block["vpc_endpoint_id" if gateway.startswith("vpce-") else "gateway_id"] = gateway
    return block


def _route_tables(ctx: CollectContext) -> list[dict[str, Any]]:
    return described(ctx, "DescribeRouteTables", "RouteTables")


ROUTE_TABLE = TypeSpec(
    type="aws_route_table",
    calls=("DescribeRouteTables",),
    service="ec2",
    compared=("vpc_id", "route", "propagating_vgws"),
    set_paths=("route", "propagating_vgws"),
    tags=True,
    ignored={"arn": "derived from the id", "owner_id": "computed", "timeouts": PROVIDER_ONLY},
    aws_owned=lambda r: bool(r.attributes.get("_main")),
    notes="Routes as the provider reads them: the VPC's `local` route, VGW-propagated routes and "
          "gateway-endpoint prefix-list routes are left out. The provider also drops routes through "
          "another account's ENI (needs a per-ENI call); such routes are compared here. A VPC's main "
          "route table is AWS-owned (never unmanaged; compared when a state holds it).",
)


@collector(ROUTE_TABLE)
def collect_route_tables(ctx: CollectContext) -> Iterator[Resource]:
    for table in _route_tables(ctx):
        table_id = table["RouteTableId"]
        attrs: dict[str, Any] = {
            "id": table_id,
            "arn": ec2_arn(ctx, table.get("OwnerId"), f"route-table/{table_id}"),
            "owner_id": table.get("OwnerId", ""),
            "vpc_id": table.get("VpcId", ""),
            "route": [b for b in map(_route_block, table.get("Routes") or []) if b is not None],
            "propagating_vgws": [str(v["GatewayId"]) for v in table.get("PropagatingVgws") or []],
            "_main": any(a.get("Main") for a in table.get("Associations") or []),
        }
        yield ctx.resource(ROUTE_TABLE, table_id, tagged(attrs, tags_dict(table.get("Tags"))))


ROUTE_TABLE_ASSOCIATION = TypeSpec(
    type="aws_route_table_association",
    calls=("DescribeRouteTables",),
    service="ec2",
    compared=("route_table_id", "subnet_id", "gateway_id"),
    ignored={"timeouts": PROVIDER_ONLY},
    notes="From the Associations of DescribeRouteTables (shared with aws_route_table). Main associations "
          "are aws_main_route_table_association territory and are not listed; disassociated ones are gone.",
)

_GONE_ASSOCIATION_STATES = frozenset({"disassociating", "disassociated", "failed"})


@collector(ROUTE_TABLE_ASSOCIATION)
def collect_route_table_associations(ctx: CollectContext) -> Iterator[Resource]:
    for table in _route_tables(ctx):
        for assoc in table.get("Associations") or []:
            state = (assoc.get("AssociationState") or {}).get("State", "associated")
            if assoc.get("Main") or state in _GONE_ASSOCIATION_STATES:
                continue
            assoc_id = assoc["RouteTableAssociationId"]
            attrs = {
                "id": assoc_id,
                "route_table_id": assoc.get("RouteTableId", table["RouteTableId"]),
                "subnet_id": assoc.get("SubnetId", ""),
                "gateway_id": assoc.get("GatewayId", ""),
            }
            yield ctx.resource(ROUTE_TABLE_ASSOCIATION, assoc_id, attrs)


# --- aws_eip ------------------------------------------------------------------------------------

_EIP_ASSOCIATION = ("instance", "network_interface")


def _eip_associated_elsewhere(res: Resource, _: StateView) -> frozenset[str]:
    """`mirrored` for aws_eip: an association the state does not hold belongs to another resource.

    An EIP that a NAT gateway (or an aws_eip_association) uses has an empty `instance` and
    `network_interface` in its own state; the association is that other resource's business.
    """
    return frozenset(a for a in _EIP_ASSOCIATION if not res.attributes.get(a))


EIP = TypeSpec(
    type="aws_eip",
    service="ec2",
    compared=("domain", "public_ip", "public_ipv4_pool", "network_border_group", "customer_owned_ipv4_pool",
              *_EIP_ASSOCIATION),
    tags=True,
    optional_live=("public_ipv4_pool", "network_border_group"),
    mirrored=_eip_associated_elsewhere,
    ignored={
        "id": "the allocation id",
        "allocation_id": "equal to the id",
        "arn": "derived from the id",
        "vpc": "deprecated mirror of domain",
        "association_id": "computed; follows whatever the address is associated with",
        "private_ip": "computed from the association", "private_dns": "computed from the association",
        "public_dns": "computed by the provider from public_ip",
        "carrier_ip": "computed", "customer_owned_ip": "computed",
        "ptr_record": "needs DescribeAddressesAttribute per address; not compared",
        "address": "create-time option (BYOIP address to allocate)",
        "associate_with_private_ip": "association-time input, not read back",
        "ipam_pool_id": "create-time option",
        "timeouts": PROVIDER_ONLY,
    },
    notes="DescribeAddresses once (it does not paginate). `instance` and `network_interface` are compared "
          "only when the state sets them (see `mirrored`): an address used by a NAT gateway is associated "
          "by the gateway, not by aws_eip. moto leaves out PublicIpv4Pool and NetworkBorderGroup "
          "(optional_live).",
    listing=Listing("DescribeAddresses", "Addresses", lambda a: str(a.get("AllocationId") or a.get("PublicIp", "")),
                    convert=lambda address, _, ctx: eip_attributes(ctx, address), paginated=False),
)


def eip_attributes(ctx: CollectContext, address: Mapping[str, Any]) -> dict[str, Any]:
    """A DescribeAddresses item in aws_eip state shape."""
    allocation = str(address.get("AllocationId") or address.get("PublicIp", ""))
    attrs: dict[str, Any] = {
        "id": allocation,
        "allocation_id": allocation,
        "arn": ec2_arn(ctx, None, f"elastic-ip/{allocation}"),
        "domain": address.get("Domain", ""),
        "vpc": address.get("Domain") == "vpc",
        "public_ip": address.get("PublicIp", ""),
        "customer_owned_ipv4_pool": address.get("CustomerOwnedIpv4Pool", ""),
        "customer_owned_ip": address.get("CustomerOwnedIp", ""),
        "carrier_ip": address.get("CarrierIp", ""),
        "association_id": address.get("AssociationId", ""),
        "instance": address.get("InstanceId", ""),
        "network_interface": address.get("NetworkInterfaceId", ""),
        "private_ip": address.get("PrivateIpAddress", ""),
    }
    for key, attr in (("PublicIpv4Pool", "public_ipv4_pool"), ("NetworkBorderGroup", "network_border_group")):
        if key in address:
            attrs[attr] = address[key]
    return tagged(attrs, tags_dict(address.get("Tags")))


collect_eips = register(EIP)


# --- aws_nat_gateway ----------------------------------------------------------------------------

NAT_GATEWAY = TypeSpec(
    type="aws_nat_gateway",
    service="ec2",
    compared=("subnet_id", "connectivity_type", "allocation_id", "private_ip", "secondary_allocation_ids",
              "secondary_private_ip_addresses", "secondary_private_ip_address_count"),
    set_paths=("secondary_allocation_ids", "secondary_private_ip_addresses"),
    tags=True,
    optional_live=("connectivity_type",),
    ignored={
        "association_id": "computed (the EIP association the gateway made)",
        "network_interface_id": "computed (the gateway's own interface)",
        "public_ip": "derived from allocation_id",
        "timeouts": PROVIDER_ONLY,
    },
    notes="DescribeNatGateways (paginated) once. As the provider reads it: the primary address "
          "(IsPrimary; the first one when AWS does not say, as moto does not) gives allocation_id and "
          "private_ip, the others the secondary_* sets; deleted gateways are gone.",
    listing=Listing("DescribeNatGateways", "NatGateways", "NatGatewayId",
                    convert=lambda gateway, _, __: nat_gateway_attributes(gateway),
                    skip=lambda gateway: gateway.get("State") == "deleted"),
)


def nat_gateway_attributes(gateway: Mapping[str, Any]) -> dict[str, Any]:
    """A DescribeNatGateways item in aws_nat_gateway state shape."""
    addresses = list(gateway.get("NatGatewayAddresses") or [])
    primary = next((a for a in addresses if a.get("IsPrimary")), addresses[0] if addresses else {})
    secondary = [a for a in addresses if a is not primary]
    attrs: dict[str, Any] = {
        "id": gateway["NatGatewayId"],
        "subnet_id": gateway.get("SubnetId", ""),
        "allocation_id": primary.get("AllocationId", ""),
        "association_id": primary.get("AssociationId", ""),
        "network_interface_id": primary.get("NetworkInterfaceId", ""),
        "private_ip": primary.get("PrivateIp", ""),
        "public_ip": primary.get("PublicIp", ""),
        "secondary_allocation_ids": [str(a["AllocationId"]) for a in secondary if a.get("AllocationId")],
        "secondary_private_ip_addresses": [str(a["PrivateIp"]) for a in secondary if a.get("PrivateIp")],
        "secondary_private_ip_address_count": sum(1 for a in secondary if a.get("PrivateIp")),
    }
    if gateway.get("ConnectivityType"):
        attrs["connectivity_type"] = gateway["ConnectivityType"]
    return tagged(attrs, tags_dict(gateway.get("Tags")))


collect_nat_gateways = register(NAT_GATEWAY)
