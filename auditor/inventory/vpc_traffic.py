"""What controls and records traffic in a VPC besides security groups: VPC endpoints, network ACLs, flow
logs, and the VPC's default security group as aws_default_security_group manages it.

Calls per region: DescribeVpcEndpoints, DescribeNetworkAcls and DescribeFlowLogs (paginated) once each;
the default security groups come from the DescribeSecurityGroups answer aws_security_group shares.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from auditor.catalog import Listing, TypeSpec
from auditor.inventory import security_groups as sg
from auditor.inventory.base import CollectContext, collector, register, tags_dict
from auditor.models import Resource


def _tags(attrs: dict[str, Any], item: Mapping[str, Any]) -> dict[str, Any]:
    tags = tags_dict(item.get("Tags"))
    return {**attrs, "tags": tags, "tags_all": dict(tags)}


# --- aws_vpc_endpoint ---------------------------------------------------------------------------


def endpoint_attributes(endpoint: Mapping[str, Any]) -> dict[str, Any]:
    """A DescribeVpcEndpoints item in aws_vpc_endpoint state shape."""
    return _tags({
        "id": endpoint["VpcEndpointId"],
        "vpc_id": endpoint.get("VpcId", ""),
        "service_name": endpoint.get("ServiceName", ""),
        "vpc_endpoint_type": endpoint.get("VpcEndpointType", ""),
        "private_dns_enabled": bool(endpoint.get("PrivateDnsEnabled")),
        "ip_address_type": endpoint.get("IpAddressType", ""),
        "policy": endpoint.get("PolicyDocument", ""),
        "route_table_ids": list(endpoint.get("RouteTableIds") or []),
        "subnet_ids": list(endpoint.get("SubnetIds") or []),
        "security_group_ids": [g["GroupId"] for g in endpoint.get("Groups") or []],
        "state": endpoint.get("State", ""),
    }, endpoint)


VPC_ENDPOINT = TypeSpec(
    type="aws_vpc_endpoint",
    service="ec2",
    compared=("vpc_id", "service_name", "vpc_endpoint_type", "private_dns_enabled", "ip_address_type", "policy",
              "route_table_ids", "subnet_ids", "security_group_ids"),
    set_paths=("route_table_ids", "subnet_ids", "security_group_ids"),
    json_attributes=("policy",),
    optional_live=("ip_address_type",),
    tags=True,
    ignored={
        "arn": "derived from the id", "owner_id": "computed", "state": "computed", "cidr_blocks": "computed",
        "dns_entry": "computed", "network_interface_ids": "computed", "prefix_list_id": "computed",
        "requester_managed": "computed", "auto_accept": "provider-only flag", "dns_options": "not compared",
        "subnet_configuration": "not compared", "resource_configuration_arn": "not compared",
        "service_network_arn": "not compared", "service_region": "not compared", "timeouts": "provider-only",
    },
    notes="One paginated DescribeVpcEndpoints; deleted endpoints are gone. Interface endpoints' security "
          "groups, subnets and gateway endpoints' route tables are compared as sets.",
    listing=Listing("DescribeVpcEndpoints", "VpcEndpoints", "VpcEndpointId",
                    convert=lambda endpoint, _, __: endpoint_attributes(endpoint),
                    skip=lambda endpoint: str(endpoint.get("State", "")).lower() in ("deleted", "deleting")),
)
collect_vpc_endpoints = register(VPC_ENDPOINT)


# --- aws_network_acl ----------------------------------------------------------------------------

_DEFAULT_RULE = 32767  # the catch-all deny AWS adds to every ACL; the provider leaves it out


def _acl_rule(entry: Mapping[str, Any]) -> dict[str, Any]:
    ports = entry.get("PortRange") or {}
    icmp = entry.get("IcmpTypeCode") or {}
    return {"rule_no": entry.get("RuleNumber", 0), "action": entry.get("RuleAction", ""),
            "protocol": sg.normalize_protocol(entry.get("Protocol", "-1")).replace("all", "-1"),
            "cidr_block": entry.get("CidrBlock", ""), "ipv6_cidr_block": entry.get("Ipv6CidrBlock", ""),
            "from_port": ports.get("From", 0), "to_port": ports.get("To", 0),
            "icmp_type": icmp.get("Type"), "icmp_code": icmp.get("Code")}  # null unless ICMP, as the provider


def _acl_rules(value: Any) -> Any:
    """ingress/egress: protocol "6" or "tcp", "-1" or "all" are one value; idempotent."""
    if not isinstance(value, list):
        return value
    return [{**r, "protocol": sg.normalize_protocol(r.get("protocol", "-1")).replace("all", "-1")}
            if isinstance(r, Mapping) else r for r in value]


def network_acl_attributes(acl: Mapping[str, Any]) -> dict[str, Any]:
    """A DescribeNetworkAcls item in aws_network_acl state shape."""
    entries = [e for e in acl.get("Entries") or [] if e.get("RuleNumber") != _DEFAULT_RULE]
    return _tags({
        "id": acl["NetworkAclId"],
        "vpc_id": acl.get("VpcId", ""),
        "owner_id": acl.get("OwnerId", ""),
        "subnet_ids": [a["SubnetId"] for a in acl.get("Associations") or [] if a.get("SubnetId")],
        "ingress": [_acl_rule(e) for e in entries if not e.get("Egress")],
        "egress": [_acl_rule(e) for e in entries if e.get("Egress")],
        "_default": bool(acl.get("IsDefault")),
    }, acl)


NETWORK_ACL = TypeSpec(
    type="aws_network_acl",
    service="ec2",
    compared=("vpc_id", "subnet_ids", "ingress", "egress"),
    set_paths=("subnet_ids", "ingress", "egress"),
    normalizers={"ingress": _acl_rules, "egress": _acl_rules},
    tags=True,
    aws_owned=lambda r: bool(r.attributes.get("_default")),
    ignored={"arn": "derived from the id", "owner_id": "computed"},
    notes="One paginated DescribeNetworkAcls. AWS's catch-all rule 32767 is left out as the provider does; a "
          "VPC's default ACL is AWS's (aws_default_network_acl, not this type, manages it).",
    listing=Listing("DescribeNetworkAcls", "NetworkAcls", "NetworkAclId",
                    convert=lambda acl, _, __: network_acl_attributes(acl)),
)
collect_network_acls = register(NETWORK_ACL)


# --- aws_flow_log -------------------------------------------------------------------------------


def flow_log_attributes(flow_log: Mapping[str, Any]) -> dict[str, Any]:
    """A DescribeFlowLogs item in aws_flow_log state shape (the resource it watches by its kind)."""
    resource = str(flow_log.get("ResourceId", ""))
    options = flow_log.get("DestinationOptions") or {}
    attrs = {
        "id": flow_log["FlowLogId"],
        "traffic_type": flow_log.get("TrafficType", ""),
        "log_destination_type": flow_log.get("LogDestinationType", ""),
        "log_destination": flow_log.get("LogDestination", ""),
        "log_group_name": flow_log.get("LogGroupName", ""),
        "iam_role_arn": flow_log.get("DeliverLogsPermissionArn", ""),
        "log_format": flow_log.get("LogFormat", ""),
        "max_aggregation_interval": flow_log.get("MaxAggregationInterval", 600),
        "vpc_id": resource if resource.startswith("vpc-") else "",
        "subnet_id": resource if resource.startswith("subnet-") else "",
        "eni_id": resource if resource.startswith("eni-") else "",
        "transit_gateway_id": resource if resource.startswith("tgw-") and "attach" not in resource else "",
        "transit_gateway_attachment_id": resource if resource.startswith("tgw-attach-") else "",
        "destination_options": [{"file_format": options.get("FileFormat", ""),
                                 "hive_compatible_partitions": bool(options.get("HiveCompatiblePartitions")),
                                 "per_hour_partition": bool(options.get("PerHourPartition"))}] if options else [],
    }
    return _tags(attrs, flow_log)


FLOW_LOG = TypeSpec(
    type="aws_flow_log",
    service="ec2",
    compared=("traffic_type", "log_destination_type", "log_destination", "iam_role_arn", "log_format",
              "max_aggregation_interval", "vpc_id", "subnet_id", "eni_id", "transit_gateway_id",
              "transit_gateway_attachment_id", "destination_options"),
    optional_live=("log_format",),
    tags=True,
    ignored={
        "arn": "derived from the id",
        "log_group_name": "deprecated mirror of log_destination",
        "deliver_cross_account_role": "not compared",
    },
    notes="One paginated DescribeFlowLogs. The watched resource (VPC, subnet, ENI, transit gateway) is "
          "AWS's ResourceId, split by its id prefix into the provider's attributes.",
    listing=Listing("DescribeFlowLogs", "FlowLogs", "FlowLogId",
                    convert=lambda flow_log, _, __: flow_log_attributes(flow_log)),
)
collect_flow_logs = register(FLOW_LOG)


# --- aws_default_security_group -----------------------------------------------------------------

DEFAULT_SECURITY_GROUP = TypeSpec(
    type="aws_default_security_group",
    service="ec2",
    compared=("vpc_id", "name", "ingress", "egress"),
    set_paths=sg.SECURITY_GROUP.set_paths,
    normalizers=sg.SECURITY_GROUP.normalizers,
    tags=True,
    report_unmanaged=False,
    calls=("DescribeSecurityGroups",),
    ignored={"arn": "derived from the id", "owner_id": "computed", "description": "set by AWS",
             "revoke_rules_on_delete": "provider-only flag", "name_prefix": "not settable"},
    notes="The VPC's `default` group from the DescribeSecurityGroups answer aws_security_group shares; every VPC "
          "has one, so none is ever unmanaged. Its ingress and egress compare like aws_security_group's.",
)


@collector(DEFAULT_SECURITY_GROUP)
def collect_default_security_groups(ctx: CollectContext) -> Iterator[Resource]:
    for group in sg.security_groups(ctx):
        if group.get("GroupName") != "default":
            continue
        group_id, owner = group["GroupId"], str(group.get("OwnerId") or ctx.account_id)
        attrs = _tags({"id": group_id, "name": "default", "vpc_id": group.get("VpcId", ""), "owner_id": owner,
                       "description": group.get("Description", ""),
                       "ingress": sg.permission_blocks(group_id, owner, group.get("IpPermissions")),
                       "egress": sg.permission_blocks(group_id, owner, group.get("IpPermissionsEgress"))},
                      group)
        yield ctx.resource(DEFAULT_SECURITY_GROUP, group_id, attrs)
