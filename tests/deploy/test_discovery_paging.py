"""Discovery reads every page (moto answers one page whatever the size, so this uses botocore's Stubber)."""

from __future__ import annotations

from typing import Any

from botocore.stub import Stubber

from auditor.aws import Aws, AwsSettings
from auditor.deploy.discovery import discover
from auditor.deploy.model import AlbSetup, DeployRequest

A = "arn:aws:elasticloadbalancing:us-east-1:123456789012"
BLUE_TG, GREEN_TG = f"{A}:targetgroup/web-blue/1", f"{A}:targetgroup/web-green/2"
LB = f"{A}:loadbalancer/app/web/3"
L80, L443 = f"{A}:listener/app/web/3/80", f"{A}:listener/app/web/3/443"
RULE = f"{A}:listener-rule/app/web/3/443/9"
SVC = "arn:aws:ecs:us-east-1:123456789012:service/shop/{}"


def _service(name: str, tg: str, desired: int) -> dict[str, Any]:
    return {"serviceName": name, "serviceArn": SVC.format(name), "status": "ACTIVE", "desiredCount": desired,
            "taskDefinition": "arn:aws:ecs:us-east-1:123456789012:task-definition/web:1",
            "deploymentController": {"type": "ECS"},
            "loadBalancers": [{"targetGroupArn": tg, "containerName": "web", "containerPort": 3000}]}


def test_discovery_follows_every_page() -> None:
    aws = Aws(AwsSettings(region="us-east-1", max_attempts=1))
    ecs, elb = Stubber(aws.client("ecs")), Stubber(aws.client("elbv2"))
    ecs.add_response("describe_services", {"services": [_service("web-blue", BLUE_TG, 2)]},
                     {"cluster": "shop", "services": ["web-blue"]})
    elb.add_response("describe_target_groups", {"TargetGroups": [{"TargetGroupArn": BLUE_TG,
                                                                  "LoadBalancerArns": [LB]}]},
                     {"TargetGroupArns": [BLUE_TG]})
    redirect = [{"Type": "redirect", "RedirectConfig": {"Protocol": "HTTPS", "StatusCode": "HTTP_301"}}]
    elb.add_response("describe_listeners", {"Listeners": [{"ListenerArn": L80, "DefaultActions": redirect}],
                                            "NextMarker": "m1"}, {"LoadBalancerArn": LB})
    elb.add_response("describe_listeners", {"Listeners": [{"ListenerArn": L443, "DefaultActions": redirect}]},
                     {"LoadBalancerArn": LB, "Marker": "m1"})
    elb.add_response("describe_rules", {"Rules": [{"RuleArn": f"{A}:listener-rule/app/web/3/80/1", "IsDefault": True,
                                                   "Actions": redirect}]}, {"ListenerArn": L80})
    weighted = [{"Type": "forward", "ForwardConfig": {"TargetGroups": [
        {"TargetGroupArn": BLUE_TG, "Weight": 100}, {"TargetGroupArn": GREEN_TG, "Weight": 0}]}}]
    elb.add_response("describe_rules", {"Rules": [{"RuleArn": f"{A}:listener-rule/app/web/3/443/1", "IsDefault": True,
                                                   "Actions": redirect}], "NextMarker": "r1"}, {"ListenerArn": L443})
    elb.add_response("describe_rules", {"Rules": [{"RuleArn": RULE, "IsDefault": False, "Actions": weighted}]},
                     {"ListenerArn": L443, "Marker": "r1"})
    ecs.add_response("list_services", {"serviceArns": [SVC.format("web-blue")], "nextToken": "s1"},
                     {"cluster": "shop"})
    ecs.add_response("list_services", {"serviceArns": [SVC.format("web-green")]}, {"cluster": "shop",
                                                                                  "nextToken": "s1"})
    ecs.add_response("describe_services", {"services": [_service("web-blue", BLUE_TG, 2),
                                                        _service("web-green", GREEN_TG, 0)]},
                     {"cluster": "shop", "services": [SVC.format("web-blue"), SVC.format("web-green")]})
    elb.add_response("describe_target_groups", {"TargetGroups": [
        {"TargetGroupArn": arn, "Protocol": "HTTP", "Port": 3000, "VpcId": "vpc-1", "TargetType": "ip",
         "LoadBalancerArns": [LB]} for arn in (BLUE_TG, GREEN_TG)]}, {"TargetGroupArns": [BLUE_TG, GREEN_TG]})
    with ecs, elb:
        setup = discover(aws, DeployRequest(cluster="shop", service="web-blue", image="x@sha256:" + "0" * 64))
    assert isinstance(setup, AlbSetup)
    assert (setup.listener, setup.rule, setup.load_balancer) == (L443, RULE, LB)
    assert (setup.blue.service, setup.blue.desired, setup.green.service) == ("web-blue", 2, "web-green")
    ecs.assert_no_pending_responses()
    elb.assert_no_pending_responses()
