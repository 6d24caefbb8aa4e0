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


def _key_rule(evidence: Evidence, key_arn: str) -> Status:
    """ECR-04 on a live repository encrypted with `key_arn`, beside one live customer-managed key."""
    key = Resource("aws_kms_key", "k-1", {"id": "k-1", "key_id": "k-1", "arn": KEY_ARN, "_aws_managed": False},
                   Origin.LIVE, region=REGION)
    repo = Resource("aws_ecr_repository", "app", {
        "id": "app", "name": "app", "encryption_configuration": [{"encryption_type": "KMS", "kms_key": key_arn}]},
        Origin.LIVE, region=REGION)
    [finding] = [f for f in evaluate(builtin_pack(), [key, repo], evidence=evidence) if f.rule_id == "ECR-04"]
    return finding.status


KEY_ARN = f"arn:aws:kms:{REGION}:123456789012:key/k-1"


def test_types_listed_under_another_type_count_as_observed_with_it() -> None:
    """Replica and imported-material keys are live aws_kms_keys (ListKeys lists them): once that type is
    observed, a key looked up among every CMK type is judged; while it is not, the verdict is UNKNOWN."""
    seen = Evidence({"aws_ecr_repository": frozenset({REGION}), "aws_kms_key": frozenset({REGION})}, {},
                    frozenset({REGION}), frozenset({"aws_ecr_repository", "aws_kms_key"}))
    assert _key_rule(seen, KEY_ARN) is Status.PASS
    assert seen.missing("aws_kms_replica_key", REGION) is None
    assert seen.missing("aws_route", REGION) == "aws_route_table: no live collector reads it"
    denied = Evidence({"aws_ecr_repository": frozenset({REGION}), "aws_kms_key": frozenset()},
                      {("aws_kms_key", REGION): "AccessDeniedException on ListKeys"}, frozenset({REGION}),
                      frozenset({"aws_ecr_repository", "aws_kms_key"}))
    assert _key_rule(denied, KEY_ARN) is Status.UNKNOWN
    assert denied.missing("aws_kms_external_key", REGION) == (
        "aws_kms_key in eu-west-1: AccessDeniedException on ListKeys")
