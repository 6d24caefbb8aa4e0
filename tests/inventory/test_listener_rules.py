"""aws_lb_listener_rule (moto in-process, stubs) and forwards a deployer owns."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from botocore.stub import Stubber
from moto import mock_aws

from auditor.aws import Aws, AwsSettings
from auditor.diff import diff
from auditor.inventory import loadbalancing as lbmod
from auditor.inventory.base import CollectContext
from auditor.models import DriftKind, Inventory, Observation, ObservationStatus, Origin, Resource
from auditor.state.resources import StateResources
from tests.inventory._edge import ACCOUNT, REGION, changes, collect, compared


@pytest.fixture
def aws() -> Iterator[Aws]:
    with mock_aws():
        yield Aws(AwsSettings(region=REGION))


@pytest.fixture
def listener(aws: Aws) -> dict[str, str]:
    ec2, elbv2 = aws.client("ec2", REGION), aws.client("elbv2", REGION)
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    subnets = [ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.0.{i}.0/24", AvailabilityZone=f"{REGION}{z}")[
        "Subnet"]["SubnetId"] for i, z in enumerate("ab")]
    lb = elbv2.create_load_balancer(Name="web", Subnets=subnets)["LoadBalancers"][0]["LoadBalancerArn"]
    groups = [elbv2.create_target_group(Name=name, Protocol="HTTP", Port=3000, VpcId=vpc, TargetType="ip")[
        "TargetGroups"][0]["TargetGroupArn"] for name in ("blue", "green")]
    arn = elbv2.create_listener(LoadBalancerArn=lb, Port=80, Protocol="HTTP", DefaultActions=[
        {"Type": "fixed-response", "FixedResponseConfig": {"StatusCode": "404", "ContentType": "text/plain"}}],
    )["Listeners"][0]["ListenerArn"]
    return {"listener": arn, "blue": groups[0], "green": groups[1]}


def _rule_state(arn: str, listener_arn: str, blue: str, green: str, weights: tuple[int, int]) -> dict[str, Any]:
    """The shape hashicorp/aws 5.100 writes for a weighted-forward rule on /api/*."""
    return {
        "id": arn, "arn": arn, "listener_arn": listener_arn, "priority": 10, "tags": {"Team": "web"},
        "tags_all": {"Team": "web"},
        "action": [{"type": "forward", "order": 1, "target_group_arn": "", "authenticate_cognito": [],
                    "authenticate_oidc": [], "fixed_response": [], "redirect": [],
                    "forward": [{"target_group": [{"arn": green, "weight": weights[1]},
                                                  {"arn": blue, "weight": weights[0]}], "stickiness": []}]}],
        "condition": [{"host_header": [], "http_header": [], "http_request_method": [], "query_string": [],
                       "source_ip": [], "path_pattern": [{"values": ["/v2/*", "/api/*"]}]}],
    }


def test_listener_rules_in_provider_shape_with_tags_for_held_ones(aws: Aws, listener: dict[str, str]) -> None:
    elbv2 = aws.client("elbv2", REGION)
    forward = [{"Type": "forward", "ForwardConfig": {"TargetGroups": [
        {"TargetGroupArn": listener["blue"], "Weight": 90}, {"TargetGroupArn": listener["green"], "Weight": 10}]}}]
    paths = [{"Field": "path-pattern", "PathPatternConfig": {"Values": ["/api/*", "/v2/*"]}}]
    held = elbv2.create_rule(ListenerArn=listener["listener"], Priority=10, Actions=forward, Conditions=paths,
                             Tags=[{"Key": "Team", "Value": "web"}])["Rules"][0]["RuleArn"]
    other = elbv2.create_rule(ListenerArn=listener["listener"], Priority=20, Actions=[
        {"Type": "redirect", "RedirectConfig": {"Protocol": "HTTPS", "Port": "443", "StatusCode": "HTTP_301"}}],
        Conditions=[{"Field": "host-header", "HostHeaderConfig": {"Values": ["old.example.com"]}}],
    )["Rules"][0]["RuleArn"]

    found = collect(aws, lbmod.collect_listener_rules, {"aws_lb_listener_rule": [held]})

    assert sorted(found) == sorted([held, other])  # the default rule is the listener's default_action
    live = found[held].attributes
    assert compared(lbmod.LISTENER_RULE, live)["priority"] == 10
    assert live["tags"] == {"Team": "web"} and "tags" not in found[other].attributes
    state = _rule_state(held, listener["listener"], listener["blue"], listener["green"], (90, 10))
    assert changes(lbmod.LISTENER_RULE, state, live) == []  # sets (groups, conditions, values) in any order
    assert found[other].attributes["condition"][0]["host_header"] == [{"values": ["old.example.com"]}]
    assert found[other].attributes["action"][0]["redirect"][0]["protocol"] == "HTTPS"
    shifted = changes(lbmod.LISTENER_RULE, _rule_state(held, listener["listener"], listener["blue"],
                                                       listener["green"], (50, 50)), live)
    assert [c.path for c in shifted] == ["action[0].forward[0].target_group"]


def test_describe_rules_follows_every_page() -> None:
    aws = Aws(AwsSettings(region=REGION))
    listener_arn = f"arn:aws:elasticloadbalancing:{REGION}:{ACCOUNT}:listener/app/web/1/2"
    rule = {"Priority": "1", "Actions": [], "Conditions": [], "IsDefault": False}
    with Stubber(aws.client("elbv2", REGION)) as stub:
        stub.add_response("describe_load_balancers", {"LoadBalancers": [{"LoadBalancerArn": "arn:lb"}]}, {})
        stub.add_response("describe_listeners", {"Listeners": [{"ListenerArn": listener_arn}]},
                          {"LoadBalancerArn": "arn:lb"})
        stub.add_response("describe_rules", {"Rules": [{**rule, "RuleArn": "arn:r1"}], "NextMarker": "m2"},
                          {"ListenerArn": listener_arn})
        stub.add_response("describe_rules", {"Rules": [{**rule, "RuleArn": "arn:r2"},
                                                       {**rule, "RuleArn": "arn:default", "IsDefault": True,
                                                        "Priority": "default"}]},
                          {"ListenerArn": listener_arn, "Marker": "m2"})
        found = list(lbmod.collect_listener_rules(CollectContext(aws, REGION, ACCOUNT)))
        stub.assert_no_pending_responses()
    assert [r.id for r in found] == ["arn:r1", "arn:r2"]


# --- forwards a deployer owns -------------------------------------------------------------------


def _audit(rule_state: dict[str, Any], live_attrs: dict[str, Any], *others: Resource) -> list[Any]:
    held = Resource("aws_lb_listener_rule", rule_state["id"], rule_state, Origin.STATE, REGION,
                    "aws_lb_listener_rule.api")
    live = Resource("aws_lb_listener_rule", rule_state["id"], live_attrs, Origin.LIVE, REGION)
    state = StateResources(resources=(held, *(o for o in others if o.type == "aws_ecs_service")),
                           holders={held.key: ("s3://b/k",)}, deposed_ids=frozenset(), unmatched=(),
                           unsupported=tuple(o for o in others if o.type != "aws_ecs_service"))
    inventory = Inventory((live,), (Observation("aws_lb_listener_rule", REGION, ObservationStatus.OBSERVED, 1),), 0)
    return [d for d in diff(state, inventory) if d.type == "aws_lb_listener_rule"]


def test_weights_a_deployer_shifts_are_not_drift_but_other_changes_are() -> None:
    blue, green, listener = "arn:tg/blue", "arn:tg/green", "arn:listener/1"
    state = _rule_state("arn:rule/1", listener, blue, green, (100, 0))
    mid_deploy = _rule_state("arn:rule/1", listener, blue, green, (20, 80))
    # without a deployer, the shifted weights are drift
    [plain] = _audit(state, mid_deploy)
    assert plain.kind is DriftKind.CHANGED and [c.path for c in plain.changes] == ["action[0].forward[0].target_group"]
    # an ECS service with the CODE_DEPLOY controller behind the blue group: the deployer owns the forward
    service = Resource("aws_ecs_service", "arn:svc", {"deployment_controller": [{"type": "CODE_DEPLOY"}],
                                                     "load_balancer": [{"target_group_arn": blue}]},
                       Origin.STATE, REGION, "aws_ecs_service.app")
    [owned] = _audit(state, mid_deploy, service)
    assert owned.kind is DriftKind.IN_SYNC
    assert lbmod.deployer_of(Resource("aws_lb_listener_rule", "x", state, Origin.STATE), {"aws_ecs_service": [service]})
    # ... but not the rest of the rule
    [moved] = _audit(state, {**mid_deploy, "priority": 99}, service)
    assert [c.path for c in moved.changes] == ["priority"]
    # a CodeDeploy deployment group whose production route is the listener (a type the auditor does not read)
    group = Resource("aws_codedeploy_deployment_group", "app", {"load_balancer_info": [{"target_group_pair_info": [
        {"prod_traffic_route": [{"listener_arns": [listener]}], "test_traffic_route": []}]}]}, Origin.STATE)
    [routed] = _audit(state, mid_deploy, group)
    assert routed.kind is DriftKind.IN_SYNC


def test_the_listener_default_action_of_a_deployer_is_not_drift() -> None:
    blue, green = "arn:tg/blue", "arn:tg/green"
    state = {"id": "arn:l", "arn": "arn:l", "port": 443, "protocol": "HTTPS",
             "default_action": [{"type": "forward", "order": 1, "target_group_arn": blue}]}
    live = {**state, "default_action": [{"type": "forward", "order": 1, "target_group_arn": green}]}
    service = Resource("aws_ecs_service", "arn:svc", {"deployment_controller": [{"type": "EXTERNAL"}],
                                                     "load_balancer": [{"target_group_arn": blue}]}, Origin.STATE)
    owned = lbmod.LISTENER.deployer_owned
    assert owned is not None
    listener = Resource("aws_lb_listener", "arn:l", state, Origin.STATE)
    strip = owned(listener, {"aws_ecs_service": [service]})["default_action"]
    assert strip(state["default_action"]) == strip(live["default_action"])
    assert owned(listener, {}) == {}
    redirect = [{"type": "redirect", "order": 1, "redirect": [{"protocol": "HTTPS", "status_code": "HTTP_301"}]}]
    assert strip(redirect) == lbmod.normalize_actions(redirect)  # only forwards are the deployer's
