"""The pipeline in-process on moto: fail-closed observation errors, exit codes, partial results."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.awsrequest import AWSResponse
from moto import mock_aws

from auditor.aws import Aws, AwsSettings
from auditor.config import AuditConfig
from auditor.errors import AuditError, ExitCode
from auditor.models import DriftKind
from auditor.pipeline import run_audit
from auditor.state.model import StateRequest

REGION = "eu-west-1"


def _state_with_vpc(vpc: dict[str, Any]) -> dict[str, Any]:
    attrs = {"id": vpc["VpcId"], "cidr_block": vpc["CidrBlock"], "instance_tenancy": "default",
             "dhcp_options_id": vpc["DhcpOptionsId"], "ipv6_cidr_block": "", "enable_dns_support": True,
             "enable_dns_hostnames": False, "tags": {"Name": "main"}, "tags_all": {"Name": "main"},
             "arn": f"arn:aws:ec2:{REGION}:123456789012:vpc/{vpc['VpcId']}"}
    return {"version": 4, "terraform_version": "1.11.4", "serial": 3, "lineage": "5d3c0f3e-aaaa-bbbb-cccc-000000000001",
            "outputs": {}, "resources": [{"mode": "managed", "type": "aws_vpc", "name": "main",
                                          "provider": 'provider["registry.terraform.io/hashicorp/aws"]',
                                          "instances": [{"schema_version": 1, "attributes": attrs,
                                                         "sensitive_attributes": []}]}]}


@pytest.fixture
def vpc_state(tmp_path: Path) -> Iterator[Path]:
    with mock_aws():
        ec2 = boto3.client("ec2", region_name=REGION)
        vpc = ec2.create_vpc(CidrBlock="10.40.0.0/16", TagSpecifications=[
            {"ResourceType": "vpc", "Tags": [{"Key": "Name", "Value": "main"}]}])["Vpc"]
        path = tmp_path / "terraform.tfstate"
        path.write_text(json.dumps(_state_with_vpc(vpc)))
        yield path


def _config(*paths: Path, **kw: Any) -> AuditConfig:
    return AuditConfig(states=tuple(StateRequest(uri=str(p)) for p in paths), regions=(REGION,),
                       types=("aws_vpc",), **kw)


def _deny(service_prefix: str, aws: Aws) -> None:
    """Make every call to `service_prefix` fail with AccessDenied, as IAM would."""
    def refuse(**_: Any) -> tuple[AWSResponse, dict[str, Any]]:
        error = {"Code": "UnauthorizedOperation", "Message": "You are not authorized"}
        return (AWSResponse("https://ec2.invalid", 403, {}, None), {"Error": error,
                       "ResponseMetadata": {"HTTPStatusCode": 403}})

    aws.client(service_prefix, REGION).meta.events.register("before-call", refuse)


def test_clean_vpc_audits_clean(vpc_state: Path) -> None:
    run = run_audit(_config(vpc_state), Aws(AwsSettings(region=REGION)))
    assert [d.kind for d in run.drifts] == [DriftKind.IN_SYNC]
    assert run.exit_code is ExitCode.CLEAN
    assert run.score.overall.drift_index == 0.0


def test_access_denied_makes_resources_unknown_not_missing(vpc_state: Path) -> None:
    aws = Aws(AwsSettings(region=REGION))
    _deny("ec2", aws)
    run = run_audit(_config(vpc_state), aws)
    [drift] = run.drifts
    assert drift.kind is DriftKind.UNKNOWN
    assert "UnauthorizedOperation" in (drift.reason or "")
    assert run.score.overall.drift_index is None
    assert run.score.overall.coverage == 0.0
    assert run.exit_code is ExitCode.ERROR


def test_one_unreadable_state_gives_partial_results_and_exit_1(vpc_state: Path, tmp_path: Path) -> None:
    broken = tmp_path / "broken.tfstate"
    broken.write_text("{not json")
    run = run_audit(_config(vpc_state, broken), Aws(AwsSettings(region=REGION)))
    assert [f.uri for f in run.failures] == [str(broken)]
    assert [d.kind for d in run.drifts] == [DriftKind.IN_SYNC]
    assert run.exit_code is ExitCode.ERROR


def test_no_readable_state_is_an_error(tmp_path: Path) -> None:
    broken = tmp_path / "broken.tfstate"
    broken.write_text("[]")
    with mock_aws(), pytest.raises(AuditError, match="no state could be read"):
        run_audit(_config(broken), Aws(AwsSettings(region=REGION)))


def test_a_resource_in_several_states_is_one_resource_naming_both(vpc_state: Path, tmp_path: Path) -> None:
    other = tmp_path / "copy" / "terraform.tfstate"
    other.parent.mkdir()
    other.write_text(vpc_state.read_text())
    run = run_audit(_config(vpc_state, other), Aws(AwsSettings(region=REGION)))
    [drift] = run.drifts
    assert sorted(drift.states) == sorted([str(vpc_state), str(other)])
    assert set(run.score.by_state) == {str(vpc_state), str(other)}


def test_a_global_iam_role_never_adds_a_region(tmp_path: Path) -> None:
    """IAM is global: its state resources carry no region and are observed once, in the home region."""
    with mock_aws():
        iam = boto3.client("iam", region_name=REGION)
        trust = json.dumps({"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Principal": {"Service": "ecs-tasks.amazonaws.com"}, "Action": "sts:AssumeRole"}]})
        role = iam.create_role(RoleName="app", AssumeRolePolicyDocument=trust)["Role"]
        state = {"version": 4, "terraform_version": "1.11.4", "serial": 1,
                 "lineage": "7d3c0f3e-aaaa-bbbb-cccc-000000000002",
                 "outputs": {}, "resources": [{"mode": "managed", "type": "aws_iam_role", "name": "app",
                                               "provider": 'provider["registry.terraform.io/hashicorp/aws"]',
                                               "instances": [{"schema_version": 0, "attributes": {
                                                   "id": "app", "name": "app", "arn": role["Arn"], "path": "/",
                                                   "assume_role_policy": trust, "max_session_duration": 3600,
                                                   "description": "", "tags": {}, "tags_all": {}}}]}]}
        path = tmp_path / "terraform.tfstate"
        path.write_text(json.dumps(state))
        run = run_audit(AuditConfig(states=(StateRequest(uri=str(path)),), types=("aws_iam_role",)),
                        Aws(AwsSettings(region="eu-central-1")))
    assert run.regions == ("eu-central-1",)
    assert [(d.type, d.kind) for d in run.drifts] == [("aws_iam_role", DriftKind.IN_SYNC)]


def test_the_audit_pipeline_imports_no_code_reader_and_no_differ_up_front() -> None:
    """python-hcl2/lark (code drift) and deepdiff (a real difference) cost 0.15 s to import: a clean
    audit without --code-dir needs neither, so neither is imported with the pipeline."""
    import subprocess
    import sys

    probe = ("import sys, auditor.pipeline, auditor.report.json_report; "
             "print(sorted(m for m in ('hcl2', 'lark', 'deepdiff', 'detect_secrets') if m in sys.modules))")
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"


def test_an_unidentified_caller_fails_the_audit_after_the_states_are_read(vpc_state: Path) -> None:
    aws = Aws(AwsSettings(region=REGION))
    _deny("sts", aws)  # GetCallerIdentity is asked while the states are read
    with pytest.raises(AuditError, match="cannot identify the AWS caller"):
        run_audit(_config(vpc_state), aws)


def test_an_unreadable_state_is_reported_at_once_whatever_the_caller_lookup_does(tmp_path: Path) -> None:
    released = threading.Event()

    def hang(**_: Any) -> None:  # an STS endpoint that does not answer
        released.wait(30)

    with mock_aws():
        aws = Aws(AwsSettings(region=REGION))
        aws.client("sts", REGION).meta.events.register("before-call", hang)
        started = time.monotonic()
        try:
            with pytest.raises(AuditError, match="no state could be read"):
                run_audit(_config(tmp_path / "absent.tfstate"), aws)
            assert time.monotonic() - started < 5
        finally:
            released.set()
