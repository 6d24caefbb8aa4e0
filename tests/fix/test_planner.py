"""The planner: exactly one action per drift finding, the skip reasons, import blocks, --only, rules,
and the Application Auto Scaling ownership check on moto."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest
from moto import mock_aws

from auditor.aws import Aws, AwsSettings
from auditor.fix.model import ActionKind, Plan
from auditor.fix.planner import autoscaling_check, build_plan
from auditor.models import AttributeChange, Drift, DriftKind, Finding, Severity, Status
from auditor.rules.engine import rule_pack

STATE = "s3://b/k"
SERVICE = "arn:aws:ecs:eu-west-1:123456789012:service/core/web"


@dataclass
class Run:  # the part of an AuditRun the planner reads
    drifts: tuple[Drift, ...]
    states: tuple[Any, ...] = ()
    compliance: Any = None


@dataclass
class Compliance:
    pack: Any
    findings: tuple[Finding, ...] = field(default=())


def changed(type_: str, id_: str, address: str, changes: dict[str, tuple[Any, Any]],
            state: dict[str, Any] | None = None) -> Drift:
    return Drift(type_, id_, DriftKind.CHANGED, address, "eu-west-1",
                 tuple(AttributeChange(p, s, v) for p, (s, v) in changes.items()), (STATE,), None,
                 state or {k.split("[")[0].split(".")[0]: s for k, (s, _) in changes.items()}, {})


DRIFTS = (
    Drift("aws_vpc", "vpc-1", DriftKind.IN_SYNC, "aws_vpc.main", "eu-west-1", states=(STATE,)),
    Drift("aws_security_group", "sg-1", DriftKind.IN_SYNC, "aws_security_group.svc", "eu-west-1", states=(STATE,)),
    changed("aws_cloudwatch_log_group", "/ecs/app", "aws_cloudwatch_log_group.app", {"retention_in_days": (30, 7)}),
    changed("aws_ecs_service", SERVICE, "aws_ecs_service.web", {"desired_count": (2, 4)},
            {"cluster": "arn:aws:ecs:eu-west-1:123456789012:cluster/core", "name": "web", "desired_count": 2}),
    changed("aws_lb", "arn:lb", "aws_lb.main", {"subnets": (["a"], ["b"])}),
    Drift("aws_vpc_security_group_ingress_rule", "sgr-9", DriftKind.MISSING, "aws_vpc_security_group_ingress_rule.x",
          "eu-west-1", states=(STATE,), state_attributes={"security_group_id": "sg-1"}),
    Drift("aws_vpc_security_group_ingress_rule", "sgr-1", DriftKind.UNMANAGED, None, "eu-west-1",
          live_attributes={"security_group_id": "sg-1"}),
    Drift("aws_vpc_security_group_ingress_rule", "sgr-2", DriftKind.UNMANAGED, None, "eu-west-1",
          live_attributes={"security_group_id": "sg-elsewhere"}),
    Drift("aws_security_group", "sg-7", DriftKind.UNMANAGED, None, "eu-west-1", live_attributes={"name": "debug"}),
    Drift("aws_security_group", "sg-8", DriftKind.UNMANAGED, None, "eu-west-1", live_attributes={"name": "Debug!"}),
    Drift("aws_lb", "arn:gone", DriftKind.UNKNOWN, None, "eu-west-1", reason="AccessDenied"),
)


def plan(autoscaled: str | None = None, only: tuple[str, ...] = (), compliance: Any = None) -> Plan:
    return build_plan(Run(DRIFTS, compliance=compliance), (), lambda _: autoscaled, _no_redeploy,  # type: ignore[arg-type]
                      only)


def _no_redeploy(drift: Drift) -> str:
    """No finding here has a drifted task definition (tests/fix/test_redeploy.py plans those)."""
    raise AssertionError(f"the deployer was asked about {drift.address}")


def kinds(p: Plan) -> dict[str, str]:
    return {a.address or a.id: a.kind.value for a in p.actions}


def test_every_drift_finding_gets_exactly_one_action() -> None:
    assert kinds(plan()) == {
        "aws_cloudwatch_log_group.app": "revert", "aws_ecs_service.web": "revert", "aws_lb.main": "skip",
        "aws_vpc_security_group_ingress_rule.x": "skip", "sgr-1": "revert", "sgr-2": "import", "sg-7": "import",
        "sg-8": "import"}


def test_skips_say_why_and_what_to_run_instead() -> None:
    actions = {a.address or a.id: a for a in plan().actions}
    gone = actions["aws_vpc_security_group_ingress_rule.x"]
    assert "new id the state does not know" in gone.summary
    assert gone.command == "terraform apply -target='aws_vpc_security_group_ingress_rule.x'"
    assert "no revert is declared for subnets" in actions["aws_lb.main"].summary
    # a rule added by hand to a managed group is revoked under that group's state lock
    assert actions["sgr-1"].state == STATE and actions["sgr-1"].calls[0].operation == "revoke_security_group_ingress"


def test_an_autoscaled_desired_count_is_skipped() -> None:
    action = next(a for a in plan("Application Auto Scaling governs it").actions if a.type == "aws_ecs_service")
    assert action.kind is ActionKind.SKIP
    assert action.summary == "desired_count is not reverted: Application Auto Scaling governs it"
    assert action.command == "terraform apply -refresh-only -target='aws_ecs_service.web'"


def test_import_blocks_have_valid_distinct_names() -> None:
    blocks = [a.import_block for a in plan().actions if a.import_block]
    assert 'import {\n  to = aws_security_group.debug\n  id = "sg-7"\n}\n' in blocks
    assert 'import {\n  to = aws_security_group.debug_2\n  id = "sg-8"\n}\n' in blocks
    assert 'to = aws_vpc_security_group_ingress_rule.sgr_2' in "".join(blocks)  # type: ignore[arg-type]


@pytest.mark.parametrize(("only", "expected"), [
    (("revert",), {"aws_cloudwatch_log_group.app", "aws_ecs_service.web", "sgr-1"}),
    (("aws_security_group",), {"sg-7", "sg-8"}),
    (("aws_lb.*",), {"aws_lb.main"}),
    (("import", "aws_ecs_*"), {"sgr-2", "sg-7", "sg-8", "aws_ecs_service.web"}),
])
def test_only_selects_by_kind_type_or_address(only: tuple[str, ...], expected: set[str]) -> None:
    p = plan(only=only)
    assert set(kinds(p)) == expected and p.filtered == only


def test_failing_rules_are_listed_with_remediation_and_snippet_never_acted_on() -> None:
    pack = rule_pack([])
    rule = pack.rules[0].meta
    failing = Finding(rule.id, Status.FAIL, Severity.HIGH, rule.resource_types[0], "x", "aws_x.y", "live", "bad")
    passing = Finding(rule.id, Status.PASS, Severity.HIGH, rule.resource_types[0], "z", None, "live", "ok")
    p = plan(compliance=Compliance(pack, (failing, passing)))
    [item] = p.rules
    assert (item.rule, item.resource, item.remediation, item.snippet) == (rule.id, "aws_x.y", rule.remediation,
                                                                         rule.terraform)
    assert plan(only=("revert",), compliance=Compliance(pack, (failing,))).rules == ()
    assert plan(only=(rule.id,), compliance=Compliance(pack, (failing,))).rules == (item,)


def test_the_plan_round_trips_through_json() -> None:
    p = plan()
    assert Plan.from_json(p.as_json()) == p
    assert p.as_json()["counts"] == {"revert": 3, "skip": 2, "import": 3}


def test_autoscaling_ownership_is_read_from_application_auto_scaling() -> None:
    drift = next(d for d in DRIFTS if d.type == "aws_ecs_service")
    with mock_aws():
        aws = Aws(AwsSettings(region="eu-west-1", max_attempts=1))
        check = autoscaling_check(aws)
        assert check(drift) is None
        ecs = aws.client("ecs")
        ecs.create_cluster(clusterName="core")
        ecs.register_task_definition(family="web", containerDefinitions=[{"name": "web", "image": "nginx",
                                                                         "memory": 128}])
        ecs.create_service(cluster="core", serviceName="web", taskDefinition="web", desiredCount=2)
        aws.client("application-autoscaling").register_scalable_target(
            ServiceNamespace="ecs", ResourceId="service/core/web", ScalableDimension="ecs:service:DesiredCount",
            MinCapacity=2, MaxCapacity=10)
        assert check(drift) == "Application Auto Scaling governs it (service/core/web, min 2, max 10)"


def test_an_unknown_autoscaling_answer_is_a_reason_to_skip() -> None:
    class Denied:
        def client(self, *_: Any) -> Any:
            raise PermissionError("no")

    reason = autoscaling_check(Denied())(next(d for d in DRIFTS if d.type == "aws_ecs_service"))
    assert reason is not None and reason.startswith("could not tell whether Application Auto Scaling governs it")
