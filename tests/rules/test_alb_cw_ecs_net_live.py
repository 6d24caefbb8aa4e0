"""ALB, CloudWatch, ECS and network rules on live resources: AWS objects made in moto (in-process), read by
the collectors (`collect_inventory`), judged by the built-in pack."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import pytest
from moto import mock_aws

from auditor.aws import Aws, AwsSettings
from auditor.inventory.runner import collect_inventory
from auditor.models import Finding, Inventory, Status
from auditor.rules.engine import evaluate
from auditor.rules.read import live_read_from
from auditor.rules.settings import RuleSettings
from tests.rules.support import builtin_pack

REGION = "ap-south-1"
ACCOUNT = "123456789012"
TYPES = ("aws_lb", "aws_lb_listener", "aws_lb_target_group", "aws_subnet", "aws_route_table",
         "aws_route_table_association", "aws_security_group", "aws_security_group_rule",
         "aws_vpc_security_group_ingress_rule", "aws_cloudwatch_metric_alarm", "aws_ecs_cluster", "aws_ecs_service",
         "aws_ecs_task_definition")
WANTED = {REGION: {"aws_ecs_task_definition": frozenset({"privileged", "plain"})}}


@dataclass(frozen=True)
class Judged:
    inventory: Inventory
    findings: tuple[Finding, ...]

    def status(self, rule_id: str, resource_id: str) -> Status:
        found = [f for f in self.findings if f.rule_id == rule_id and f.resource_id == resource_id]
        assert len(found) == 1, f"{rule_id} on {resource_id}: {found}"
        return found[0].status

    def message(self, rule_id: str, resource_id: str) -> str:
        return next(f.message for f in self.findings if f.rule_id == rule_id and f.resource_id == resource_id)


@dataclass(frozen=True)
class Live:
    """One moto account built once for the module: what was made (ids) and its judgement per profile."""

    ids: Mapping[str, str]
    judged: Judged
    elb17: Judged


@pytest.fixture(scope="module")
def live() -> Iterator[Live]:
    with mock_aws():
        aws = Aws(AwsSettings(region=REGION))
        ids: dict[str, str] = {}
        _network(aws, ids)
        _edge(aws, ids)
        _ecs(aws, ids)
        yield Live(ids, _judge(aws), _judge(aws, RuleSettings(tls_profile="securityhub-elb17")))


def _network(aws: Aws, ids: dict[str, str]) -> None:
    ec2 = aws.client("ec2", REGION)
    vpc = ids["vpc"] = ec2.create_vpc(CidrBlock="10.9.0.0/16")["Vpc"]["VpcId"]
    for name, cidr, zone in (("a", "10.9.0.0/24", "a"), ("b", "10.9.1.0/24", "b"), ("a2", "10.9.2.0/24", "a"),
                             ("private", "10.9.10.0/24", "a")):
        ids[f"subnet_{name}"] = ec2.create_subnet(VpcId=vpc, CidrBlock=cidr,
                                                   AvailabilityZone=f"{REGION}{zone}")["Subnet"]["SubnetId"]
    igw = ec2.create_internet_gateway()["InternetGateway"]["InternetGatewayId"]
    ec2.attach_internet_gateway(InternetGatewayId=igw, VpcId=vpc)
    public = ec2.create_route_table(VpcId=vpc)["RouteTable"]["RouteTableId"]
    ec2.create_route(RouteTableId=public, DestinationCidrBlock="0.0.0.0/0", GatewayId=igw)
    for name in ("a", "b"):
        ec2.associate_route_table(RouteTableId=public, SubnetId=ids[f"subnet_{name}"])
    ec2.modify_subnet_attribute(SubnetId=ids["subnet_a"], MapPublicIpOnLaunch={"Value": True})
    ids["sg_ssh"] = ec2.create_security_group(GroupName="ssh", Description="ssh", VpcId=vpc)["GroupId"]
    ec2.authorize_security_group_ingress(GroupId=ids["sg_ssh"], IpPermissions=[
        {"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22, "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}])
    ids["sg_web"] = ec2.create_security_group(GroupName="web", Description="web", VpcId=vpc)["GroupId"]
    ec2.authorize_security_group_ingress(GroupId=ids["sg_web"], IpPermissions=[
        {"IpProtocol": "tcp", "FromPort": 443, "ToPort": 443, "IpRanges": [{"CidrIp": "0.0.0.0/0"}]},
        {"IpProtocol": "tcp", "FromPort": 80, "ToPort": 80, "Ipv6Ranges": [{"CidrIpv6": "::/0"}]}])
    rules = ec2.describe_security_group_rules(Filters=[{"Name": "group-id", "Values": [ids["sg_ssh"]]}])
    ids["rule_ssh"] = next(r["SecurityGroupRuleId"] for r in rules["SecurityGroupRules"] if not r["IsEgress"])


def _edge(aws: Aws, ids: dict[str, str]) -> None:
    elbv2 = aws.client("elbv2", REGION)
    certificate = aws.client("acm", REGION).request_certificate(DomainName="app.example.com")["CertificateArn"]

    def lb(name: str, subnets: list[str], **kwargs: Any) -> str:
        arn: str = elbv2.create_load_balancer(Name=name, Subnets=subnets, **kwargs)["LoadBalancers"][0][
            "LoadBalancerArn"]
        ids[f"lb_{name}"] = arn
        return arn

    def listener(name: str, lb_arn: str, **kwargs: Any) -> None:
        ids[f"listener_{name}"] = elbv2.create_listener(LoadBalancerArn=lb_arn, **kwargs)["Listeners"][0][
            "ListenerArn"]

    web = lb("web", [ids["subnet_a"], ids["subnet_b"]], SecurityGroups=[ids["sg_web"]])
    single = lb("single", [ids["subnet_a"], ids["subnet_a2"]], SecurityGroups=[ids["sg_web"]])
    unset = lb("unset", [ids["subnet_a"], ids["subnet_b"]], SecurityGroups=[ids["sg_web"]])
    nlb = lb("nlb", [ids["subnet_a"], ids["subnet_b"]], Type="network")
    elbv2.modify_load_balancer_attributes(LoadBalancerArn=web, Attributes=[
        {"Key": "routing.http.drop_invalid_header_fields.enabled", "Value": "true"}])
    elbv2.modify_load_balancer_attributes(LoadBalancerArn=single, Attributes=[
        {"Key": "routing.http.drop_invalid_header_fields.enabled", "Value": "false"}])
    assert unset
    tg = elbv2.create_target_group(Name="blue", Protocol="HTTP", Port=3000, VpcId=ids["vpc"], TargetType="ip")
    tg_arn = ids["tg_blue"] = tg["TargetGroups"][0]["TargetGroupArn"]
    green = elbv2.create_target_group(Name="green", Protocol="HTTP", Port=3000, VpcId=ids["vpc"], TargetType="ip")
    ids["tg_green"] = green["TargetGroups"][0]["TargetGroupArn"]
    tcp = elbv2.create_target_group(Name="tcp", Protocol="TCP", Port=80, VpcId=ids["vpc"], TargetType="ip")
    forward = [{"Type": "forward", "TargetGroupArn": tg_arn}]
    to_green = [{"Type": "forward", "TargetGroupArn": ids["tg_green"]}]
    listener("https", web, Protocol="HTTPS", Port=443, SslPolicy="ELBSecurityPolicy-TLS13-1-2-2021-06",
             Certificates=[{"CertificateArn": certificate}], DefaultActions=forward)
    listener("redirect", web, Protocol="HTTP", Port=80, DefaultActions=[{"Type": "redirect", "RedirectConfig": {
        "Protocol": "HTTPS", "Port": "443", "StatusCode": "HTTP_301"}}])
    listener("plain", single, Protocol="HTTP", Port=80, DefaultActions=to_green)
    listener("old_tls", single, Protocol="HTTPS", Port=443, SslPolicy="ELBSecurityPolicy-2016-08",
             Certificates=[{"CertificateArn": certificate}], DefaultActions=to_green)
    listener("nlb_tcp_80", nlb, Protocol="TCP", Port=80,
             DefaultActions=[{"Type": "forward", "TargetGroupArn": tcp["TargetGroups"][0]["TargetGroupArn"]}])
    cloudwatch = aws.client("cloudwatch", REGION)
    common: dict[str, Any] = {"Statistic": "Sum", "Period": 60, "EvaluationPeriods": 5, "Threshold": 10,
                              "ComparisonOperator": "GreaterThanOrEqualToThreshold",
                              "AlarmActions": [f"arn:aws:sns:{REGION}:{ACCOUNT}:alarms"]}
    cloudwatch.put_metric_alarm(AlarmName="web-elb-5xx", Namespace="AWS/ApplicationELB",
                                MetricName="HTTPCode_ELB_5XX_Count",
                                Dimensions=[{"Name": "LoadBalancer", "Value": web.split(":loadbalancer/")[1]}],
                                **common)
    cloudwatch.put_metric_alarm(AlarmName="blue-target-5xx", Namespace="AWS/ApplicationELB",
                                MetricName="HTTPCode_Target_5XX_Count", Dimensions=[
                                    {"Name": "LoadBalancer", "Value": web.split(":loadbalancer/")[1]},
                                    {"Name": "TargetGroup", "Value": tg_arn[tg_arn.index("targetgroup/"):]}],
                                **{**common, "ActionsEnabled": False})


def _ecs(aws: Aws, ids: dict[str, str]) -> None:
    ecs = aws.client("ecs", REGION)
    ecs.create_cluster(clusterName="insights", settings=[{"name": "containerInsights", "value": "enhanced"}])
    ecs.create_cluster(clusterName="plain")
    for family, privileged in (("privileged", True), ("plain", False), ("unread", True)):
        ecs.register_task_definition(family=family, containerDefinitions=[
            {"name": "app", "image": "app:1", "memory": 512, "privileged": privileged}])
    network = {"subnets": [ids["subnet_private"], ids["subnet_b"]], "securityGroups": [ids["sg_web"]]}
    for name, public in (("private", "DISABLED"), ("public", "ENABLED")):
        arn = ecs.create_service(cluster="insights", serviceName=name, taskDefinition="plain", desiredCount=2,
                                 networkConfiguration={"awsvpcConfiguration": {**network, "assignPublicIp": public}})
        ids[f"service_{name}"] = arn["service"]["serviceArn"]
    ids["service_tasks_private"] = ecs.create_service(
        cluster="insights", serviceName="tasks-private", taskDefinition="plain", desiredCount=2,
        networkConfiguration={"awsvpcConfiguration": {"subnets": [ids["subnet_private"]],
                                                      "securityGroups": [ids["sg_web"]]}})["service"]["serviceArn"]
    breakers: Mapping[str, dict[str, bool] | None] = {
        "private": {"enable": True, "rollback": True}, "public": {"enable": True, "rollback": False}}
    for name, breaker in breakers.items():
        ecs.update_service(cluster="insights", service=name,
                           deploymentConfiguration={"deploymentCircuitBreaker": breaker})


def _judge(aws: Aws, settings: RuleSettings | None = None) -> Judged:
    inventory = collect_inventory(aws, [REGION], TYPES, ACCOUNT, WANTED)
    unknown = [o for o in inventory.observations if o.status.value != "observed"]
    assert not unknown, unknown
    findings = evaluate(builtin_pack(), inventory.resources, settings,
                        live_read=live_read_from(inventory, WANTED))
    return Judged(inventory, tuple(findings))


def test_alb_rules_on_live_load_balancers(live: Live) -> None:
    ids, judged = live.ids, live.judged
    assert judged.status("ALB-01", ids["lb_web"]) is Status.PASS
    assert judged.status("ALB-01", ids["lb_single"]) is Status.FAIL
    assert judged.status("ALB-01", ids["lb_nlb"]) is Status.NOT_APPLICABLE
    assert judged.status("ALB-02", ids["listener_https"]) is Status.PASS
    assert judged.status("ALB-03", ids["listener_https"]) is Status.PASS
    assert judged.status("ALB-03", ids["listener_old_tls"]) is Status.FAIL
    # AWS (and moto) report ELBSecurityPolicy-2016-08 on plain HTTP listeners: not a TLS listener
    assert judged.status("ALB-03", ids["listener_redirect"]) is Status.NOT_APPLICABLE
    assert judged.status("ALB-04", ids["listener_redirect"]) is Status.PASS
    assert "listener rules were not read" in judged.message("ALB-04", ids["listener_redirect"])
    assert judged.status("ALB-04", ids["listener_plain"]) is Status.FAIL
    assert judged.status("ALB-04", ids["listener_nlb_tcp_80"]) is Status.NOT_APPLICABLE
    assert judged.status("ALB-05", ids["lb_web"]) is Status.PASS
    assert judged.status("ALB-05", ids["lb_single"]) is Status.FAIL
    # moto reports LB attributes only once set: missing evidence, never the default
    assert judged.status("ALB-05", ids["lb_unset"]) is Status.UNKNOWN
    assert judged.status("ALB-05", ids["lb_nlb"]) is Status.NOT_APPLICABLE
    assert judged.status("ALB-09", ids["tg_blue"]) is Status.PASS


def test_elb17_profile_on_live_listener(live: Live) -> None:
    https = live.ids["listener_https"]
    assert live.judged.status("ALB-03", https) is Status.PASS
    assert live.elb17.status("ALB-03", https) is Status.FAIL
    assert "ELBSecurityPolicy-TLS13-1-2-2021-06" in live.elb17.message("ALB-03", https)


def test_cloudwatch_rules_on_live_alarms(live: Live) -> None:
    ids, judged = live.ids, live.judged
    assert judged.status("CW-01", ids["lb_web"]) is Status.PASS
    assert judged.status("CW-01", ids["lb_single"]) is Status.FAIL
    assert judged.status("CW-01", ids["lb_nlb"]) is Status.NOT_APPLICABLE
    assert judged.status("CW-02", ids["tg_blue"]) is Status.PASS  # joined through load_balancer_arns
    assert judged.status("CW-02", ids["tg_green"]) is Status.FAIL
    assert judged.status("CW-03", ids["tg_blue"]) is Status.FAIL
    assert judged.status("CW-04", "web-elb-5xx") is Status.PASS
    assert judged.status("CW-04", "blue-target-5xx") is Status.FAIL


def test_ecs_rules_on_live_services(live: Live) -> None:
    ids, judged = live.ids, live.judged
    assert judged.status("ECS-02", "privileged") is Status.FAIL
    assert judged.status("ECS-02", "plain") is Status.PASS
    # a family no state holds is not described: unknown, never a pass
    assert judged.status("ECS-02", "unread") is Status.UNKNOWN
    assert judged.status("ECS-06", ids["service_private"]) is Status.PASS
    assert judged.status("ECS-06", ids["service_public"]) is Status.FAIL
    # moto's DescribeServices leaves deploymentConfiguration out until update_service sets it
    assert judged.status("ECS-06", ids["service_tasks_private"]) is Status.UNKNOWN
    assert judged.status("ECS-05", ids["service_private"]) is Status.PASS
    assert judged.status("ECS-05", ids["service_tasks_private"]) is Status.FAIL  # one zone
    clusters = {r.attributes["name"]: r.id for r in judged.inventory.resources if r.type == "aws_ecs_cluster"}
    assert judged.status("ECS-07", clusters["insights"]) is Status.PASS
    assert judged.status("ECS-07", clusters["plain"]) is Status.FAIL


def test_network_rules_on_live_groups_and_services(live: Live) -> None:
    ids, judged = live.ids, live.judged
    assert judged.status("NET-01", ids["sg_ssh"]) is Status.FAIL
    assert judged.status("NET-01", ids["rule_ssh"]) is Status.FAIL
    assert judged.status("NET-01", ids["sg_web"]) is Status.PASS
    legacy = [r.id for r in judged.inventory.resources if r.type == "aws_security_group_rule"
              and r.attributes["security_group_id"] == ids["sg_ssh"] and r.attributes["type"] == "ingress"]
    assert legacy and all(judged.status("NET-01", i) is Status.NOT_APPLICABLE for i in legacy)
    assert judged.status("NET-02", ids["service_private"]) is Status.PASS
    assert judged.status("NET-02", ids["service_public"]) is Status.FAIL
    # subnet_b routes 0.0.0.0/0 to the internet gateway; subnet_private uses the VPC's main table (local only)
    assert judged.status("NET-03", ids["service_private"]) is Status.FAIL
    assert judged.status("NET-03", ids["service_tasks_private"]) is Status.PASS
