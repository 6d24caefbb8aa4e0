"""Setups the deployer refuses: one line, nothing changed."""

from __future__ import annotations

import re
import socket
from typing import Any

import pytest

from auditor.aws import Aws
from auditor.deploy import DeployRefused, DeployRequest, LeaseHeld, deploy
from auditor.deploy.lease import Lease, default_owner
from auditor.history import History
from tests.deploy.bgstack import BLUE, CLUSTER, GREEN, LEASES, Stack, desired, fake_seams, push_image, weights


def _refused(aws: Aws, stack: Stack, history: History, expected: type[DeployRefused] = DeployRefused,
             **overrides: Any) -> str:
    push_image(aws, "v2")
    revisions = aws.client("ecs").list_task_definitions()["taskDefinitionArns"]
    request = DeployRequest(**{"cluster": CLUSTER, "service": BLUE, "image": stack.image("v2"), **overrides})
    with pytest.raises(expected) as refused:
        deploy(request, aws=aws, history=history, **fake_seams(aws, stack))
    assert weights(aws, stack) == {"blue": 100, "green": 0}
    assert (desired(aws, BLUE), desired(aws, GREEN)) == (2, 0)
    assert aws.client("ecs").list_task_definitions()["taskDefinitionArns"] == revisions
    assert history.list_journals("deploy") == []
    assert "\n" not in str(refused.value)
    return str(refused.value)


def test_latest_image_is_refused(aws: Aws, stack: Stack, history: History) -> None:
    message = _refused(aws, stack, history, image=stack.image("latest"))
    assert message.startswith(f"image {stack.repo_uri}:latest is not pinned")


def test_untagged_image_outside_ecr_is_refused(aws: Aws, stack: Stack, history: History) -> None:
    assert _refused(aws, stack, history, image="nginx").startswith("image nginx is not pinned")
    assert "outside ECR" in _refused(aws, stack, history, image="docker.io/library/nginx:1.27")


def test_task_definition_with_latest_is_refused(aws: Aws, stack: Stack, history: History) -> None:
    arn = aws.client("ecs").register_task_definition(
        family="web-latest", networkMode="awsvpc", requiresCompatibilities=["FARGATE"], cpu="256", memory="512",
        containerDefinitions=[{"name": "web", "image": f"{stack.repo_uri}:latest"}])["taskDefinition"][
        "taskDefinitionArn"]
    message = _refused(aws, stack, history, image=None, task_definition=arn)
    assert "is not pinned (`:latest` or no tag)" in message


def test_mismatched_target_group_is_refused(aws: Aws, stack: Stack, history: History) -> None:
    message = _refused(aws, stack, history, green_target_group=stack.blue_tg)
    assert message.startswith("--green-target-group web-blue does not match")


def test_listener_mixing_forward_with_fixed_response_is_refused(aws: Aws, stack: Stack,
                                                                history: History) -> None:
    rule = aws.client("elbv2").create_rule(
        ListenerArn=stack.listener, Priority=10, Conditions=[{"Field": "path-pattern", "Values": ["/x/*"]}],
        Actions=[{"Type": "fixed-response", "Order": 1, "FixedResponseConfig": {"StatusCode": "503"}},
                 {"Type": "forward", "Order": 2, "ForwardConfig": {"TargetGroups": [
                     {"TargetGroupArn": stack.blue_tg, "Weight": 100},
                     {"TargetGroupArn": stack.green_tg, "Weight": 0}]}}])["Rules"][0]["RuleArn"]
    try:
        message = _refused(aws, stack, history, listener_rule=rule)
        assert "mixes forward with fixed-response; the ALB cannot weight it" in message
        # discovered, not named: two places forward to blue
        assert _refused(aws, stack, history).startswith("2 listeners/rules forward to target group web-blue")
    finally:
        aws.client("elbv2").delete_rule(RuleArn=rule)


def test_bakes_longer_than_the_timeout_are_refused(aws: Aws, stack: Stack, history: History) -> None:
    message = _refused(aws, stack, history, steps=(10, 100), bake_seconds=600, timeout_seconds=900)
    assert message == "2 bakes of 10m take longer than --timeout 15m"


def test_bad_steps_are_refused(aws: Aws, stack: Stack, history: History) -> None:
    assert _refused(aws, stack, history, steps=(50, 10, 100)).startswith("invalid steps 50,10,100")
    assert _refused(aws, stack, history, steps=(10, 50)).startswith("invalid steps 10,50")


def test_held_lease_is_refused_naming_its_holder(aws: Aws, stack: Stack, history: History) -> None:
    clock = fake_seams(aws, stack)["clock"]
    aws.client("dynamodb").put_item(TableName=LEASES, Item={
        "LeaseID": {"S": f"{CLUSTER}/{BLUE}+{GREEN}"}, "holder": {"S": "ci@runner-7 pid 42"},
        "deploy_id": {"S": "web-blue-1"}, "expires_at": {"N": str(int(clock.now()) + 600)}})
    message = _refused(aws, stack, history, expected=LeaseHeld)
    assert message.startswith(f"{CLUSTER}/{BLUE}+{GREEN} is being deployed by ci@runner-7 pid 42 (deploy web-blue-1)"
                              " — wait for it, or `audit deploy --resume/--rollback web-blue-1`")


def test_resume_refuses_while_the_deploy_s_process_lives(aws: Aws, stack: Stack, history: History) -> None:
    now = fake_seams(aws, stack)["clock"].now()
    key = f"{CLUSTER}/{BLUE}+{GREEN}"
    alive = f"{default_owner()}"  # this very process
    dead = f"ci@{socket.gethostname()} pid 999999"
    for owner, refused in ((alive, True), (dead, False)):
        aws.client("dynamodb").put_item(TableName=LEASES, Item={
            "LeaseID": {"S": key}, "holder": {"S": owner}, "deploy_id": {"S": "web-blue-1"},
            "expires_at": {"N": str(int(now) + 600)}})
        lease = Lease(aws, LEASES, key, "me@elsewhere pid 1", "web-blue-1")
        if refused:
            with pytest.raises(LeaseHeld, match=f"deploy web-blue-1 is still running: {re.escape(alive)}"):
                lease.acquire(now, 60, take_over="web-blue-1")
        else:
            lease.acquire(now, 60, take_over="web-blue-1")
            assert lease.holder() is not None and lease.holder().owner == "me@elsewhere pid 1"  # type: ignore[union-attr]
            assert lease.release() is None and lease.holder() is None


@pytest.mark.parametrize(("controller", "why"), [
    ("CODE_DEPLOY", "uses the CODE_DEPLOY deployment controller, which deploys through CodeDeploy (CreateDeployment), "
                    "not through the deployer"),
    ("EXTERNAL", "(EXTERNAL controller) has 0 PRIMARY task sets; the deployer needs exactly one"),
])
def test_services_under_another_deployment_controller_are_refused(aws: Aws, stack: Stack, history: History,
                                                                  controller: str, why: str) -> None:
    name = f"web-{controller.lower()}"
    aws.client("ecs").create_service(cluster=CLUSTER, serviceName=name, taskDefinition=stack.task_definition,
                                     desiredCount=0, deploymentController={"type": controller})
    try:
        message = _refused(aws, stack, history, service=name)
    finally:
        aws.client("ecs").delete_service(cluster=CLUSTER, service=name, force=True)
    assert message.startswith(f"service {name} {why}")
