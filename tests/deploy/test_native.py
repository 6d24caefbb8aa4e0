"""ECS native blue/green, with recorded ECS answers (botocore Stubber): moto has no service-deployment APIs.

DynamoDB (the lease) and CloudWatch (alarms) are moto in-process; ECS and ELBv2 are stubbed.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from botocore.stub import Stubber
from moto import mock_aws

from auditor.aws import Aws, AwsSettings
from auditor.deploy import DeployRequest, deploy
from auditor.history import History, open_history
from tests.deploy.bgstack import LEASES, FakeClock, FakeMetrics

ACCOUNT = "123456789012"
CLUSTER_ARN = f"arn:aws:ecs:us-east-1:{ACCOUNT}:cluster/shop"
SERVICE_ARN = f"arn:aws:ecs:us-east-1:{ACCOUNT}:service/shop/web"
TD1 = f"arn:aws:ecs:us-east-1:{ACCOUNT}:task-definition/web:1"
TD2 = f"arn:aws:ecs:us-east-1:{ACCOUNT}:task-definition/web:2"
TG_A = f"arn:aws:elasticloadbalancing:us-east-1:{ACCOUNT}:targetgroup/web-a/0123456789abcdef"
TG_B = f"arn:aws:elasticloadbalancing:us-east-1:{ACCOUNT}:targetgroup/web-b/fedcba9876543210"
LB = f"arn:aws:elasticloadbalancing:us-east-1:{ACCOUNT}:loadbalancer/app/web/0011223344556677"
RULE = f"arn:aws:elasticloadbalancing:us-east-1:{ACCOUNT}:listener-rule/app/web/0011223344556677/aa/bb"
DEPLOYMENT = f"arn:aws:ecs:us-east-1:{ACCOUNT}:service-deployment/shop/web/abc123"
IMAGE = f"{ACCOUNT}.dkr.ecr.us-east-1.amazonaws.com/web@sha256:{'b' * 64}"
ALARM = "web-5xx"
NOW = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)


@pytest.fixture
def native(tmp_path: Any) -> Iterator[tuple[Aws, Stubber, FakeClock, History]]:
    with mock_aws():
        aws = Aws(AwsSettings(region="us-east-1", max_attempts=1))
        aws.client("dynamodb").create_table(TableName=LEASES, BillingMode="PAY_PER_REQUEST",
                                            KeySchema=[{"AttributeName": "LeaseID", "KeyType": "HASH"}],
                                            AttributeDefinitions=[{"AttributeName": "LeaseID", "AttributeType": "S"}])
        aws.client("cloudwatch").put_metric_alarm(
            AlarmName=ALARM, Namespace="AWS/ApplicationELB", MetricName="HTTPCode_Target_5XX_Count", Statistic="Sum",
            Period=60, EvaluationPeriods=1, Threshold=1, ComparisonOperator="GreaterThanThreshold")
        ecs, elb = Stubber(aws.client("ecs")), Stubber(aws.client("elbv2"))
        _discovery(ecs, elb)
        with ecs, elb, open_history(f"sqlite:///{tmp_path / 'h.db'}") as history:
            yield aws, ecs, FakeClock(), history
            ecs.assert_no_pending_responses()


def _discovery(ecs: Stubber, elb: Stubber) -> None:
    ecs.add_response("describe_services", {"services": [{
        "serviceArn": SERVICE_ARN, "serviceName": "web", "clusterArn": CLUSTER_ARN, "status": "ACTIVE",
        "desiredCount": 2, "runningCount": 2, "taskDefinition": TD1, "deploymentController": {"type": "ECS"},
        "deploymentConfiguration": {"strategy": "CANARY", "bakeTimeInMinutes": 5,
                                    "canaryConfiguration": {"canaryPercent": 10.0, "canaryBakeTimeInMinutes": 5}},
        "loadBalancers": [{"targetGroupArn": TG_A, "containerName": "web", "containerPort": 3000,
                           "advancedConfiguration": {"alternateTargetGroupArn": TG_B, "productionListenerRule": RULE,
                                                     "roleArn": f"arn:aws:iam::{ACCOUNT}:role/ecs-bg"}}]}]},
        {"cluster": "shop", "services": ["web"]})
    elb.add_response("describe_target_groups", {"TargetGroups": [{"TargetGroupArn": TG_A, "LoadBalancerArns": [LB]}]},
                     {"TargetGroupArns": [TG_A]})
    ecs.add_response("describe_task_definition", {"taskDefinition": {
        "taskDefinitionArn": TD1, "family": "web", "revision": 1, "networkMode": "awsvpc", "cpu": "256",
        "memory": "512", "requiresCompatibilities": ["FARGATE"],
        "containerDefinitions": [{"name": "web", "image": IMAGE.replace("b" * 64, "a" * 64), "essential": True}]},
        "tags": []}, {"taskDefinition": TD1, "include": ["TAGS"]})
    ecs.add_response("list_service_deployments", {"serviceDeployments": []},
                     {"cluster": "shop", "service": "web", "status": ["PENDING", "IN_PROGRESS"]})


def _started(ecs: Stubber) -> None:
    ecs.add_response("register_task_definition", {"taskDefinition": {"taskDefinitionArn": TD2, "family": "web"}},
                     {"family": "web", "networkMode": "awsvpc", "cpu": "256", "memory": "512",
                      "requiresCompatibilities": ["FARGATE"],
                      "containerDefinitions": [{"name": "web", "image": IMAGE, "essential": True}]})
    ecs.add_response("update_service", {"service": {"serviceArn": SERVICE_ARN}},
                     {"cluster": "shop", "service": "web", "taskDefinition": TD2})
    ecs.add_response("list_service_deployments", {"serviceDeployments": [{
        "serviceDeploymentArn": DEPLOYMENT, "serviceArn": SERVICE_ARN, "clusterArn": CLUSTER_ARN,
        "status": "PENDING"}]}, {"cluster": "shop", "service": "web", "status": ["PENDING", "IN_PROGRESS"]})


def _described(ecs: Stubber, status: str, stage: str, **extra: Any) -> None:
    ecs.add_response("describe_service_deployments", {"serviceDeployments": [{
        "serviceDeploymentArn": DEPLOYMENT, "status": status, "lifecycleStage": stage, "createdAt": NOW, **extra}]},
        {"serviceDeploymentArns": [DEPLOYMENT]})


def _request(**extra: Any) -> DeployRequest:
    options: dict[str, Any] = {"cluster": "shop", "service": "web", "image": IMAGE, "alarms": (ALARM,),
                               "poll_seconds": 30, "timeout_seconds": 1800}
    return DeployRequest(**{**options, **extra})


def _seams(clock: FakeClock) -> dict[str, Any]:
    return {"clock": clock, "health": None, "metrics": FakeMetrics(clock), "signals": False}


def test_native_deploy_follows_ecs_to_success(native: tuple[Aws, Stubber, FakeClock, History]) -> None:
    aws, ecs, clock, history = native
    _started(ecs)
    for status, stage in (("IN_PROGRESS", "SCALE_UP"), ("IN_PROGRESS", "PRODUCTION_TRAFFIC_SHIFT"),
                          ("IN_PROGRESS", "BAKE_TIME"), ("SUCCESSFUL", "CLEAN_UP")):
        _described(ecs, status, stage)
    outcome = deploy(_request(), aws=aws, history=history, **_seams(clock))
    assert outcome.result == "succeeded" and outcome.way == "ecs-native"
    assert outcome.task_definition == TD2 and outcome.rollback_reason is None
    stages = [e["lifecycle_stage"] for e in history.read_journal(outcome.deploy_id) if e["event"] == "stage"]
    assert stages == ["SCALE_UP", "PRODUCTION_TRAFFIC_SHIFT", "BAKE_TIME", "CLEAN_UP"]
    assert outcome.duration_seconds == 90.0


def test_native_alarm_stops_the_deployment_with_rollback(native: tuple[Aws, Stubber, FakeClock, History]) -> None:
    aws, ecs, clock, history = native
    _started(ecs)
    _described(ecs, "IN_PROGRESS", "SCALE_UP")
    _described(ecs, "IN_PROGRESS", "PRODUCTION_TRAFFIC_SHIFT")
    ecs.add_response("stop_service_deployment", {"serviceDeploymentArn": DEPLOYMENT},
                     {"serviceDeploymentArn": DEPLOYMENT, "stopType": "ROLLBACK"})
    _described(ecs, "ROLLBACK_IN_PROGRESS", "PRODUCTION_TRAFFIC_SHIFT")
    _described(ecs, "ROLLBACK_SUCCESSFUL", "CLEAN_UP")
    clock.at(30, lambda: aws.client("cloudwatch").set_alarm_state(AlarmName=ALARM, StateValue="ALARM",
                                                                  StateReason="5xx"))
    outcome = deploy(_request(), aws=aws, history=history, **_seams(clock))
    assert outcome.result == "rolled_back"
    assert outcome.rollback_reason == f"gate alarms failed: in ALARM: {ALARM}"
    entries = history.read_journal(outcome.deploy_id)
    assert [e["event"] for e in entries][-3:] == ["stage", "stage", "outcome"]
    assert any(e["event"] == "rollback" and e["deployment"] == DEPLOYMENT for e in entries)


def test_native_rollback_by_ecs_itself_is_reported(native: tuple[Aws, Stubber, FakeClock, History]) -> None:
    aws, ecs, clock, history = native
    _started(ecs)
    _described(ecs, "ROLLBACK_SUCCESSFUL", "CLEAN_UP",
               rollback={"reason": "circuit breaker: tasks failed to start", "startedAt": NOW})
    outcome = deploy(_request(), aws=aws, history=history, **_seams(clock))
    assert (outcome.result, outcome.rollback_reason) == ("rolled_back", "circuit breaker: tasks failed to start")


def test_native_timeout_stops_the_deployment(native: tuple[Aws, Stubber, FakeClock, History]) -> None:
    aws, ecs, clock, history = native
    _started(ecs)
    for _ in range(3):
        _described(ecs, "IN_PROGRESS", "BAKE_TIME")
    ecs.add_response("stop_service_deployment", {"serviceDeploymentArn": DEPLOYMENT},
                     {"serviceDeploymentArn": DEPLOYMENT, "stopType": "ROLLBACK"})
    _described(ecs, "ROLLBACK_SUCCESSFUL", "CLEAN_UP")
    outcome = deploy(_request(timeout_seconds=60), aws=aws, history=history, **_seams(clock))
    assert outcome.result == "rolled_back"
    assert outcome.rollback_reason == (f"timed out after 1m waiting for ECS deployment {DEPLOYMENT} to succeed; "
                                       "last seen IN_PROGRESS at BAKE_TIME")


def test_native_dry_run_changes_nothing(native: tuple[Aws, Stubber, FakeClock, History]) -> None:
    aws, ecs, clock, history = native
    ecs._queue.pop()  # a dry run never lists deployments
    outcome = deploy(_request(dry_run=True), aws=aws, history=history, **_seams(clock))
    assert outcome.result == "dry_run" and "ECS CANARY deployment of web" in outcome.plan[-1]
    assert history.list_journals("deploy") == []

