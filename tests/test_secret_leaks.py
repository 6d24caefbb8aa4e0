"""A secret planted in each place a state can hold one never reaches any output format, log line or error."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws
from rich.console import Console

from auditor.aws import Aws, AwsSettings
from auditor.config import AuditConfig
from auditor.pipeline import run_audit
from auditor.report import html, json_report, plan_json
from auditor.report.console import print_summary
from auditor.state.model import StateRequest

REGION = "eu-west-1"
SECRETS = {
    "sensitive_attributes path": "S3cret-from-sensitive-path",
    "sensitive_attributes index step": "S3cret-tag-value",
    "sensitive output": "S3cret-output-value",
    "secret-named attribute": "S3cret-password-value",
    "live value under a redacted path": "S3cret-live-owner-tag",
}


def _state(vpc_id: str, dhcp: str) -> dict[str, Any]:
    attrs = {
        "id": vpc_id, "arn": f"arn:aws:ec2:{REGION}:123456789012:vpc/{vpc_id}",
        "cidr_block": "10.99.0.0/16",  # drifted: the live VPC is 10.40.0.0/16, so plan-json shows `before`
        "instance_tenancy": "default", "dhcp_options_id": dhcp, "ipv6_cidr_block": "",
        "enable_dns_support": True, "enable_dns_hostnames": False,
        "description_note": SECRETS["sensitive_attributes path"],
        "master_password": SECRETS["secret-named attribute"],
        "tags": {"Name": "main", "Owner": SECRETS["sensitive_attributes index step"]},
        "tags_all": {"Name": "main", "Owner": SECRETS["sensitive_attributes index step"]},
    }
    sensitive = [[{"type": "get_attr", "value": "description_note"}],
                 [{"type": "get_attr", "value": "tags"},
                  {"type": "index", "value": {"value": "Owner", "type": "string"}}],
                 [{"type": "get_attr", "value": "tags_all"},
                  {"type": "index", "value": {"value": "Owner", "type": "string"}}]]
    return {"version": 4, "terraform_version": "1.11.4", "serial": 1,
            "lineage": "1b7e3c2a-0000-4000-8000-000000000001",
            "outputs": {"db_password": {"value": SECRETS["sensitive output"], "type": "string", "sensitive": True}},
            "resources": [{"mode": "managed", "type": "aws_vpc", "name": "main",
                           "provider": 'provider["registry.terraform.io/hashicorp/aws"]',
                           "instances": [{"schema_version": 1, "attributes": attrs,
                                          "sensitive_attributes": sensitive}]}]}


def test_no_secret_reaches_any_output(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    with mock_aws():
        ec2 = boto3.client("ec2", region_name=REGION)
        vpc = ec2.create_vpc(CidrBlock="10.40.0.0/16", TagSpecifications=[{"ResourceType": "vpc", "Tags": [
            {"Key": "Name", "Value": "main"}, {"Key": "Owner", "Value": SECRETS["live value under a redacted path"]}]}])
        path = tmp_path / "terraform.tfstate"
        path.write_text(json.dumps(_state(vpc["Vpc"]["VpcId"], vpc["Vpc"]["DhcpOptionsId"])))
        caplog.clear()
        caplog.set_level(logging.DEBUG, logger="auditor")  # what `audit -vv` logs (botocore stays at WARNING)
        caplog.set_level(logging.WARNING, logger="botocore")
        run = run_audit(AuditConfig(states=(StateRequest(uri=str(path)),), regions=(REGION,), types=("aws_vpc",)),
                        Aws(AwsSettings(region=REGION)))
    [drift] = run.drifts
    # the live Owner differs from the state's redacted one: changed, with masked values only
    assert [(c.path, c.state, c.live) for c in drift.changes if c.path == "tags.Owner"] == [
        ("tags.Owner", "(sensitive value)", "(sensitive value changed)")]
    assert [c.path for c in drift.changes] == ["cidr_block", "tags.Owner"]
    console = Console(record=True, width=200)
    print_summary(run, console)
    outputs = {"json": json_report.render(run), "plan-json": plan_json.render(run), "html": html.render(run),
               "table": console.export_text(), "log": caplog.text, "drifts": repr(run.drifts)}
    for where, text in outputs.items():
        for planted, secret in SECRETS.items():
            assert secret not in text, f"{planted} leaked into {where}"
    assert "(sensitive value)" in outputs["plan-json"]


def test_plan_json_after_never_carries_a_live_secret(tmp_path: Path) -> None:
    """A tag changes beside a redacted one: `after.tags` is built from masked live values."""
    with mock_aws():
        ec2 = boto3.client("ec2", region_name=REGION)
        tags = [{"Key": "Name", "Value": "renamed"},
                {"Key": "Owner", "Value": SECRETS["live value under a redacted path"]}]
        vpc = ec2.create_vpc(CidrBlock="10.99.0.0/16", TagSpecifications=[{"ResourceType": "vpc", "Tags": tags}])
        path = tmp_path / "terraform.tfstate"
        path.write_text(json.dumps(_state(vpc["Vpc"]["VpcId"], vpc["Vpc"]["DhcpOptionsId"])))
        run = run_audit(AuditConfig(states=(StateRequest(uri=str(path)),), regions=(REGION,), types=("aws_vpc",)),
                        Aws(AwsSettings(region=REGION)))
    [drift] = run.drifts
    assert [c.path for c in drift.changes] == ["tags.Name", "tags.Owner"]  # Owner: a different secret, masked
    rendered = plan_json.render(run) + json_report.render(run) + repr(run.drifts)
    assert SECRETS["live value under a redacted path"] not in rendered
    assert json.loads(plan_json.render(run))["resource_drift"][0]["change"]["after"]["tags"]["Name"] == "renamed"


def test_plaintext_environment_secret_in_a_task_definition_never_travels(tmp_path: Path) -> None:
    """state and live both carry DB_PASSWORD in plain text: both are redacted where read, alike."""
    secret = "S3cret-db-password-in-env"
    containers = [{"name": "web", "image": "123456789012.dkr.ecr.eu-west-1.amazonaws.com/web@sha256:" + "a" * 64,
                   "essential": True, "memory": 512,
                   "environment": [{"name": "DB_PASSWORD", "value": secret}, {"name": "PORT", "value": "3000"}]}]
    with mock_aws():
        ecs = boto3.client("ecs", region_name=REGION)
        task = ecs.register_task_definition(family="web", containerDefinitions=containers)["taskDefinition"]
        attrs = {"id": "web", "family": "web", "arn": task["taskDefinitionArn"], "revision": task["revision"],
                 "container_definitions": json.dumps(containers)}
        state = {"version": 4, "terraform_version": "1.11.4", "serial": 1,
                 "lineage": "2b7e3c2a-0000-4000-8000-000000000002", "outputs": {},
                 "resources": [{"mode": "managed", "type": "aws_ecs_task_definition", "name": "web",
                                "provider": 'provider["registry.terraform.io/hashicorp/aws"]',
                                "instances": [{"schema_version": 1, "attributes": attrs}]}]}
        path = tmp_path / "terraform.tfstate"
        path.write_text(json.dumps(state))
        run = run_audit(AuditConfig(states=(StateRequest(uri=str(path)),), regions=(REGION,),
                                    types=("aws_ecs_task_definition",)), Aws(AwsSettings(region=REGION)))
    [drift] = run.drifts
    assert drift.kind.value == "in_sync", drift.changes
    console = Console(record=True, width=200)
    print_summary(run, console)
    for text in (json_report.render(run), plan_json.render(run), html.render(run), console.export_text(),
                 repr(run.drifts), repr(run.inventory)):
        assert secret not in text
