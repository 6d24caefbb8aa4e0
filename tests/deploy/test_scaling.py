"""The deployer and Application Auto Scaling: scaling is suspended while traffic moves, and left resumed on
the colour serving 100% and suspended on the idle one, after a release as after a rollback."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from auditor.aws import Aws
from auditor.deploy import DeployRequest, deploy, rollback
from auditor.deploy.scaling import FLAGS
from auditor.history import History
from tests.deploy.bgstack import ALARM_5XX, BLUE, CLUSTER, GREEN, Stack, desired, fake_seams, push_image, weights
from tests.deploy.test_deploy_cli import crash_after_half

SUSPENDED, RESUMED = dict.fromkeys(FLAGS, True), dict.fromkeys(FLAGS, False)


def _resource(service: str) -> str:
    return f"service/{CLUSTER}/{service}"


@pytest.fixture
def scalable(aws: Aws, stack: Stack) -> Iterator[Callable[..., None]]:
    """Give services scalable targets (2-6 tasks, scaling on); they are deregistered after the test."""
    client = aws.client("application-autoscaling")
    made: list[str] = []

    def register(*services: str) -> None:
        for service in services:
            client.register_scalable_target(ServiceNamespace="ecs", ResourceId=_resource(service),
                                            ScalableDimension="ecs:service:DesiredCount", MinCapacity=2,
                                            MaxCapacity=6, SuspendedState=RESUMED)
            made.append(service)

    yield register
    for service in made:
        client.deregister_scalable_target(ServiceNamespace="ecs", ResourceId=_resource(service),
                                          ScalableDimension="ecs:service:DesiredCount")


def _suspended(aws: Aws) -> dict[str, dict[str, bool]]:
    found = aws.client("application-autoscaling").describe_scalable_targets(ServiceNamespace="ecs")["ScalableTargets"]
    return {t["ResourceId"].rsplit("/", 1)[1]: {f: bool((t.get("SuspendedState") or {}).get(f)) for f in FLAGS}
            for t in found}


def _request(stack: Stack) -> DeployRequest:
    return DeployRequest(cluster=CLUSTER, service=BLUE, image=stack.image("v2"), steps=(10, 100), bake_seconds=300,
                         timeout_seconds=1200, alarms=(ALARM_5XX,), poll_seconds=15)


def _scaling_entries(history: History, deploy_id: str) -> list[tuple[str, str]]:
    return [(e["service"], e["action"]) for e in history.read_journal(deploy_id) if e["event"] == "scaling"]


def test_a_release_leaves_scaling_on_the_serving_colour_only(aws: Aws, stack: Stack, history: History,
                                                             scalable: Callable[..., None]) -> None:
    scalable(BLUE, GREEN)
    push_image(aws, "v2")
    seams = fake_seams(aws, stack)
    observed: list[dict[str, dict[str, bool]]] = []
    seams["clock"].at(100, lambda: observed.append(_suspended(aws)))  # mid-shift
    outcome = deploy(_request(stack), aws=aws, history=history, **seams)
    assert outcome.result == "succeeded", outcome
    assert observed == [{BLUE: SUSPENDED, GREEN: SUSPENDED}]
    assert _suspended(aws) == {BLUE: SUSPENDED, GREEN: RESUMED}
    assert _scaling_entries(history, outcome.deploy_id) == [(BLUE, "suspend"), (GREEN, "suspend"), (GREEN, "resume")]
    entry = next(e for e in history.read_journal(outcome.deploy_id) if e["event"] == "scaling")
    assert entry["before"] == RESUMED and (entry["min_capacity"], entry["max_capacity"]) == (2, 6)


def test_a_rollback_gives_scaling_back_to_blue(aws: Aws, stack: Stack, history: History,
                                               scalable: Callable[..., None]) -> None:
    scalable(BLUE)
    push_image(aws, "v2")
    seams = fake_seams(aws, stack)
    seams["clock"].at(100, lambda: aws.client("cloudwatch").set_alarm_state(
        AlarmName=ALARM_5XX, StateValue="ALARM", StateReason="test"))
    outcome = deploy(_request(stack), aws=aws, history=history, **seams)
    assert outcome.result == "rolled_back", outcome
    assert weights(aws, stack) == {"blue": 100, "green": 0} and (desired(aws, BLUE), desired(aws, GREEN)) == (2, 0)
    assert _suspended(aws) == {BLUE: RESUMED}
    assert _scaling_entries(history, outcome.deploy_id) == [(BLUE, "suspend"), (BLUE, "resume")]


def test_without_scalable_targets_nothing_is_journalled(aws: Aws, stack: Stack, history: History) -> None:
    push_image(aws, "v2")
    outcome = deploy(_request(stack), aws=aws, history=history, **fake_seams(aws, stack))
    assert outcome.result == "succeeded", outcome
    assert _scaling_entries(history, outcome.deploy_id) == []


def test_rollback_of_a_dead_deploy_gives_scaling_back_to_blue(aws: Aws, stack: Stack, history: History,
                                                              scalable: Callable[..., None], tmp_path: Path) -> None:
    scalable(BLUE)
    push_image(aws, "v2")
    deploy_id = crash_after_half(aws, stack, history, tmp_path / "data")
    assert _suspended(aws) == {BLUE: SUSPENDED}  # the dead process had suspended it
    outcome = rollback(deploy_id, aws=aws, history=history, **fake_seams(aws, stack))
    assert outcome.result == "rolled_back", outcome
    assert weights(aws, stack) == {"blue": 100, "green": 0}
    assert _suspended(aws) == {BLUE: RESUMED}
    assert _scaling_entries(history, deploy_id) == [(BLUE, "suspend"), (BLUE, "resume")]
