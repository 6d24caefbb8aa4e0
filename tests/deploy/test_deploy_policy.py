"""The deployer's IAM policy (terraform/auditor/policies/audit-deploy.json) covers every call a deploy
makes, and the nightly audit's read-only policy grants none of the deployer's writes."""

from __future__ import annotations

import json
from typing import Any

from auditor.aws import Aws, AwsSettings
from auditor.deploy import DeployRequest, deploy
from auditor.history import History
from tests.conftest import REPO
from tests.deploy.bgstack import ALARM_5XX, BLUE, CLUSTER, TS_SERVICE, Stack, fake_seams, push_image, task_set_seams
from tests.e2e.test_iam_policy import iam_action

POLICIES = REPO / "terraform" / "auditor" / "policies"


def _granted(name: str) -> set[str]:
    granted: set[str] = set()
    for statement in json.loads((POLICIES / name).read_text())["Statement"]:
        assert statement["Effect"] == "Allow"
        granted.update([statement["Action"]] if isinstance(statement["Action"], str) else statement["Action"])
    return granted


def _rolled_back_then_succeeded(aws: Aws, history: History, request: DeployRequest, seams: dict[str, Any],
                                fresh_seams: dict[str, Any]) -> set[str]:
    """Run `request` twice (the clock's alarm hook rolls the first back; the second, with the alarm OK again,
    succeeds) and return the IAM actions the deployer called, after checking the deploy policy grants them."""
    before = aws.counter.snapshot()
    assert deploy(request, aws=aws, history=history, **seams).result == "rolled_back"
    seams["clock"].hooks.clear()
    aws.client("cloudwatch").set_alarm_state(AlarmName=ALARM_5XX, StateValue="OK", StateReason="test")
    assert deploy(request, aws=aws, history=history, **fresh_seams).result == "succeeded"
    made = {iam_action(op) for op, n in aws.counter.snapshot().items() if n > before.get(op, 0)}
    made -= {"cloudwatch:SetAlarmState"}  # the test's own calls (alarm states) are not the deployer's
    granted = _granted("audit-deploy.json")
    assert made - granted == set(), f"calls the deploy policy does not allow: {sorted(made - granted)}"
    return made


def test_deploy_policy_covers_a_deploy_and_its_rollback(aws: Aws, stack: Stack, history: History) -> None:
    push_image(aws, "v2")
    seams = fake_seams(aws, stack)
    seams["clock"].at(100, lambda: aws.client("cloudwatch").set_alarm_state(
        AlarmName=ALARM_5XX, StateValue="ALARM", StateReason="test"))
    request = DeployRequest(cluster=CLUSTER, service=BLUE, image=stack.image("v2"), alarms=(ALARM_5XX,),
                            steps=(10, 100), bake_seconds=300, timeout_seconds=1200)
    made = _rolled_back_then_succeeded(aws, history, request, seams, fake_seams(aws, stack))
    assert {"ecs:RegisterTaskDefinition", "ecs:UpdateService", "elasticloadbalancing:ModifyListener",
            "dynamodb:PutItem", "dynamodb:DeleteItem"} <= made


def test_deploy_policy_covers_a_task_set_deploy_and_its_rollback(aws: Aws, stack: Stack, history: History,
                                                                 external: str) -> None:
    """The EXTERNAL-controller way: exactly the task-set actions it uses are granted."""
    push_image(aws, "v2")
    seams = task_set_seams(aws, stack)
    # blue's task set cut to 50% under the deploy, then the alarm: the rollback scales blue back (UpdateTaskSet)
    other = Aws(AwsSettings(region=aws.default_region, max_attempts=1))  # not counted as the deployer's
    seams["clock"].at(100, lambda: (
        other.client("ecs").update_task_set(cluster=CLUSTER, service=TS_SERVICE, taskSet=external,
                                          scale={"unit": "PERCENT", "value": 50.0}),
        aws.client("cloudwatch").set_alarm_state(AlarmName=ALARM_5XX, StateValue="ALARM", StateReason="test")))
    request = DeployRequest(cluster=CLUSTER, service=TS_SERVICE, image=stack.image("v2"), alarms=(ALARM_5XX,),
                            steps=(10, 100), bake_seconds=300, timeout_seconds=1200)
    made = _rolled_back_then_succeeded(aws, history, request, seams, task_set_seams(aws, stack))
    task_set_actions = {a for a in _granted("audit-deploy.json") if "TaskSet" in a}
    assert task_set_actions == {a for a in made if "TaskSet" in a} == {
        "ecs:CreateTaskSet", "ecs:DeleteTaskSet", "ecs:DescribeTaskSets", "ecs:UpdateServicePrimaryTaskSet",
        "ecs:UpdateTaskSet"}


def test_readonly_policy_grants_no_deploy_write() -> None:
    writes = {a for a in _granted("audit-deploy.json")
              if a.split(":", 1)[1].startswith(("Register", "Update", "Modify", "Stop", "Put", "Delete", "Pass",
                                                "Tag", "Create"))}
    assert len(writes) == 14
    assert writes & _granted("audit-readonly.json") == set()
