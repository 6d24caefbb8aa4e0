"""VPC networking: VPCs, subnets, gateways, route tables, security groups and their rules."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from auditor.inventory.base import CollectContext, TypeSpec, collector, paginate, tags_dict
from auditor.models import Resource

VPC = TypeSpec(
    type="aws_vpc",
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
    for vpc in paginate(ec2, "describe_vpcs", "Vpcs"):
        vpc_id = vpc["VpcId"]
        ipv6 = next((a for a in vpc.get("Ipv6CidrBlockAssociationSet", [])
                     if a.get("Ipv6CidrBlockState", {}).get("State") == "associated"), None)
        attrs: dict[str, Any] = {
            "id": vpc_id,
            "arn": f"arn:aws:ec2:{ctx.region}:{vpc.get('OwnerId', ctx.account_id)}:vpc/{vpc_id}",
            "cidr_block": vpc["CidrBlock"],
            "instance_tenancy": vpc.get("InstanceTenancy", "default"),
            "dhcp_options_id": vpc.get("DhcpOptionsId", ""),
            "ipv6_cidr_block": ipv6["Ipv6CidrBlock"] if ipv6 else "",
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
