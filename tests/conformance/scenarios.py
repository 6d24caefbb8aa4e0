"""Out-of-band changes made with boto3 on the applied stack, one at a time, each with its undo.

A scenario changes one thing the way a person or a script would (console, CLI, SDK) and returns how
to put it back: a boto3 undo when AWS allows an exact one, or a targeted `terraform apply` when it
does not (a revoked security-group rule comes back with a new id, so only Terraform can re-adopt
it). `expected` is what Terraform's refresh-only plan must report once the noise is removed: it
proves the change took effect and that the previous scenario's undo was complete.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .parity import CHANGED, MISSING, UNMANAGED, Finding


def _address(resource: Mapping[str, Any], instance: Mapping[str, Any]) -> str:
    base = f"{resource['type']}.{resource['name']}"
    if "module" in resource:
        base = f"{resource['module']}.{base}"
    key = instance.get("index_key")
    return base if key is None else f"{base}[{json.dumps(key)}]"


def state_attributes(document: Mapping[str, Any]) -> dict[str, Mapping[str, Any]]:
    """address -> attributes of every managed resource instance of a state file."""
    return {_address(r, i): i["attributes"] for r in document.get("resources", ()) if r.get("mode") == "managed"
            for i in r.get("instances", ()) if not i.get("deposed")}


@dataclass(frozen=True)
class TerraformApply:
    """Undo by `terraform apply -auto-approve -target=…` in the scenario's root module."""

    targets: tuple[str, ...]


Undo = Callable[[], None] | TerraformApply


@dataclass(frozen=True)
class Live:
    """boto3 clients on moto and the attributes of both states as Terraform wrote them."""

    client: Callable[[str], Any]
    state: Mapping[str, Mapping[str, Any]]

    def __getitem__(self, address: str) -> Mapping[str, Any]:
        return self.state[address]


@dataclass(frozen=True)
class Scenario:
    name: str
    title: str
    root: str  # "stack" or "bootstrap": whose refresh-only plan sees the change
    change: Callable[[Live], Undo]
    expected: tuple[Finding, ...]


_ALARM_KEYS = ("AlarmName", "AlarmDescription", "ActionsEnabled", "OKActions", "AlarmActions",
               "InsufficientDataActions", "MetricName", "Namespace", "Statistic", "ExtendedStatistic",
               "Dimensions", "Period", "Unit", "EvaluationPeriods", "DatapointsToAlarm", "Threshold",
               "ComparisonOperator", "TreatMissingData", "EvaluateLowSampleCountPercentile", "Metrics",
               "ThresholdMetricId")


def _alarm_definition(live: Live, name: str) -> dict[str, Any]:
    """PutMetricAlarm arguments that recreate an alarm exactly as it is now, tags included."""
    cloudwatch = live.client("cloudwatch")
    [alarm] = cloudwatch.describe_alarms(AlarmNames=[name], AlarmTypes=["MetricAlarm"])["MetricAlarms"]
    definition = {k: alarm[k] for k in _ALARM_KEYS if alarm.get(k) not in (None, "", [])}
    tags = cloudwatch.list_tags_for_resource(ResourceARN=alarm["AlarmArn"])["Tags"]
    return {**definition, "Tags": tags} if tags else definition


def _put_alarm(live: Live, definition: Mapping[str, Any]) -> Callable[[], None]:
    return lambda: live.client("cloudwatch").put_metric_alarm(**definition)


def sg_rule_added(live: Live) -> Undo:
    ec2 = live.client("ec2")
    group = live["aws_security_group.alb"]["id"]
    permission = {"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22,
                  "IpRanges": [{"CidrIp": "0.0.0.0/0", "Description": "ssh for debugging"}]}
    [rule] = ec2.authorize_security_group_ingress(GroupId=group, IpPermissions=[permission])["SecurityGroupRules"]
    return lambda: ec2.revoke_security_group_ingress(GroupId=group, SecurityGroupRuleIds=[rule["SecurityGroupRuleId"]])


def sg_rule_removed(live: Live) -> Undo:
    address = "aws_vpc_security_group_ingress_rule.alb_http"
    rule = live[address]
    live.client("ec2").revoke_security_group_ingress(GroupId=rule["security_group_id"],
                                                     SecurityGroupRuleIds=[rule["id"]])
    return TerraformApply((address,))


def _service(live: Live) -> tuple[Any, str, str]:
    service = live["aws_ecs_service.web_app"]
    return live.client("ecs"), service["cluster"], service["name"]


def ecs_desired_count(live: Live) -> Undo:
    ecs, cluster, name = _service(live)
    ecs.update_service(cluster=cluster, service=name, desiredCount=5)
    before = live["aws_ecs_service.web_app"]["desired_count"]
    return lambda: ecs.update_service(cluster=cluster, service=name, desiredCount=before)


def task_definition_deployed(live: Live) -> Undo:
    ecs, cluster, name = _service(live)
    current = live["aws_ecs_task_definition.web_app"]
    described = ecs.describe_task_definition(taskDefinition=current["arn"])["taskDefinition"]
    containers = [{**c, "image": c["image"].split("@")[0] + ":latest"} for c in described["containerDefinitions"]]
    registered = ecs.register_task_definition(
        family=described["family"], containerDefinitions=containers, networkMode=described["networkMode"],
        requiresCompatibilities=described["requiresCompatibilities"], cpu=described["cpu"],
        memory=described["memory"], executionRoleArn=described["executionRoleArn"],
        taskRoleArn=described["taskRoleArn"], volumes=described["volumes"],
        runtimePlatform=described["runtimePlatform"])["taskDefinition"]["taskDefinitionArn"]
    ecs.update_service(cluster=cluster, service=name, taskDefinition=registered)

    def undo() -> None:
        before = live["aws_ecs_service.web_app"]["task_definition"]
        ecs.update_service(cluster=cluster, service=name, taskDefinition=before)
        ecs.deregister_task_definition(taskDefinition=registered)
    return undo


def alarm_deleted(live: Live) -> Undo:
    name = live["aws_cloudwatch_metric_alarm.unhealthy_hosts"]["alarm_name"]
    definition = _alarm_definition(live, name)
    live.client("cloudwatch").delete_alarms(AlarmNames=[name])
    return _put_alarm(live, definition)


def alarm_threshold(live: Live) -> Undo:
    definition = _alarm_definition(live, live["aws_cloudwatch_metric_alarm.elb_5xx"]["alarm_name"])
    _put_alarm(live, {**definition, "Threshold": 1000.0})()
    return _put_alarm(live, definition)


def log_retention(live: Live) -> Undo:
    logs = live.client("logs")
    group = live["aws_cloudwatch_log_group.app"]
    logs.put_retention_policy(logGroupName=group["name"], retentionInDays=7)
    return lambda: logs.put_retention_policy(logGroupName=group["name"], retentionInDays=group["retention_in_days"])


def ecr_tag_mutability(live: Live) -> Undo:
    ecr = live.client("ecr")
    repository = live["aws_ecr_repository.app"]
    ecr.put_image_tag_mutability(repositoryName=repository["name"], imageTagMutability="MUTABLE")
    return lambda: ecr.put_image_tag_mutability(repositoryName=repository["name"],
                                                imageTagMutability=repository["image_tag_mutability"])


def listener_tls_policy(live: Live) -> Undo:
    elbv2 = live.client("elbv2")
    listener = live["aws_lb_listener.https"]
    elbv2.modify_listener(ListenerArn=listener["arn"], SslPolicy="ELBSecurityPolicy-2016-08")
    return lambda: elbv2.modify_listener(ListenerArn=listener["arn"], SslPolicy=listener["ssl_policy"])


def _forward(blue: str, green: str, weights: tuple[int, int]) -> list[dict[str, Any]]:
    return [{"Type": "forward", "Order": 1, "ForwardConfig": {
        "TargetGroups": [{"TargetGroupArn": blue, "Weight": weights[0]},
                         {"TargetGroupArn": green, "Weight": weights[1]}],
        "TargetGroupStickinessConfig": {"Enabled": False, "DurationSeconds": 1}}}]


def listener_default_action(live: Live) -> Undo:
    elbv2 = live.client("elbv2")
    listener = live["aws_lb_listener.https"]["arn"]
    blue, green = live["aws_lb_target_group.blue"]["arn"], live["aws_lb_target_group.green"]["arn"]
    described = elbv2.describe_listeners(ListenerArns=[listener])["Listeners"][0]["DefaultActions"]
    elbv2.modify_listener(ListenerArn=listener, DefaultActions=_forward(blue, green, (50, 50)))
    return lambda: elbv2.modify_listener(ListenerArn=listener, DefaultActions=described)


def lb_attribute(live: Live) -> Undo:
    elbv2 = live.client("elbv2")
    arn = live["aws_lb.main"]["arn"]
    key = "routing.http.drop_invalid_header_fields.enabled"

    def drop_invalid_headers(value: str) -> None:
        elbv2.modify_load_balancer_attributes(LoadBalancerArn=arn, Attributes=[{"Key": key, "Value": value}])
    drop_invalid_headers("false")
    return lambda: drop_invalid_headers("true")


def health_check_path(live: Live) -> Undo:
    elbv2 = live.client("elbv2")
    group = live["aws_lb_target_group.blue"]
    elbv2.modify_target_group(TargetGroupArn=group["arn"], HealthCheckPath="/")
    return lambda: elbv2.modify_target_group(TargetGroupArn=group["arn"],
                                             HealthCheckPath=group["health_check"][0]["path"])


def tag_changed(live: Live) -> Undo:
    elbv2 = live.client("elbv2")
    lb = live["aws_lb.main"]
    elbv2.add_tags(ResourceArns=[lb["arn"]], Tags=[{"Key": "Environment", "Value": "staging"}])
    before = lb["tags_all"]["Environment"]
    return lambda: elbv2.add_tags(ResourceArns=[lb["arn"]], Tags=[{"Key": "Environment", "Value": before}])


def bucket_versioning_suspended(live: Live) -> Undo:
    s3 = live.client("s3")
    bucket = live["aws_s3_bucket_versioning.tfstate"]["bucket"]
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Suspended"})
    return lambda: s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})


def lock_table_pitr_off(live: Live) -> Undo:
    dynamodb = live.client("dynamodb")
    table = live["aws_dynamodb_table.locks"]["name"]

    def pitr(enabled: bool) -> None:
        dynamodb.update_continuous_backups(
            TableName=table, PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": enabled})
    pitr(False)
    return lambda: pitr(True)


def _changed(address: str, path: str) -> Finding:
    return Finding(address, CHANGED, path)


SCENARIOS = (
    Scenario("sg-rule-added", "SSH from 0.0.0.0/0 added to the ALB security group", "stack", sg_rule_added,
             (Finding("aws_security_group.alb", UNMANAGED, "ingress tcp 22-22 from 0.0.0.0/0"),)),
    Scenario("sg-rule-removed", "the ALB's HTTP ingress rule revoked", "stack", sg_rule_removed,
             (Finding("aws_vpc_security_group_ingress_rule.alb_http", MISSING),)),
    Scenario("ecs-desired-count", "ECS service scaled by hand from 2 to 5 tasks", "stack", ecs_desired_count,
             (_changed("aws_ecs_service.web_app", "desired_count"),)),
    Scenario("task-definition-deployed", "a `:latest` task-definition revision registered and deployed by hand",
             "stack", task_definition_deployed, (_changed("aws_ecs_service.web_app", "task_definition"),)),
    Scenario("alarm-deleted", "the blue unhealthy-hosts alarm deleted", "stack", alarm_deleted,
             (Finding("aws_cloudwatch_metric_alarm.unhealthy_hosts", MISSING),)),
    Scenario("alarm-threshold", "the ELB 5xx alarm's threshold raised from 10 to 1000", "stack", alarm_threshold,
             (_changed("aws_cloudwatch_metric_alarm.elb_5xx", "threshold"),)),
    Scenario("log-retention", "log retention cut from 30 to 7 days", "stack", log_retention,
             (_changed("aws_cloudwatch_log_group.app", "retention_in_days"),)),
    Scenario("ecr-tag-mutability", "ECR tags switched to MUTABLE", "stack", ecr_tag_mutability,
             (_changed("aws_ecr_repository.app", "image_tag_mutability"),)),
    Scenario("listener-tls-policy", "HTTPS listener downgraded to ELBSecurityPolicy-2016-08", "stack",
             listener_tls_policy, (_changed("aws_lb_listener.https", "ssl_policy"),)),
    Scenario("listener-default-action", "forward weights moved to 50/50 (the listener has "
             "`ignore_changes = [default_action]`)", "stack", listener_default_action,
             (_changed("aws_lb_listener.https", "default_action"),)),
    Scenario("lb-attribute", "`drop_invalid_header_fields` switched off on the ALB", "stack", lb_attribute,
             (_changed("aws_lb.main", "drop_invalid_header_fields"),)),
    Scenario("health-check-path", "blue target group health-check path changed to `/`", "stack",
             health_check_path, (_changed("aws_lb_target_group.blue", "health_check[0].path"),)),
    Scenario("tag-changed", "the ALB's `Environment` tag changed from prod to staging", "stack", tag_changed,
             (_changed("aws_lb.main", "tags.Environment"),)),
    Scenario("bucket-versioning-suspended", "state bucket versioning suspended", "bootstrap",
             bucket_versioning_suspended,
             (_changed("aws_s3_bucket_versioning.tfstate", "versioning_configuration[0].status"),)),
    Scenario("lock-table-pitr-off", "point-in-time recovery of the lock table switched off", "bootstrap",
             lock_table_pitr_off, (_changed("aws_dynamodb_table.locks", "point_in_time_recovery[0]"),)),
)


def scenario_names() -> Iterator[str]:
    return (s.name for s in SCENARIOS)


def read_states(s3: Any, bucket: str, key: str, local: Path) -> dict[str, Mapping[str, Any]]:
    """The attributes of the stack state (from S3) and the bootstrap state (local file)."""
    stack = json.loads(s3.get_object(Bucket=bucket, Key=key)["Body"].read())
    bootstrap = json.loads(local.read_text(encoding="utf-8"))
    return {**state_attributes(bootstrap), **state_attributes(stack)}
