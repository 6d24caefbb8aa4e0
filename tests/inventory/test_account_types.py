"""The other types a real ECS/ALB account holds: S3 ownership and logging, KMS aliases, SSM parameters,
secrets, EventBridge rules, dashboards, IAM users and access keys, VPC endpoints, network ACLs, flow logs,
default security groups, ECR replication, Cloud Map, Route 53 zones, listener certificates.

Each: the provider's shape on moto (a state as hashicorp/aws 5.100 writes it compares clean), one
out-of-band change found at its exact path, and a second page for its list call (botocore Stubber).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from botocore.stub import Stubber
from moto import mock_aws

from auditor.aws import Aws
from auditor.diff import attribute_changes
from auditor.inventory import ecr, events, iam, kms, route53, secrets, servicediscovery, storage, vpc_traffic
from tests.inventory._platform import ACCOUNT, REGION, change_paths, collect, context, new_aws, paged, spent_since


@pytest.fixture
def aws() -> Iterator[Aws]:
    with mock_aws():
        yield new_aws()


# --- S3 ownership controls and logging ----------------------------------------------------------


def test_bucket_ownership_controls_and_logging(aws: Aws) -> None:
    s3 = aws.client("s3", REGION)
    for name in ("app-assets", "app-logs", "plain"):
        s3.create_bucket(Bucket=name, CreateBucketConfiguration={"LocationConstraint": REGION})
    s3.put_bucket_acl(Bucket="app-logs", GrantWrite='uri="http://acs.amazonaws.com/groups/s3/LogDelivery"',
                      GrantReadACP='uri="http://acs.amazonaws.com/groups/s3/LogDelivery"')
    s3.put_bucket_ownership_controls(Bucket="app-assets", OwnershipControls={
        "Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]})
    s3.put_bucket_logging(Bucket="app-assets", BucketLoggingStatus={"LoggingEnabled": {
        "TargetBucket": "app-logs", "TargetPrefix": "assets/"}})
    ctx = context(aws, {"aws_s3_bucket_ownership_controls": ["app-assets", "plain"],
                        "aws_s3_bucket_logging": ["app-assets", "plain"]})

    owned = collect(storage.collect_ownership_controls, ctx, storage.OWNERSHIP_CONTROLS)
    logged = collect(storage.collect_logging, ctx, storage.LOGGING)

    assert list(owned) == ["app-assets"] and list(logged) == ["app-assets"]  # plain has neither: missing
    ownership = {"id": "app-assets", "bucket": "app-assets", "rule": [{"object_ownership": "BucketOwnerEnforced"}]}
    assert attribute_changes(storage.OWNERSHIP_CONTROLS, ownership, owned["app-assets"].attributes) == []
    assert change_paths(storage.OWNERSHIP_CONTROLS, {**ownership, "rule": [{"object_ownership": "ObjectWriter"}]},
                  owned["app-assets"].attributes) == ["rule[0].object_ownership"]
    logging = {"id": "app-assets", "bucket": "app-assets", "expected_bucket_owner": "", "target_bucket": "app-logs",
               "target_prefix": "assets/", "target_grant": [], "target_object_key_format": []}
    assert attribute_changes(storage.LOGGING, logging, logged["app-assets"].attributes) == []
    assert change_paths(storage.LOGGING, {**logging, "target_prefix": "old/"}, logged["app-assets"].attributes) == [
        "target_prefix"]


# --- KMS aliases --------------------------------------------------------------------------------


def test_kms_aliases(aws: Aws) -> None:
    client = aws.client("kms", REGION)
    key = client.create_key()["KeyMetadata"]
    other = client.create_key()["KeyMetadata"]
    client.create_alias(AliasName="alias/app", TargetKeyId=key["KeyId"])

    found = collect(kms.collect_aliases, context(aws), kms.ALIAS)

    live = found["alias/app"].attributes
    state = {"id": "alias/app", "name": "alias/app", "name_prefix": "", "arn": live["arn"],
             "target_key_id": key["KeyId"], "target_key_arn": key["Arn"]}
    assert attribute_changes(kms.ALIAS, state, live) == []
    assert change_paths(kms.ALIAS, {**state, "target_key_arn": other["Arn"]}, live) == ["target_key_arn"]
    assert all(kms.ALIAS.aws_owned and kms.ALIAS.aws_owned(r) for i, r in found.items() if i.startswith("alias/aws/"))


def test_list_aliases_follows_every_page() -> None:
    pages = [[{"AliasName": f"alias/a{n}", "AliasArn": f"arn:aws:kms:{REGION}:{ACCOUNT}:alias/a{n}",
               "TargetKeyId": "1234abcd-12ab-34cd-56ef-1234567890ab"}] for n in (1, 2)]
    found = paged(new_aws(), "kms", "list_aliases", "Aliases", pages, kms.collect_aliases, token="Marker",
                  more={"Truncated": True}, token_out="NextMarker")
    assert [r.id for r in found] == ["alias/a1", "alias/a2"]


# --- SSM parameters and secrets: never a value --------------------------------------------------


def test_ssm_parameters_compare_by_version_and_never_read_the_value(aws: Aws) -> None:
    client = aws.client("ssm", REGION)
    client.put_parameter(Name="/app/db-password", Value="s3cr3t-v1", Type="SecureString",
                         Description="database password", Tags=[{"Key": "Team", "Value": "web"}])
    before = aws.counter.snapshot()

    [live] = collect(secrets.collect_parameters, context(aws, {"aws_ssm_parameter": ["/app/db-password"]}),
                     secrets.PARAMETER).values()

    assert "s3cr3t" not in json.dumps(live.attributes, default=str) and "value" not in live.attributes
    assert set(spent_since(aws, before)) == {"ssm.DescribeParameters", "resource-groups-tagging-api.GetResources"}
    state = {"id": "/app/db-password", "name": "/app/db-password", "arn": live.attributes["arn"],
             "type": "SecureString", "description": "database password", "tier": "Standard", "data_type": "text",
             "allowed_pattern": "", "key_id": live.attributes["key_id"], "version": 1, "value": "(redacted)",
             "insecure_value": None, "overwrite": None, "tags": {"Team": "web"}, "tags_all": {"Team": "web"}}
    assert attribute_changes(secrets.PARAMETER, state, live.attributes) == []
    client.put_parameter(Name="/app/db-password", Value="changed-by-hand", Type="SecureString", Overwrite=True)
    [changed] = collect(secrets.collect_parameters, context(aws, {"aws_ssm_parameter": ["/app/db-password"]}),
                        secrets.PARAMETER).values()
    drift = attribute_changes(secrets.PARAMETER, state, changed.attributes)
    assert [(c.path, c.state, c.live) for c in drift] == [("version", 1, 2)]


def test_describe_parameters_follows_every_page() -> None:
    pages = [[{"Name": f"/p{n}", "Type": "String", "Version": 1}] for n in (1, 2)]
    found = paged(new_aws(), "ssm", "describe_parameters", "Parameters", pages, secrets.collect_parameters,
                  token="NextToken", params={"MaxResults": 50})  # 50 a page (AWS's default is 10)
    assert [r.id for r in found] == ["/p1", "/p2"]


def test_secrets_manager_secrets(aws: Aws) -> None:
    client = aws.client("secretsmanager", REGION)
    arn = client.create_secret(Name="app/api-key", SecretString="hunter2", Description="API key",
                               Tags=[{"Key": "Team", "Value": "web"}])["ARN"]

    [live] = collect(secrets.collect_secrets, context(aws, {"aws_secretsmanager_secret": [arn]}),
                     secrets.SECRET).values()

    assert "hunter2" not in json.dumps(live.attributes, default=str)
    state = {"id": arn, "arn": arn, "name": "app/api-key", "name_prefix": "", "description": "API key",
             "kms_key_id": "", "policy": "", "recovery_window_in_days": 30, "replica": [],
             "force_overwrite_replica_secret": False, "tags": {"Team": "web"}, "tags_all": {"Team": "web"}}
    assert attribute_changes(secrets.SECRET, state, live.attributes) == []
    assert change_paths(secrets.SECRET, {**state, "description": "old"}, live.attributes) == ["description"]


def test_list_secrets_follows_every_page() -> None:
    pages = [[{"ARN": f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:s{n}-AbCdEf", "Name": f"s{n}"}]
             for n in (1, 2)]
    found = paged(new_aws(), "secretsmanager", "list_secrets", "SecretList", pages, secrets.collect_secrets,
                  token="NextToken")
    assert [r.attributes["name"] for r in found] == ["s1", "s2"]


# --- EventBridge rules and dashboards -----------------------------------------------------------


def test_event_rules_and_dashboards(aws: Aws) -> None:
    client, cloudwatch = aws.client("events", REGION), aws.client("cloudwatch", REGION)
    pattern = {"source": ["aws.ecs"], "detail-type": ["ECS Task State Change"]}
    client.put_rule(Name="task-stopped", EventPattern=json.dumps(pattern), Description="tasks",
                    Tags=[{"Key": "Team", "Value": "ops"}])
    body = {"widgets": [{"type": "text", "x": 0, "y": 0, "width": 6, "height": 3, "properties": {"markdown": "hi"}}]}
    cloudwatch.put_dashboard(DashboardName="service", DashboardBody=json.dumps(body))
    ctx = context(aws, {"aws_cloudwatch_event_rule": ["task-stopped"], "aws_cloudwatch_dashboard": ["service"]})

    [rule] = collect(events.collect_event_rules, ctx, events.EVENT_RULE).values()
    [dashboard] = collect(events.collect_dashboards, ctx, events.DASHBOARD).values()

    state = {"id": "task-stopped", "name": "task-stopped", "arn": rule.attributes["arn"], "description": "tasks",
             "event_bus_name": "default", "event_pattern": json.dumps(pattern, indent=2), "schedule_expression": "",
             "role_arn": "", "state": "ENABLED", "is_enabled": True, "force_destroy": False,
             "tags": {"Team": "ops"}, "tags_all": {"Team": "ops"}}
    assert events.EVENT_RULE.import_id(state) == "task-stopped"
    assert attribute_changes(events.EVENT_RULE, state, rule.attributes) == []
    assert change_paths(events.EVENT_RULE, {**state, "state": "DISABLED"}, rule.attributes) == ["state"]
    board = {"id": "service", "dashboard_name": "service", "dashboard_body": json.dumps(body)}
    assert attribute_changes(events.DASHBOARD, board, dashboard.attributes) == []
    edited = {**body, "widgets": [{**body["widgets"][0], "width": 12}]}
    assert change_paths(events.DASHBOARD, {**board, "dashboard_body": json.dumps(edited)}, dashboard.attributes) == [
        "dashboard_body.widgets[0].width"]


def test_event_rules_and_dashboards_follow_every_page() -> None:
    pages = [[{"Name": f"r{n}", "Arn": f"arn:aws:events:{REGION}:{ACCOUNT}:rule/r{n}"}] for n in (1, 2)]
    assert [r.id for r in paged(new_aws(), "events", "list_rules", "Rules", pages, events.collect_event_rules,
                                token="NextToken")] == ["r1", "r2"]
    pages = [[{"DashboardName": f"d{n}"}] for n in (1, 2)]
    assert [r.id for r in paged(new_aws(), "cloudwatch", "list_dashboards", "DashboardEntries", pages,
                                events.collect_dashboards, token="NextToken")] == ["d1", "d2"]


# --- IAM users and access keys ------------------------------------------------------------------


def test_users_and_access_keys_without_any_secret(aws: Aws) -> None:
    client = aws.client("iam", REGION)
    client.create_user(UserName="ci", Path="/robots/", Tags=[{"Key": "Team", "Value": "platform"}])
    held = client.create_access_key(UserName="ci")["AccessKey"]
    extra = client.create_access_key(UserName="ci")["AccessKey"]
    client.update_access_key(UserName="ci", AccessKeyId=held["AccessKeyId"], Status="Inactive")
    ctx = context(aws, {"aws_iam_user": ["ci"], "aws_iam_access_key": [held["AccessKeyId"]]})
    ctx._state_attributes = {("aws_iam_access_key", held["AccessKeyId"]): {"user": "ci"}}

    [user] = collect(iam.collect_users, ctx, iam.USER).values()
    keys = collect(iam.collect_access_keys, ctx, iam.ACCESS_KEY)

    state = {"id": "ci", "name": "ci", "path": "/robots/", "arn": user.attributes["arn"], "permissions_boundary": "",
             "unique_id": user.attributes["unique_id"], "force_destroy": False,
             "tags": {"Team": "platform"}, "tags_all": {"Team": "platform"}}
    assert attribute_changes(iam.USER, state, user.attributes) == []
    assert sorted(keys) == sorted([held["AccessKeyId"], extra["AccessKeyId"]])  # the extra one: unmanaged
    dumped = json.dumps([k.attributes for k in keys.values()], default=str)
    assert held["SecretAccessKey"] not in dumped and extra["SecretAccessKey"] not in dumped
    key_state = {"id": held["AccessKeyId"], "user": "ci", "status": "Active", "secret": "(redacted)",
                 "create_date": "2026-01-01T00:00:00Z"}
    assert [(c.path, c.state, c.live) for c in attribute_changes(
        iam.ACCESS_KEY, key_state, keys[held["AccessKeyId"]].attributes)] == [("status", "Active", "Inactive")]


def test_list_users_and_access_keys_follow_every_page() -> None:
    pages = [[{"UserName": f"u{n}", "UserId": "AIDAEXAMPLE000000001", "Arn": f"arn:aws:iam::{ACCOUNT}:user/u{n}",
               "Path": "/", "CreateDate": "2026-01-01T00:00:00Z"}] for n in (1, 2)]
    assert [r.id for r in paged(new_aws(), "iam", "list_users", "Users", pages, iam.collect_users, token="Marker",
                                more={"IsTruncated": True})] == ["u1", "u2"]


# --- VPC endpoints, network ACLs, flow logs, default security groups ---------------------------


def test_vpc_endpoint_acl_flow_log_and_default_group(aws: Aws) -> None:
    ec2 = aws.client("ec2", REGION)
    vpc = ec2.create_vpc(CidrBlock="10.9.0.0/16")["Vpc"]["VpcId"]
    aws.client("s3", REGION).create_bucket(Bucket="flow-logs",
                                           CreateBucketConfiguration={"LocationConstraint": REGION})
    table = ec2.create_route_table(VpcId=vpc)["RouteTable"]["RouteTableId"]
    endpoint = ec2.create_vpc_endpoint(VpcId=vpc, ServiceName=f"com.amazonaws.{REGION}.s3", VpcEndpointType="Gateway",
                                       RouteTableIds=[table])["VpcEndpoint"]["VpcEndpointId"]
    acl = ec2.create_network_acl(VpcId=vpc)["NetworkAcl"]["NetworkAclId"]
    ec2.create_network_acl_entry(NetworkAclId=acl, RuleNumber=100, Protocol="6", RuleAction="allow", Egress=False,
                                 CidrBlock="0.0.0.0/0", PortRange={"From": 443, "To": 443})
    flow = ec2.create_flow_logs(ResourceIds=[vpc], ResourceType="VPC", TrafficType="REJECT",
                                LogDestinationType="s3", LogDestination="arn:aws:s3:::flow-logs")["FlowLogIds"][0]
    ctx = context(aws)

    endpoints = collect(vpc_traffic.collect_vpc_endpoints, ctx, vpc_traffic.VPC_ENDPOINT)
    acls = collect(vpc_traffic.collect_network_acls, ctx, vpc_traffic.NETWORK_ACL)
    flows = collect(vpc_traffic.collect_flow_logs, ctx, vpc_traffic.FLOW_LOG)
    defaults = collect(vpc_traffic.collect_default_security_groups, ctx, vpc_traffic.DEFAULT_SECURITY_GROUP)

    live = endpoints[endpoint].attributes
    state = {"id": endpoint, "vpc_id": vpc, "service_name": f"com.amazonaws.{REGION}.s3",
             # moto reports PrivateDnsEnabled true even for a gateway endpoint; the provider stores what it reads
             "vpc_endpoint_type": "Gateway", "private_dns_enabled": True, "policy": live["policy"],
             "route_table_ids": [table], "subnet_ids": [], "security_group_ids": [], "tags": {}, "tags_all": {}}
    assert attribute_changes(vpc_traffic.VPC_ENDPOINT, state, live) == []
    assert change_paths(vpc_traffic.VPC_ENDPOINT, {**state, "route_table_ids": []}, live) == ["route_table_ids"]

    acl_state = {"id": acl, "vpc_id": vpc, "subnet_ids": [], "tags": {}, "tags_all": {}, "egress": [],
                 "ingress": [{"rule_no": 100, "action": "allow", "protocol": "6", "cidr_block": "0.0.0.0/0",
                              "ipv6_cidr_block": "", "from_port": 443, "to_port": 443, "icmp_type": None,
                              "icmp_code": None}]}
    assert attribute_changes(vpc_traffic.NETWORK_ACL, acl_state, acls[acl].attributes) == []
    assert any(vpc_traffic.NETWORK_ACL.aws_owned and vpc_traffic.NETWORK_ACL.aws_owned(r) for r in acls.values())
    assert change_paths(vpc_traffic.NETWORK_ACL, {**acl_state, "ingress": []}, acls[acl].attributes) == ["ingress"]

    flow_state = {"id": flow, "vpc_id": vpc, "subnet_id": "", "eni_id": "", "transit_gateway_id": "",
                  "transit_gateway_attachment_id": "", "traffic_type": "REJECT", "log_destination_type": "s3",
                  "log_destination": "arn:aws:s3:::flow-logs", "iam_role_arn": "", "max_aggregation_interval": 600,
                  "destination_options": [], "tags": {}, "tags_all": {}}
    assert attribute_changes(vpc_traffic.FLOW_LOG, flow_state, flows[flow].attributes) == []
    assert change_paths(vpc_traffic.FLOW_LOG, {**flow_state, "traffic_type": "ALL"}, flows[flow].attributes) == [
        "traffic_type"]

    [default] = [r for r in defaults.values() if r.attributes["vpc_id"] == vpc]
    group_state = {"id": default.id, "vpc_id": vpc, "name": "default", "tags": {}, "tags_all": {},
                   "ingress": default.attributes["ingress"], "egress": default.attributes["egress"]}
    assert attribute_changes(vpc_traffic.DEFAULT_SECURITY_GROUP, group_state, default.attributes) == []
    ec2.authorize_security_group_ingress(GroupId=default.id, IpPermissions=[
        {"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22, "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}])
    opened = collect(vpc_traffic.collect_default_security_groups, context(aws), vpc_traffic.DEFAULT_SECURITY_GROUP)
    assert change_paths(vpc_traffic.DEFAULT_SECURITY_GROUP, group_state, opened[default.id].attributes) == ["ingress"]


@pytest.mark.parametrize(("operation", "key", "fn", "item"), [
    ("describe_vpc_endpoints", "VpcEndpoints", vpc_traffic.collect_vpc_endpoints, {"VpcEndpointId": "vpce-{n}"}),
    ("describe_network_acls", "NetworkAcls", vpc_traffic.collect_network_acls, {"NetworkAclId": "acl-{n}"}),
    ("describe_flow_logs", "FlowLogs", vpc_traffic.collect_flow_logs, {"FlowLogId": "fl-{n}"}),
])
def test_vpc_traffic_listings_follow_every_page(operation: str, key: str, fn: Any, item: dict[str, str]) -> None:
    pages = [[{k: v.format(n=n) for k, v in item.items()}] for n in (1, 2)]
    found = paged(new_aws(), "ec2", operation, key, pages, fn, token="NextToken")
    assert [r.id for r in found] == [v.format(n=n) for n in (1, 2) for v in item.values()]


# --- ECR replication, Cloud Map, Route 53 -------------------------------------------------------


def test_ecr_replication_configuration(aws: Aws) -> None:
    client = aws.client("ecr", REGION)
    [default] = collect(ecr.collect_replication, context(aws), ecr.REPLICATION).values()
    assert ecr.REPLICATION.aws_owned and ecr.REPLICATION.aws_owned(default)
    client.put_replication_configuration(replicationConfiguration={"rules": [{
        "destinations": [{"region": "eu-west-1", "registryId": ACCOUNT}],
        "repositoryFilters": [{"filter": "app", "filterType": "PREFIX_MATCH"}]}]})
    [live] = collect(ecr.collect_replication, context(aws), ecr.REPLICATION).values()
    state = {"id": ACCOUNT, "registry_id": ACCOUNT, "replication_configuration": [{"rule": [{
        "destination": [{"region": "eu-west-1", "registry_id": ACCOUNT}],
        "repository_filter": [{"filter": "app", "filter_type": "PREFIX_MATCH"}]}]}]}
    assert attribute_changes(ecr.REPLICATION, state, live.attributes) == []
    moved = json.loads(json.dumps(state))
    moved["replication_configuration"][0]["rule"][0]["destination"][0]["region"] = "us-east-1"
    assert change_paths(ecr.REPLICATION, moved, live.attributes) == [
        "replication_configuration[0].rule[0].destination[0].region"]


def test_service_discovery_namespace_and_service(aws: Aws) -> None:
    vpc = aws.client("ec2", REGION).create_vpc(CidrBlock="10.8.0.0/16")["Vpc"]["VpcId"]
    client = aws.client("servicediscovery", REGION)
    client.create_private_dns_namespace(Name="internal.local", Vpc=vpc, Description="services")
    [namespace] = collect(servicediscovery.collect_namespaces, context(aws), servicediscovery.NAMESPACE).values()
    service_id = client.create_service(Name="web", NamespaceId=namespace.id, DnsConfig={
        "RoutingPolicy": "MULTIVALUE", "DnsRecords": [{"Type": "A", "TTL": 10}]},
        HealthCheckCustomConfig={"FailureThreshold": 1})["Service"]["Id"]
    ctx = context(aws, {"aws_service_discovery_private_dns_namespace": [namespace.id],
                        "aws_service_discovery_service": [service_id]})

    [held_ns] = collect(servicediscovery.collect_namespaces, ctx, servicediscovery.NAMESPACE).values()
    [service] = collect(servicediscovery.collect_services, ctx, servicediscovery.DISCOVERY_SERVICE).values()

    ns_state = {"id": namespace.id, "name": "internal.local", "description": "services", "vpc": vpc,
                "tags": {}, "tags_all": {}}
    assert attribute_changes(servicediscovery.NAMESPACE, ns_state, held_ns.attributes) == []
    state = {"id": service_id, "name": "web", "description": "", "namespace_id": namespace.id, "tags": {},
             "tags_all": {}, "dns_config": [{"namespace_id": namespace.id, "routing_policy": "MULTIVALUE",
                                             "dns_records": [{"ttl": 10, "type": "A"}]}],
             "health_check_config": [], "health_check_custom_config": [{"failure_threshold": 1}]}
    assert attribute_changes(servicediscovery.DISCOVERY_SERVICE, state, service.attributes) == []
    longer = json.loads(json.dumps(state))
    longer["dns_config"][0]["dns_records"][0]["ttl"] = 60
    assert change_paths(servicediscovery.DISCOVERY_SERVICE, longer, service.attributes) == [
        "dns_config[0].dns_records[0].ttl"]


def test_route53_zones(aws: Aws) -> None:
    client = aws.client("route53", REGION)
    zone = route53.zone_id(client.create_hosted_zone(Name="example.com", CallerReference="1", HostedZoneConfig={
        "Comment": "public"})["HostedZone"]["Id"])
    client.change_tags_for_resource(ResourceType="hostedzone", ResourceId=zone,
                                    AddTags=[{"Key": "Team", "Value": "web"}])

    [live] = collect(route53.collect_zones, context(aws, {"aws_route53_zone": [zone]}), route53.ZONE).values()

    state = {"id": zone, "zone_id": zone, "name": "example.com", "comment": "public", "vpc": [],
             "force_destroy": False, "tags": {"Team": "web"}, "tags_all": {"Team": "web"}}
    assert attribute_changes(route53.ZONE, state, live.attributes) == []
    assert change_paths(route53.ZONE, {**state, "comment": "Managed by Terraform"}, live.attributes) == ["comment"]


def test_list_hosted_zones_follows_every_page() -> None:
    aws = new_aws()
    page = {"Marker": "", "IsTruncated": True, "MaxItems": "100", "NextMarker": "Z2"}
    with Stubber(aws.client("route53", REGION)) as stub:
        stub.add_response("list_hosted_zones", {**page, "HostedZones": [
            {"Id": "/hostedzone/Z1", "Name": "z1.example.", "CallerReference": "r"}]}, {})
        stub.add_response("list_hosted_zones", {"Marker": "Z2", "IsTruncated": False, "MaxItems": "100",
                                                "HostedZones": [{"Id": "/hostedzone/Z2", "Name": "z2.example.",
                                                                 "CallerReference": "r"}]}, {"Marker": "Z2"})
        found = list(route53.collect_zones(context(aws)))
        stub.assert_no_pending_responses()
    assert [(r.id, r.attributes["name"]) for r in found] == [("Z1", "z1.example"), ("Z2", "z2.example")]


def test_service_owned_secrets_and_a_stack_input_are_not_unmanaged() -> None:
    from auditor.models import Origin, Resource

    owned = Resource("aws_secretsmanager_secret", "arn:s1", secrets.secret_attributes(
        {"ARN": "arn:s1", "Name": "rds!db-1", "OwningService": "rds"}), Origin.LIVE)
    plain = Resource("aws_secretsmanager_secret", "arn:s2", secrets.secret_attributes({"ARN": "arn:s2", "Name": "x"}),
                     Origin.LIVE)
    assert secrets.SECRET.aws_owned and secrets.SECRET.aws_owned(owned) and not secrets.SECRET.aws_owned(plain)
    rule = Resource("aws_ecr_pull_through_cache_rule", "docker-hub", {"credential_arn": "arn:s2"}, Origin.STATE)
    assert secrets.SECRET.covered and secrets.SECRET.covered(plain, {"aws_ecr_pull_through_cache_rule": [rule]})
    assert not secrets.SECRET.covered(plain, {})


def test_a_zone_another_service_made_is_not_unmanaged() -> None:
    from auditor.models import Origin, Resource

    zone = Resource("aws_route53_zone", "Z1", route53.zone_attributes(
        {"Id": "/hostedzone/Z1", "Name": "internal.", "LinkedService": {"ServicePrincipal":
                                                                        "servicediscovery.amazonaws.com"}}, {}),
        Origin.LIVE)
    assert route53.ZONE.aws_owned and route53.ZONE.aws_owned(zone)
    plain = Resource("aws_route53_zone", "Z1", route53.zone_attributes({"Id": "/hostedzone/Z1", "Name": "x."}, {}),
                     Origin.LIVE)
    namespace = Resource("aws_service_discovery_private_dns_namespace", "ns-1",
                         {"hosted_zone": "/hostedzone/Z1"}, Origin.STATE)
    assert route53.ZONE.covered and route53.ZONE.covered(plain, {namespace.type: [namespace]})
    assert not route53.ZONE.aws_owned(plain) and not route53.ZONE.covered(plain, {})


def test_cloud_map_listings_follow_every_page() -> None:
    namespace = {"Arn": "arn:aws:servicediscovery:ap-south-1:123456789012:namespace/ns-{n}", "Name": "n{n}.local"}
    pages = [[{"Id": f"ns-{n}", **{k: v.format(n=n) for k, v in namespace.items()}}] for n in (1, 2)]
    filters = {"Filters": [{"Name": "TYPE", "Values": ["DNS_PRIVATE"], "Condition": "EQ"}]}
    found = paged(new_aws(), "servicediscovery", "list_namespaces", "Namespaces", pages,
                  servicediscovery.collect_namespaces, token="NextToken", params=filters)
    assert [r.id for r in found] == ["ns-1", "ns-2"]
    pages = [[{"Id": f"srv-{n}", "Arn": f"arn:aws:servicediscovery:{REGION}:{ACCOUNT}:service/srv-{n}",
               "Name": f"s{n}"}] for n in (1, 2)]
    found = paged(new_aws(), "servicediscovery", "list_services", "Services", pages,
                  servicediscovery.collect_services, token="NextToken")
    assert [r.id for r in found] == ["srv-1", "srv-2"]


def test_access_keys_and_listener_certificates_follow_every_page() -> None:
    from botocore.stub import Stubber

    from auditor.inventory import loadbalancing

    aws = new_aws()
    key = {"UserName": "ci", "Status": "Active", "CreateDate": "2026-01-01T00:00:00Z"}
    ctx = context(aws, {"aws_iam_access_key": ["AKIAEXAMPLE000000001"]})
    ctx._state_attributes = {("aws_iam_access_key", "AKIAEXAMPLE000000001"): {"user": "ci"}}
    with Stubber(aws.client("iam", REGION)) as stub:
        stub.add_response("list_access_keys", {"AccessKeyMetadata": [{**key, "AccessKeyId": "AKIAEXAMPLE000000001"}],
                                               "IsTruncated": True, "Marker": "m2"}, {"UserName": "ci"})
        stub.add_response("list_access_keys", {"AccessKeyMetadata": [{**key, "AccessKeyId": "AKIAEXAMPLE000000002"}],
                                               "IsTruncated": False}, {"UserName": "ci", "Marker": "m2"})
        assert [r.id for r in iam.collect_access_keys(ctx)] == ["AKIAEXAMPLE000000001", "AKIAEXAMPLE000000002"]
        stub.assert_no_pending_responses()
    listener = f"arn:aws:elasticloadbalancing:{REGION}:{ACCOUNT}:listener/app/web/1/2"
    ctx = context(aws, {"aws_lb_listener_certificate": [f"{listener}_arn:c1"]})
    ctx._state_attributes = {("aws_lb_listener_certificate", f"{listener}_arn:c1"): {"listener_arn": listener}}
    with Stubber(aws.client("elbv2", REGION)) as stub:
        stub.add_response("describe_listener_certificates", {"Certificates": [
            {"CertificateArn": "arn:c0", "IsDefault": True}, {"CertificateArn": "arn:c1"}], "NextMarker": "m2"},
            {"ListenerArn": listener})
        stub.add_response("describe_listener_certificates", {"Certificates": [{"CertificateArn": "arn:c2"}]},
                          {"ListenerArn": listener, "Marker": "m2"})
        found = list(loadbalancing.collect_listener_certificates(ctx))
        stub.assert_no_pending_responses()
    assert [r.id for r in found] == [f"{listener}_arn:c1", f"{listener}_arn:c2"]  # the default one is the listener's
