"""Realistic out-of-band changes made with boto3, each with the findings an audit must report."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass

from auditor.demo.seedkit import SeedContext


@dataclass(frozen=True, slots=True)
class Expected:
    """One finding: kind, type, state address (None for unmanaged), attribute path (None: no changes).

    A path ending in `*` matches any path it starts (set elements have no stable index).
    """

    kind: str
    type: str
    address: str | None = None
    path: str | None = None

    def matches_path(self, path: str) -> bool:
        if self.path and self.path.endswith("*"):
            return path.startswith(self.path[:-1])
        return path == self.path


@dataclass(frozen=True, slots=True)
class Scenario:
    name: str
    description: str
    apply: Callable[[SeedContext, SeedContext], None]  # (stack, bootstrap)
    expected: tuple[Expected, ...]


def _ssh_opened(stack: SeedContext, _: SeedContext) -> None:
    stack.client("ec2").authorize_security_group_ingress(
        GroupId=stack.ref("aws_security_group.service")["id"],
        IpPermissions=[{"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22,
                        "IpRanges": [{"CidrIp": "0.0.0.0/0", "Description": "debug ssh"}]}])


def _service_scaled(stack: SeedContext, _: SeedContext) -> None:
    service = stack.ref("aws_ecs_service.web_app")
    stack.client("ecs").update_service(cluster=service["cluster"], service=service["name"], desiredCount=4)


def _alarm_deleted(stack: SeedContext, _: SeedContext) -> None:
    name = stack.ref("aws_cloudwatch_metric_alarm.unhealthy_hosts")["alarm_name"]
    stack.client("cloudwatch").delete_alarms(AlarmNames=[name])


def _debug_sg(stack: SeedContext, _: SeedContext) -> None:
    stack.client("ec2").create_security_group(
        GroupName="debug-temp", Description="temporary debugging", VpcId=stack.ref("aws_vpc.main")["id"])


def _log_retention(stack: SeedContext, _: SeedContext) -> None:
    stack.client("logs").put_retention_policy(logGroupName=stack.ref("aws_cloudwatch_log_group.app")["name"],
                                              retentionInDays=7)


def _ecr_mutable(stack: SeedContext, _: SeedContext) -> None:
    stack.client("ecr").put_image_tag_mutability(repositoryName=stack.ref("aws_ecr_repository.app")["name"],
                                                 imageTagMutability="MUTABLE")


def _tls_policy(stack: SeedContext, _: SeedContext) -> None:
    stack.client("elbv2").modify_listener(ListenerArn=stack.ref("aws_lb_listener.https")["arn"],
                                          SslPolicy="ELBSecurityPolicy-2016-08")


def _listener_action(stack: SeedContext, _: SeedContext) -> None:
    blue, green = stack.ref("aws_lb_target_group.blue")["arn"], stack.ref("aws_lb_target_group.green")["arn"]
    stack.client("elbv2").modify_listener(
        ListenerArn=stack.ref("aws_lb_listener.https")["arn"],
        DefaultActions=[{"Type": "forward", "ForwardConfig": {"TargetGroups": [
            {"TargetGroupArn": blue, "Weight": 50}, {"TargetGroupArn": green, "Weight": 50}]}}])


def _lb_tag(stack: SeedContext, _: SeedContext) -> None:
    stack.client("elbv2").add_tags(ResourceArns=[stack.ref("aws_lb.main")["arn"]],
                                   Tags=[{"Key": "Environment", "Value": "staging"}])


def _lb_attribute(stack: SeedContext, _: SeedContext) -> None:
    stack.client("elbv2").modify_load_balancer_attributes(
        LoadBalancerArn=stack.ref("aws_lb.main")["arn"],
        Attributes=[{"Key": "routing.http.drop_invalid_header_fields.enabled", "Value": "false"}])


def _health_check(stack: SeedContext, _: SeedContext) -> None:
    stack.client("elbv2").modify_target_group(TargetGroupArn=stack.ref("aws_lb_target_group.blue")["arn"],
                                              HealthCheckPath="/")


def _task_revision(stack: SeedContext, _: SeedContext) -> None:
    ecs = stack.client("ecs")
    taskdef = stack.ref("aws_ecs_task_definition.web_app")
    containers = json.loads(taskdef["container_definitions"])
    for container in containers:
        container["image"] = container["image"].split("@")[0] + ":latest"
    answer = ecs.register_task_definition(
        family=taskdef["family"], containerDefinitions=containers, networkMode=taskdef["network_mode"],
        requiresCompatibilities=list(taskdef["requires_compatibilities"]), cpu=taskdef["cpu"],
        memory=taskdef["memory"], executionRoleArn=taskdef["execution_role_arn"],
        taskRoleArn=taskdef["task_role_arn"])
    service = stack.ref("aws_ecs_service.web_app")
    ecs.update_service(cluster=service["cluster"], service=service["name"],
                       taskDefinition=answer["taskDefinition"]["taskDefinitionArn"])


def _versioning_suspended(_: SeedContext, boot: SeedContext) -> None:
    boot.client("s3").put_bucket_versioning(Bucket=boot.ref("aws_s3_bucket.tfstate")["bucket"],
                                            VersioningConfiguration={"Status": "Suspended"})


def _pitr_off(_: SeedContext, boot: SeedContext) -> None:
    boot.client("dynamodb").update_continuous_backups(
        TableName=boot.ref("aws_dynamodb_table.locks")["name"],
        PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": False})


SCENARIOS: tuple[Scenario, ...] = (
    Scenario("ssh-opened", "SSH opened to the world on the service security group, in the console",
             _ssh_opened, (Expected("unmanaged", "aws_vpc_security_group_ingress_rule"),)),
    Scenario("service-scaled", "ECS service scaled by hand from 2 to 4 tasks", _service_scaled,
             (Expected("changed", "aws_ecs_service", "aws_ecs_service.web_app", "desired_count"),)),
    Scenario("alarm-deleted", "the unhealthy-hosts alarm deleted", _alarm_deleted,
             (Expected("missing", "aws_cloudwatch_metric_alarm", "aws_cloudwatch_metric_alarm.unhealthy_hosts"),)),
    Scenario("debug-sg", "a debugging security group created by hand", _debug_sg,
             (Expected("unmanaged", "aws_security_group"),)),
    Scenario("log-retention", "log retention cut from 30 to 7 days", _log_retention,
             (Expected("changed", "aws_cloudwatch_log_group", "aws_cloudwatch_log_group.app", "retention_in_days"),)),
    Scenario("ecr-mutable", "ECR tags made mutable", _ecr_mutable,
             (Expected("changed", "aws_ecr_repository", "aws_ecr_repository.app", "image_tag_mutability"),)),
    Scenario("tls-policy", "HTTPS listener moved to an old TLS policy", _tls_policy,
             (Expected("changed", "aws_lb_listener", "aws_lb_listener.https", "ssl_policy"),)),
    Scenario("listener-action", "traffic split 50/50 between blue and green by hand", _listener_action,
             (Expected("changed", "aws_lb_listener", "aws_lb_listener.https", "default_action[0].forward*"),)),
    Scenario("lb-tag", "the load balancer's Environment tag changed", _lb_tag,
             (Expected("changed", "aws_lb", "aws_lb.main", "tags.Environment"),)),
    Scenario("lb-attribute", "invalid-header dropping switched off", _lb_attribute,
             (Expected("changed", "aws_lb", "aws_lb.main", "drop_invalid_header_fields"),)),
    Scenario("health-check", "blue target group health check path changed", _health_check,
             (Expected("changed", "aws_lb_target_group", "aws_lb_target_group.blue", "health_check[0].path"),)),
    Scenario("task-revision", "a new task-definition revision deployed outside Terraform", _task_revision,
             (Expected("changed", "aws_ecs_service", "aws_ecs_service.web_app", "task_definition"),)),
    Scenario("versioning-suspended", "state bucket versioning suspended", _versioning_suspended,
             (Expected("changed", "aws_s3_bucket_versioning", "aws_s3_bucket_versioning.tfstate",
                       "versioning_configuration[0].status"),)),
    Scenario("pitr-off", "lock table point-in-time recovery switched off", _pitr_off,
             (Expected("changed", "aws_dynamodb_table", "aws_dynamodb_table.locks", "point_in_time_recovery[0].*"),)),
)

DEMO_SCENARIOS = ("ssh-opened", "service-scaled", "alarm-deleted", "debug-sg")


def scenario(name: str) -> Scenario:
    return next(s for s in SCENARIOS if s.name == name)
