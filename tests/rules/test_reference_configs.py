"""The STATE and ECR rules on the project's own Terraform: the reference stack and bootstrap pass,
and the original seed task definition is flagged (ECR-07 fails; ECR-06 cannot be proven: UNKNOWN)."""

from __future__ import annotations

from pathlib import Path

from auditor.models import Status
from auditor.rules.engine import evaluate
from tests.rules.support import builtin_pack, code_resources, verdicts

REPO = Path(__file__).resolve().parents[2]
SEED = REPO / "tests" / "terraform" / "fixtures" / "seed_task_definition"


def _verdicts(root: Path, *rule_ids: str) -> dict[str, dict[str, Status]]:
    findings = evaluate(builtin_pack(), code_resources(root))
    return {rule_id: verdicts(findings, rule_id) for rule_id in rule_ids}


def test_seed_task_definition_is_flagged() -> None:
    got = _verdicts(SEED, "ECR-06", "ECR-07")
    assert got == {"ECR-06": {"aws_ecs_task_definition.web_app": Status.UNKNOWN},
                   "ECR-07": {"aws_ecs_task_definition.web_app": Status.FAIL}}


def test_stack_backend_and_images_pass() -> None:
    got = _verdicts(REPO / "terraform" / "stack", "STATE-01", "STATE-02", "STATE-03", "ECR-01", "ECR-02", "ECR-03",
                    "ECR-04", "ECR-06", "ECR-07", "ECR-08")
    for rule_id, found in got.items():
        assert found and set(found.values()) == {Status.PASS}, (rule_id, found)
    ecr05 = _verdicts(REPO / "terraform" / "stack", "ECR-05")["ECR-05"]
    assert ecr05["aws_ecr_repository.app"] is Status.PASS
    # the Docker Hub credential comes from a variable: its secret name cannot be checked statically
    assert ecr05["aws_ecr_pull_through_cache_rule.docker_hub"] is Status.UNKNOWN


def test_bootstrap_state_bucket_and_lock_table_pass() -> None:
    got = _verdicts(REPO / "terraform" / "bootstrap", *(f"STATE-{n:02d}" for n in range(4, 11)))
    for rule_id, found in got.items():
        assert set(found.values()) == {Status.PASS}, (rule_id, found)
    assert got["STATE-04"] == {"aws_s3_bucket.tfstate": Status.PASS}
    assert got["STATE-08"] == {"aws_dynamodb_table.locks": Status.PASS}
