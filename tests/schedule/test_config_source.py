"""`--config ssm:/NAME` and `s3://BUCKET/KEY` on moto: the scheduled container's config, read with exactly
the call terraform/auditor grants, bounded, one-line errors that never repeat the content."""

from __future__ import annotations

import fnmatch
import json
import re
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest
from click.testing import CliRunner
from moto import mock_aws
from moto.core import set_initial_no_auth_action_count

from auditor.aws import Aws, AwsSettings
from auditor.cli import cli, run_cli
from auditor.errors import ConfigError
from auditor.schedule.config import load_schedule_config
from auditor.schedule.source import MAX_CONFIG_BYTES, parse_source
from tests.conftest import REPO
from tests.e2e.test_iam_policy import iam_action

TERRAFORM = REPO / "terraform" / "auditor"
SECRET_MARK = "HOOK_URL_7f3c"  # stands for anything in the config that must never be echoed
CONFIG = f"""
history = "sqlite:///{{db}}"
[[states]]
uri = "s3://tf/prod.tfstate"
[[notifications]]
name = "chat"
webhook_url_env = "{SECRET_MARK}"
[[schedules]]
name = "nightly"
cron = "0 2 * * *"
notify = ["chat"]
"""


def parameter_name() -> str:
    variables = (TERRAFORM / "variables.tf").read_text()
    found = re.search(r'variable "config_parameter_name" \{.*?\n  default += "([^"]*)"', variables, re.S)
    assert found
    return found.group(1)


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[Aws]:
    monkeypatch.delenv("MOTO_IAM_LOAD_MANAGED_POLICIES", raising=False)
    for variable in ("AWS_DEFAULT_REGION", "AWS_REGION"):
        monkeypatch.setenv(variable, "eu-west-1")
    with mock_aws():
        yield Aws(AwsSettings(region="eu-west-1"))


def test_a_securestring_parameter_is_the_config_read_with_exactly_the_granted_call(aws: Aws, tmp_path: Path) -> None:
    name = parameter_name()
    aws.client("ssm").put_parameter(Name=name, Type="SecureString", Value=CONFIG.format(db=tmp_path / "h.db"))
    before = aws.counter.snapshot()
    config = load_schedule_config(f"ssm:{name}", lambda: aws)
    made = {iam_action(op) for op, n in aws.counter.snapshot().items() if n > before.get(op, 0)}
    arn = aws.client("ssm").get_parameter(Name=name)["Parameter"]["ARN"]
    assert config.job("nightly").notify == ("chat",) and config.source == f"ssm:{name}"
    assert config.history == f"sqlite:///{tmp_path / 'h.db'}"
    policy = json.loads((TERRAFORM / "policies" / "audit-config.json").read_text())
    granted = {s["Action"]: s["Resource"] for s in policy["Statement"] if s["Effect"] == "Allow"}
    assert made == set(granted) == {"ssm:GetParameter"}
    assert fnmatch.fnmatchcase(arn, granted["ssm:GetParameter"])
    assert not fnmatch.fnmatchcase(arn + "-other", granted["ssm:GetParameter"])


def test_an_s3_object_is_the_config(aws: Aws, tmp_path: Path) -> None:
    aws.client("s3").create_bucket(Bucket="cfg", CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
    aws.client("s3").put_object(Bucket="cfg", Key="auditor/audit.toml", Body=CONFIG.format(db=tmp_path / "h.db"))
    config = load_schedule_config("s3://cfg/auditor/audit.toml", lambda: aws)
    assert [j.name for j in config.jobs] == ["nightly"] and config.source == "s3://cfg/auditor/audit.toml"


def _error(spec: str, aws: Aws) -> str:
    with pytest.raises(ConfigError) as caught:
        load_schedule_config(spec, lambda: aws)
    text = str(caught.value)
    assert "\n" not in text and SECRET_MARK not in text and "hunter2" not in text
    return text


def test_missing_malformed_oversized_and_binary_configs_are_one_line_errors(aws: Aws) -> None:
    ssm, s3 = aws.client("ssm"), aws.client("s3")
    s3.create_bucket(Bucket="cfg", CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
    assert _error("ssm:/auditor/none", aws).startswith("config ssm:/auditor/none: no such SSM parameter")
    assert _error("s3://cfg/none.toml", aws).startswith("config s3://cfg/none.toml: no such object")
    assert _error("s3://nobucket/a.toml", aws).startswith("config s3://nobucket/a.toml: no such object")
    ssm.put_parameter(Name="/auditor/bad", Type="SecureString",
                      Value=f'webhook = "{SECRET_MARK}"\npassword = hunter2\n')
    assert _error("ssm:/auditor/bad", aws) == "ssm:/auditor/bad: invalid TOML: Invalid value (at line 2, column 12)"
    s3.put_object(Bucket="cfg", Key="big.toml", Body=b"#" * (MAX_CONFIG_BYTES + 1))
    assert _error("s3://cfg/big.toml", aws) == "config s3://cfg/big.toml: larger than 64 KiB"
    s3.put_object(Bucket="cfg", Key="exact.toml", Body=b"#" * MAX_CONFIG_BYTES)  # a comment only: no schedules
    assert load_schedule_config("s3://cfg/exact.toml", lambda: aws).jobs == ()
    s3.put_object(Bucket="cfg", Key="bin.toml", Body=b"\xff\xfe" + SECRET_MARK.encode())
    assert _error("s3://cfg/bin.toml", aws) == "config s3://cfg/bin.toml: not UTF-8 text"
    for spec in ("ssm:auditor/config", "ssm:/", "s3://bucket", "s3://bucket/dir/"):
        with pytest.raises(ConfigError, match=r"^config "):
            parse_source(spec)


@set_initial_no_auth_action_count(4)
def test_a_denied_read_names_the_permission(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-west-1")
    with mock_aws():
        iam = boto3.client("iam", region_name="us-east-1")
        iam.create_user(UserName="task")
        keys = iam.create_access_key(UserName="task")["AccessKey"]  # the user has no policy at all
        boto3.client("ssm", region_name="eu-west-1").put_parameter(Name="/auditor/config", Type="SecureString",
                                                                   Value=SECRET_MARK)
        boto3.client("s3", region_name="us-east-1").create_bucket(Bucket="cfg")
        session = boto3.Session(aws_access_key_id=keys["AccessKeyId"], aws_secret_access_key=keys["SecretAccessKey"],
                                region_name="eu-west-1")
        denied = Aws(AwsSettings(region="eu-west-1", max_attempts=1), session=session)
        texts = [_error(spec, denied) for spec in ("ssm:/auditor/config", "s3://cfg/audit.toml")]
    # moto answers the JSON protocol's denial with a bare 403; AWS with AccessDeniedException
    assert texts[0].startswith("config ssm:/auditor/config: access denied (")
    assert texts[0].endswith("the task role needs ssm:GetParameter on it (and kms:Decrypt for a customer-managed key)")
    assert texts[1].startswith("config s3://cfg/audit.toml: access denied (AccessDenied) — the task role needs "
                               "s3:GetObject on it")


def test_schedule_check_reads_the_parameter_and_fails_in_one_line(aws: Aws, tmp_path: Path,
                                                                   monkeypatch: pytest.MonkeyPatch,
                                                                   capsys: pytest.CaptureFixture[str]) -> None:
    aws.client("ssm").put_parameter(Name="/auditor/config", Type="SecureString",
                                    Value=CONFIG.format(db=tmp_path / "h.db"))
    runner = CliRunner()
    ok = runner.invoke(cli, ["schedule", "check", "--config", "ssm:/auditor/config"])
    assert ok.exit_code == 0, ok.output
    assert "ok: 1 schedule(s)" in ok.output and SECRET_MARK not in ok.output
    monkeypatch.setattr("sys.argv", ["audit", "schedule", "once", "nightly", "--config", "ssm:/auditor/missing"])
    assert run_cli() == 1
    assert capsys.readouterr().err.splitlines() == [
        "error: config ssm:/auditor/missing: no such SSM parameter — check the name and the region (AWS_REGION)"]
