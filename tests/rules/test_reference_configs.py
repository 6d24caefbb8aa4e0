"""The built-in pack on the project's own Terraform: the reference stack and bootstrap pass, and the
original seed task definition is flagged (ECS-03 and ECR-07 fail; ECR-06 cannot be proven: UNKNOWN)."""

from __future__ import annotations

from pathlib import Path

from auditor.models import Status
from auditor.rules.engine import evaluate
from auditor.rules.settings import RuleSettings
from tests.conftest import REPO
from tests.rules.support import builtin_pack, code_resources, messages, verdicts

SEED = REPO / "tests" / "terraform" / "fixtures" / "seed_task_definition"
STACK = REPO / "terraform" / "stack"


def _verdicts(root: Path, *rule_ids: str) -> dict[str, dict[str, Status]]:
    findings = evaluate(builtin_pack(), code_resources(root))
    return {rule_id: verdicts(findings, rule_id) for rule_id in rule_ids}


def test_seed_task_definition_is_flagged() -> None:
    got = _verdicts(SEED, "ECR-06", "ECR-07")
    assert got == {"ECR-06": {"aws_ecs_task_definition.web_app": Status.UNKNOWN},
                   "ECR-07": {"aws_ecs_task_definition.web_app": Status.FAIL}}


def test_reference_stack_passes_every_rule_it_exercises() -> None:
    findings = evaluate(builtin_pack(), code_resources(STACK))
    bad = {(f.rule_id, f.address): f.status for f in findings if f.status not in (Status.PASS, Status.NOT_APPLICABLE)}
    # the Docker Hub credential comes from a variable: its secret name cannot be checked statically
    assert bad == {("ECR-05", "aws_ecr_pull_through_cache_rule.docker_hub"): Status.UNKNOWN}
    unexercised = {r.meta.id for r in builtin_pack().rules} - {f.rule_id for f in findings if f.status is Status.PASS}
    # the state bucket and lock table are the bootstrap's (below); the stack's task definitions keep no
    # secret in their environment for SEC-03 to see
    assert unexercised == {"STATE-04", "STATE-05", "STATE-08", "STATE-09", "STATE-10", "SEC-03"}


def test_reference_stack_fails_elb17_only_on_its_default_tls_policy() -> None:
    findings = evaluate(builtin_pack(), code_resources(STACK), RuleSettings(tls_profile="securityhub-elb17"))
    failed = {(f.rule_id, f.address) for f in findings if f.status is Status.FAIL}
    assert failed == {("ALB-03", "aws_lb_listener.https")}


def test_seed_task_definition_fails_the_ecs_rules_it_breaks() -> None:
    findings = evaluate(builtin_pack(), code_resources(SEED))
    address = "aws_ecs_task_definition.web_app"
    got = {rule: verdicts(findings, rule)[address] for rule in ("ECS-01", "ECS-02", "ECS-03", "ECS-04")}
    assert got == {"ECS-01": Status.PASS, "ECS-02": Status.PASS, "ECS-03": Status.FAIL, "ECS-04": Status.PASS}
    assert "readonlyRootFilesystem is not set" in messages(findings, "ECS-03")[address]


def test_bootstrap_state_bucket_and_lock_table_pass() -> None:
    got = _verdicts(REPO / "terraform" / "bootstrap", *(f"STATE-{n:02d}" for n in range(4, 11)))
    for rule_id, found in got.items():
        assert set(found.values()) == {Status.PASS}, (rule_id, found)
    assert got["STATE-04"] == {"aws_s3_bucket.tfstate": Status.PASS}
    assert got["STATE-08"] == {"aws_dynamodb_table.locks": Status.PASS}
