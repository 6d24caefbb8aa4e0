"""ECS-05 and the idle colour of a blue/green pair, on live resources: the seeded reference stack (moto
in-process) read by the collectors. Green idles at desired 0 behind a weight-0 target group; once the
listener sends it traffic, or when the serving colour runs one task, the count is required again."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from moto import mock_aws

from auditor.aws import Aws, AwsSettings
from auditor.demo.motoserver import reference_stack_moto
from auditor.demo.run import REGION, SeededStack, seed_reference_stack
from auditor.inventory.runner import collect_inventory
from auditor.models import Finding, Status
from auditor.rules.engine import evaluate
from tests.rules.support import builtin_pack

TYPES = ("aws_lb", "aws_lb_listener", "aws_lb_target_group", "aws_subnet", "aws_ecs_service")


@pytest.fixture
def seeded() -> Iterator[tuple[Aws, SeededStack]]:
    with mock_aws(), reference_stack_moto():
        aws = Aws(AwsSettings(region=REGION))
        yield aws, seed_reference_stack(aws)


def _ecs05(aws: Aws, seeded: SeededStack) -> dict[str, Finding]:
    inventory = collect_inventory(aws, [REGION], TYPES, aws.account_id(), {})
    findings = evaluate(builtin_pack(), inventory.resources, None)
    names = {seeded.stack.ref(f"aws_ecs_service.{n}")["id"]: seeded.stack.ref(f"aws_ecs_service.{n}")["name"]
             for n in ("web_app", "web_app_green")}
    return {names[f.resource_id]: f for f in findings if f.rule_id == "ECS-05" and f.resource_id in names}


def _weights(aws: Aws, seeded: SeededStack, blue: int, green: int) -> None:
    groups = [{"TargetGroupArn": seeded.stack.ref(f"aws_lb_target_group.{c}")["arn"], "Weight": w}
              for c, w in (("blue", blue), ("green", green))]
    aws.client("elbv2", REGION).modify_listener(ListenerArn=seeded.stack.ref("aws_lb_listener.https")["arn"],
                                                DefaultActions=[{"Type": "forward",
                                                                 "ForwardConfig": {"TargetGroups": groups}}])


def test_the_idle_colour_is_not_held_to_the_count(seeded: tuple[Aws, SeededStack]) -> None:
    aws, stack = seeded
    found = _ecs05(aws, stack)
    assert found["digitallync-core"].status is Status.PASS
    assert found["digitallync-core-green"].status is Status.PASS
    assert "it is the idle colour" in found["digitallync-core-green"].message


def test_a_colour_with_traffic_or_serving_alone_needs_the_count(seeded: tuple[Aws, SeededStack]) -> None:
    aws, stack = seeded
    _weights(aws, stack, 50, 50)  # green has traffic (a deploy died mid-shift): its 0 tasks are a finding
    assert _ecs05(aws, stack)["digitallync-core-green"].status is Status.FAIL
    _weights(aws, stack, 100, 0)
    blue = stack.stack.ref("aws_ecs_service.web_app")
    aws.client("ecs", REGION).update_service(cluster=blue["cluster"], service=blue["name"], desiredCount=1)
    found = _ecs05(aws, stack)
    assert found["digitallync-core"].status is Status.FAIL  # the serving colour is judged as usual
    assert found["digitallync-core-green"].status is Status.PASS
