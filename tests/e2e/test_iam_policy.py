"""The auditor's read-only IAM policy (terraform/auditor) covers every call a real audit makes, and writes nothing.

The calls are recorded by the same botocore event hook that counts them for the report, during
a full audit of the seeded reference stack on a moto server.
"""

from __future__ import annotations

import fnmatch
import json

import pytest

from auditor.aws import Aws, AwsSettings
from auditor.demo.run import REGION, SeededStack
from auditor.pipeline import run_audit
from tests.conftest import REPO

POLICY = REPO / "terraform" / "auditor" / "policies" / "audit-readonly.json"

# botocore service ids that differ from IAM service prefixes
IAM_PREFIX = {"elastic-load-balancing-v2": "elasticloadbalancing", "cloudwatch-logs": "logs",
              "resource-groups-tagging-api": "tag", "application-auto-scaling": "application-autoscaling",
              "eventbridge": "events", "route-53": "route53", "secrets-manager": "secretsmanager"}
# S3 operations whose IAM action has another name
S3_ACTIONS = {"ListObjectsV2": "ListBucket", "ListObjects": "ListBucket", "HeadObject": "GetObject",
              "HeadBucket": "ListBucket", "GetBucketEncryption": "GetEncryptionConfiguration",
              "GetPublicAccessBlock": "GetBucketPublicAccessBlock", "ListBuckets": "ListAllMyBuckets",
              "GetBucketLifecycleConfiguration": "GetLifecycleConfiguration"}
WRITE_VERBS = ("Put", "Create", "Delete", "Update", "Modify", "Register", "Deregister", "Attach", "Detach",
               "Tag", "Untag", "Set", "Start", "Stop", "Run", "Authorize", "Revoke", "Add", "Remove")
# Not a write in effect: decrypting the SSE-KMS state object S3 hands back (IAM files it under Write).
ALLOWED_EXTRAS = {"kms:Decrypt"}


def iam_action(operation: str) -> str:
    service, name = operation.split(".", 1)
    prefix = IAM_PREFIX.get(service, service)
    if prefix == "s3":
        name = S3_ACTIONS.get(name, name)
    return f"{prefix}:{name}"


def policy_actions() -> list[str]:
    document = json.loads(POLICY.read_text())
    actions: list[str] = []
    for statement in document["Statement"]:
        assert statement["Effect"] == "Allow"
        value = statement["Action"]
        actions.extend([value] if isinstance(value, str) else value)
    return actions


def test_policy_has_no_write_action() -> None:
    writes = [a for a in policy_actions() if a.split(":", 1)[1].startswith(WRITE_VERBS) and a not in ALLOWED_EXTRAS]
    assert writes == []
    assert not any(a.endswith("*") for a in policy_actions()), "no wildcard actions in a least-privilege policy"


@pytest.mark.e2e
def test_policy_covers_every_call_of_an_audit(stack: SeededStack) -> None:
    aws = Aws(AwsSettings(region=REGION))
    run = run_audit(stack.config(), aws)
    assert not run.incomplete
    allowed = policy_actions()
    made = sorted({iam_action(op) for op in run.inventory.api_calls_by_operation})
    assert made, "the audit made no call?"
    missing = [a for a in made if not any(fnmatch.fnmatchcase(a, p) for p in allowed)]
    assert missing == [], f"calls the read-only policy does not allow: {missing}"


def test_policy_is_derived_from_the_collectors_declarations() -> None:
    """The inventory statements hold exactly the IAM actions the TypeSpecs declare (listing, details, calls)."""
    from auditor.inventory.policy import derive, main, render

    current = POLICY.read_text()
    assert render(derive(json.loads(current))) == current, "run python -m auditor.inventory.policy " + str(POLICY)
    assert main(["--check", str(POLICY)]) == 0


def test_every_type_declares_the_calls_its_collector_makes() -> None:
    from auditor.inventory.base import registry

    silent = [t for t, c in registry().items() if not c.spec.operations]
    assert silent == []
