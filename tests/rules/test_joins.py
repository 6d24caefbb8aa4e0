"""auditor.rules.joins: the cross-resource joins of the ALB, CloudWatch, ECS and network rules, on code
resources and on resources in state shape (ids and ARNs instead of references)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pytest

from auditor.code.values import Ref
from auditor.models import Origin, Resource, Status, Unresolved
from auditor.rules import joins
from auditor.rules.engine import evaluate
from auditor.rules.model import RuleContext
from tests.rules.support import builtin_pack, verdicts

LB_ARN = "arn:aws:elasticloadbalancing:eu-west-1:111122223333:loadbalancer/app/web/50dc6c495c0c9188"
TG_ARN = "arn:aws:elasticloadbalancing:eu-west-1:111122223333:targetgroup/blue/73e2d6bc24d8a067"


def _res(tf_type: str, name: str, attrs: Mapping[str, Any], origin: Origin = Origin.CODE) -> Resource:
    ident = f"{tf_type}.{name}" if origin is Origin.CODE else name
    return Resource(type=tf_type, id=ident, attributes=dict(attrs), origin=origin, address=f"{tf_type}.{name}")


def _ctx(*resources: Resource) -> RuleContext:
    by_type: dict[str, list[Resource]] = {}
    for r in resources:
        by_type.setdefault(r.type, []).append(r)
    return RuleContext(resources=by_type)


def test_arn_suffix_of_arns_and_resources() -> None:
    assert joins.arn_suffix(LB_ARN) == "app/web/50dc6c495c0c9188"
    assert joins.arn_suffix(TG_ARN) == "targetgroup/blue/73e2d6bc24d8a067"
    assert joins.arn_suffix(_res("aws_lb", "web", {"name": "web"})) is None  # code: known after apply
    assert joins.arn_suffix(_res("aws_lb", LB_ARN, {}, Origin.LIVE)) == "app/web/50dc6c495c0c9188"


def test_dimension_values_name_a_load_balancer_only_by_its_suffix() -> None:
    lb = _res("aws_lb", "web", {"name": "web"})
    ctx = _ctx(lb)
    assert joins.names_arn_suffix(ctx, Ref("aws_lb.web", "arn_suffix"), lb) is True
    assert joins.names_arn_suffix(ctx, Ref("aws_lb.web", "arn"), lb) is False
    assert joins.names_arn_suffix(ctx, "app/web/0123456789abcdef", lb) is None  # its id is unknown until apply
    assert joins.names_arn_suffix(ctx, "app/api/0123456789abcdef", lb) is False
    assert joins.names_arn_suffix(ctx, Ref("data.aws_lb.shared", "arn_suffix"), lb) is None
    assert joins.names_arn_suffix(ctx, "app/web/50dc6c495c0c9188", LB_ARN) is True


def test_zones_count_names_and_ids_without_double_counting() -> None:
    subnets = [_res("aws_subnet", "a", {"availability_zone": "eu-west-1a"}),
               _res("aws_subnet", "b", {"availability_zone_id": "euw1-az2"})]
    zones = joins.subnet_zones(_ctx(*subnets), [Ref("aws_subnet.a", "id"), Ref("aws_subnet.b", "id")])
    assert len(zones.known) == 1 and zones.unknown
    assert joins.zone_spread(zones, 2, "it").status is Status.UNKNOWN
    assert joins.zone_spread(zones, 1, "it").status is Status.PASS


def test_a_subnet_id_that_is_not_in_code_is_unknown() -> None:
    found = joins.designated(_ctx(_res("aws_subnet", "a", {})), "subnet-0123", ("aws_subnet",), ("id",))
    assert isinstance(found, Unresolved) and "names no aws_subnet of this source" in found.reason


def test_live_subnet_ids_join() -> None:
    subnet = _res("aws_subnet", "subnet-0a", {"id": "subnet-0a", "availability_zone": "eu-west-1a"}, Origin.LIVE)
    assert joins.designated(_ctx(subnet), "subnet-0a", ("aws_subnet",), ("id",)) is subnet


def test_alarm_metrics_single_and_metric_math() -> None:
    alarm = _res("aws_cloudwatch_metric_alarm", "math", {"metric_query": [
        {"id": "e", "expression": "a + b"},
        {"id": "a", "metric": [{"namespace": "AWS/ApplicationELB", "metric_name": "HTTPCode_ELB_5XX_Count",
                                "dimensions": {"LoadBalancer": "app/web/1"}}]}]})
    found = joins.alarm_metrics(alarm)
    assert isinstance(found, list) and [m.name for m in found] == ["HTTPCode_ELB_5XX_Count"]
    unknown = _res("aws_cloudwatch_metric_alarm", "dyn", {"metric_query": Unresolved("dynamic block")})
    assert isinstance(joins.alarm_metrics(unknown), Unresolved)


def test_target_group_served_through_listener_and_arns() -> None:
    lb = _res("aws_lb", "web", {"name": "web"})
    tg = _res("aws_lb_target_group", "blue", {"protocol": "HTTP"})
    listener = _res("aws_lb_listener", "https", {
        "load_balancer_arn": Ref("aws_lb.web", "arn"),
        "default_action": [{"type": "forward", "forward": [{"target_group": [{"arn": Ref("aws_lb_target_group.blue",
                                                                                        "arn")}]}]}]})
    served = joins.target_group_load_balancers(_ctx(lb, tg, listener), tg)
    assert served.load_balancers == (lb,) and not served.unknown_lb and not served.undecided
    live_tg = _res("aws_lb_target_group", TG_ARN, {"arn": TG_ARN, "load_balancer_arns": [LB_ARN]}, Origin.LIVE)
    assert joins.target_group_load_balancers(_ctx(live_tg), live_tg).load_balancers == (LB_ARN,)


def test_live_subnet_without_association_uses_the_main_route_table() -> None:
    subnet = _res("aws_subnet", "subnet-0a", {"id": "subnet-0a", "vpc_id": "vpc-1"}, Origin.LIVE)
    main = _res("aws_route_table", "rtb-main", {"id": "rtb-main", "vpc_id": "vpc-1", "_main": True, "route": [
        {"cidr_block": "0.0.0.0/0", "gateway_id": "igw-1"}]}, Origin.LIVE)
    other = _res("aws_route_table", "rtb-other", {"id": "rtb-other", "vpc_id": "vpc-2", "_main": True, "route": []},
                 Origin.LIVE)
    table = joins.subnet_route_table(_ctx(subnet, main, other), subnet)
    assert isinstance(table, joins.RouteTable) and "rtb-main" in table.name and len(table.routes) == 1
    assert isinstance(joins.subnet_route_table(_ctx(subnet), subnet), Unresolved)  # no table observed


# --- state-shaped resources: joins by id and ARN -------------------------------------------------

ACCOUNT = "111122223333"
STATE_TG_ARN = f"arn:aws:elasticloadbalancing:eu-west-1:{ACCOUNT}:targetgroup/web-blue/73e2d6bc24d8a067"


def _state(tf_type: str, ident: str, attrs: Mapping[str, Any]) -> Resource:
    return Resource(type=tf_type, id=ident, attributes={"id": ident, **attrs}, origin=Origin.STATE,
                    region="eu-west-1", address=f"{tf_type}.{ident.rsplit('/', 1)[-1].replace('-', '_')}")


def _state_stack(alarm_dimensions: Mapping[str, str]) -> list[Resource]:
    return [
        _state("aws_subnet", "subnet-a", {"availability_zone": "eu-west-1a", "vpc_id": "vpc-1"}),
        _state("aws_subnet", "subnet-b", {"availability_zone": "eu-west-1b", "vpc_id": "vpc-1"}),
        _state("aws_lb", LB_ARN, {"arn": LB_ARN, "arn_suffix": "app/web/50dc6c495c0c9188", "name": "web",
                                  "load_balancer_type": "application", "subnets": ["subnet-a", "subnet-b"]}),
        _state("aws_lb_target_group", STATE_TG_ARN, {
            "arn": STATE_TG_ARN, "arn_suffix": "targetgroup/web-blue/73e2d6bc24d8a067", "protocol": "HTTP",
            "load_balancer_arns": [LB_ARN]}),
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
    {"LoadBalancer": LB_ARN, "TargetGroup": STATE_TG_ARN},
])
def test_state_alarm_on_another_metric_stream_does_not_count(dimensions: Mapping[str, str]) -> None:
    findings = evaluate(builtin_pack(), _state_stack(dimensions))
    assert set(verdicts(findings, "CW-02").values()) == {Status.FAIL}


def test_state_attribute_missing_is_unobserved_not_default() -> None:
    lb = _state("aws_lb", LB_ARN, {"arn": LB_ARN, "load_balancer_type": "application"})
    findings = evaluate(builtin_pack(), [lb])
    for rule_id in ("ALB-05", "ALB-06", "ALB-08"):
        assert verdicts(findings, rule_id) == {lb.address: Status.UNKNOWN}, rule_id
