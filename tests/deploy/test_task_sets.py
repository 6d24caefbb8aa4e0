"""The ALB-weights deploy of an EXTERNAL-controller service's task sets, end to end on the moto server.

moto implements CreateTaskSet (it keeps loadBalancers, scale and externalId), DescribeTaskSets,
UpdateTaskSet (scale only), UpdateServicePrimaryTaskSet (by full ARN) and DeleteTaskSet, so no
Stubber is needed. Where moto falls short: CreateTaskSet with a PERCENT scale runs the tasks and
fails on a container without its own `memory` (the stack's task definition has task-level memory
only), so this service's task definition sets it, and on awsvpc networking (moto's ENI for the
task lacks private_dns_name), so this task definition is in bridge mode and the task sets have no
networkConfiguration (the deployer copies blue's, whatever it is); and no task is registered with a target group,
so health comes from bgstack's `TaskSetHealth` (a task set's targets are healthy `startup` s after its scale
last changed).
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from click.testing import CliRunner

from auditor.aws import Aws
from auditor.cli import cli
from auditor.deploy import DeployRefused, DeployRequest, colours, deploy, resume, rollback
from auditor.history import History
from tests.deploy.bgstack import (
    ALARM_5XX,
    CLUSTER,
    TS_SERVICE,
    Stack,
    add_task_set,
    push_image,
    task_set_seams,
    task_sets,
    weights,
)


def _request(stack: Stack, **overrides: Any) -> DeployRequest:
    options: dict[str, Any] = {"cluster": CLUSTER, "service": TS_SERVICE, "image": stack.image("v2"),
                               "steps": (10, 50, 100), "bake_seconds": 300.0, "timeout_seconds": 1200.0,
                               "alarms": (ALARM_5XX,), "poll_seconds": 15.0}
    return DeployRequest(**{**options, **overrides})


def _assert_back_on_blue(aws: Aws, stack: Stack, blue: str) -> None:
    assert weights(aws, stack) == {"blue": 100, "green": 0}
    assert [(s["taskSetArn"], s["status"], s["scale"]["value"]) for s in task_sets(aws)] == [(blue, "PRIMARY", 100.0)]


def test_happy_path_ends_on_the_new_primary_task_set(aws: Aws, stack: Stack, history: History,
                                                     external: str) -> None:
    digest = push_image(aws, "v2")
    outcome = deploy(_request(stack), aws=aws, history=history, **task_set_seams(aws, stack))
    assert outcome.result == "succeeded", outcome
    assert weights(aws, stack) == {"blue": 0, "green": 100}
    (green,) = task_sets(aws)
    assert (green["status"], green["externalId"], green["scale"]) == (
        "PRIMARY", outcome.deploy_id, {"unit": "PERCENT", "value": 100.0})
    assert [lb["targetGroupArn"] for lb in green["loadBalancers"]] == [stack.green_tg]
    containers = aws.client("ecs").describe_task_definition(taskDefinition=green["taskDefinition"])[
        "taskDefinition"]["containerDefinitions"]
    assert [c["image"] for c in containers] == [f"{stack.repo_uri}@{digest}"]
    assert outcome.services["green"]["task_set"] == green["id"] and outcome.services["green"]["scale"] == 100.0
    assert outcome.services["blue"]["task_set"] is None  # deleted
    assert outcome.green_provisioning_seconds == 45.0
    events = [e["event"] for e in history.read_journal(outcome.deploy_id)]
    assert [e["green"] for e in history.read_journal(outcome.deploy_id) if e["event"] == "weights"] == [10, 50, 100]
    tail = [e for e in events if e in ("create_task_set", "task_set_created", "primary_task_set", "delete_task_set")]
    assert tail == ["create_task_set", "task_set_created", "primary_task_set", "delete_task_set"]
    assert "scaling" not in events and "scale" not in events
    # the roles have swapped: the next deploy goes from green's task set back to blue's target group
    push_image(aws, "v3")
    again = deploy(_request(stack, image=stack.image("v3")), aws=aws, history=history, **task_set_seams(aws, stack))
    assert again.result == "succeeded", again
    assert weights(aws, stack) == {"blue": 100, "green": 0}
    (back,) = task_sets(aws)
    assert back["status"] == "PRIMARY" and back["loadBalancers"][0]["targetGroupArn"] == stack.blue_tg


def test_alarm_mid_shift_rolls_back_and_deletes_green(aws: Aws, stack: Stack, history: History,
                                                      external: str) -> None:
    push_image(aws, "v2")
    seams = task_set_seams(aws, stack)
    seen: list[tuple[dict[str, int], int]] = []
    # 45 s of green start-up, 300 s at 10%, then the alarm fires during the 50% bake
    seams["clock"].at(400, lambda: (seen.append((weights(aws, stack), len(task_sets(aws)))),
                                    aws.client("cloudwatch").set_alarm_state(
                                        AlarmName=ALARM_5XX, StateValue="ALARM", StateReason="test")))
    outcome = deploy(_request(stack), aws=aws, history=history, **seams)
    assert seen == [({"blue": 50, "green": 50}, 2)]
    assert outcome.result == "rolled_back" and "ALARM" in str(outcome.rollback_reason), outcome
    _assert_back_on_blue(aws, stack, external)
    events = [e["event"] for e in history.read_journal(outcome.deploy_id)]
    rolled = events[events.index("rollback"):]
    assert rolled.index("weights") < rolled.index("delete_task_set")  # traffic back first, then green gone
    assert "primary_task_set" not in rolled


@pytest.mark.parametrize(("setup", "message"), [
    ("second", "has task sets besides the primary"),
    ("primary-on-green", "is behind web-green, but web-blue/... sends all traffic to web-blue"),
    ("primary-at-50", "is scaled to 50.0 PERCENT, not 100 PERCENT"),
])
def test_bad_task_set_setups_are_refused(aws: Aws, stack: Stack, history: History, external: str,
                                         setup: str, message: str) -> None:
    ecs = aws.client("ecs")
    if setup == "second":
        add_task_set(aws, stack, stack.green_tg)
    elif setup == "primary-on-green":
        green = add_task_set(aws, stack, stack.green_tg)
        ecs.update_service_primary_task_set(cluster=CLUSTER, service=TS_SERVICE, primaryTaskSet=green)
        ecs.delete_task_set(cluster=CLUSTER, service=TS_SERVICE, taskSet=external)
    else:
        ecs.update_task_set(cluster=CLUSTER, service=TS_SERVICE, taskSet=external,
                            scale={"unit": "PERCENT", "value": 50})
    before = (task_sets(aws), ecs.list_task_definitions()["taskDefinitionArns"])
    push_image(aws, "v2")
    with pytest.raises(DeployRefused) as refused:
        deploy(_request(stack), aws=aws, history=history, **task_set_seams(aws, stack))
    text = str(refused.value)
    assert "\n" not in text and text.startswith(f"{'service' if setup == 'second' else 'primary task set'}")
    head, _, tail = message.partition("web-blue/...")
    assert head in text and tail in text, text
    assert (task_sets(aws), ecs.list_task_definitions()["taskDefinitionArns"]) == before
    assert weights(aws, stack) == {"blue": 100, "green": 0} and history.list_journals("deploy") == []


class _Killed(BaseException):
    """The deploy's process dying (nothing after it runs: no rollback, no outcome)."""


def _crash_at_half(aws: Aws, stack: Stack, history: History) -> str:
    seams = task_set_seams(aws, stack)
    seams["clock"].at(100, lambda: (_ for _ in ()).throw(_Killed()))  # 45 s start-up, then baking at 50%
    with pytest.raises(_Killed):
        deploy(_request(stack, steps=(50, 100)), aws=aws, history=history, **seams)
    (deploy_id,) = history.list_journals("deploy")
    assert history.read_journal(deploy_id)[-1]["event"] != "outcome"
    assert weights(aws, stack) == {"blue": 50, "green": 50} and len(task_sets(aws)) == 2
    return deploy_id


def test_crash_at_50_then_rollback(aws: Aws, stack: Stack, history: History, external: str) -> None:
    push_image(aws, "v2")
    deploy_id = _crash_at_half(aws, stack, history)
    result = CliRunner().invoke(cli, ["deploy", "--rollback", deploy_id, "--format", "json"])
    assert result.exit_code == 1, result.output  # a rollback is not a deploy
    outcome = json.loads(result.stdout)
    assert outcome["result"] == "rolled_back"
    assert outcome["weights"] == {stack.blue_tg: 100, stack.green_tg: 0}
    assert outcome["services"]["blue"]["task_set"] == "/".join(external.split("/")[-2:])  # ecs-svc/…
    assert outcome["services"]["blue"]["scale"] == 100.0 and outcome["services"]["green"]["task_set"] is None
    _assert_back_on_blue(aws, stack, external)


def test_crash_at_50_then_resume(aws: Aws, stack: Stack, history: History, external: str) -> None:
    push_image(aws, "v2")
    deploy_id = _crash_at_half(aws, stack, history)
    outcome = resume(deploy_id, aws=aws, history=history, **task_set_seams(aws, stack))
    assert outcome.result == "succeeded", outcome
    assert weights(aws, stack) == {"blue": 0, "green": 100}
    (green,) = task_sets(aws)
    assert green["status"] == "PRIMARY" and green["externalId"] == deploy_id
    events = [e["event"] for e in history.read_journal(deploy_id)]
    assert events.count("create_task_set") == 1  # the resume found green's task set by its externalId


def test_crash_after_the_primary_switch_then_rollback(aws: Aws, stack: Stack, history: History, external: str,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    """The process dies between UpdateServicePrimaryTaskSet and DeleteTaskSet: --rollback puts blue back
    as primary before deleting green."""
    push_image(aws, "v2")
    real = colours._ecs

    def dying(what: str, fn: Any, **kwargs: Any) -> Any:
        if what.startswith("delete task set"):
            raise _Killed()
        return real(what, fn, **kwargs)

    monkeypatch.setattr(colours, "_ecs", dying)
    with pytest.raises(_Killed):
        deploy(_request(stack), aws=aws, history=history, **task_set_seams(aws, stack))
    monkeypatch.setattr(colours, "_ecs", real)
    (deploy_id,) = history.list_journals("deploy")
    assert weights(aws, stack) == {"blue": 0, "green": 100}
    assert sorted(s["status"] for s in task_sets(aws)) == ["ACTIVE", "PRIMARY"]
    outcome = rollback(deploy_id, aws=aws, history=history, **task_set_seams(aws, stack))
    assert outcome.result == "rolled_back", outcome
    _assert_back_on_blue(aws, stack, external)
