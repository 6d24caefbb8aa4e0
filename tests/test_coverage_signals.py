"""Three things an audit could not do, three signals: unknown (exit 1), not_covered and an incomplete
unmanaged scan (reported, exit 1 only under --strict); and --min-coverage."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.awsrequest import AWSResponse
from click.testing import CliRunner
from moto import mock_aws

from auditor.aws import Aws, AwsSettings
from auditor.cli import cli
from auditor.config import AuditConfig, config_from_mapping
from auditor.errors import ConfigError, ExitCode
from auditor.models import DriftKind
from auditor.pipeline import run_audit
from auditor.report import html, json_report
from auditor.report.console import print_summary
from auditor.state.model import StateRequest
from tests.test_pipeline import REGION, _state_with_vpc

UNREAD_TYPE = "aws_cloudfront_distribution"  # a type the auditor does not read


def _with_unread(state: dict[str, Any], count: int = 2) -> dict[str, Any]:
    state["resources"].append({
        "mode": "managed", "type": UNREAD_TYPE, "name": "cdn",
        "provider": 'provider["registry.terraform.io/hashicorp/aws"]',
        "instances": [{"index_key": i, "schema_version": 1, "attributes": {"id": f"E2QWRUHEXAMPL{i}"},
                       "sensitive_attributes": []} for i in range(count)]})
    return state


@pytest.fixture
def moto() -> Iterator[None]:
    with mock_aws():
        yield


@pytest.fixture
def state_file(moto: None, tmp_path: Path) -> Path:
    vpc = boto3.client("ec2", region_name=REGION).create_vpc(CidrBlock="10.41.0.0/16", TagSpecifications=[
        {"ResourceType": "vpc", "Tags": [{"Key": "Name", "Value": "main"}]}])["Vpc"]
    path = tmp_path / "terraform.tfstate"
    path.write_text(json.dumps(_with_unread(_state_with_vpc(vpc))))
    return path


def _config(path: Path, *types: str, **kw: Any) -> AuditConfig:
    return AuditConfig(states=(StateRequest(uri=str(path)),), regions=(REGION,), types=types or ("aws_vpc",),
                       check_rules=False, **kw)


def _text(run: Any) -> str:
    from rich.console import Console

    console = Console(record=True, width=200)
    print_summary(run, console)
    return console.export_text()


def test_an_unread_type_is_not_covered_not_an_error(state_file: Path) -> None:
    run = run_audit(_config(state_file), Aws(AwsSettings(region=REGION)))
    kinds = sorted((d.type, d.kind) for d in run.drifts)
    assert kinds == [(UNREAD_TYPE, DriftKind.NOT_COVERED), (UNREAD_TYPE, DriftKind.NOT_COVERED),
                     ("aws_vpc", DriftKind.IN_SYNC)]
    assert run.exit_code is ExitCode.CLEAN and not run.incomplete and run.errors == ()
    overall = run.score.overall
    assert overall.drift_index == 0.0  # never counted in the index
    assert overall.coverage == pytest.approx(33.3)  # 1 audited of 3
    assert run.score.not_covered == {UNREAD_TYPE: 2}
    [held] = [d for d in run.drifts if d.kind is DriftKind.NOT_COVERED][:1]
    assert held.states == (str(state_file),) and held.address == f"{UNREAD_TYPE}.cdn[0]"

    data = json_report.to_dict(run)
    assert data["summary"]["not_covered"] == {UNREAD_TYPE: 2}
    assert data["summary"]["counts"]["not_covered"] == 2
    assert data["summary"]["by_type"][UNREAD_TYPE]["counts"]["not_covered"] == 2
    assert {r["kind"] for r in data["resources"]} == {"in_sync", "not_covered"}
    assert data["run"]["exit_code"] == 0 and data["run"]["errors"] == []
    page = html.render(run)
    assert "Not covered" in page and f"<td>{UNREAD_TYPE}</td><td class=\"n\">2</td>" in page
    assert "not covered" in page.split('id="definitions"')[1].split("</p>")[0]  # how each kind counts
    assert f"not covered: {UNREAD_TYPE}: 2 in state" in _text(run)


def test_strict_makes_not_covered_an_error(state_file: Path) -> None:
    run = run_audit(_config(state_file, strict=True), Aws(AwsSettings(region=REGION)))
    assert run.exit_code is ExitCode.ERROR
    assert run.errors == (f"not covered (--strict): {UNREAD_TYPE} (2 in state)",)
    assert not run.incomplete  # everything held that the auditor reads was observed
    assert "fails: not covered (--strict)" in _text(run)


def test_not_covered_with_drift_exits_2(state_file: Path) -> None:
    ec2 = boto3.client("ec2", region_name=REGION)
    [vpc] = [v for v in ec2.describe_vpcs()["Vpcs"] if v["CidrBlock"] == "10.41.0.0/16"]
    ec2.create_tags(Resources=[vpc["VpcId"]], Tags=[{"Key": "Name", "Value": "renamed"}])
    run = run_audit(_config(state_file), Aws(AwsSettings(region=REGION)))
    assert run.exit_code is ExitCode.DRIFT
    assert run.score.overall.drift_index == 100.0


def _fail_operation(aws: Aws, service: str, operation: str, status: int = 500) -> None:
    """Make one operation fail as a server that lacks it does (HTTP 500)."""
    def refuse(model: Any, **_: Any) -> tuple[AWSResponse, dict[str, Any]] | None:
        if model.name != operation:
            return None
        error = {"Code": str(status), "Message": "Internal Server Error"}
        return (AWSResponse("https://aws.invalid", status, {}, None),
                {"Error": error, "ResponseMetadata": {"HTTPStatusCode": status}})

    aws.client(service, REGION).meta.events.register("before-call", refuse)


def test_a_failed_listing_of_a_type_no_state_holds_is_an_incomplete_unmanaged_scan(state_file: Path) -> None:
    aws = Aws(AwsSettings(region=REGION))
    # a stock moto server answers DescribePullThroughCacheRules with HTTP 500 (it lacks the call)
    _fail_operation(aws, "ecr", "DescribePullThroughCacheRules")
    _fail_operation(aws, "ec2", "DescribeSubnets", 503)
    run = run_audit(_config(state_file, "aws_vpc", "aws_subnet", "aws_ecr_pull_through_cache_rule"), aws)
    assert run.exit_code is ExitCode.CLEAN and not run.incomplete
    scanned = {o.type: o.reason for o in run.scan_incomplete}
    assert set(scanned) == {"aws_subnet", "aws_ecr_pull_through_cache_rule"}
    assert "503" in (scanned["aws_subnet"] or "")
    assert "500" in (scanned["aws_ecr_pull_through_cache_rule"] or "")
    assert run.unobserved == ()
    data = json_report.to_dict(run)
    assert {o["type"] for o in data["unmanaged_scan_incomplete"]} == set(scanned)
    assert "unmanaged scan incomplete: aws_subnet in eu-west-1" in _text(run)
    assert "Unmanaged scan incomplete" in html.render(run)

    strict = run_audit(_config(state_file, "aws_vpc", "aws_subnet", strict=True), aws)
    assert strict.exit_code is ExitCode.ERROR
    assert [e.split(":")[0] for e in strict.errors] == ["not covered (--strict)",
                                                         "unmanaged scan incomplete (--strict)"]


def test_a_held_type_that_cannot_be_observed_still_exits_1(state_file: Path) -> None:
    aws = Aws(AwsSettings(region=REGION))
    _fail_operation(aws, "ec2", "DescribeVpcs", 403)
    run = run_audit(_config(state_file), aws)
    assert run.incomplete and run.exit_code is ExitCode.ERROR
    assert [o.type for o in run.unobserved] == ["aws_vpc"] and run.scan_incomplete == ()
    assert run.errors[0].startswith("not observed: aws_vpc in eu-west-1")


@pytest.mark.parametrize(("minimum", "code"), [(33.0, ExitCode.CLEAN), (34.0, ExitCode.ERROR),
                                               (0.0, ExitCode.CLEAN), (100.0, ExitCode.ERROR)])
def test_min_coverage(state_file: Path, minimum: float, code: ExitCode) -> None:
    run = run_audit(_config(state_file, min_coverage=minimum), Aws(AwsSettings(region=REGION)))
    assert run.exit_code is code
    if code is ExitCode.ERROR:
        assert run.errors == (f"coverage 33.3% is below the minimum {minimum:g}%",)


def test_strict_and_min_coverage_from_the_config_file() -> None:
    config = config_from_mapping({"strict": True, "min_coverage": "92.5%"}, "audit.toml")
    assert (config.strict, config.min_coverage) == (True, 92.5)
    assert config_from_mapping({}, "audit.toml").min_coverage is None
    for bad in ({"strict": "yes"}, {"min_coverage": 101}, {"min_coverage": "most"}, {"min_coverage": True}):
        with pytest.raises(ConfigError, match=r"audit\.toml"):
            config_from_mapping(bad, "audit.toml")


def test_cli_strict_and_min_coverage(state_file: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    base = ["run", "--state", str(state_file), "--region", REGION, "--type", "aws_vpc", "--no-rules",
            "--format", "json"]
    runner = CliRunner()
    plain = runner.invoke(cli, base)
    assert plain.exit_code == 0, plain.output
    assert json.loads(plain.output)["summary"]["not_covered"] == {UNREAD_TYPE: 2}
    assert runner.invoke(cli, [*base, "--strict"]).exit_code == 1
    assert runner.invoke(cli, [*base, "--min-coverage", "50"]).exit_code == 1
    assert runner.invoke(cli, [*base, "--min-coverage", "30"]).exit_code == 0
    (tmp_path / "audit.toml").write_text("strict = true\n")
    assert runner.invoke(cli, base).exit_code == 1
    bad = runner.invoke(cli, [*base, "--min-coverage", "x"])
    assert bad.exit_code == 1 and "--min-coverage must be a percentage" in str(bad.exception)


def test_run_help_has_the_exit_code_table() -> None:
    text = CliRunner().invoke(cli, ["run", "--help"], terminal_width=120).output
    assert "code  when" in text and "--strict" in text and "not_covered" in text and "--min-coverage" in text
    readme = (Path(__file__).parents[1] / "README.md").read_text()
    assert "| **not covered** |" in readme and "| **unmanaged scan incomplete** |" in readme
    assert "| `unknown`, `not_covered` | — | — | — | yes |" in readme
