"""The thresholds of RuleSettings change the verdicts of the rules that read them, on the rule fixtures."""

from __future__ import annotations

from auditor.models import Status
from auditor.rules.engine import evaluate
from auditor.rules.settings import RuleSettings
from tests.rules.support import FIXTURES, builtin_pack, code_resources, verdicts


def _fixture(rule_id: str, settings: RuleSettings) -> dict[str, Status]:
    return verdicts(evaluate(builtin_pack(), code_resources(FIXTURES / rule_id), settings), rule_id)


def _default(rule_id: str) -> dict[str, Status]:
    return _fixture(rule_id, RuleSettings())


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
