"""The ALB-weights deploy end to end on a moto server, gates driven through the seams."""

from __future__ import annotations

from typing import Any

from auditor.aws import Aws
from auditor.deploy import DeployRequest, deploy
from auditor.deploy.store import FileJournalStore
from tests.deploy.bgstack import (
    ALARM_5XX,
    BLUE,
    CLUSTER,
    CONTAINER,
    GREEN,
    Stack,
    desired,
    fake_seams,
    push_image,
    weights,
)


def _request(stack: Stack, **overrides: Any) -> DeployRequest:
    options: dict[str, Any] = {"cluster": CLUSTER, "service": BLUE, "image": stack.image("v2"), "steps": (10, 50, 100),
                               "bake_seconds": 300.0, "timeout_seconds": 1200.0, "alarms": (ALARM_5XX,),
                               "poll_seconds": 15.0}
    return DeployRequest(**{**options, **overrides})


def _events(history: FileJournalStore, deploy_id: str) -> list[str]:
    return [e["event"] for e in history.read_journal(deploy_id)]


def test_happy_path_ends_all_green_with_blue_at_zero(aws: Aws, stack: Stack, history: FileJournalStore) -> None:
    digest = push_image(aws, "v2")
    seams = fake_seams(aws, stack)
    outcome = deploy(_request(stack), aws=aws, history=history, **seams)
    assert outcome.result == "succeeded", outcome
    assert weights(aws, stack) == {"blue": 0, "green": 100}
    assert (desired(aws, BLUE), desired(aws, GREEN)) == (0, 2)
    green = aws.client("ecs").describe_services(cluster=CLUSTER, services=[GREEN])["services"][0]
    containers = aws.client("ecs").describe_task_definition(taskDefinition=green["taskDefinition"])[
        "taskDefinition"]["containerDefinitions"]
    assert [c["image"] for c in containers if c["name"] == CONTAINER] == [f"{stack.repo_uri}@{digest}"]
    assert outcome.green_provisioning_seconds == 45.0
    entries = history.read_journal(outcome.deploy_id)
    shifts = [e["green"] for e in entries if e["event"] == "weights"]
    assert shifts == [10, 50, 100]
    assert entries[-1]["event"] == "outcome" and entries[-1]["result"] == "succeeded"
    assert entries[-1]["green_provisioning_seconds"] == 45.0
    assert history.list_journals("deploy") == [outcome.deploy_id]
    # the lease is gone: the roles have swapped and the next deploy (from green back to blue) may start
    assert "Item" not in aws.client("dynamodb").get_item(TableName="auditor-deploy-leases",
                                                         Key={"LeaseID": {"S": f"{CLUSTER}/{BLUE}+{GREEN}"}})
    push_image(aws, "v3")
    again = deploy(_request(stack, service=GREEN, image=stack.image("v3")), aws=aws, history=history, **seams)
    assert again.result == "succeeded", again
    assert weights(aws, stack) == {"blue": 100, "green": 0}
    assert (desired(aws, BLUE), desired(aws, GREEN)) == (2, 0)
