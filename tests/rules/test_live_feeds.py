"""Rules that were UNKNOWN on live resources until their evidence had a collector: ALB-04 (listener
rules), ECR-08 (repository policies) and ECR-01 (the registry scanning configuration), on moto."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from moto import mock_aws

from auditor.aws import Aws, AwsSettings
from auditor.catalog import spec_for
from auditor.inventory.runner import collect_inventory
from auditor.models import Finding, Status
from auditor.rules.engine import evaluate
from auditor.rules.read import live_read_from
from tests.rules.support import builtin_pack

REGION = "ap-south-1"
ACCOUNT = "123456789012"


@pytest.fixture
def aws() -> Iterator[Aws]:
    with mock_aws():
        yield Aws(AwsSettings(region=REGION))


def _judge(aws: Aws, types: tuple[str, ...], wanted: dict[str, frozenset[str]]) -> list[Finding]:
    inventory = collect_inventory(aws, [REGION], types, ACCOUNT, {REGION: wanted}, workers=1)
    assert all(o.status.value == "observed" for o in inventory.observations), inventory.observations
    listed = [t for t in types if not (spec := spec_for(t)) or not spec.partially_read]
    return evaluate(builtin_pack(), inventory.resources,
                    live_read=live_read_from(inventory, {REGION: wanted}, listed))


def _status(findings: list[Finding], rule_id: str) -> dict[str, Status]:
    return {f.resource_id: f.status for f in findings if f.rule_id == rule_id}


def test_alb04_reads_the_live_listener_rules(aws: Aws) -> None:
    ec2, elbv2 = aws.client("ec2", REGION), aws.client("elbv2", REGION)
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    subnets = [ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.0.{i}.0/24", AvailabilityZone=f"{REGION}{z}")[
        "Subnet"]["SubnetId"] for i, z in enumerate("ab")]
    lb = elbv2.create_load_balancer(Name="web", Subnets=subnets)["LoadBalancers"][0]["LoadBalancerArn"]
    group = elbv2.create_target_group(Name="app", Protocol="HTTP", Port=80, VpcId=vpc)["TargetGroups"][0][
        "TargetGroupArn"]
    redirect = [{"Type": "redirect", "RedirectConfig": {"Protocol": "HTTPS", "Port": "443",
                                                        "StatusCode": "HTTP_301"}}]
    clean = elbv2.create_listener(LoadBalancerArn=lb, Port=80, Protocol="HTTP", DefaultActions=redirect)[
        "Listeners"][0]["ListenerArn"]
    leaky = elbv2.create_listener(LoadBalancerArn=lb, Port=8080, Protocol="HTTP", DefaultActions=redirect)[
        "Listeners"][0]["ListenerArn"]
    elbv2.create_rule(ListenerArn=leaky, Priority=1, Actions=[{"Type": "forward", "TargetGroupArn": group}],
                      Conditions=[{"Field": "path-pattern", "PathPatternConfig": {"Values": ["/api/*"]}}])

    findings = _judge(aws, ("aws_lb", "aws_lb_listener", "aws_lb_target_group", "aws_lb_listener_rule"), {})

    assert _status(findings, "ALB-04") == {clean: Status.PASS, leaky: Status.FAIL}
    message = next(f.message for f in findings if f.rule_id == "ALB-04" and f.resource_id == leaky)
    assert "forwards plain HTTP" in message


def test_ecr08_and_ecr01_read_the_live_policy_and_registry_scanning(aws: Aws) -> None:
    ecr = aws.client("ecr", REGION)
    for name in ("open", "closed", "bare"):
        ecr.create_repository(repositoryName=name)
    statement = {"Sid": "pull", "Effect": "Allow", "Action": ["ecr:BatchGetImage"]}
    ecr.set_repository_policy(repositoryName="open", policyText=json.dumps(
        {"Version": "2012-10-17", "Statement": [{**statement, "Principal": "*"}]}))
    ecr.set_repository_policy(repositoryName="closed", policyText=json.dumps(
        {"Version": "2012-10-17", "Statement": [{**statement, "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"}}]}))
    ecr.put_registry_scanning_configuration(scanType="BASIC", rules=[
        {"scanFrequency": "SCAN_ON_PUSH", "repositoryFilters": [{"filter": "open", "filterType": "WILDCARD"}]}])
    held = frozenset({"open", "closed", "bare"})

    findings = _judge(aws, ("aws_ecr_repository", "aws_ecr_repository_policy",
                            "aws_ecr_registry_scanning_configuration"),
                      {"aws_ecr_repository": held, "aws_ecr_repository_policy": held})

    assert _status(findings, "ECR-08") == {"open": Status.FAIL, "closed": Status.PASS, "bare": Status.PASS}
    ecr01 = _status(findings, "ECR-01")
    assert ecr01["open"] is Status.PASS  # scanned on push by the registry's rule
    assert ecr01["bare"] is Status.FAIL
