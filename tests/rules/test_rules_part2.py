"""ALB, CloudWatch, ECS and network rules: thresholds from settings, the reference stack, the seed task
definition, and resources in state shape (ids and ARNs instead of references)."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest

from auditor.models import Origin, Resource, Status
from auditor.rules.engine import evaluate
from auditor.rules.settings import RuleSettings
from tests.rules.support import FIXTURES, builtin_pack, code_resources, messages, verdicts

REPO = Path(__file__).resolve().parents[2]
PART2_AREAS = ("ALB", "CW", "ECS", "NET")
PART2_RULES = [r.meta.id for r in builtin_pack().rules if r.meta.id.split("-")[0] in PART2_AREAS]


def _fixture(rule_id: str, settings: RuleSettings) -> dict[str, Status]:
    return verdicts(evaluate(builtin_pack(), code_resources(FIXTURES / rule_id), settings), rule_id)


def _default(rule_id: str) -> dict[str, Status]:
    return _fixture(rule_id, RuleSettings())


def test_part2_covers_the_catalog() -> None:
    expected = ([f"ALB-0{i}" for i in range(1, 10)] + [f"CW-0{i}" for i in range(1, 6)]
                + [f"ECS-0{i}" for i in range(1, 8)] + [f"NET-0{i}" for i in range(1, 4)])
    assert sorted(PART2_RULES) == sorted(expected)


# --- thresholds are settings ---------------------------------------------------------------------


def test_elb17_profile_rejects_the_aws_default_policy() -> None:
    recommended = _default("ALB-03")
    elb17 = _fixture("ALB-03", RuleSettings(tls_profile="securityhub-elb17"))
    changed = {a: (recommended[a], elb17[a]) for a in recommended if recommended[a] is not elb17[a]}
    assert changed == {
        "aws_lb_listener.pass_tls13_1_2": (Status.PASS, Status.FAIL),
        "aws_lb_listener.pass_fs_1_2": (Status.PASS, Status.FAIL),
    }
    assert elb17["aws_lb_listener.pass_tls13_1_2_res"] is Status.PASS
    assert elb17["aws_lb_listener.pass_tls_listener_tls13_1_3"] is Status.PASS


def test_unknown_tls_profile_is_unknown_not_pass() -> None:
    got = _fixture("ALB-03", RuleSettings(tls_profile="made-up"))
    assert {s for a, s in got.items() if "not_applicable" not in a} == {Status.UNKNOWN}


def test_min_azs_setting() -> None:
    three = _fixture("ALB-01", RuleSettings(min_azs=3))
    assert three["aws_lb.pass_two_zones"] is Status.FAIL
    one = _fixture("ALB-01", RuleSettings(min_azs=1))
    assert one["aws_lb.fail_one_zone"] is Status.PASS
    # one known zone is enough for a minimum of one, whatever the unknown subnets are
    assert one["aws_lb.unknown_zone_from_variable"] is Status.PASS
    assert _fixture("ECS-05", RuleSettings(min_azs=3))["aws_ecs_service.pass_two_tasks_two_zones"] is Status.FAIL


def test_min_desired_count_setting() -> None:
    got = _fixture("ECS-05", RuleSettings(min_desired_count=1))
    assert got["aws_ecs_service.fail_one_task"] is Status.PASS
    assert got["aws_ecs_service.fail_default_count"] is Status.FAIL  # 0 tasks


def test_min_log_retention_setting() -> None:
    got = _fixture("CW-05", RuleSettings(min_log_retention_days=365))
    assert got["aws_cloudwatch_log_group.pass_thirty_days"] is Status.FAIL
    assert got["aws_cloudwatch_log_group.pass_one_year"] is Status.PASS
    week = _fixture("CW-05", RuleSettings(min_log_retention_days=7))
    assert week["aws_cloudwatch_log_group.fail_one_week"] is Status.PASS
    assert week["aws_cloudwatch_log_group.fail_never_expires"] is Status.FAIL


# --- the reference stack and the seed task definition --------------------------------------------


def test_reference_stack_passes_every_part2_rule() -> None:
    findings = [f for f in evaluate(builtin_pack(), code_resources(REPO / "terraform" / "stack"))
                if f.rule_id in PART2_RULES]
    bad = {(f.rule_id, f.address): f.message for f in findings
           if f.status not in (Status.PASS, Status.NOT_APPLICABLE)}
    assert not bad
    passed = {f.rule_id for f in findings if f.status is Status.PASS}
    assert passed == set(PART2_RULES), f"rules the stack does not exercise: {set(PART2_RULES) - passed}"


def test_reference_stack_fails_elb17_only_on_its_default_tls_policy() -> None:
    findings = evaluate(builtin_pack(), code_resources(REPO / "terraform" / "stack"),
                        RuleSettings(tls_profile="securityhub-elb17"))
    failed = {(f.rule_id, f.address) for f in findings if f.rule_id in PART2_RULES and f.status is Status.FAIL}
    assert failed == {("ALB-03", "aws_lb_listener.https")}


def test_seed_task_definition_fails_the_ecs_rules_it_breaks() -> None:
    root = REPO / "tests" / "terraform" / "fixtures" / "seed_task_definition"
    findings = evaluate(builtin_pack(), code_resources(root))
    address = "aws_ecs_task_definition.web_app"
    got = {rule: verdicts(findings, rule)[address] for rule in ("ECS-01", "ECS-02", "ECS-03", "ECS-04")}
    assert got == {"ECS-01": Status.PASS, "ECS-02": Status.PASS, "ECS-03": Status.FAIL, "ECS-04": Status.PASS}
    assert "readonlyRootFilesystem is not set" in messages(findings, "ECS-03")[address]


# --- state-shaped resources: joins by id and ARN -------------------------------------------------

ACCOUNT = "111122223333"
LB_ARN = f"arn:aws:elasticloadbalancing:eu-west-1:{ACCOUNT}:loadbalancer/app/web/50dc6c495c0c9188"
TG_ARN = f"arn:aws:elasticloadbalancing:eu-west-1:{ACCOUNT}:targetgroup/web-blue/73e2d6bc24d8a067"


def _state(tf_type: str, ident: str, attrs: Mapping[str, Any]) -> Resource:
    return Resource(type=tf_type, id=ident, attributes={"id": ident, **attrs}, origin=Origin.STATE,
                    region="eu-west-1", address=f"{tf_type}.{ident.rsplit('/', 1)[-1].replace('-', '_')}")


def _state_stack(alarm_dimensions: Mapping[str, str]) -> list[Resource]:
    return [
        _state("aws_subnet", "subnet-a", {"availability_zone": "eu-west-1a", "vpc_id": "vpc-1"}),
        _state("aws_subnet", "subnet-b", {"availability_zone": "eu-west-1b", "vpc_id": "vpc-1"}),
        _state("aws_lb", LB_ARN, {"arn": LB_ARN, "arn_suffix": "app/web/50dc6c495c0c9188", "name": "web",
                                  "load_balancer_type": "application", "subnets": ["subnet-a", "subnet-b"]}),
        _state("aws_lb_target_group", TG_ARN, {"arn": TG_ARN, "arn_suffix": "targetgroup/web-blue/73e2d6bc24d8a067",
                                               "protocol": "HTTP", "load_balancer_arns": [LB_ARN]}),
        _state("aws_cloudwatch_metric_alarm", "target-5xx", {
            "alarm_name": "target-5xx", "namespace": "AWS/ApplicationELB", "metric_name": "HTTPCode_Target_5XX_Count",
            "dimensions": dict(alarm_dimensions), "metric_query": [], "actions_enabled": True,
            "alarm_actions": [f"arn:aws:sns:eu-west-1:{ACCOUNT}:alarms"]}),
    ]


def test_state_resources_join_by_id_and_arn_suffix() -> None:
    resources = _state_stack({"LoadBalancer": "app/web/50dc6c495c0c9188",
                              "TargetGroup": "targetgroup/web-blue/73e2d6bc24d8a067"})
    findings = evaluate(builtin_pack(), resources)
    assert set(verdicts(findings, "ALB-01").values()) == {Status.PASS}
    assert set(verdicts(findings, "CW-02").values()) == {Status.PASS}
    assert set(verdicts(findings, "CW-01").values()) == {Status.FAIL}  # no ELB 5xx alarm in this state


@pytest.mark.parametrize("dimensions", [
    {"LoadBalancer": "app/web/0000000000000000", "TargetGroup": "targetgroup/web-blue/73e2d6bc24d8a067"},
    {"TargetGroup": "targetgroup/web-blue/73e2d6bc24d8a067"},
    {"LoadBalancer": LB_ARN, "TargetGroup": TG_ARN},
])
def test_state_alarm_on_another_metric_stream_does_not_count(dimensions: Mapping[str, str]) -> None:
    findings = evaluate(builtin_pack(), _state_stack(dimensions))
    assert set(verdicts(findings, "CW-02").values()) == {Status.FAIL}


def test_state_attribute_missing_is_unobserved_not_default() -> None:
    lb = _state("aws_lb", LB_ARN, {"arn": LB_ARN, "load_balancer_type": "application"})
    findings = evaluate(builtin_pack(), [lb])
    for rule_id in ("ALB-05", "ALB-06", "ALB-08"):
        assert verdicts(findings, rule_id) == {lb.address: Status.UNKNOWN}, rule_id
