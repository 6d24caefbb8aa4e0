"""The deployer's IAM policy (terraform/auditor/policies/audit-deploy.json) covers every call a deploy
makes, and the nightly audit's read-only policy grants none of the deployer's writes."""

from __future__ import annotations

import json

from auditor.aws import Aws
from auditor.deploy import DeployRequest, deploy
from auditor.history import History
from tests.conftest import REPO
from tests.deploy.bgstack import ALARM_5XX, BLUE, CLUSTER, Stack, fake_seams, push_image
from tests.e2e.test_iam_policy import iam_action

POLICIES = REPO / "terraform" / "auditor" / "policies"


def _granted(name: str) -> set[str]:
    granted: set[str] = set()
    for statement in json.loads((POLICIES / name).read_text())["Statement"]:
        assert statement["Effect"] == "Allow"
        granted.update([statement["Action"]] if isinstance(statement["Action"], str) else statement["Action"])
    return granted


def test_deploy_policy_covers_a_deploy_and_its_rollback(aws: Aws, stack: Stack, history: History) -> None:
    push_image(aws, "v2")
    seams = fake_seams(aws, stack)
    seams["clock"].at(100, lambda: aws.client("cloudwatch").set_alarm_state(
        AlarmName=ALARM_5XX, StateValue="ALARM", StateReason="test"))
    before = aws.counter.snapshot()
    request = DeployRequest(cluster=CLUSTER, service=BLUE, image=stack.image("v2"), alarms=(ALARM_5XX,),
                            steps=(10, 100), bake_seconds=300, timeout_seconds=1200)
    assert deploy(request, aws=aws, history=history, **seams).result == "rolled_back"
    seams["clock"].hooks.clear()
    aws.client("cloudwatch").set_alarm_state(AlarmName=ALARM_5XX, StateValue="OK", StateReason="test")
    assert deploy(request, aws=aws, history=history, **fake_seams(aws, stack)).result == "succeeded"
    made = {iam_action(op) for op, n in aws.counter.snapshot().items() if n > before.get(op, 0)}
    # the test's own calls (alarm states) are not the deployer's
    made -= {"cloudwatch:SetAlarmState"}
    granted = _granted("audit-deploy.json")
    assert made - granted == set(), f"calls the deploy policy does not allow: {sorted(made - granted)}"
    assert {"ecs:RegisterTaskDefinition", "ecs:UpdateService", "elasticloadbalancing:ModifyListener",
            "dynamodb:PutItem", "dynamodb:DeleteItem"} <= made


def test_readonly_policy_grants_no_deploy_write() -> None:
    writes = {a for a in _granted("audit-deploy.json")
              if a.split(":", 1)[1].startswith(("Register", "Update", "Modify", "Stop", "Put", "Delete", "Pass",
                                                "Tag"))}
    assert len(writes) == 10
    assert writes & _granted("audit-readonly.json") == set()
