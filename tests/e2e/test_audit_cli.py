"""End to end: the `audit` console script, as a user runs it, against a moto server on 127.0.0.1.

Each scenario resets the server, seeds the reference stack and its two states, makes one
out-of-band change with boto3, and runs `audit run` in a subprocess through the standard SDK
settings (AWS_ENDPOINT_URL, AWS_REGION, fake credentials).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from auditor.aws import Aws, AwsSettings
from auditor.demo.drift import SCENARIOS, Scenario
from auditor.demo.run import REGION, STACK_KEY, SeededStack

pytestmark = pytest.mark.e2e
AUDIT = str(Path(sys.executable).parent / "audit")


def audit(endpoint: str, *args: str, timeout: float = 120,
          env_extra: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update({"AWS_ENDPOINT_URL": endpoint, "AWS_REGION": REGION, "AWS_ACCESS_KEY_ID": "testing",
                "AWS_SECRET_ACCESS_KEY": "testing", "AWS_CONFIG_FILE": os.devnull,
                "AWS_SHARED_CREDENTIALS_FILE": os.devnull, "AWS_EC2_METADATA_DISABLED": "true",
                "AWS_MAX_ATTEMPTS": "2"} | (env_extra or {}))
    return subprocess.run([AUDIT, *args], capture_output=True, text=True, env=env, timeout=timeout, check=False)


def audit_json(endpoint: str, seeded: SeededStack, *extra: str) -> tuple[int, dict[str, Any]]:
    result = audit(endpoint, "run", "--state", f"s3://{seeded.bucket}/**/terraform.tfstate",
                   "--lock-table", seeded.lock_table, "--region", REGION, "--format", "json", "--no-rules", *extra)
    assert "Traceback" not in result.stderr, result.stderr
    try:
        return result.returncode, json.loads(result.stdout)
    except json.JSONDecodeError:
        pytest.fail(f"exit {result.returncode}, no JSON; stderr: {result.stderr[-2000:]}")


def findings(result: dict[str, Any]) -> list[dict[str, Any]]:
    return [r for r in result["resources"] if r["kind"] != "in_sync"]


def test_clean_stack_has_no_drift(moto_server: str, stack: SeededStack) -> None:
    code, result = audit_json(moto_server, stack)
    assert findings(result) == []
    assert code == 0
    assert result["summary"]["drift_index"] == 0.0
    assert result["summary"]["coverage"] == 100.0
    assert result["run"]["exit_code"] == 0
    assert {s["uri"] for s in result["states"]} == set(stack.state_uris)
    assert all(s["digest"]["status"] == "verified" for s in result["states"])
    seeded = len(stack.stack.items) + len(stack.bootstrap.items)
    assert result["summary"]["counts"]["in_sync"] == seeded
    assert 0 < result["api_calls"]["total"] < seeded * 2


def test_clean_stack_passes_every_rule_live_and_in_state(moto_server: str, stack: SeededStack) -> None:
    result = audit(moto_server, "run", "--state", f"s3://{stack.bucket}/**/terraform.tfstate", "--lock-table",
                   stack.lock_table, "--region", REGION, "--format", "json")
    report = json.loads(result.stdout)
    failing = [(f["rule"], f["origin"], f["address"] or f["id"], f["message"])
               for f in report["compliance"]["findings"] if f["status"] == "FAIL"]
    assert failing == []
    assert result.returncode == 0


@pytest.mark.parametrize("scenario", SCENARIOS, ids=[s.name for s in SCENARIOS])
def test_out_of_band_change_is_found_exactly(moto_server: str, stack: SeededStack, scenario: Scenario) -> None:
    scenario.apply(stack.stack, stack.bootstrap)
    code, result = audit_json(moto_server, stack)
    found = findings(result)
    assert code == 2, found
    assert len(found) == len(scenario.expected), found
    for expected, got in zip(scenario.expected, found, strict=True):
        assert (got["kind"], got["type"]) == (expected.kind, expected.type), got
        if expected.address:
            assert got["address"] == expected.address
        if expected.path:
            assert [c["path"] for c in got["changes"]] and all(
                expected.matches_path(c["path"]) for c in got["changes"]), got["changes"]
            if not expected.path.endswith("*"):
                assert len(got["changes"]) == 1, got["changes"]


def test_demo_scenarios_together(moto_server: str, stack: SeededStack, tmp_path: Path) -> None:
    from auditor.demo.drift import DEMO_SCENARIOS, scenario

    for name in DEMO_SCENARIOS:
        scenario(name).apply(stack.stack, stack.bootstrap)
    html = tmp_path / "report.html"
    code, result = audit_json(moto_server, stack, "--html", str(html))
    assert code == 2
    kinds = sorted((r["kind"], r["type"]) for r in findings(result))
    assert kinds == sorted([("unmanaged", "aws_vpc_security_group_ingress_rule"), ("changed", "aws_ecs_service"),
                            ("missing", "aws_cloudwatch_metric_alarm"), ("unmanaged", "aws_security_group")])
    assert 0 < result["summary"]["drift_index"] < 100
    assert "desired_count" in html.read_text()


def test_held_lock_is_reported_and_the_audit_still_runs(moto_server: str, stack: SeededStack) -> None:
    info = {"ID": "3b6c5f1e-1111-2222-3333-444455556666", "Operation": "OperationTypeApply", "Info": "",
            "Who": "ci@runner-7", "Version": "1.11.4", "Created": "2026-11-27T10:11:00.000000Z",
            "Path": f"{stack.bucket}/{STACK_KEY}"}
    Aws(AwsSettings(region=REGION)).client("dynamodb").put_item(
        TableName=stack.lock_table,
        Item={"LockID": {"S": f"{stack.bucket}/{STACK_KEY}"}, "Info": {"S": json.dumps(info)}})
    code, result = audit_json(moto_server, stack)
    assert code == 0
    [held_state] = [s for s in result["states"] if s["lock"]["held"]]
    [held] = held_state["lock"]["held"]
    assert (held["who"], held["operation"], held["created"]) == ("ci@runner-7", "OperationTypeApply",
                                                                 "2026-11-27T10:11:00.000000Z")


def test_digest_mismatch_is_a_clear_error(moto_server: str, stack: SeededStack) -> None:
    Aws(AwsSettings(region=REGION)).client("dynamodb").put_item(
        TableName=stack.lock_table,
        Item={"LockID": {"S": f"{stack.bucket}/{STACK_KEY}-md5"}, "Digest": {"S": "0" * 32}})
    result = audit(moto_server, "run", "--state", f"s3://{stack.bucket}/{STACK_KEY}", "--lock-table",
                   stack.lock_table, "--region", REGION, "--format", "json")
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert "0" * 32 in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr


BAD_STATES = {
    "not-json": b"this is not json",
    "truncated": b'{"version": 4, "terraform_version": "1.11.4", "serial": 1, "lineage": "x", "resources": [',
    "version-5": b'{"version": 5, "terraform_version": "9.9.9", "serial": 1, "lineage": "x", "resources": []}',
    "empty-object": b"{}",
}


@pytest.mark.parametrize("name", sorted(BAD_STATES))
def test_bad_state_is_one_line_exit_1(moto_server: str, stack: SeededStack, name: str, tmp_path: Path) -> None:
    key = f"broken/{name}.tfstate"
    Aws(AwsSettings(region=REGION)).client("s3").put_object(Bucket=stack.bucket, Key=key, Body=BAD_STATES[name])
    out = tmp_path / "out.json"
    result = audit(moto_server, "run", "--state", f"s3://{stack.bucket}/{key}", "--region", REGION,
                   "--format", "json", "-o", str(out))
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert key in result.stderr
    assert not out.exists()


@pytest.mark.parametrize("uri", ["s3://no-such-bucket-xyz/terraform.tfstate", "s3://{bucket}/no/such/key.tfstate"])
def test_missing_bucket_or_key_is_one_line_exit_1(moto_server: str, stack: SeededStack, uri: str) -> None:
    result = audit(moto_server, "run", "--state", uri.format(bucket=stack.bucket), "--region", REGION)
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr


def test_plan_json_matches_terraforms_resource_drift_shape(moto_server: str, stack: SeededStack) -> None:
    from auditor.demo.drift import DEMO_SCENARIOS, scenario

    for name in DEMO_SCENARIOS:
        scenario(name).apply(stack.stack, stack.bootstrap)
    result = audit(moto_server, "run", "--state", f"s3://{stack.bucket}/**/terraform.tfstate", "--lock-table",
                   stack.lock_table, "--region", REGION, "--format", "plan-json")
    assert result.returncode == 2, result.stderr
    plan = json.loads(result.stdout)
    entries = {e["address"]: e for e in plan["resource_drift"]}
    assert set(entries) == {"aws_ecs_service.web_app", "aws_cloudwatch_metric_alarm.unhealthy_hosts"}
    service = entries["aws_ecs_service.web_app"]
    assert (service["mode"], service["type"], service["name"]) == ("managed", "aws_ecs_service", "web_app")
    assert service["change"]["actions"] == ["update"]
    assert (service["change"]["before"]["desired_count"], service["change"]["after"]["desired_count"]) == (2, 4)
    alarm = entries["aws_cloudwatch_metric_alarm.unhealthy_hosts"]["change"]
    assert alarm["actions"] == ["delete"] and alarm["after"] is None


def test_code_versus_state_on_the_reference_stack(moto_server: str, stack: SeededStack) -> None:
    """The demo's state holds exactly what terraform/stack declares: no code-vs-state difference."""
    from tests.conftest import REPO

    code, result = audit_json(moto_server, stack, "--code", str(REPO / "terraform" / "stack"))
    [comparison] = result["code"]
    assert comparison["state"] == f"s3://{stack.bucket}/{STACK_KEY}"
    assert comparison["drifts"] == [] and comparison["unexpanded"] == []
    assert code == 0


IMPORTS_PROBE = """
import sys
from auditor.cli import run_cli
sys.argv = ["audit", *sys.argv[1:]]
try:
    run_cli()
finally:
    sys.stderr.write("\\nMODULES " + " ".join(sorted(sys.modules)) + "\\n")
"""


def test_a_json_audit_loads_neither_the_hcl_reader_nor_jinja2_nor_rich(moto_server: str, stack: SeededStack) -> None:
    """What a scheduled `audit run --format json` does not need, it does not pay for at every start."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update({"AWS_ENDPOINT_URL": moto_server, "AWS_REGION": REGION, "AWS_ACCESS_KEY_ID": "testing",
                "AWS_SECRET_ACCESS_KEY": "testing", "AWS_CONFIG_FILE": os.devnull,
                "AWS_SHARED_CREDENTIALS_FILE": os.devnull, "AWS_EC2_METADATA_DISABLED": "true"})
    argv = ["run", "--state", f"s3://{stack.bucket}/{STACK_KEY}", "--lock-table", stack.lock_table,
            "--region", REGION, "--format", "json", "--no-rules"]
    done = subprocess.run([sys.executable, "-c", IMPORTS_PROBE, *argv], capture_output=True, text=True, env=env,
                          timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["summary"]["counts"]["changed"] == 0
    modules = set(done.stderr.rsplit("MODULES ", 1)[1].split())
    loaded = {m.split(".")[0] for m in modules}
    assert {"boto3", "orjson"} <= loaded
    assert loaded & {"hcl2", "lark", "jinja2", "rich", "detect_secrets", "deepdiff"} == set()
    assert modules & {"auditor.rules.audit", "auditor.rules.engine"} == set()  # --no-rules: no rule engine


def test_a_table_asked_into_a_file_goes_there_whole_and_nowhere_else(moto_server: str, stack: SeededStack,
                                                                      tmp_path: Path) -> None:
    out = tmp_path / "audit.txt"
    result = audit(moto_server, "run", "--state", f"s3://{stack.bucket}/**/terraform.tfstate", "--lock-table",
                   stack.lock_table, "--region", REGION, "--no-rules", "--format", "table", "-o", str(out))
    assert (result.returncode, result.stdout) == (0, ""), result.stderr
    text = out.read_text(encoding="utf-8")
    assert "States" in text and f"s3://{stack.bucket}/" in text and "drift index" in text.lower()


def test_aws_region_alone_is_enough_to_audit(moto_server: str, stack: SeededStack) -> None:
    """The SDK-standard AWS_REGION (which botocore itself ignores) sets the state's and the audit's region."""
    result = audit(moto_server, "run", "--state", f"s3://{stack.bucket}/{STACK_KEY}", "--lock-table",
                   stack.lock_table, "--no-rules", "--format", "json")
    assert result.returncode in (0, 2), result.stderr
    assert json.loads(result.stdout)["run"]["regions"] == [REGION]
