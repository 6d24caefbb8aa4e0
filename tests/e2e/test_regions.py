"""Regions on the reference stack (ap-south-1): out of scope is said, never missing; order never matters."""

from __future__ import annotations

import json

import pytest

from auditor.demo.run import REGION, SeededStack
from tests.e2e.test_audit_cli import audit

pytestmark = pytest.mark.e2e


def _run(endpoint: str, stack: SeededStack, *regions: str) -> tuple[int, dict, str]:  # type: ignore[type-arg]
    args = [a for r in regions for a in ("--region", r)]
    result = audit(endpoint, "run", "--state", f"s3://{stack.bucket}/**/terraform.tfstate", "--lock-table",
                   stack.lock_table, *args, "--format", "json", "--no-rules")
    assert "Traceback" not in result.stderr
    return result.returncode, json.loads(result.stdout) if result.stdout.strip() else {}, result.stderr


def test_region_order_never_changes_a_result(moto_server: str, stack: SeededStack) -> None:
    code_a, first, _ = _run(moto_server, stack, "us-west-2", REGION)
    code_b, second, _ = _run(moto_server, stack, REGION, "us-west-2")
    verdicts = [sorted((r["kind"], r["type"], r["id"], r["region"]) for r in report["resources"])
                for report in (first, second)]
    assert verdicts[0] == verdicts[1]
    assert code_a == code_b == 0
    assert not [v for v in verdicts[0] if v[0] == "missing"]
    policy = next(r for r in first["resources"] if r["address"] == "aws_ecr_lifecycle_policy.app")
    assert (policy["kind"], policy["region"]) == ("in_sync", REGION)


def test_no_state_resource_in_an_audited_region_is_an_error(moto_server: str, stack: SeededStack) -> None:
    code, _, stderr = _run(moto_server, stack, "us-west-2")
    assert code == 1
    assert "no state resource is in scope" in stderr and REGION in stderr
    assert len(stderr.strip().splitlines()) == 1


def test_a_type_selection_leaves_the_rest_out_of_scope_not_missing(moto_server: str, stack: SeededStack) -> None:
    result = audit(moto_server, "run", "--state", f"s3://{stack.bucket}/**/terraform.tfstate", "--region", REGION,
                   "--type", "aws_ecs_service", "--format", "json", "--no-rules")
    report = json.loads(result.stdout)
    assert {r["type"] for r in report["resources"]} == {"aws_ecs_service"}
    assert report["out_of_scope"] and result.returncode == 0
    assert "aws_ecs_service" not in {r["type"] for r in report["out_of_scope"]}
