"""Target-group attachments, Route 53 records, WAFv2 web ACL associations and EventBridge targets.

Each: the provider's shape on moto (a state as hashicorp/aws 5.100 writes it compares clean), one
out-of-band change found at its exact path (or the resource missing), and a second page for its
paginated calls (botocore Stubber).
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
from auditor.inventory import events, loadbalancing, route53, wafv2
from tests.inventory._platform import ACCOUNT, REGION, change_paths, collect, context, new_aws, spent_since


@pytest.fixture
def aws() -> Iterator[Aws]:
    with mock_aws():
        yield new_aws()


# --- aws_lb_target_group_attachment -------------------------------------------------------------


def _target_group(aws: Aws) -> tuple[str, str, str]:
    ec2 = aws.client("ec2", REGION)
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    answer = ec2.run_instances(ImageId="ami-12c6146b", MinCount=2, MaxCount=2)
    instances = [i["InstanceId"] for i in answer["Instances"]]
    group = aws.client("elbv2", REGION).create_target_group(
        Name="web", Protocol="HTTP", Port=80, VpcId=vpc, TargetType="instance")["TargetGroups"][0]["TargetGroupArn"]
    return group, instances[0], instances[1]


def test_target_group_attachments_found_and_missing(aws: Aws) -> None:
    group, first, second = _target_group(aws)
    elbv2 = aws.client("elbv2", REGION)
    elbv2.register_targets(TargetGroupArn=group, Targets=[{"Id": first, "Port": 8080}, {"Id": second}])
    spec = loadbalancing.TARGET_GROUP_ATTACHMENT
    with_port = {"id": f"{group}-20261207000000000000000001", "target_group_arn": group, "target_id": first,
                 "port": 8080, "availability_zone": None}
    without_port = {**with_port, "id": f"{group}-20261207000000000000000002", "target_id": second, "port": None}
    held = [spec.import_id(with_port), spec.import_id(without_port)]
    assert held == [f"{group},{first},8080", f"{group},{second}"]
    before = aws.counter.snapshot()

    found = collect(loadbalancing.collect_target_group_attachments, context(aws, {spec.type: held}), spec)

    assert sorted(found) == sorted(held)
    assert spent_since(aws, before) == {"elastic-load-balancing-v2.DescribeTargetHealth": 1}  # one per group
    assert attribute_changes(spec, with_port, found[held[0]].attributes) == []
    assert attribute_changes(spec, without_port, found[held[1]].attributes) == []
    # deregistered by hand: missing (never reported unmanaged: ECS registers its own targets)
    elbv2.deregister_targets(TargetGroupArn=group, Targets=[{"Id": first, "Port": 8080}])
    again = collect(loadbalancing.collect_target_group_attachments, context(aws, {spec.type: held}), spec)
    assert list(again) == [held[1]]
    assert spec.report_unmanaged is False


def test_target_group_attachment_of_a_deleted_group_is_missing_and_other_errors_raise(aws: Aws) -> None:
    group, first, _ = _target_group(aws)
    spec = loadbalancing.TARGET_GROUP_ATTACHMENT
    held = [f"{group},{first}"]
    aws.client("elbv2", REGION).delete_target_group(TargetGroupArn=group)
    assert collect(loadbalancing.collect_target_group_attachments, context(aws, {spec.type: held}), spec) == {}
    with Stubber(aws.client("elbv2", REGION)) as stub:
        stub.add_client_error("describe_target_health", "AccessDenied", http_status_code=403)
        with pytest.raises(Exception, match="AccessDenied"):
            list(loadbalancing.collect_target_group_attachments(context(aws, {spec.type: held})))


# --- aws_route53_record -------------------------------------------------------------------------


def _zone(aws: Aws) -> str:
    answer = aws.client("route53", REGION).create_hosted_zone(Name="example.com", CallerReference="ref")
    return route53.zone_id(answer["HostedZone"]["Id"])


def _upsert(aws: Aws, zone: str, record: dict[str, Any]) -> None:
    aws.client("route53", REGION).change_resource_record_sets(HostedZoneId=zone, ChangeBatch={
        "Changes": [{"Action": "UPSERT", "ResourceRecordSet": record}]})


def _record_state(zone: str, name: str, kind: str, **more: Any) -> dict[str, Any]:
    """A record as the provider (5.100) writes it to state."""
    state: dict[str, Any] = {
        "id": f"{zone}_{name}_{kind}", "zone_id": zone, "name": name, "fqdn": name, "type": kind, "ttl": None,
        "records": None, "set_identifier": "", "health_check_id": "", "alias": [], "allow_overwrite": None,
        "weighted_routing_policy": [], "failover_routing_policy": [], "latency_routing_policy": [],
        "geolocation_routing_policy": [], "geoproximity_routing_policy": [], "cidr_routing_policy": [],
        "multivalue_answer_routing_policy": None, "timeouts": None}
    state.update(more)
    state["id"] = route53.record_import_id(state)
    return state


def test_route53_records_compare_clean_and_find_a_changed_value(aws: Aws) -> None:
    zone = _zone(aws)
    _upsert(aws, zone, {"Name": "www.example.com.", "Type": "A", "TTL": 300,
                        "ResourceRecords": [{"Value": "10.0.0.2"}, {"Value": "10.0.0.1"}]})
    _upsert(aws, zone, {"Name": "example.com", "Type": "TXT", "TTL": 60,
                        "ResourceRecords": [{"Value": '"v=spf1 -all"'}]})
    _upsert(aws, zone, {"Name": "api.example.com", "Type": "A", "SetIdentifier": "blue", "Weight": 90,
                        "AliasTarget": {"HostedZoneId": "ZP97RAFLXTNZK", "EvaluateTargetHealth": True,
                                        "DNSName": "Internal-LB.ap-south-1.elb.amazonaws.com."}})
    www = _record_state(zone, "www.example.com", "A", ttl=300, records=["10.0.0.1", "10.0.0.2"])
    txt = _record_state(zone, "example.com", "TXT", ttl=60, records=["v=spf1 -all"])
    api = _record_state(zone, "api.example.com", "A", set_identifier="blue",
                        weighted_routing_policy=[{"weight": 90}],
                        alias=[{"name": "internal-lb.ap-south-1.elb.amazonaws.com", "zone_id": "ZP97RAFLXTNZK",
                                "evaluate_target_health": True}])
    assert api["id"] == f"{zone}_api.example.com_A_blue"
    held = [www["id"], txt["id"], api["id"]]

    found = collect(route53.collect_records, context(aws, {route53.RECORD.type: held}), route53.RECORD)

    for state in (www, txt, api):
        assert attribute_changes(route53.RECORD, state, found[state["id"]].attributes) == [], state["id"]
    apex = [r for r in found.values() if r.attributes["type"] in ("NS", "SOA")]
    assert len(apex) == 2 and all(route53.RECORD.aws_owned and route53.RECORD.aws_owned(r) for r in apex)
    assert not (route53.RECORD.aws_owned and route53.RECORD.aws_owned(found[www["id"]]))
    _upsert(aws, zone, {"Name": "www.example.com.", "Type": "A", "TTL": 300,
                        "ResourceRecords": [{"Value": "10.9.9.9"}]})
    changed = collect(route53.collect_records, context(aws, {route53.RECORD.type: held}), route53.RECORD)
    assert change_paths(route53.RECORD, www, changed[www["id"]].attributes) == ["records"]


def test_route53_records_of_held_zones_only_and_a_deleted_zone_is_missing(aws: Aws) -> None:
    zone = _zone(aws)
    other = route53.zone_id(aws.client("route53", REGION).create_hosted_zone(
        Name="other.com", CallerReference="other")["HostedZone"]["Id"])
    _upsert(aws, other, {"Name": "x.other.com", "Type": "A", "TTL": 60, "ResourceRecords": [{"Value": "10.0.0.1"}]})
    found = collect(route53.collect_records, context(aws, {route53.ZONE.type: [zone]}), route53.RECORD)
    assert {r.attributes["zone_id"] for r in found.values()} == {zone}
    gone = "Z0000000000000000000_www.gone.com_A"
    assert collect(route53.collect_records, context(aws, {route53.RECORD.type: [gone]}), route53.RECORD) == {}


def test_list_resource_record_sets_follows_every_page() -> None:
    aws = new_aws()
    zone = "Z1234567890ABC"
    pages = [[{"Name": "a.example.com.", "Type": "A", "TTL": 60, "ResourceRecords": [{"Value": "10.0.0.1"}]}],
             [{"Name": "b.example.com.", "Type": "A", "TTL": 60, "ResourceRecords": [{"Value": "10.0.0.2"}]}]]
    with Stubber(aws.client("route53", REGION)) as stub:
        stub.add_response("list_resource_record_sets", {
            "ResourceRecordSets": pages[0], "IsTruncated": True, "NextRecordName": "b.example.com.",
            "NextRecordType": "A", "MaxItems": "1"}, {"HostedZoneId": zone})
        stub.add_response("list_resource_record_sets", {"ResourceRecordSets": pages[1], "IsTruncated": False,
                                                        "MaxItems": "1"},
                          {"HostedZoneId": zone, "StartRecordName": "b.example.com.", "StartRecordType": "A"})
        found = list(route53.collect_records(context(aws, {route53.RECORD.type: [f"{zone}_a.example.com_A"]})))
        stub.assert_no_pending_responses()
    assert [r.id for r in found] == [f"{zone}_a.example.com_A", f"{zone}_b.example.com_A"]


# --- aws_wafv2_web_acl_association --------------------------------------------------------------


def _web_acl(aws: Aws, name: str) -> str:
    return str(aws.client("wafv2", REGION).create_web_acl(
        Name=name, Scope="REGIONAL", DefaultAction={"Allow": {}}, VisibilityConfig={
            "SampledRequestsEnabled": False, "CloudWatchMetricsEnabled": False, "MetricName": name})["Summary"]["ARN"])


def test_web_acl_association_changed_and_missing(aws: Aws) -> None:
    first, second = _web_acl(aws, "first"), _web_acl(aws, "second")
    lb = f"arn:aws:elasticloadbalancing:{REGION}:{ACCOUNT}:loadbalancer/app/web/50dc6c495c0c9188"
    waf = aws.client("wafv2", REGION)
    waf.associate_web_acl(WebACLArn=first, ResourceArn=lb)
    spec = wafv2.WEB_ACL_ASSOCIATION
    state = {"id": f"{first},{lb}", "web_acl_arn": first, "resource_arn": lb, "timeouts": None}
    held = {spec.type: [spec.import_id(state)]}

    [live] = collect(wafv2.collect_web_acl_associations, context(aws, held), spec).values()
    assert live.id == lb and attribute_changes(spec, state, live.attributes) == []

    waf.disassociate_web_acl(ResourceArn=lb)
    waf.associate_web_acl(WebACLArn=second, ResourceArn=lb)
    [moved] = collect(wafv2.collect_web_acl_associations, context(aws, held), spec).values()
    assert change_paths(spec, state, moved.attributes) == ["web_acl_arn"]

    waf.disassociate_web_acl(ResourceArn=lb)
    assert collect(wafv2.collect_web_acl_associations, context(aws, held), spec) == {}


def test_web_acl_association_of_a_deleted_resource_is_missing_and_other_errors_raise() -> None:
    aws = new_aws()
    lb = f"arn:aws:elasticloadbalancing:{REGION}:{ACCOUNT}:loadbalancer/app/web/50dc6c495c0c9188"
    held = {wafv2.WEB_ACL_ASSOCIATION.type: [lb]}
    with Stubber(aws.client("wafv2", REGION)) as stub:
        stub.add_client_error("get_web_acl_for_resource", "WAFNonexistentItemException", http_status_code=400)
        assert list(wafv2.collect_web_acl_associations(context(aws, held))) == []
        stub.add_client_error("get_web_acl_for_resource", "AccessDeniedException", http_status_code=400)
        with pytest.raises(Exception, match="AccessDeniedException"):
            list(wafv2.collect_web_acl_associations(context(aws, held)))


# --- aws_cloudwatch_event_target ----------------------------------------------------------------


def _target_state(**more: Any) -> dict[str, Any]:
    """A target as the provider (5.100) writes it to state."""
    state: dict[str, Any] = {
        "id": "nightly-run", "rule": "nightly", "event_bus_name": "default", "target_id": "run", "arn": "",
        "role_arn": "", "input": "", "input_path": "", "force_destroy": False, "input_transformer": [],
        "dead_letter_config": [], "retry_policy": [], "sqs_target": [], "kinesis_target": [], "batch_target": [],
        "http_target": [], "run_command_targets": [], "ecs_target": [], "appsync_target": [],
        "redshift_target": [], "sagemaker_pipeline_target": []}
    state.update(more)
    return state


def test_event_targets_compare_clean_and_find_a_changed_input(aws: Aws) -> None:
    client = aws.client("events", REGION)
    client.put_rule(Name="nightly", ScheduleExpression="cron(0 3 * * ? *)")
    cluster = f"arn:aws:ecs:{REGION}:{ACCOUNT}:cluster/app"
    task = f"arn:aws:ecs:{REGION}:{ACCOUNT}:task-definition/report:3"
    role = f"arn:aws:iam::{ACCOUNT}:role/events-run-task"
    run = {"Id": "run", "Arn": cluster, "RoleArn": role, "Input": json.dumps({"containerOverrides": []}),
           "EcsParameters": {"TaskDefinitionArn": task, "TaskCount": 1, "LaunchType": "FARGATE",
                             "NetworkConfiguration": {"awsvpcConfiguration": {
                                 "Subnets": ["subnet-2", "subnet-1"], "SecurityGroups": ["sg-1"],
                                 "AssignPublicIp": "DISABLED"}}},
           "RetryPolicy": {"MaximumRetryAttempts": 2, "MaximumEventAgeInSeconds": 3600}}
    by_hand = {"Id": "by-hand", "Arn": f"arn:aws:sqs:{REGION}:{ACCOUNT}:alarms"}
    client.put_targets(Rule="nightly", Targets=[run, by_hand])
    state = _target_state(
        arn=cluster, role_arn=role, input=json.dumps({"containerOverrides": []}),
        retry_policy=[{"maximum_retry_attempts": 2, "maximum_event_age_in_seconds": 3600}],
        ecs_target=[{"task_definition_arn": task, "task_count": 1, "launch_type": "FARGATE", "platform_version": "",
                     "group": "", "enable_ecs_managed_tags": False, "enable_execute_command": False,
                     "propagate_tags": "", "tags": {}, "capacity_provider_strategy": [],
                     "placement_constraint": [], "ordered_placement_strategy": [],
                     "network_configuration": [{"subnets": ["subnet-1", "subnet-2"], "security_groups": ["sg-1"],
                                                "assign_public_ip": False}]}])
    spec = events.EVENT_TARGET
    assert spec.import_id(state) == "nightly/run"

    found = collect(events.collect_event_targets, context(aws, {spec.type: ["nightly/run"]}), spec)

    assert sorted(found) == ["nightly/by-hand", "nightly/run"]  # the other target on a held rule: unmanaged
    assert found["nightly/run"].attributes["id"] == "nightly-run"
    assert attribute_changes(spec, state, found["nightly/run"].attributes) == []
    client.put_targets(Rule="nightly", Targets=[{**run, "Input": json.dumps({"containerOverrides": [{"name": "x"}]}),
                                                 "EcsParameters": {**run["EcsParameters"], "TaskCount": 2}}])
    changed = collect(events.collect_event_targets, context(aws, {spec.type: ["nightly/run"]}), spec)
    assert change_paths(spec, state, changed["nightly/run"].attributes) == ["ecs_target[0].task_count",
                                                                      "input"]


def test_event_targets_of_held_rules_on_another_bus_and_of_a_deleted_rule(aws: Aws) -> None:
    client = aws.client("events", REGION)
    client.create_event_bus(Name="ops")
    client.put_rule(Name="alerts", EventBusName="ops", EventPattern=json.dumps({"source": ["aws.ecs"]}))
    client.put_targets(Rule="alerts", EventBusName="ops", Targets=[
        {"Id": "queue", "Arn": f"arn:aws:sqs:{REGION}:{ACCOUNT}:alarms"}])
    client.put_rule(Name="unheld", ScheduleExpression="rate(1 hour)")
    client.put_targets(Rule="unheld", Targets=[{"Id": "t", "Arn": f"arn:aws:sqs:{REGION}:{ACCOUNT}:alarms"}])
    state = _target_state(id="ops-alerts-queue", rule="alerts", event_bus_name="ops", target_id="queue",
                          arn=f"arn:aws:sqs:{REGION}:{ACCOUNT}:alarms")
    spec = events.EVENT_TARGET
    held = {spec.type: [spec.import_id(state) or ""], events.EVENT_RULE.type: ["ops/alerts"]}

    found = collect(events.collect_event_targets, context(aws, held), spec)

    assert list(found) == ["ops/alerts/queue"]  # rules no state knows are not searched
    assert attribute_changes(spec, state, found["ops/alerts/queue"].attributes) == []
    client.remove_targets(Rule="alerts", EventBusName="ops", Ids=["queue"])
    client.delete_rule(Name="alerts", EventBusName="ops")
    assert collect(events.collect_event_targets, context(aws, held), spec) == {}


def test_list_targets_by_rule_follows_every_page() -> None:
    aws = new_aws()
    pages = [[{"Id": f"t{n}", "Arn": f"arn:aws:sqs:{REGION}:{ACCOUNT}:q{n}"}] for n in (1, 2)]
    with Stubber(aws.client("events", REGION)) as stub:
        stub.add_response("list_targets_by_rule", {"Targets": pages[0], "NextToken": "page-2"},
                          {"Rule": "nightly", "EventBusName": "default"})
        stub.add_response("list_targets_by_rule", {"Targets": pages[1]},
                          {"Rule": "nightly", "EventBusName": "default", "NextToken": "page-2"})
        found = list(events.collect_event_targets(context(aws, {events.EVENT_TARGET.type: ["nightly/t1"]})))
        stub.assert_no_pending_responses()
    assert [r.id for r in found] == ["nightly/t1", "nightly/t2"]
