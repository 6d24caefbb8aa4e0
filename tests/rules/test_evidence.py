"""The engine's evidence log: a live verdict resting on a type or attribute that was not observed is
UNKNOWN with the reason, whatever the check concluded; observed evidence is judged as before."""

from __future__ import annotations

from auditor.models import Origin, Resource
from auditor.rules.backend import backend_resource
from auditor.rules.engine import UNOBSERVED, evaluate
from auditor.rules.model import Evidence, Status
from tests.rules.support import builtin_pack

REGION = "eu-west-1"
ARN = f"arn:aws:elasticloadbalancing:{REGION}:123456789012:loadbalancer/app/web/0123456789abcdef"
ALARM = "aws_cloudwatch_metric_alarm"


def _lb() -> Resource:
    return Resource("aws_lb", ARN, {"id": ARN, "arn": ARN, "arn_suffix": "app/web/0123456789abcdef", "name": "web",
                                    "load_balancer_type": "application", "internal": False},
                    Origin.LIVE, region=REGION)


def _cw01(evidence: Evidence) -> tuple[Status, str]:
    [finding] = [f for f in evaluate(builtin_pack(), [_lb()], evidence=evidence) if f.rule_id == "CW-01"]
    return finding.status, finding.message


def test_an_unobserved_alarm_type_makes_cw01_unknown_not_fail() -> None:
    denied = Evidence({"aws_lb": frozenset({REGION}), ALARM: frozenset()},
                      {(ALARM, REGION): "AccessDeniedException on DescribeAlarms"}, frozenset({REGION}),
                      frozenset({"aws_lb", ALARM}))
    status, message = _cw01(denied)
    assert status is Status.UNKNOWN
    assert "aws_cloudwatch_metric_alarm in eu-west-1: AccessDeniedException" in message


def test_observed_and_empty_is_judged() -> None:
    seen = Evidence({"aws_lb": frozenset({REGION}), ALARM: frozenset({REGION})}, {}, frozenset({REGION}),
                    frozenset({"aws_lb", ALARM}))
    assert _cw01(seen)[0] is Status.FAIL


def test_observed_only_in_another_region_is_not_evidence_here() -> None:
    elsewhere = Evidence({"aws_lb": frozenset({REGION}), ALARM: frozenset({"us-east-1"})}, {},
                         frozenset({REGION, "us-east-1"}), frozenset({"aws_lb", ALARM}))
    assert _cw01(elsewhere)[0] is Status.UNKNOWN


def test_a_partially_read_attribute_makes_the_rules_reading_it_unknown() -> None:
    settings = {"type": "s3", "bucket": "tfstate", "key": "prod.tfstate", "dynamodb_table": "locks",
                "_lock_mechanisms_seen": [], "_sse": "aws:kms",
                UNOBSERVED: {"_lock_mechanisms_seen": "DynamoDB table locks: AccessDeniedException on GetItem"}}
    backend = backend_resource(settings, origin=Origin.LIVE, source="s3://tfstate/prod.tfstate",
                               address="s3://tfstate/prod.tfstate")
    found = {f.rule_id: f for f in evaluate(builtin_pack(), [backend])}
    assert found["STATE-02"].status is Status.UNKNOWN and "GetItem" in found["STATE-02"].message
    assert found["STATE-03"].status is not Status.UNKNOWN  # encryption was read: still judged
