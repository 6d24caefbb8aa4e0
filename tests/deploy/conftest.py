"""Deployer fixtures: the blue/green setup on the session's moto server, and a journal folder.

The setup is built once per module (moto's EC2 backend takes seconds to start after a reset) and put
back to its starting state before each test: listener 100/0, blue at 2, green at 0, alarms OK, no lease.
"""

from __future__ import annotations

import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from auditor.aws import Aws, AwsSettings
from auditor.history import History, open_history
from tests.deploy.bgstack import (
    ALARM_5XX,
    ALARM_HOSTS,
    BLUE,
    CLUSTER,
    GREEN,
    LEASES,
    TS_SERVICE,
    Stack,
    add_task_set,
    build,
    task_sets,
)

REGION = "us-east-1"


@pytest.fixture(scope="module")
def _built(moto_server: str) -> Iterator[tuple[str, Stack]]:
    reset = urllib.request.Request(f"{moto_server}/moto-api/reset", method="POST")
    with urllib.request.urlopen(reset, timeout=120):  # slow on a busy machine
        pass
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("AWS_ENDPOINT_URL", moto_server)
        yield moto_server, build(Aws(AwsSettings(region=REGION, max_attempts=1)))


@pytest.fixture
def aws(_built: tuple[str, Stack], monkeypatch: pytest.MonkeyPatch) -> Aws:
    monkeypatch.setenv("AWS_ENDPOINT_URL", _built[0])
    return Aws(AwsSettings(region=REGION, max_attempts=1))


@pytest.fixture
def stack(aws: Aws, _built: tuple[str, Stack]) -> Stack:
    stack = _built[1]
    aws.client("elbv2").modify_listener(ListenerArn=stack.listener, DefaultActions=[
        {"Type": "forward", "ForwardConfig": {"TargetGroups": [
            {"TargetGroupArn": stack.blue_tg, "Weight": 100}, {"TargetGroupArn": stack.green_tg, "Weight": 0}]}}])
    for service, count in ((BLUE, 2), (GREEN, 0)):
        aws.client("ecs").update_service(cluster=CLUSTER, service=service, desiredCount=count,
                                         taskDefinition=stack.task_definition)
    for alarm in (ALARM_5XX, ALARM_HOSTS):
        aws.client("cloudwatch").set_alarm_state(AlarmName=alarm, StateValue="OK", StateReason="test start")
    ddb = aws.client("dynamodb")
    for item in ddb.scan(TableName=LEASES).get("Items", []):
        ddb.delete_item(TableName=LEASES, Key={"LeaseID": item["LeaseID"]})
    return stack


@pytest.fixture
def history(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[History]:
    """The default history store (SQLite under $XDG_DATA_HOME), as `audit deploy` opens it."""
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    with open_history(None) as history:
        yield history


@pytest.fixture
def external(aws: Aws, stack: Stack) -> Iterator[str]:
    """The EXTERNAL-controller service (desired 2) with one PRIMARY task set behind blue; its ARN."""
    ecs = aws.client("ecs")
    if not [s for s in ecs.describe_services(cluster=CLUSTER, services=[TS_SERVICE])["services"]
            if s.get("status") == "ACTIVE"]:
        ecs.create_service(cluster=CLUSTER, serviceName=TS_SERVICE, desiredCount=2,
                           deploymentController={"type": "EXTERNAL"})
    for found in task_sets(aws):
        ecs.delete_task_set(cluster=CLUSTER, service=TS_SERVICE, taskSet=found["taskSetArn"])
    arn = add_task_set(aws, stack)
    ecs.update_service_primary_task_set(cluster=CLUSTER, service=TS_SERVICE, primaryTaskSet=arn)
    yield arn
    for found in task_sets(aws):  # gone again: the module's other tests see the two-service pair alone
        ecs.delete_task_set(cluster=CLUSTER, service=TS_SERVICE, taskSet=found["taskSetArn"])
    ecs.delete_service(cluster=CLUSTER, service=TS_SERVICE, force=True)
