"""The audit through the fault proxy: denials are unknown (never missing, never FAIL or PASS),
transient faults are retried to the fault-free result."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest

from auditor.demo.run import REGION, STACK_KEY, SeededStack
from tests.e2e.test_audit_cli import audit
from tests.faults.proxy import TRANSIENT, FaultPlan, FaultProxy

pytestmark = pytest.mark.e2e
RETRYING = {"AWS_MAX_ATTEMPTS": "5"}
"""The SDK default: enough tries for a request that meets two faults in a row (the e2e tests use 2)."""


def run_json(proxy: FaultProxy, stack: SeededStack, *extra: str) -> tuple[int, dict[str, Any], str]:
    """`audit run --format json` on the whole stack through the proxy: exit code, report, stderr."""
    result = audit(proxy.endpoint, "run", "--state", f"s3://{stack.bucket}/**/terraform.tfstate",
                   "--lock-table", stack.lock_table, "--region", REGION, "--format", "json", *extra,
                   env_extra=RETRYING)
    assert "Traceback" not in result.stderr, result.stderr
    try:
        return result.returncode, json.loads(result.stdout), result.stderr
    except json.JSONDecodeError:
        pytest.fail(f"exit {result.returncode}, no JSON; stderr: {result.stderr[-2000:]}")


def verdicts(report: dict[str, Any], rule: str) -> set[str]:
    return {f["status"] for f in report["compliance"]["findings"] if f["rule"] == rule and f["origin"] == "live"}


def outcome(report: dict[str, Any]) -> Any:
    """What must not change under transient faults: every resource's verdict and every rule's."""
    resources = sorted((r["kind"], r["type"], r["id"], json.dumps(r.get("changes"), sort_keys=True))
                       for r in report["resources"])
    rules = sorted((f["rule"], f["origin"], f["address"] or f["id"], f["status"])
                   for f in report["compliance"]["findings"])
    return resources, rules, report["summary"]["drift_index"], report["run"]["exit_code"]


def test_denied_cloudwatch_makes_the_alarm_rules_unknown_not_fail(proxy: FaultProxy, stack: SeededStack) -> None:
    proxy.reseed(FaultPlan(deny=frozenset({"monitoring"})))
    code, report, _ = run_json(proxy, stack)
    assert code == 1
    alarms = [r for r in report["resources"] if r["type"] == "aws_cloudwatch_metric_alarm"]
    assert alarms and {r["kind"] for r in alarms} == {"unknown"}
    for rule in ("CW-01", "CW-02", "CW-03"):
        assert verdicts(report, rule) == {"UNKNOWN"}, rule
    cw01 = next(f for f in report["compliance"]["findings"] if f["rule"] == "CW-01" and f["origin"] == "live")
    assert "aws_cloudwatch_metric_alarm" in cw01["message"] and "AccessDenied" in cw01["message"]


def test_denied_lock_read_is_an_unknown_lock_and_an_unknown_state_02(proxy: FaultProxy, stack: SeededStack) -> None:
    proxy.reseed(FaultPlan(deny=frozenset({"dynamodb:GetItem"})))
    code, report, _ = run_json(proxy, stack)
    assert code == 1
    assert {s["lock"]["status"] for s in report["states"]} == {"unknown"}
    assert verdicts(report, "STATE-02") == {"UNKNOWN"}
    assert "GetItem" in next(f["message"] for f in report["compliance"]["findings"] if f["rule"] == "STATE-02"
                             and f["origin"] == "live")


def test_wait_for_lock_fails_when_the_lock_cannot_be_read(proxy: FaultProxy, stack: SeededStack) -> None:
    proxy.reseed(FaultPlan(deny=frozenset({"dynamodb:GetItem"})))
    started = time.monotonic()
    result = audit(proxy.endpoint, "run", "--state", f"s3://{stack.bucket}/{STACK_KEY}", "--lock-table",
                   stack.lock_table, "--region", REGION, "--wait-for-lock", "30s", "--no-rules")
    assert result.returncode == 1
    assert "cannot wait for the lock" in result.stderr and "AccessDenied" in result.stderr
    assert "Traceback" not in result.stderr
    assert time.monotonic() - started < 25


def test_each_transient_fault_alone_is_retried_to_the_fault_free_result(proxy: FaultProxy,
                                                                        stack: SeededStack) -> None:
    """Requests (state, lock, caller identity, inventory) meet one kind of fault at a time, up to twice in a
    row; each kind gives the fault-free result (one seeded stack for all kinds)."""
    proxy.reseed(FaultPlan())
    code, clean, _ = run_json(proxy, stack, "--no-rules")
    for kind in TRANSIENT:
        proxy.reseed(FaultPlan(seed=7, rate=0.3, kinds=(kind,), max_consecutive=2))
        faulty_code, faulty, stderr = run_json(proxy, stack, "--no-rules")
        assert proxy.faults[kind] > 0, kind
        unknown = [r.get("reason") for r in faulty["resources"] if r["kind"] == "unknown"]
        assert (faulty_code, outcome_without_rules(faulty)) == (code, outcome_without_rules(clean)), (
            kind, stderr, unknown)


def outcome_without_rules(report: dict[str, Any]) -> Any:
    return sorted((r["kind"], r["type"], r["id"]) for r in report["resources"]), report["summary"]["drift_index"]


def test_sts_unreachable_says_so(stack: SeededStack, moto_server: str) -> None:
    from auditor.demo.motoserver import free_port

    result = audit(moto_server, "run", "--state", f"s3://{stack.bucket}/{STACK_KEY}", "--region", REGION,
                   "--no-rules", env_extra={"AWS_ENDPOINT_URL_STS": f"http://127.0.0.1:{free_port()}"})
    assert result.returncode == 1
    assert "cannot reach the STS endpoint" in result.stderr
    assert "Traceback" not in result.stderr and len(result.stderr.strip().splitlines()) <= 2
